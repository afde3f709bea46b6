"""Validation of the messages the browser sends (see docs/protocol.md).

Everything from the browser is untrusted: a message is turned into a `Command` only
when every field has the right type and size; anything else raises `ProtocolError`
with a message fit for the error banner. No filesystem or network work happens here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .chat_settings import (
    SettingsError,
    check_max_tokens,
    check_model,
    check_system_prompt,
    check_temperature,
)
from .visitors import SECRET_PATTERN

MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 200
MAX_QUERY_CHARS = 500
MAX_CONTEXT_ITEMS = 20
MAX_NAME_CHARS = 200
MAX_CODE_CHARS = 100_000

# Canonical lowercase UUID4, as CsvStore writes them; anything else never reaches a path.
_CHAT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` with lone surrogates replaced by U+FFFD (valid pairs are already joined)."""
    return _LONE_SURROGATE.sub("\ufffd", value)


class ProtocolError(ValueError):
    """A browser message that is malformed; the text is shown in the error banner."""


@dataclass(frozen=True)
class Command:
    type: str
    chat_id: str = ""
    text: str = ""
    before: int = 0
    message_id: int = -1
    version: int = 0
    format: str = ""  # export: "markdown" | "json" | "ipynb"
    request: str = ""  # export: the id the asking view matches the answer by
    names: tuple[str, ...] = ()  # send: the kernel context items chosen
    code: str = ""  # run_code, insert_cell: the block (the stored one is used)
    settings: Mapping[str, Any] = field(default_factory=dict)  # configure: checked values
    shift_ms: float = 0.0  # frame_sync: move the deltas' grid this much later
    view: str = ""  # frame_sync: which page asks (frame_clock.py)


def _chat_id(msg: dict[str, Any], *, optional: bool = False) -> str:
    value = msg.get("chat_id", "" if optional else None)
    if optional and value in ("", None):
        return ""
    if not isinstance(value, str) or not _CHAT_ID.match(value):
        raise ProtocolError("That chat id is not valid.")
    return value


def _text(msg: dict[str, Any], field: str, *, limit: int, allow_empty: bool = False) -> str:
    value = msg.get(field)
    if not isinstance(value, str):
        raise ProtocolError(f"The {field} must be text.")
    # A lone UTF-16 surrogate (e.g. half an emoji cut by the browser) cannot be
    # encoded as UTF-8, in a file or on the wire.
    value = clean_text(value)
    if len(value) > limit:
        raise ProtocolError(
            f"The {field} is too long ({len(value):,} characters; at most {limit:,})."
        )
    if not allow_empty and not value.strip():
        raise ProtocolError(f"The {field} is empty.")
    return value


def _send(msg: dict[str, Any]) -> Command:
    return Command(
        "send",
        chat_id=_chat_id(msg, optional=True),
        text=_text(msg, "text", limit=MAX_TEXT_CHARS),
        names=_names(msg.get("context", [])),
    )


def _names(value: object) -> tuple[str, ...]:
    """Context item names: a short list of short strings (the widget checks that the
    kernel offered each one)."""
    if not isinstance(value, list) or len(value) > MAX_CONTEXT_ITEMS:
        raise ProtocolError(f"The context must be a list of at most {MAX_CONTEXT_ITEMS} names.")
    names: list[str] = []
    for name in value:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
            raise ProtocolError("A context name must be text of 1 to 200 characters.")
        if name not in names:
            names.append(name)
    return tuple(names)


def _code_block(kind: str) -> Callable[[dict[str, Any]], Command]:
    """run_code, insert_cell: a Python block of a reply, named by its text (the kernel
    uses the block as stored)."""

    def parse(msg: dict[str, Any]) -> Command:
        message_id = msg.get("message_id")
        if not isinstance(message_id, int) or isinstance(message_id, bool) or not 0 <= message_id:
            raise ProtocolError(f"{kind} needs the id of the reply the code is in.")
        return Command(
            kind,
            chat_id=_chat_id(msg),
            message_id=message_id,
            code=_text(msg, "code", limit=MAX_CODE_CHARS),
        )

    return parse


def _rename(msg: dict[str, Any]) -> Command:
    title = _text(msg, "title", limit=MAX_TITLE_CHARS).strip()
    return Command("rename", chat_id=_chat_id(msg), text=" ".join(title.split()))


def _search(msg: dict[str, Any]) -> Command:
    return Command("search", text=_text(msg, "query", limit=MAX_QUERY_CHARS, allow_empty=True))


def _load_older(msg: dict[str, Any]) -> Command:
    before = msg.get("before")
    # bool is an int subclass: reject it explicitly.
    if not isinstance(before, int) or isinstance(before, bool) or not 0 <= before < 10**9:
        raise ProtocolError("load_older needs the id of the oldest message shown.")
    return Command("load_older", chat_id=_chat_id(msg), before=before)


def _count(msg: dict[str, Any], field: str, lowest: int) -> int:
    value = msg.get(field)
    # bool is an int subclass: reject it explicitly.
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value < 10**9:
        raise ProtocolError(f"The {field.replace('_', ' ')} must be a whole number.")
    return value


def _edit(msg: dict[str, Any]) -> Command:
    """Whether the message exists (a user message of that chat) is the session's check."""
    return Command(
        "edit",
        chat_id=_chat_id(msg),
        text=_text(msg, "text", limit=MAX_TEXT_CHARS),
        message_id=_count(msg, "message_id", 0),
    )


def _select_version(msg: dict[str, Any]) -> Command:
    return Command(
        "select_version",
        chat_id=_chat_id(msg),
        message_id=_count(msg, "message_id", 0),
        version=_count(msg, "version", 1),
    )


EXPORT_FORMATS = ("markdown", "json", "ipynb")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def _export(msg: dict[str, Any]) -> Command:
    kind = msg.get("format")
    if kind not in EXPORT_FORMATS:
        raise ProtocolError("Export as markdown, json or ipynb.")
    request = msg.get("request")
    if not isinstance(request, str) or not _REQUEST_ID.match(request):
        raise ProtocolError("The export request has no valid id.")
    return Command("export", chat_id=_chat_id(msg), format=str(kind), request=request)


def _claim(msg: dict[str, Any]) -> Command:
    secret = msg.get("secret")
    if not isinstance(secret, str) or not SECRET_PATTERN.match(secret):
        raise ProtocolError("This browser's chat key is not valid; reload the page.")
    return Command("claim", text=secret)


def _configure(msg: dict[str, Any]) -> Command:
    """A chat's settings from the panel. Whether a model name that is not a plain name
    is one the provider lists is checked by the session, which has the list; here: a
    name of at most 200 characters, never a URL; numbers in range."""
    try:
        model = clean_text(_string(msg, "model")).strip()
        settings = {
            "model": check_model(model, [model]),
            "system_prompt": check_system_prompt(clean_text(_string(msg, "system_prompt"))),
            "temperature": check_temperature(msg.get("temperature")),
            "max_tokens": check_max_tokens(msg.get("max_tokens")),
        }
    except SettingsError as exc:
        raise ProtocolError(str(exc)) from None
    return Command("configure", chat_id=_chat_id(msg, optional=True), settings=settings)


def _string(msg: dict[str, Any], name: str) -> str:
    value = msg.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"The {name.replace('_', ' ')} must be text.")
    return value


def _frame_sync(msg: dict[str, Any]) -> Command:
    """The page's wish to receive deltas earlier or later, within half a frame."""
    shift = msg.get("shift_ms")
    if not isinstance(shift, (int, float)) or isinstance(shift, bool) or not -10 <= shift <= 10:
        raise ProtocolError("frame_sync needs a shift of -10 to 10 ms.")
    view = msg.get("view")
    if not isinstance(view, str) or not _REQUEST_ID.match(view):
        raise ProtocolError("frame_sync needs the id of the view that asks.")
    return Command("frame_sync", shift_ms=float(shift), view=view)


def _with_chat_id(kind: str) -> Callable[[dict[str, Any]], Command]:
    return lambda msg: Command(kind, chat_id=_chat_id(msg))


def _bare(kind: str) -> Callable[[dict[str, Any]], Command]:
    return lambda msg: Command(kind)


_PARSERS: dict[str, Callable[[dict[str, Any]], Command]] = {
    "send": _send,
    "stop": _with_chat_id("stop"),
    "regenerate": _with_chat_id("regenerate"),
    "retry": _with_chat_id("retry"),
    "retry_shorter": _with_chat_id("retry_shorter"),
    "new_chat": _bare("new_chat"),
    "select_chat": _with_chat_id("select_chat"),
    "rename": _rename,
    "delete": _with_chat_id("delete"),
    "clear": _with_chat_id("clear"),
    "search": _search,
    "load_older": _load_older,
    "dismiss_error": _bare("dismiss_error"),
    "edit": _edit,
    "select_version": _select_version,
    # Chats as data (issue 12)
    "export": _export,
    # Private chats per browser (visitors.py): the browser's secret, once per view.
    "claim": _claim,
    "load_math": _bare("load_math"),
    # Kernel context and code runs (issue 12).
    "list_context": _bare("list_context"),
    "run_code": _code_block("run_code"),
    "configure": _configure,
    "list_models": _bare("list_models"),
    # Insert as cell (issue 12; insert_cell.py).
    "insert_cell": _code_block("insert_cell"),
    # Deltas timed to the page's frames (frame_clock.py, js/frame_sync.ts).
    "frame_sync": _frame_sync,
}


def parse_command(msg: object) -> Command:
    """Validate one browser message; raise ProtocolError if anything is off."""
    if not isinstance(msg, dict):
        raise ProtocolError("The browser sent a message that is not an object.")
    kind = msg.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
        raise ProtocolError(f"Unknown message type {shown!r}.")
    return parser(msg)
