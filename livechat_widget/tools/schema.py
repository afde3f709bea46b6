"""A person's own Python functions as tools the model may call.

How to use::

    from livechat_widget.tools.schema import tool_from_function

    def area(width: float, height: float = 1.0) -> float:
        \"\"\"The area of a rectangle.

        Args:
            width: in metres.
            height: in metres.
        \"\"\"
        return width * height

    tool = tool_from_function(area)             # name "area", schema from the hints
    toolbox.add(tool)                           # the chat offers it to the model

The schema comes from the signature: type hints (types_schema.py lists the ones
understood), defaults (such parameters are optional and the default is recorded),
``Annotated[X, "text"]`` and the docstring (Google, NumPy or reST) for each
parameter's description, the docstring's first paragraph for the tool's. ``*args`` and
``**kwargs`` are refused: a model can only send named arguments.

The model's arguments are checked before the call (arguments.py); a wrong call is an
error result telling the model what to fix, and the function is not called. A plain
function runs on the kernel's main thread, as a cell would (it may use the notebook's
variables; the kernel's interrupt stops it); an ``async def`` is awaited on the loop.
What it returns becomes text and images (output.py); what it raises, an error result.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import signal
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..code_run import call_on_main
from .arguments import check_arguments
from .docstrings import parse_docstring
from .output import error_output, output_of
from .toolbox import TOOL_NAME, Tool, ToolOutput
from .types_schema import Converter, describe_type

__all__ = ["function_schema", "output_of", "tool_from_function"]

_NOT_CALLED = "The call was not made: "


@dataclass(frozen=True)
class _Param:
    name: str
    positional_only: bool
    convert: Converter


def tool_from_function(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    needs_consent: bool = False,
) -> Tool:
    """``fn`` as a Tool: its schema from its signature and docstring, its arguments
    checked before each call. Raises TypeError for a signature a model cannot call."""
    tool_name = name or str(getattr(fn, "__name__", ""))
    if not re.fullmatch(TOOL_NAME, tool_name):
        raise ValueError(
            f"{tool_name or fn!r} is not a tool name (1 to 64 letters, digits, '_' or '-'); "
            "pass name=..."
        )
    schema, params = _schema_and_params(fn)
    doc = parse_docstring(inspect.getdoc(fn))
    text = description or doc.summary or f"The Python function {tool_name}{_signature(fn)}."
    is_async = _is_async(fn)

    async def run(arguments: dict[str, Any]) -> ToolOutput:
        found = check_arguments(arguments, schema)
        if found:
            return ToolOutput(_NOT_CALLED + " ".join(found), is_error=True)
        try:
            args, kwargs = _bind(params, arguments)
        except Exception as exc:  # a pydantic model's own validation, mostly
            return ToolOutput(f"{_NOT_CALLED}{exc}", is_error=True)
        if is_async:
            return await _call_async(fn, args, kwargs)
        return await call_on_main(lambda: _call_sync(fn, args, kwargs))

    return Tool(
        name=tool_name,
        description=text,
        parameters=schema,
        run=run,
        needs_consent=needs_consent,
        source="python",
        interruptible=not is_async,
    )


def function_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema (an object) of ``fn``'s parameters, as its tool offers it."""
    return _schema_and_params(fn)[0]


def _schema_and_params(fn: Callable[..., Any]) -> tuple[dict[str, Any], list[_Param]]:
    signature = inspect.signature(fn)
    hints = _hints(fn)
    docs = parse_docstring(inspect.getdoc(fn)).params
    properties: dict[str, Any] = {}
    required: list[str] = []
    defs: dict[str, Any] = {}
    params: list[_Param] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise TypeError(
                f"{_qualname(fn)} takes {star}{param.name}, which a model cannot fill in "
                "(it sends named arguments only); give each parameter its own name."
            )
        hint = hints.get(param.name, Any)
        try:
            prop, convert = describe_type(hint, defs)
        except TypeError as exc:
            raise TypeError(f"{_qualname(fn)}, parameter '{param.name}': {exc}") from None
        if "description" not in prop and docs.get(param.name):
            prop = {**prop, "description": docs[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif _is_json(default := _plain(param.default)):
            prop = {**prop, "default": default}
        properties[param.name] = prop
        params.append(_Param(param.name, param.kind is param.POSITIONAL_ONLY, convert))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema, params


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    target = fn if inspect.isroutine(fn) or inspect.isclass(fn) else type(fn).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:  # a forward reference to a name that does not exist
        raise TypeError(
            f"The type hints of {_qualname(fn)} could not be read ({type(exc).__name__}: {exc})."
        ) from None


def _bind(params: list[_Param], arguments: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in params:
        if param.name not in arguments:
            continue  # optional: the function's own default applies
        value = param.convert(arguments[param.name])
        if param.positional_only:
            args.append(value)
        else:
            kwargs[param.name] = value
    return args, kwargs


async def _call_async(
    fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
) -> ToolOutput:
    try:
        return output_of(await fn(*args, **kwargs))
    except Exception as exc:
        return error_output(exc)


def _call_sync(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> ToolOutput:
    """On the kernel's main thread. Jupyter's interrupt (SIGINT) must raise
    KeyboardInterrupt in the function, as in a cell, whatever handler is installed."""
    on_main = threading.current_thread() is threading.main_thread()
    saved = signal.getsignal(signal.SIGINT) if on_main else None
    if on_main:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return output_of(fn(*args, **kwargs))
    except Exception as exc:  # KeyboardInterrupt is not one: Stop ends the reply
        return error_output(exc)
    finally:
        if on_main and saved is not None:
            signal.signal(signal.SIGINT, saved)


def _is_async(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - a callable object's method
    return inspect.iscoroutinefunction(call)


def _plain(value: Any) -> Any:
    """A default as JSON would hold it (an enum member by its value, a tuple as a list)."""
    value = value.value if isinstance(value, enum.Enum) else value
    return list(value) if isinstance(value, tuple | frozenset | set) else value


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__qualname__', None) or type(fn).__qualname__}()"


def _signature(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"
