"""Checks of the fields of browser messages (protocol.py): each returns the value to
use or raises ``ProtocolError`` with a text fit for the error banner."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from .csv_format import CHAT_ID_PATTERN
from .refusals import Refused
from .text_cleaning import clean_text, one_line

MAX_TEXT_CHARS = 100_000
MAX_QUERY_CHARS = 500
MAX_CONTEXT_ITEMS = 20
MAX_NAME_CHARS = 200
MAX_CODE_CHARS = 100_000
MAX_CALL_ID_CHARS = 200  # providers write ids of ~30 characters
MAX_ATTACHMENTS = 10  # files per message
MAX_FILE_NAME_CHARS = 255
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")

Msg = dict[str, Any]


class ProtocolError(Refused):
    """A browser message that is malformed; the text is shown in the error banner."""


@dataclass(frozen=True)
class Command:
    """A validated browser message; ``type`` is its message type."""

    type: ClassVar[str] = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Command:
        return cls()


# -- field checks


def _chat_id(msg: Msg, *, optional: bool = False) -> str:
    value = msg.get("chat_id", "" if optional else None)
    if optional and value in ("", None):
        return ""
    if not isinstance(value, str) or not CHAT_ID_PATTERN.fullmatch(value):
        raise ProtocolError("That chat id is not valid.")
    return value


def _string(msg: Msg, name: str) -> str:
    value = msg.get(name)
    if not isinstance(value, str):
        what = "is missing" if name not in msg else "must be text"
        raise ProtocolError(f"The {name.replace('_', ' ')} {what}.")
    # A lone UTF-16 surrogate (half an emoji cut by the browser) cannot be encoded as
    # UTF-8, in a file or on the wire.
    return clean_text(value)


def _text(msg: Msg, name: str, *, limit: int, allow_empty: bool = False) -> str:
    value = _string(msg, name)
    if len(value) > limit:
        raise ProtocolError(
            f"The {name} is too long ({len(value):,} characters; at most {limit:,})."
        )
    if not allow_empty and not value.strip():
        raise ProtocolError(f"The {name} is empty.")
    return value


def _count(msg: Msg, name: str, lowest: int, why: str = "") -> int:
    value = msg.get(name)
    # bool is an int subclass: reject it explicitly.
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value < 10**9:
        raise ProtocolError(why or f"The {name.replace('_', ' ')} must be a whole number.")
    return value


def _request_id(msg: Msg, what: str) -> str:
    request = msg.get("request")
    if not isinstance(request, str) or not _REQUEST_ID.match(request):
        raise ProtocolError(f"The {what} request has no valid id.")
    return request


def _names(value: object) -> tuple[str, ...]:
    """Context item names: a short list of short strings (whether the kernel offered
    each one is kernel_access's check)."""
    if not isinstance(value, list) or len(value) > MAX_CONTEXT_ITEMS:
        raise ProtocolError(f"The context must be a list of at most {MAX_CONTEXT_ITEMS} names.")
    names: list[str] = []
    for name in value:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
            raise ProtocolError("A context name must be text of 1 to 200 characters.")
        if name not in names:
            names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class AttachmentMeta:
    """What the page says of a file it sends (its bytes are the buffer at its index)."""

    name: str
    media_type: str  # the browser's guess: the kernel sniffs the bytes
    size: int


def _attachments(value: object) -> tuple[AttachmentMeta, ...]:
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise ProtocolError(f"A message carries at most {MAX_ATTACHMENTS} files.")
    files = []
    for item in value:
        if not isinstance(item, dict):
            raise ProtocolError("Each attached file must be described by an object.")
        name = one_line(clean_text(_string(item, "name")), MAX_FILE_NAME_CHARS)
        media_type = _string(item, "media_type")[:MAX_NAME_CHARS]
        size = _count(item, "size", 0, "An attached file's size must be a whole number.")
        files.append(AttachmentMeta(name or "file", media_type, size))
    return tuple(files)
