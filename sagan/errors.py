"""Errors a user can act on: each message names the bad thing and the fix."""


class ConfigError(ValueError):
    """A study or run config that cannot work (unknown key, name or value)."""


class DataError(RuntimeError):
    """A dataset or prepared file that is missing or unusable."""
