"""A Python type hint as a JSON schema, with the conversion a JSON value needs to become
a value of that type (an enum member, a tuple, a pydantic model).

The hints a person writes on a function meant for a model: ``str``, ``int``, ``float``,
``bool``, ``list[X]``, ``tuple[...]``, ``set[X]``, ``dict[str, X]``, ``Literal[...]``,
an ``Enum``, ``X | None`` and unions, ``Annotated[X, "what it is"]``, ``Any``, and a
pydantic ``BaseModel`` (its own ``model_json_schema()``; pydantic is never imported
here, a model means it already is).
"""

from __future__ import annotations

import collections.abc as abc
import enum
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from .arguments import problems

__all__ = ["Converter", "describe_type", "is_pydantic_model"]

Converter = Callable[[Any], Any]

_SCALARS: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_ARRAYS = (list, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection)
_SETS = (set, frozenset, abc.Set, abc.MutableSet)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


def _same(value: Any) -> Any:
    return value


def _to_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) else value  # 3.0 passed the check


_SCALAR_CONVERTERS: dict[Any, Converter] = {float: float, int: _to_int}


def is_pydantic_model(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    base = getattr(pydantic, "BaseModel", None)
    return isinstance(tp, type) and base is not None and issubclass(tp, base)


def describe_type(tp: Any, defs: dict[str, Any]) -> tuple[dict[str, Any], Converter]:
    """The schema of ``tp`` and how to turn a valid JSON value into it. Definitions a
    pydantic model refers to (``#/$defs/...``) are collected into ``defs``."""
    if tp is Any or tp is object:
        return {}, _same
    if tp is None or tp is type(None):
        return {"type": "null"}, _same
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}, _SCALAR_CONVERTERS.get(tp, _same)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    if is_pydantic_model(tp):
        return _pydantic(tp, defs)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        schema, convert = describe_type(args[0], defs)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return ({**schema, "description": notes[0]} if notes else schema), convert
    if origin is typing.Literal:
        return _literal(args), _same
    if origin is typing.Union or origin is types.UnionType:
        return _union(args, defs)
    if origin is tuple or tp is tuple:
        return _tuple(args, defs)
    if tp in _ARRAYS or origin in _ARRAYS:
        return _array(args, defs, list)
    if tp in _SETS or origin in _SETS:
        schema, convert = _array(args, defs, set if origin is not frozenset else frozenset)
        return {**schema, "uniqueItems": True}, convert
    if tp in _MAPPINGS or origin in _MAPPINGS:
        return _mapping(tp, args, defs)
    raise TypeError(
        f"{_name(tp)} has no JSON form a model could send; use str, int, float, bool, "
        "lists, dicts, Literal, an Enum or a pydantic model."
    )


def _name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


def _json_type(values: tuple[Any, ...]) -> dict[str, Any]:
    """``{"type": ...}`` when every value has the same JSON type, else nothing."""
    kinds = {_SCALARS.get(type(v)) for v in values}
    kind = kinds.pop() if len(kinds) == 1 else None
    return {"type": kind} if kind else {}


def _enum(tp: type[enum.Enum]) -> tuple[dict[str, Any], Converter]:
    values = tuple(member.value for member in tp)
    return {**_json_type(values), "enum": list(values)}, tp


def _literal(values: tuple[Any, ...]) -> dict[str, Any]:
    plain = tuple(v.value if isinstance(v, enum.Enum) else v for v in values)
    return {**_json_type(plain), "enum": list(plain)}


def _union(args: tuple[Any, ...], defs: dict[str, Any]) -> tuple[dict[str, Any], Converter]:
    described = [describe_type(arg, defs) for arg in args]
    schemas = [schema for schema, _ in described]
    converters = [(schema, convert) for schema, convert in described if convert is not _same]
    if not converters:
        return {"anyOf": schemas}, _same

    def convert(value: Any) -> Any:
        # The first member whose schema the value fits decides (None stays None).
        for schema, member in converters:
            if not problems(value, schema, "", defs):
                return member(value)
        return value

    return {"anyOf": schemas}, convert


def _array(
    args: tuple[Any, ...], defs: dict[str, Any], make: Callable[[Any], Any]
) -> tuple[dict[str, Any], Converter]:
    if not args:
        return {"type": "array"}, make
    items, item = describe_type(args[0], defs)
    return {"type": "array", "items": items}, lambda value: make(item(v) for v in value)


def _tuple(args: tuple[Any, ...], defs: dict[str, Any]) -> tuple[dict[str, Any], Converter]:
    if not args or args == ((),):
        return {"type": "array", **({"maxItems": 0} if args else {})}, tuple
    if len(args) == 2 and args[1] is Ellipsis:
        return _array(args[:1], defs, tuple)
    described = [describe_type(arg, defs) for arg in args]
    schema = {
        "type": "array",
        "prefixItems": [s for s, _ in described],
        "minItems": len(args),
        "maxItems": len(args),
    }
    return schema, lambda value: tuple(c(v) for (_, c), v in zip(described, value, strict=True))


def _mapping(
    tp: Any, args: tuple[Any, ...], defs: dict[str, Any]
) -> tuple[dict[str, Any], Converter]:
    if not args:
        return {"type": "object"}, _same
    if args[0] is not str:
        raise TypeError(f"{tp!r}: JSON object keys are strings; use dict[str, ...].")
    values, value_of = describe_type(args[1], defs)
    schema = {"type": "object", "additionalProperties": values}
    return schema, lambda value: {k: value_of(v) for k, v in value.items()}


def _pydantic(model: Any, defs: dict[str, Any]) -> tuple[dict[str, Any], Converter]:
    # Its own definitions move to the tool schema's top level, where "#/$defs/..."
    # references resolve.
    schema = dict(model.model_json_schema())
    defs.update(schema.pop("$defs", {}))
    return schema, model.model_validate
