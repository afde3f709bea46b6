"""What the kernel can offer as context: its variables, the last error, recent cells.

``offer()`` lists what the person may attach (names, kinds, sizes — never values);
``build_context()`` turns chosen names into the text the model receives, one block per
item, capped per item and in total. pandas and numpy are optional: they are recognised
by duck typing and ``sys.modules`` and never imported here.

The text is also what the chat file keeps (a ``context`` row), and ``parse_context``
reads it back into its items, so the chips under a message can be redrawn from the file.
"""

from __future__ import annotations

import inspect
import re
import reprlib
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from .refusals import Refused

LAST_ERROR = "last error"  # names no variable can have (they hold a space)
RECENT_CELLS = "recent cells"
SPECIAL = (LAST_ERROR, RECENT_CELLS)

# Set on the shell while the chat itself runs code (code_run.py): no "Ask livechat" then.
QUIET = "_livechat_quiet"

ITEM_BYTES = 8 * 1024
TOTAL_BYTES = 32 * 1024
MAX_ITEMS = 20
RECENT_CELL_COUNT = 5
TABLE_ROWS = 5
CELL_CHARS = 40  # one table cell

HEADING = "The person attached this context from their Jupyter kernel:"
_OPEN = re.compile(r'^<context name="([^"\n]*)" kind="([^"\n]*)">$', re.M)
_CLOSE = "</context>"


class ContextUnavailable(Refused):
    """A name that is not (or no longer) something the kernel can offer."""


@dataclass(frozen=True)
class Item:
    name: str
    kind: str
    detail: str  # size or shape, never a value


@dataclass(frozen=True)
class Block:
    name: str
    kind: str
    text: str


class ItemSource(Protocol):
    """Items another module offers by name (error_frames.py: ``error [12]``)."""

    def offered(self) -> list[Item]: ...
    def describe(self, name: str) -> Block | None: ...  # None: not one of its names


_SOURCES: list[ItemSource] = []


def add_source(source: ItemSource) -> None:
    """Offer ``source``'s items in ``offer()`` and resolve its names in ``build_context``."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _from_sources(name: str) -> Block | None:
    for source in _SOURCES:
        block = source.describe(name)
        if block is not None:
            return block
    return None


def _user_ns() -> tuple[dict[str, Any], Mapping[str, Any], Any]:
    """(user namespace, hidden namespace, shell) of the running IPython, or empties."""
    shell = current_shell()
    if shell is None:
        return {}, {}, None
    return shell.user_ns, getattr(shell, "user_ns_hidden", {}), shell


def current_shell() -> Any:
    """The running IPython shell (the kernel's), or None."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


def is_offerable(name: str, value: Any, hidden: Mapping[str, Any]) -> bool:
    if name.startswith("_") or (name in hidden and hidden[name] is value):
        return False
    if isinstance(value, (ModuleType, type)) or inspect.isroutine(value):
        return False
    # Widgets (this chat among them) and other callables are tools, not data.
    widgets = sys.modules.get("ipywidgets")
    widget_type = getattr(widgets, "Widget", None)
    return not callable(value) and not (widget_type is not None and isinstance(value, widget_type))


def _module_of(value: Any) -> str:
    return getattr(type(value), "__module__", "") or ""


def _kind(value: Any) -> str:
    return type(value).__name__


def _is_dataframe(value: Any) -> bool:
    return (
        "pandas" in sys.modules
        and _module_of(value).startswith("pandas")
        and (hasattr(value, "dtypes") and hasattr(value, "columns") and hasattr(value, "head"))
    )


def _is_series(value: Any) -> bool:
    return (
        "pandas" in sys.modules
        and _module_of(value).startswith("pandas")
        and (hasattr(value, "dtype") and hasattr(value, "head") and not hasattr(value, "columns"))
    )


def _is_ndarray(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _detail(value: Any) -> str:
    if _is_dataframe(value):
        rows, cols = value.shape
        return f"{rows:,} rows × {cols:,} columns"
    if _is_series(value):
        return f"{len(value):,} rows, {value.dtype}"
    if _is_ndarray(value):
        return f"{value.dtype} {tuple(value.shape)}"
    if isinstance(value, str):
        return f"{len(value):,} characters"
    if isinstance(value, (bool, int, float, complex)):
        return ""
    try:
        return f"{len(value):,} items"
    except Exception:
        return ""


def _last_error() -> BaseException | None:
    value = getattr(sys, "last_value", None)
    return value if isinstance(value, BaseException) else None


def _recent_cells(shell: Any) -> list[str]:
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
    cells = [c for c in history[1:] if isinstance(c, str) and c.strip()]
    return cells[-RECENT_CELL_COUNT:]


def offer() -> list[Item]:
    """What the kernel holds that the person may attach (nothing outside IPython)."""
    ns, hidden, shell = _user_ns()
    items = []
    for name, value in list(ns.items()):
        if is_offerable(name, value, hidden):
            try:
                items.append(Item(name, _kind(value), _detail(value)))
            except Exception:  # an object whose len() or shape fails is still offered
                items.append(Item(name, _kind(value), ""))
    items.sort(key=lambda item: item.name.lower())
    error = _last_error()
    if error is not None:
        items.insert(0, Item(LAST_ERROR, "error", type(error).__name__))
    cells = _recent_cells(shell)
    if cells:
        items.insert(1 if error is not None else 0, Item(RECENT_CELLS, "cells", f"{len(cells)}"))
    return [item for source in _SOURCES for item in source.offered()] + items


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes, marked when something was left out."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = f"\n… [truncated: {len(data):,} bytes, the first ~{limit:,} shown]"
    keep = max(0, limit - len(marker.encode("utf-8")) - 16)
    return data[:keep].decode("utf-8", "ignore") + marker


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())
    if len(text) > CELL_CHARS:
        text = text[: CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def _markdown_table(header: list[str], rows: Iterable[list[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines)


def _describe_dataframe(df: Any) -> str:
    rows, cols = df.shape
    dtypes = "\n".join(f"- {_cell(name)}: {dtype}" for name, dtype in df.dtypes.items())
    head = df.head(TABLE_ROWS)
    table = _markdown_table(
        ["", *map(str, head.columns)],
        (
            [index, *values]
            for index, values in zip(head.index, head.itertuples(index=False), strict=True)
        ),
    )
    return (
        f"pandas DataFrame, {rows:,} rows × {cols:,} columns\n\ncolumn dtypes:\n{dtypes}\n\n"
        f"first {min(rows, TABLE_ROWS)} rows:\n{table}"
    )


def _describe_series(series: Any) -> str:
    head = series.head(TABLE_ROWS)
    table = _markdown_table(["", str(series.name)], ([i, v] for i, v in head.items()))
    return (
        f"pandas Series {series.name!r}, {len(series):,} rows, dtype {series.dtype}\n\n"
        f"first {min(len(series), TABLE_ROWS)} rows:\n{table}"
    )


def _describe_array(array: Any) -> str:
    numpy = sys.modules["numpy"]
    preview = numpy.array2string(array, threshold=200, edgeitems=3, max_line_width=100)
    return f"numpy array, dtype {array.dtype}, shape {tuple(array.shape)}\n\n{preview}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple = 4, 50, 50, 50
_REPR.maxset, _REPR.maxfrozenset, _REPR.maxdeque, _REPR.maxarray = 50, 50, 50, 50
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2000, 2000, 200


def describe_value(value: Any) -> str:
    """A value as the `@` picker describes it (DataFrame shape, dtypes and first rows,
    array previews, reprs), not yet capped."""
    if _is_dataframe(value):
        return _describe_dataframe(value)
    if _is_series(value):
        return _describe_series(value)
    if _is_ndarray(value):
        return _describe_array(value)
    if isinstance(value, str):
        return f"str, {len(value):,} characters:\n{value[: ITEM_BYTES * 2]}"
    return f"{_kind(value)}{f', {_detail(value)}' if _detail(value) else ''}:\n{_REPR.repr(value)}"


def describe_error(error: BaseException) -> str:
    """The exception and its traceback, without the frames of IPython's machinery."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None and _is_machinery(tb.tb_frame.f_code):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip()


def _is_machinery(code: Any) -> bool:
    name = code.co_filename.replace("\\", "/")
    return "/IPython/" in name or "/ipykernel/" in name


def _describe(name: str, ns: Mapping[str, Any], shell: Any) -> Block:
    if name == LAST_ERROR:
        error = _last_error()
        if error is None:
            raise ContextUnavailable("There is no last error in this kernel.")
        return Block(name, "error", describe_error(error))
    if name == RECENT_CELLS:
        cells = _recent_cells(shell)
        if not cells:
            raise ContextUnavailable("This kernel has no cell history.")
        body = "\n\n".join(f"```python\n{cell.rstrip()}\n```" for cell in cells)
        return Block(name, "cells", f"the last {len(cells)} cells run, oldest first:\n\n{body}")
    if name not in ns:
        block = _from_sources(name)
        if block is None:
            raise ContextUnavailable(f"The kernel has no variable named {name!r}.")
        return block
    value = ns[name]
    return Block(name, _kind(value), describe_value(value))


def describe_item(name: str, limit: int = ITEM_BYTES) -> str:
    """One item's description as ``build_context`` would write it, capped at ``limit``
    bytes (a tool's answer); ContextUnavailable if the kernel has no such item."""
    ns, _hidden, shell = _user_ns()
    if name not in SPECIAL and name not in ns and _from_sources(name) is None:
        where = "" if shell is not None else " (this Python has no IPython kernel)"
        raise ContextUnavailable(f"The kernel has no variable named {name!r}{where}.")
    return cut(_describe(name, ns, shell).text, limit)


def check_names(names: object) -> list[str]:
    """``names`` as a list of distinct strings (the Python API's ``context=``)."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ValueError("context must be a list of names, e.g. context=['df', 'last error']")
    if len(names) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} context items at once, not {len(names)}")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a context name must be a non-empty string, not {name!r}")
        if name not in out:
            out.append(name)
    return out


def build_context(
    names: list[str],
    *,
    item_bytes: int = ITEM_BYTES,
    total_bytes: int = TOTAL_BYTES,
    available: Callable[[str], bool] | None = None,
) -> str:
    """The context text the model receives for ``names`` ("" for none).

    Raises ContextUnavailable (a ValueError) naming what is unknown, before anything
    is built. Each block is capped at ``item_bytes``, the whole at ``total_bytes``
    (later items are cut first); cuts are marked in the text.
    """
    ns, _hidden, shell = _user_ns()
    unknown = [
        n
        for n in names
        if (available is not None and not available(n))
        or (n not in SPECIAL and n not in ns and _from_sources(n) is None)
    ]
    if unknown and shell is None:  # a script, not a notebook: no namespace to look in
        raise ContextUnavailable(
            "Kernel context needs an IPython kernel (a notebook, JupyterLab, Voila): "
            "this Python has no user namespace to attach "
            + ", ".join(map(repr, unknown))
            + " from."
        )
    if unknown:
        raise ContextUnavailable(
            "Unknown context: " + ", ".join(map(repr, unknown)) + " (not in the kernel; "
            f"variables, {LAST_ERROR!r} and {RECENT_CELLS!r} can be attached)."
        )
    blocks = [_describe(name, ns, shell) for name in names]
    if not blocks:
        return ""
    parts = [HEADING]
    used = len(HEADING.encode("utf-8"))
    for block in blocks:
        budget = min(item_bytes, max(0, total_bytes - used - 200))
        body = cut(block.text, budget).replace(_CLOSE, "<\\/context>")
        piece = f'<context name="{_attr(block.name)}" kind="{_attr(block.kind)}">\n{body}\n{_CLOSE}'
        parts.append(piece)
        used += len(piece.encode("utf-8")) + 2
    return "\n\n".join(parts)


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("\n", " ")


def parse_context(text: str) -> list[Block]:
    """The blocks of a context text written by ``build_context`` (for the chips)."""
    blocks = []
    at = 0
    while (match := _OPEN.search(text, at)) is not None:
        end = text.find("\n" + _CLOSE, match.end())
        end = end if end >= 0 else len(text)
        blocks.append(Block(match.group(1), match.group(2), text[match.end() + 1 : end]))
        at = end + len(_CLOSE) + 1  # a block's body cannot hold its closing tag
    return blocks
