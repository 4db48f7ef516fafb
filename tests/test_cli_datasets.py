"""`sagan datasets`: every registered dataset, its kind, its options with their defaults."""

import inspect
import json

from sagan.cli import main
from sagan.data import DATASETS


def listing(capsys) -> dict[str, tuple[str, str]]:
    """name -> (its line, its options line), from the command's output."""
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    pairs = zip(lines[::2], lines[1::2], strict=True)  # each dataset: its line, its options
    return {line.split()[0]: (line, options) for line, options in pairs}


def test_every_registered_dataset_is_listed_with_its_kind_and_description(capsys):
    listed = listing(capsys)
    assert sorted(listed) == DATASETS.names()
    for entry in DATASETS.entries():
        line = listed[entry.name][0]
        assert line.split()[1] == ("video" if "video" in entry.tags else "image")
        assert line.endswith(entry.description)


def test_every_option_is_listed_with_its_default(capsys):
    listed = listing(capsys)
    for entry in DATASETS.entries():
        options = listed[entry.name][1].split("options: ", 1)[1]
        for p in inspect.signature(entry.builder).parameters.values():
            if p.name == "resolution":  # the entry's own key, not an option
                assert "resolution" not in options
            elif p.default is p.empty:
                assert f"{p.name} (required)" in options
            else:
                assert f"{p.name}: {json.dumps(p.default)}" in options.split(", ")


def test_known_defaults_read_as_a_study_writes_them(capsys):
    listed = listing(capsys)
    assert listed["digits"][1].strip() == "options: (none)"
    assert listed["pairs"][1].strip() == "options: count: 2000, seed: 0"
    assert listed["cifar10"][1].strip() == (
        'options: root (required), download: false, split: "train+test"'
    )
    assert listed["moving-digits"][0].split()[1] == "video"
    assert "frames: 16" in listed["videofolder"][1]
