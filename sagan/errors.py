"""Errors a user can act on: each message names the bad thing and the fix."""


class ConfigError(ValueError):
    """A study or run config that cannot work (unknown key, name or value)."""


class DataError(RuntimeError):
    """A dataset or prepared file that is missing or unusable."""


def yaml_error(err: Exception, path: object) -> str:
    """'FILE:LINE:COL: YAML syntax error: PROBLEM; fix the file there' (lines from 1)."""
    mark = getattr(err, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    problem = getattr(err, "problem", None) or first_line(err)
    return f"{where}: YAML syntax error: {problem}; fix the file there"


def first_line(err: BaseException) -> str:
    """The first line of an error's message, or its type where the message is empty."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
