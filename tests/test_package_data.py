"""The files the package reads beside its code ship in its wheel (.ci/wheel_test installs
one): each is under sagan/ and matched by pyproject.toml's package-data."""

import re
import tomllib
from pathlib import Path

import sagan
from sagan.report.outputs import NOTEBOOKS, notebook_dir
from sagan.schema import study_schema

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(sagan.__file__).parent


def shipped(path: Path) -> bool:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["sagan"]
    return any(path.relative_to(PACKAGE).match(glob) for glob in globs)


def test_the_schema_and_every_notebook_are_package_data():
    files = [study_schema(), *(notebook_dir() / f"{name}.ipynb" for name in NOTEBOOKS)]
    for path in files:
        assert path.is_file() and shipped(path), path


def test_the_package_reads_nothing_beside_itself_by_its_own_path():
    """Path(__file__).parents[...] finds a file in a source checkout, not in an install."""
    for source in PACKAGE.rglob("*.py"):
        assert not re.search(r"__file__\)[^\n]*parents", source.read_text()), source
