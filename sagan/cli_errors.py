"""The errors a user can fix, as one line each: what went wrong and what to do.

The ``sagan`` command runs every subcommand through :func:`user_error`; an error it knows
becomes one line on stderr and exit code 2, anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import json
import pickle

import yaml

from sagan.errors import ConfigError, DataError, first_line, yaml_error


def user_error(err: BaseException) -> str | None:
    """One line for an error the user can act on; None for anything else (a bug)."""
    if isinstance(err, ConfigError | DataError):
        return _one_line(str(err))
    if isinstance(err, OSError) and (err.filename is not None or err.errno == errno.ENOSPC):
        return _one_line(_os_error(err))
    if isinstance(err, yaml.YAMLError):
        mark = getattr(err, "problem_mark", None)
        return _one_line(yaml_error(err, getattr(mark, "name", None) or "a YAML file"))
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}; fix the file"
    if isinstance(err, pickle.UnpicklingError | EOFError):
        return _one_line(f"a saved file is corrupt or truncated ({first_line(err)}); delete it")
    if type(err).__module__.startswith("pandas.errors"):  # an empty or cut CSV
        return _one_line(f"a CSV file is unreadable ({first_line(err)}); regenerate it")
    return None


def _os_error(err: OSError) -> str:
    name, reason = err.filename, err.strerror or first_line(err)
    if err.errno == errno.ENOSPC:
        return f"no space left on the disk ({name or 'writing'}); free some space and re-run"
    if isinstance(err, FileNotFoundError):
        return f"{name} does not exist; check the path, or create it with the step that makes it"
    if isinstance(err, PermissionError):
        return f"cannot write or read {name}: {reason}; fix its permissions (or its folder's)"
    if isinstance(err, IsADirectoryError):
        return f"{name} is a folder, expected a file; check the path"
    if isinstance(err, NotADirectoryError):
        return f"{name} is not a folder; check the path"
    return f"cannot use {name}: {reason}; check the file and the disk"


def _one_line(text: str) -> str:
    return " ".join(text.split())
