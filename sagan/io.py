"""Files: atomic writes (a temp file in the same folder, flushed, fsynced, then renamed), and
reads that turn a corrupt file into one line naming it and the fix."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except PermissionError as err:  # a read-only folder: name the file we meant to write
        raise PermissionError(err.errno, err.strerror, str(path)) from err
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=True) + "\n")


def atomic_torch_save(path: str | Path, obj: Any) -> None:
    buf = io.BytesIO()
    import torch  # here: a job that writes only text need not load torch (~1.5 s)

    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content; a syntax error becomes a ConfigError naming FILE:LINE:COL."""
    import yaml

    from sagan.errors import ConfigError, yaml_error

    with open(path) as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as err:
            raise ConfigError(yaml_error(err, path)) from None


def load_torch_file(path: str | Path, what: str, fix: str, map_location: Any = None) -> Any:
    """``torch.load(weights_only=True)`` of ``path``; a truncated, corrupt or code-carrying
    file becomes a DataError: '<what> <path> is unreadable (<why>); <fix>'."""
    import torch

    from sagan.errors import DataError, first_line

    try:
        return torch.load(path, weights_only=True, map_location=map_location)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as err:  # zip, pickle, EOF, weights-only refusals: all say "corrupt"
        raise DataError(f"{what} {path} is unreadable ({first_line(err)}); {fix}") from err
