"""Checking a model's arguments against a tool's JSON schema before the call.

Only what schema.py writes is checked: ``type`` (one or several), ``enum``,
``anyOf``, ``items``/``prefixItems``/``minItems``/``maxItems``, object
``properties``/``required``/``additionalProperties`` and ``$ref`` into ``$defs``.
Every problem is told in words a model can act on; a pydantic model's own rules are
left to pydantic (it validates while converting).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["check_arguments", "problems"]

_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def check_arguments(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``arguments`` for a tool whose parameters are ``schema``."""
    found: list[str] = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    defs: Mapping[str, Any] = schema.get("$defs", {})
    for name in schema.get("required", ()):
        if name not in arguments:
            found.append(f"The required argument '{name}' is missing.")
    for name, value in arguments.items():
        if name not in properties:
            takes = ", ".join(properties) or "no arguments"
            found.append(f"There is no argument '{name}' (this tool takes: {takes}).")
        else:
            found.extend(problems(value, properties[name], f"'{name}'", defs))
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fits(value: Any, kind: str) -> bool:
    actual = _kind(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer" and actual == "number":
        return bool(float(value).is_integer())
    return actual == kind


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems(
    value: Any, schema: Mapping[str, Any], path: str, defs: Mapping[str, Any]
) -> list[str]:
    """What keeps ``value`` from fitting ``schema`` (empty: it fits)."""
    if "$ref" in schema:
        target = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1])
        return [] if target is None else problems(value, target, path, defs)
    if "anyOf" in schema:
        options = schema["anyOf"]
        if any(not problems(value, option, path, defs) for option in options):
            return []
        return [f"{path} is {_short(value)}, which fits none of the allowed forms."]
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_fits(value, kind) for kind in allowed):
            wanted = " or ".join(_NAMES.get(k, k) for k in allowed)
            return [f"{path} must be {wanted}, not {_short(value)}."]
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(_short(choice) for choice in schema["enum"])
        return [f"{path} is {_short(value)}; it must be one of {choices}."]
    if isinstance(value, list | tuple):
        return _array_problems(list(value), schema, path, defs)
    if isinstance(value, dict):
        return _object_problems(value, schema, path, defs)
    return []


def _array_problems(
    value: list[Any], schema: Mapping[str, Any], path: str, defs: Mapping[str, Any]
) -> list[str]:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        size = f"{low}" if low == high else f"{low or 0} to {high if high is not None else 'any'}"
        return [f"{path} must have {size} items, not {len(value)}."]
    found: list[str] = []
    prefix = schema.get("prefixItems", [])
    for i, item in enumerate(value):
        item_schema = prefix[i] if i < len(prefix) else schema.get("items")
        if item_schema is not None:
            found.extend(problems(item, item_schema, f"{path}[{i}]", defs))
    return found


def _object_problems(
    value: dict[str, Any], schema: Mapping[str, Any], path: str, defs: Mapping[str, Any]
) -> list[str]:
    found: list[str] = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            found.append(f"{path} lacks its required key '{name}'.")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if not isinstance(key, str):
            found.append(f"{path} has a key that is not a string: {key!r}.")
        elif key in properties:
            found.extend(problems(item, properties[key], f"{path}.{key}", defs))
        elif extra is False:
            found.append(f"{path} has no key '{key}'.")
        elif isinstance(extra, Mapping):
            found.extend(problems(item, extra, f"{path}[{_short(key)}]", defs))
    return found
