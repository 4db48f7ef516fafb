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


MAX_YAML_VALUES = 1_000_000  # a study holds thousands; more comes only from alias nesting


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content, read strictly: a syntax error, a duplicate key (YAML would keep
    the last silently), nesting too deep to read, or aliases that expand past
    ``MAX_YAML_VALUES`` values (an alias bomb: every walk of it would take for ever) become a
    ConfigError naming the file."""
    import yaml

    from sagan.errors import ConfigError, yaml_error

    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            data = yaml.load(f, Loader=_strict_loader())
        except yaml.YAMLError as err:
            raise ConfigError(yaml_error(err, path)) from None
        except RecursionError:
            raise ConfigError(f"{path}: nested too deeply to read; flatten it") from None
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"{path}: not UTF-8 text (byte {err.object[err.start]:#x} at offset "
                f"{err.start}); save it as UTF-8"
            ) from None
    if (n := _expanded_size(data, {})) > MAX_YAML_VALUES:
        raise ConfigError(
            f"{path}: expands to more than {MAX_YAML_VALUES:,} values through YAML aliases "
            f"({n:,.3g}); write the values out, or use fewer nested aliases"
        )
    return data


def _strict_loader():
    import yaml

    from sagan.errors import ConfigError

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: dict[tuple, int] = {}
            for key, _ in node.value:
                if key.tag == "tag:yaml.org,2002:merge" or not isinstance(key, yaml.ScalarNode):
                    continue  # "<<" merges may be overridden: that is what they are for
                line = key.start_mark.line + 1
                if (key.tag, key.value) in seen:
                    raise ConfigError(
                        f"{key.start_mark.name}:{line}: duplicate key {key.value!r} (first "
                        f"at line {seen[key.tag, key.value]}); YAML would keep only the last: "
                        "remove one"
                    )
                seen[key.tag, key.value] = line
            return super().construct_mapping(node, deep)

    return StrictLoader


def _expanded_size(value: Any, memo: dict[int, int]) -> int:
    """Values in ``value`` with every alias written out (memoised by identity, so an alias
    bomb is counted without being expanded)."""
    if not isinstance(value, dict | list):
        return 1
    if id(value) not in memo:
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        memo[id(value)] = 1 + sum(_expanded_size(v, memo) for v in items)
    return memo[id(value)]


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
        why = first_line(err)
        if why.startswith("Weights only load failed"):  # torch then suggests unsafe loading
            why = "not plain tensors: damaged, or a pickle that holds code, which is never run"
        raise DataError(f"{what} {path} is unreadable ({why}); {fix}") from err


def read_table(path: str | Path, what: str, fix: str, **read_csv: Any) -> Any:
    """``pd.read_csv(path)``; a file that is not CSV text (binary, cut mid-row, empty)
    becomes a DataError: '<what> <path> is unreadable (<why>); <fix>'."""
    import pandas as pd

    from sagan.errors import DataError, first_line

    try:
        return pd.read_csv(path, **read_csv)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{what} {path} is unreadable ({first_line(err)}); {fix}") from err


def read_json_object(path: str | Path, what: str, fix: str) -> dict[str, Any]:
    """A JSON file that must hold an object; anything else is a DataError naming it."""
    from sagan.errors import DataError, first_line

    try:
        data = json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise DataError(f"{what} {path} is unreadable ({first_line(err)}); {fix}") from err
    if not isinstance(data, dict):
        raise DataError(f"{what} {path} holds a {type(data).__name__}, not an object; {fix}")
    return data
