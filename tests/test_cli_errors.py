"""Bad input and damaged files: each case is one line on stderr and exit code 2, no traceback.

CLI_CASES is the corpus of argument cases, one row each; the damaged-file cases build their
files in a tmp folder. All run ``main(argv)`` in-process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from sagan.cli import main
from sagan.config import DataConfig, ModelConfig, RunConfig, save_run_config
from sagan.errors import DataError
from sagan.metrics.distances import frechet_distance
from sagan.run_folder import read_status

STUDY = str(Path(__file__).resolve().parents[1] / "config" / "default.yaml")
PREPARE = ["prepare", "digits", "--resolution", "8", "--heldout", "10", "--out", "{tmp}/d.pt"]

# (argv with {tmp} for the test's folder, a fragment the one line must hold)
CLI_CASES = [
    (["bench", "attention", "--tokens", "0"], "'0' has no tokens"),
    (["bench", "attention", "--tokens", "-5"], "got '-5'"),
    (["bench", "attention", "--tokens", "abc"], "got 'abc'"),
    (["bench", "attention", "--tokens", "1000"], "square numbers"),
    (["bench", "attention", "--repeats", "0"], "argument --repeats: 0 must be at least 1"),
    (["bench", "attention", "--batch", "0"], "argument --batch: 0 must be at least 1"),
    (["bench", "attention", "--channels", "-1"], "argument --channels: -1 must be at least 1"),
    (["bench", "attention", "--top-k", "2"], "argument --top-k: 2.0 must be in (0, 1]"),
    (["bench", "attention", "--chunk-size", "x"], "'x' is not a whole number"),
    (["bench", "step", "--width", "0"], "argument --width: 0 must be at least 1"),
    (["bench", "step", "--resolution", "-8"], "argument --resolution: -8 must be at least 1"),
    (["--device", "tpu", "variants"], "'tpu' is not a device; use cpu, cuda, cuda:N or mps"),
    (["--threads", "-3", "variants"], "argument --threads: -3 must be at least 1"),
    (["--threads", "two", "variants"], "'two' is not a whole number"),
    (["prepare", "nosuch", *PREPARE[2:]], "unknown dataset 'nosuch'; known: "),
    ([*PREPARE, "--options", "{bad"], "argument --options: '{bad' is not valid JSON"),
    ([*PREPARE, "--options", "[1]"], "is not a JSON object"),
    ([*PREPARE[:3], "0", *PREPARE[4:]], "argument --resolution: 0 must be at least 1"),
    ([*PREPARE[:5], "-1", *PREPARE[6:]], "argument --heldout: -1 must be at least 1"),
    ([*PREPARE, "--seed", "-1"], "argument --seed: -1 must be 0 or more"),
    ([*PREPARE, "--options", '{"nope": 1}'], "dataset 'digits' has no option(s) 'nope'"),
    (["prepare", "imagefolder", *PREPARE[2:]], "dataset 'imagefolder' needs option(s) 'root'"),
    ([*PREPARE[:5], "5000", *PREPARE[6:]], "heldout=5000 for 'digits' must be between 1 and"),
    (["aggregate", "{tmp}/nope", "--out", "{tmp}/s.csv"], "folder {tmp}/nope does not exist"),
    (["cost-figures", "{tmp}", "--out-dir", "{tmp}"], "is a folder, expected a file"),
    (["attention-maps", "{tmp}/nope", "--out", "{tmp}/m.npz"], "folder {tmp}/nope does not exist"),
    (["report", "{tmp}", "--notebooks", "nope"], "argument --notebooks: invalid choice: 'nope'"),
    (["cost-figures", "{tmp}/p.csv", "--out-dir", "{tmp}"], "{tmp}/p.csv does not exist"),
    (["report", "{tmp}/nope"], "folder {tmp}/nope does not exist"),
    (["evaluate", "{tmp}/nope"], "folder {tmp}/nope does not exist"),
    (["train", "{tmp}/nope.yaml", "--out", "{tmp}"], "{tmp}/nope.yaml does not exist"),
    (["arms", "{tmp}/nope.yaml"], "{tmp}/nope.yaml does not exist"),
    (["train-extractor", STUDY, "--epochs", "0", "--out", "x"], "0 must be at least 1"),
    (["run-config", "{tmp}/nope.yaml", "--run", "a", "--out", "c.yaml"], "nope.yaml does not"),
    (["run-config", STUDY, "--run", "digits/nope/n1/s0", "--out", "c.yaml"], "has no run"),
    (["scaling", STUDY, "--resolutions", "0", "--out", "a", "--slopes", "b"], "at least 1"),
    (
        ["profile", STUDY, "--data", STUDY, "--dataset", "nosuch", "--out", "{tmp}/p.csv"],
        "--dataset 'nosuch' is not in",
    ),
]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of ``sagan ARGV`` run in this process."""
    return main(argv), capsys.readouterr().err


def assert_one_line(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err  # argparse's usage lines aside, one line
    assert fragment in lines[0], err


@pytest.mark.parametrize(("argv", "fragment"), CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_a_bad_argument_is_one_line_and_exit_2(argv, fragment, tmp_path, capsys):
    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp_path))

    code, err = run([fill(a) for a in argv], capsys)
    assert_one_line(code, err, fill(fragment))


def test_profile_lists_the_studys_datasets(tmp_path, capsys):
    code, err = run(CLI_CASES[-1][0][:-1] + [str(tmp_path / "p.csv")], capsys)
    assert_one_line(code, err, "use one of ")
    assert all(name in err for name in yaml.safe_load(Path(STUDY).read_text())["datasets"])


def test_a_yaml_syntax_error_names_file_and_line(tmp_path, capsys):
    study = tmp_path / "bad.yaml"
    study.write_text("name: x\ndatasets:\n  digits: {resolution: 16\nsizes: [1]\n")
    code, err = run(["validate", str(study)], capsys)
    assert_one_line(code, err, f"{study}:4:")
    assert "YAML syntax error" in err


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "images.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="is unreadable"):
        main(["--debug", "train-extractor", str(bad), "--out", str(tmp_path / "e.pt")])


def test_a_full_disk_is_one_line():
    import errno

    from sagan.cli_errors import user_error

    assert "no space left" in user_error(OSError(errno.ENOSPC, "No space left on device"))
    assert user_error(OSError(errno.EIO, "I/O error")) is None  # no file to name: a traceback


def test_a_bug_keeps_its_traceback(monkeypatch):
    import sagan.cli

    def broken(args):
        raise ZeroDivisionError("a bug, not a user error")

    monkeypatch.setattr(sagan.cli, "cmd_variants", broken)
    with pytest.raises(ZeroDivisionError):
        main(["variants"])


# --- damaged files, built here -------------------------------------------------------------


def truncated(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


class Malicious:
    """A pickle that would run a command when loaded without weights_only."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_corrupt_prepared_images_are_named(tmp_path, capsys):
    bad = tmp_path / "images.pt"
    bad.write_bytes(b"\x00" * 100)
    code, err = run(["train-extractor", str(bad), "--out", str(tmp_path / "e.pt")], capsys)
    assert_one_line(code, err, f"prepared data {bad} is unreadable")


@pytest.fixture
def run_dir(digits16, tmp_path) -> Path:
    """A run folder with its config and no trained checkpoint yet."""
    cfg = RunConfig(
        variant="dcgan",
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=8, z_dim=16),
    )
    save_run_config(cfg, tmp_path / "run" / "config.yaml")
    return tmp_path / "run"


@pytest.mark.parametrize("keep", [0, 10, 200])
def test_evaluate_names_a_truncated_checkpoint(run_dir, keep, capsys):
    torch.save({"G": {"w": torch.zeros(100)}}, run_dir / "checkpoint.pt")
    bad = truncated(run_dir / "checkpoint.pt", keep)
    code, err = run(["evaluate", str(run_dir)], capsys)
    assert_one_line(code, err, f"checkpoint {bad} is unreadable")


def test_evaluate_refuses_a_malicious_checkpoint_without_running_it(run_dir, capsys):
    marker = run_dir / "pwned"
    torch.save(Malicious(marker), run_dir / "checkpoint.pt")
    code, err = run(["evaluate", str(run_dir)], capsys)
    assert_one_line(code, err, f"checkpoint {run_dir / 'checkpoint.pt'} is unreadable")
    assert not marker.exists()
    # torch's own first line advises loading unsafely: the message must not pass that on
    assert "not plain tensors" in err and "weights_only" not in err


def test_evaluate_names_a_checkpoint_of_another_model(run_dir, capsys):
    torch.save({"G": {"w": torch.zeros(3)}}, run_dir / "checkpoint.pt")
    code, err = run(["evaluate", str(run_dir)], capsys)
    assert_one_line(code, err, "does not hold this run's G")


def test_corrupt_extractor_is_named(digits16, tmp_path, capsys):
    bad = tmp_path / "domain.pt"
    bad.write_bytes(b"PK\x03\x04 cut short")
    argv = ["reference", str(digits16), "--extractor-path", str(bad), "--out", str(tmp_path / "r")]
    code, err = run(argv, capsys)
    assert_one_line(code, err, f"domain extractor {bad} is unreadable")


def test_corrupt_reference_features_are_named(tmp_path):
    from sagan.metrics.reference_files import load_reference

    bad = tmp_path / "heldout.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match=f"reference features {bad} is unreadable"):
        load_reference(bad)


def fake_run(root: Path, seed: int, status: str) -> Path:
    """A run folder as aggregate reads it: its config and status.json (text as given)."""
    run = root / "runs" / str(seed)
    run.mkdir(parents=True)
    cfg = {
        "study": "s",
        "variant": "dcgan",
        "data": {"dataset": "digits", "size": 100, "resolution": 16},
        "train": {"seed": seed},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    (run / "status.json").write_text(status)
    return run


def test_a_corrupt_status_json_is_an_unknown_status_not_a_crash(tmp_path, capsys):
    good = fake_run(tmp_path, 0, json.dumps({"state": "done", "iterations": 5}))
    bad = fake_run(tmp_path, 1, '{"state": "do')
    assert read_status(bad)["state"] == "unknown"
    assert str(bad / "status.json") in read_status(bad)["reason"]
    out = tmp_path / "summary.csv"
    assert main(["aggregate", str(good), str(bad), "--out", str(out)]) == 0
    import pandas as pd

    # trained but never scored (no metrics.json): unevaluated; the corrupt one: unknown
    assert list(pd.read_csv(out)["status"]) == ["unevaluated", "unknown"]


def test_a_read_only_run_folder_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    import tempfile

    def refuse(*args, **kwargs):  # what a read-only folder does (root ignores chmod)
        raise PermissionError(13, "Permission denied", f"{kwargs['dir']}/.tmp")

    folder = fake_run(tmp_path, 0, json.dumps({"state": "done"}))
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    out = tmp_path / "ro" / "summary.csv"
    code, err = run(["aggregate", str(folder), "--out", str(out)], capsys)
    assert_one_line(code, err, f"cannot write or read {out}: Permission denied")
    assert "fix its permissions" in err


def test_report_when_every_run_diverged_says_so(tmp_path, capsys):
    diverged = json.dumps({"state": "diverged", "iteration": 5, "reason": "nan"})
    runs = [str(fake_run(tmp_path, seed, diverged)) for seed in (0, 1)]
    assert main(["aggregate", *runs, "--out", str(tmp_path / "summary.csv")]) == 0
    code, err = run(["report", str(tmp_path), "--out", str(tmp_path / "rep")], capsys)
    assert_one_line(code, err, "finished (2 diverged), so there is nothing to report")


def test_fd_of_one_sample_names_the_count():
    one, many = np.ones((1, 4)), np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(DataError, match="at least 2 samples in each set, got 1 and 10"):
        frechet_distance(one, many)
    assert frechet_distance(many, many) == pytest.approx(0, abs=1e-6)


# --- an imagefolder with a damaged file ----------------------------------------------------


def image_folder(root: Path, damage: str) -> tuple[Path, Path]:
    """ROOT/a and ROOT/b with three 12 px images each; one file damaged. -> (root, bad file)."""
    rng = np.random.default_rng(0)
    for cls in "ab":
        (root / cls).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.png")
    if damage == "truncated-png":
        bad = truncated(root / "b" / "1.png", 60)
    else:  # bytes that only claim to be a JPEG
        (root / "b" / "1.png").unlink()
        bad = root / "b" / "1.jpg"
        bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    return root, bad


@pytest.mark.parametrize("damage", ["truncated-png", "corrupt-jpeg"])
def test_imagefolder_names_the_unreadable_file_or_skips_it(damage, tmp_path, capsys):
    root, bad = image_folder(tmp_path / "imgs", damage)
    argv = [*PREPARE[:5], "2", "--out", str(tmp_path / "d.pt"), "--options"]
    argv[1] = "imagefolder"
    code, err = run([*argv, json.dumps({"root": str(root)})], capsys)
    assert_one_line(code, err, f"cannot read image {bad}")
    assert "skip_unreadable: true" in err

    options = json.dumps({"root": str(root), "skip_unreadable": True})
    code, err = run([*argv, options], capsys)
    assert code == 0, err
    assert err.count("skipped 1 unreadable of 6 images") == 1
    assert len(torch.load(tmp_path / "d.pt", weights_only=True)["images"]) == 5


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("x = 1\nraise RuntimeError('no GPU driver here')\n", "RuntimeError: no GPU driver here"),
        (  # a name another plug-in (here the core) has taken
            "from sagan.registry import register_variant\n\n"
            "@register_variant('sagan')\ndef mine(**kw):\n    pass\n",
            "ValueError: variant 'sagan' is already registered by",
        ),
    ],
)
def test_a_failing_plug_in_is_one_line_naming_its_file_and_line(
    source, fragment, install_plugin, tmp_path, capsys
):
    install_plugin("broken_plugin", source, "unused")
    study = yaml.safe_load(Path(STUDY).read_text()) | {"plugins": ["broken_plugin"]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(study))
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    line = 2 if "RuntimeError" in fragment else 3  # the raise, or the decorated def
    assert f"plug-in module 'broken_plugin' failed while loading, at {tmp_path}" in err
    assert f"broken_plugin.py:{line}: {fragment}" in err


def test_an_empty_plug_in_name_is_one_line(tmp_path, capsys):
    study = yaml.safe_load(Path(STUDY).read_text()) | {"plugins": [""]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(study))
    assert main(["validate", str(tmp_path / "s.yaml")]) == 2
    assert "plugins: '' is no module name; remove it" in capsys.readouterr().err


def test_a_run_config_that_is_a_list_is_one_line(tmp_path, capsys):
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    assert main(["train", str(tmp_path / "list.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "list.yaml must be a mapping of keys, got list ['a', 'b']" in err
    assert len(err.strip().splitlines()) == 1


def test_cost_figures_of_a_csv_that_is_no_profile_is_one_line(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("a,b\n1,2\n")
    assert main(["cost-figures", str(tmp_path / "p.csv"), "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "p.csv: not a cost profile (no column arm, dataset, ms_per_step, precision)" in err


def test_a_damaged_finals_list_names_itself_and_the_fix(tmp_path):
    from sagan.train.checkpoint import final_iterations

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "finals.txt").write_text("400\n\x00garbage\n")
    with pytest.raises(DataError, match=r"finals.txt is damaged .* list the final iter_\*.pt"):
        final_iterations(tmp_path)
    (tmp_path / "checkpoints" / "finals.txt").write_text("400\n800\n")
    assert final_iterations(tmp_path) == {400, 800}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_a_cuda_profile_on_a_machine_without_cuda_is_refused_up_front(tmp_path, capsys):
    study = yaml.safe_load(Path(STUDY).read_text())
    study["profile"] = {**(study.get("profile") or {}), "device": "cuda"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(study))
    assert main(["validate", str(tmp_path / "s.yaml"), "--device", "cpu"]) == 2
    assert "profile.device is 'cuda', but this machine has no CUDA device" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_run_config_edited_by_hand_is_refused_not_used(run_dir, command, capsys):
    from sagan.config import config_digest, load_run_config

    path = run_dir / "config.yaml"
    digest = config_digest(load_run_config(path))  # what the study resolves the run to
    text = path.read_text()
    path.write_text(text.replace("num_samples: ", "num_samples: 1"))  # 1000 -> 11000
    assert path.read_text() != text
    argv = ["train", str(path), "--out", str(run_dir)] if command == "train" else [command]
    argv += [str(run_dir)] if command == "evaluate" else []
    assert main([*argv, "--expect", digest]) == 2
    err = capsys.readouterr().err
    assert "config.yaml no longer matches the study (edited by hand?)" in err
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "checkpoint.pt").exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, os.urandom(300)],
    ids=["empty", "cut", "noise"],
)
def test_a_damaged_sample_grid_is_named_with_its_fix(tmp_path, content):
    from sagan.errors import DataError
    from sagan.report.figures import read_sample_grid

    grid = tmp_path / "samples.png"
    grid.write_bytes(content)
    with pytest.raises(DataError, match=rf"sample grid {grid} is unreadable .*delete it and run"):
        read_sample_grid(grid)


DAMAGED_RUN_FILES = {
    "metrics is a list": ("metrics.json", "[1, 2]", "holds a list, not an object"),
    "metrics value a word": (
        "metrics.json",
        '{"metrics": {"fd_domain": {"value": "abc"}}}',
        "has an entry without a numeric value",
    ),
    "metrics not a mapping": ("metrics.json", '{"metrics": 3}', "has an entry without"),
    "metrics cut": ("metrics.json", '{"metrics": {"fd', "is unreadable"),
    "log binary": ("log.csv", "\udcff", "is unreadable"),
    "log of another file": ("log.csv", "a,b\n1\n", "has no iteration column"),
}


@pytest.mark.parametrize(
    ("name", "text", "fragment"), DAMAGED_RUN_FILES.values(), ids=list(DAMAGED_RUN_FILES)
)
def test_a_damaged_run_file_stops_aggregate_naming_it_and_its_fix(
    tmp_path, capsys, name, text, fragment
):
    """Not a row without scores: a seed silently missing from a claim is a wrong result."""
    run_dir = fake_run(tmp_path, 0, json.dumps({"state": "done", "iterations": 5}))
    (run_dir / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    code, err = run(["aggregate", str(run_dir), "--out", str(tmp_path / "summary.csv")], capsys)
    assert_one_line(code, err, f"{run_dir / name} {fragment}")
    assert "run `snakemake` again" in err


@pytest.mark.parametrize("table", ["summary.csv", "training_log.csv", "summary_stats.csv"])
def test_a_damaged_results_table_stops_the_report_naming_it(tmp_path, capsys, table):
    run_dir = fake_run(tmp_path, 0, json.dumps({"state": "done", "iterations": 5}))
    assert main(["aggregate", str(run_dir), "--out", str(tmp_path / "summary.csv")]) == 0
    (tmp_path / table).write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    code, err = run(["report", str(tmp_path), "--out", str(tmp_path / "rep")], capsys)
    assert_one_line(code, err, f"{tmp_path / table} is unreadable")


def test_a_run_cannot_share_with_itself(tmp_path, capsys):
    run_dir = fake_run(tmp_path, 0, json.dumps({"state": "done"}))
    code, err = run(["share-run", str(run_dir), "--out", str(run_dir)], capsys)
    assert_one_line(code, err, "is the run itself")


def test_a_folder_given_as_the_study_is_named_as_a_folder(tmp_path, capsys):
    code, err = run(["validate", str(tmp_path)], capsys)
    assert_one_line(code, err, f"study config {tmp_path} is a folder")


def test_study_claims_without_the_design_beside_them_are_not_called_valid(
    tmp_path, monkeypatch, capsys
):
    """Run from another folder, validate found no config/claims.yaml and skipped the
    study's claims:, printing "valid" for a claim with sesoi 0."""
    study = yaml.safe_load(Path(STUDY).read_text())
    study["claims"] = {"1": {"sesoi": 0}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(study))
    monkeypatch.chdir(tmp_path)
    code, err = run(["validate", "s.yaml"], capsys)
    assert_one_line(code, err, "there is no config/claims.yaml here")
    design = str(Path(STUDY).with_name("claims.yaml"))
    code, err = run(["validate", "s.yaml", "--claims", design], capsys)
    assert_one_line(code, err, "claim '1': sesoi (smallest effect of interest) must be")


def test_output_piped_into_a_reader_that_stops_early_is_no_traceback():
    """`sagan arms STUDY | head -1`: the pipe closes after one line."""
    import subprocess
    import sys

    done = subprocess.run(
        f"{sys.executable} -m sagan.cli arms {STUDY} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
