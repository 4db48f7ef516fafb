"""The study config against its JSON schema, as one short ConfigError: the key's path, the
problem and the allowed values. (jsonschema's own error prints the whole schema and instance,
140 lines in which the key is easy to miss.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from sagan.errors import ConfigError
from sagan.package_files import package_file


def study_schema() -> Path:
    """The JSON schema of a study config, shipped in the package (the workflow reads it too)."""
    return package_file("schemas", "config.schema.yaml")


def check_schema(
    document: dict[str, Any], schema: dict[str, Any] | str | Path | None = None
) -> None:
    """Raise a ConfigError for the most relevant schema violation in a study's ``document``
    (its YAML as read, before ``parse_study``), if any (``schema``: the package's study schema
    unless given)."""
    schema = study_schema() if schema is None else schema
    if not isinstance(schema, dict):
        schema = yaml.safe_load(Path(schema).read_text())
    error = best_match(Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        raise ConfigError(describe(error))


def describe(error: ValidationError) -> str:
    """One line: where, what is wrong, what is allowed."""
    where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in error.absolute_path)
    where = where.lstrip(".") or "the study config"
    kind, rule, value = error.validator, error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = f" ({schema['description']})" if "description" in schema else ""
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        return (
            f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
            f"allowed: {', '.join(allowed)}"
        )
    if kind == "required":
        missing = [k for k in rule if k not in value]
        return f"{where} lacks required key(s) {', '.join(map(repr, missing))}; required: {rule}"
    if kind == "enum":
        return f"{where}: {value!r} is not allowed; allowed: {rule}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{where} must be at least {rule}, got {value!r}{hint}"
    if kind == "minItems":
        return f"{where} must list at least {rule} value(s), got {value!r}{hint}"
    if kind == "minProperties":
        return f"{where} must name at least {rule} entry(ies), got {value!r}{hint}"
    if kind == "uniqueItems":
        return f"{where} lists a value twice: {value!r}; list each once"
    if kind == "type":
        return f"{where} must be of type {rule}, got {value!r}{hint}"
    if kind in ("anyOf", "oneOf"):
        return f"{where}: {value!r} is not allowed{hint}"
    if kind == "pattern":
        return f"{where}: {value!r} does not match {rule!r}{hint}"
    return f"{where}: {error.message}{hint}"
