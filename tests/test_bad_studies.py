"""The bad-input corpus: each YAML under tests/bad_studies/ is one study that `sagan validate`
must refuse with exit 2 and one line holding the fragment of its ``# expect:`` line (after
``# args:``, extra arguments, e.g. ``--device cpu``). Good studies must pass. Add a case by
adding a file; conftest.py prints how many the corpus holds."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from sagan.cli import main
from sagan.errors import ConfigError
from sagan.study import validate_study
from sagan.study.model import parse_study

HERE = Path(__file__).parent
REPO = HERE.parent
BAD = sorted((HERE / "bad_studies").glob("*.yaml"))
GOOD = [
    REPO / "config/default.yaml",
    REPO / "config/video.yaml",
    HERE / "good_studies/at_the_limits.yaml",
    HERE / "good_studies/anchors_and_merges.yaml",
]


def header(path: Path, key: str) -> str:
    """The value of a leading ``# key: value`` comment line ('' if none)."""
    for line in path.read_text(errors="replace").splitlines():  # one case is not UTF-8
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    return ""


def validate(path: Path, capsys) -> tuple[int, str]:
    """`sagan validate PATH [args]` in this process: exit code and stderr."""
    code = main(["validate", str(path), *shlex.split(header(path, "args"))])
    return code, capsys.readouterr().err


def test_the_corpus_is_there_and_every_case_says_what_it_expects():
    assert len(BAD) >= 20
    assert all(header(path, "expect") for path in BAD), "each case needs an '# expect:' line"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_bad_study_is_refused_in_one_line(path, capsys):
    code, err = validate(path, capsys)
    assert code == 2, f"{path.name} was accepted"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("sagan validate: error: ")
    assert header(path, "expect") in err


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_a_good_study_is_accepted(path, capsys):
    assert main(["validate", str(path), "--device", "cpu"]) == 0, capsys.readouterr().err


def test_force_skips_the_memory_check_only(capsys):
    too_wide = HERE / "bad_studies/width_too_large.yaml"
    assert main(["validate", str(too_wide), "--device", "cpu", "--force"]) == 0
    too_large = HERE / "bad_studies/heldout_too_large.yaml"
    code, err = main(["validate", str(too_large), "--force"]), capsys.readouterr().err
    assert code == 2 and "heldout 2000 is larger than" in err


def test_the_memory_check_allocates_nothing(capsys):
    """A 45,000 GiB model is refused in about a second: it is never built on a real device."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    code, err = validate(HERE / "bad_studies/width_too_large.yaml", capsys)
    assert code == 2 and "GiB" in err
    assert time.perf_counter() - start < 30
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # KiB


def test_validate_study_refuses_negative_sizes_without_the_schema(capsys):
    """The schema is the first check of `sagan validate`, but not the only one: without it
    validate_study's own checks refuse the same values. The schema ships in the package, so
    `--schema` naming a missing file is refused, not skipped."""
    study = yaml.safe_load((HERE / "bad_studies/size_negative.yaml").read_text())
    with pytest.raises(ConfigError, match=r"sizes: -5 is not a positive integer or 'full'"):
        validate_study(parse_study(study))
    code = main(["validate", str(HERE / "bad_studies/size_negative.yaml"), "--schema", "/none"])
    assert code == 2 and "/none does not exist" in capsys.readouterr().err


def test_heldout_may_leave_a_single_training_image():
    """The boundary of the count check: heldout count - 1 is accepted, count is not."""
    from sagan.data import DATASETS
    from sagan.study_checks import check_counts

    digits = DATASETS.get("digits")
    check_counts("digits", "digits", digits, {}, heldout=1796, sizes=[1, "full"])
    with pytest.raises(ConfigError, match="heldout 1797 is equal to the 1797 images"):
        check_counts("digits", "digits", digits, {}, heldout=1797, sizes=["full"])
