"""A default a study may leave out is stated once (sagan.study.model, from the typed config
that owns it), not re-spelled where the study is read: the extractor "domain", the batch
size 64 and the profile's device had each drifted into several files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sagan.config import EvalConfig, ExtractorConfig, TrainConfig
from sagan.study import entry_extractor
from sagan.study.model import parse_study

REPO = Path(__file__).resolve().parents[1]
RESPELLED = re.compile(
    r"""get\(\s*["'](extractor|batch_size|device|epochs)["']\s*,\s*("[a-z]+"|\d+|"cuda" if)"""
)


def sources() -> list[Path]:
    return [
        *sorted((REPO / "sagan").rglob("*.py")),
        *sorted((REPO / "workflow").rglob("*.smk")),
        REPO / "Snakefile",
    ]


def test_no_source_re_spells_a_study_default():
    hits = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if RESPELLED.search(line)
    ]
    assert not hits, "read the default from sagan.study.model instead:\n" + "\n".join(hits)


def test_the_pattern_sees_each_old_spelling():
    for old in (
        '.get("extractor", "domain")',
        '.get("batch_size", 64)',
        'get("device", "cuda" if GPUS else "cpu")',
        '.get("device", "cpu")',
        'own.get("epochs", 15)',
    ):
        assert RESPELLED.search(old), old


BASE = {
    "study": "t",
    "datasets": {"digits": {"resolution": 16, "heldout": 100}},
    "variants": {"dcgan": None},
    "sizes": [100],
    "seeds": [0],
}


def test_the_defaults_come_from_the_typed_configs():
    study = dict(BASE)
    assert entry_extractor(parse_study(study), "digits") == EvalConfig.extractor
    assert parse_study(study).batch_size == TrainConfig.batch_size
    assert parse_study(study).extractor_epochs == ExtractorConfig.epochs
    assert parse_study(study | {"train": {"batch_size": 8}}).batch_size == 8
    study["evaluation"] = {"extractor": "inception"}
    assert entry_extractor(parse_study(study), "digits") == "inception"
    own = {"evaluation": {"extractor": "domain"}}  # the entry's own wins
    study["datasets"] = {"digits": study["datasets"]["digits"] | own}
    assert entry_extractor(parse_study(study), "digits") == "domain"


@pytest.mark.parametrize(
    ("profile", "gpus", "device"),
    [({}, False, "cpu"), ({}, True, "cuda"), ({"device": "cpu"}, True, "cpu")],
)
def test_the_profile_runs_where_the_study_says_else_on_the_workflows_gpus(profile, gpus, device):
    assert parse_study(BASE | {"profile": profile}).profile.device_for(gpus=gpus) == device


STUDY_AS_DICT = re.compile(r"\bstudy: (dict|Mapping|MutableMapping)\b")


def test_no_function_takes_the_study_as_a_dict():
    """The study is parsed once (sagan.study.model.parse_study) and read by attribute: a
    function that takes it as a dict reads keys, with their defaults, again."""
    hits = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sorted((REPO / "sagan").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if STUDY_AS_DICT.search(line)
    ]
    assert not hits, "take a sagan.study.model.Study instead:\n" + "\n".join(hits)
    assert STUDY_AS_DICT.search("def f(study: dict[str, Any]) -> None:")
