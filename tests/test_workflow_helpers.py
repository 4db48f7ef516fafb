"""What the workflow's common.smk used to hold and now calls: re-typing --config values, the
part of a study that decides cost, and the finished files missing from begun runs."""

from __future__ import annotations

from sagan import run_folder
from sagan.config import TrainConfig
from sagan.study import cost_part, parse_study
from sagan.study.overrides import retype_overrides, typed

DOC = {
    "study": "w",
    "datasets": {"digits": {"resolution": 16, "heldout": 100}},
    "variants": {"dcgan": None},
    "sizes": [100],
    "seeds": [0],
    "model": {"width": 4},
    "evaluation": {"num_samples": 50},
}


def test_command_line_text_is_read_as_a_study_file_would_be():
    assert typed(["1000", "full"]) == [1000, "full"]
    assert typed({"lr_g": "0.5", "tensorboard": "true", "root": "null", "n": ["3"]}) == {
        "lr_g": 0.5,
        "tensorboard": True,
        "root": "null",  # numbers and booleans only: YAML's null stays text
        "n": [3],
    }
    assert typed("2024") == 2024 and typed(7) == 7


def test_overrides_go_key_by_key_into_the_study():
    target = {"train": {"iterations": 20, "lr_g": 0.1}, "sizes": [100], "study": "2024"}
    retype_overrides(target, {"train": {"iterations": "40"}, "sizes": ["1000", "full"]})
    assert target == {
        "train": {"iterations": 40, "lr_g": 0.1},  # the key not given keeps its value
        "sizes": [1000, "full"],
        "study": "2024",  # not an override: a study file's quoted string stays a string
    }


def test_the_cost_part_holds_what_decides_cost_and_nothing_else():
    part = cost_part(parse_study(DOC))
    assert set(part) == {"study", "datasets", "variants", "model", "train"}
    assert part["train"] == {"batch_size": TrainConfig.batch_size}
    more_seeds = cost_part(parse_study(DOC | {"seeds": [0, 1, 2], "sizes": [50]}))
    assert more_seeds == part  # seeds, sizes and evaluation do not re-run the profile
    batch = cost_part(parse_study(DOC | {"train": {"batch_size": 8, "iterations": 3}}))
    assert batch["train"] == {"batch_size": 8}


def test_missing_finished_files_are_those_of_begun_runs(tmp_path):
    begun, never = tmp_path / "begun", tmp_path / "never"
    begun.mkdir()
    (begun / run_folder.CONFIG).write_text("x")
    files = [str(d / name) for d in (begun, never) for name in run_folder.FINISHED]
    missing = run_folder.missing_from_begun(files)
    assert missing == [str(begun / n) for n in run_folder.FINISHED if n != run_folder.CONFIG]
