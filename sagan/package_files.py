"""Files the package ships beside its code (the study schema, the report notebooks), found
through importlib.resources so an installed wheel finds them as a source checkout does."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_file(*parts: str) -> Path:
    """A file or folder shipped in the ``sagan`` package, e.g. ``("schemas", "x.yaml")``.
    Papermill, Snakemake and subprocesses need a real path, so a zipped install is refused."""
    path = files("sagan").joinpath(*parts)
    if not isinstance(path, Path):
        raise RuntimeError(f"sagan is installed as a zip; install it unzipped to read {path}")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the sagan package; reinstall the package")
    return path
