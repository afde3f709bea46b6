"""The browser's Compare commands (compare.py), validated like every other command
(protocol.py lists them): ``compare`` puts a message to 2-4 candidates, ``compare_keep``
keeps one pane's reply."""

from __future__ import annotations

from dataclasses import dataclass

from .protocol_fields import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    Command,
    Msg,
    ProtocolError,
    _chat_id,
    _count,
    _text,
)

MAX_CANDIDATES = 4


def _candidates(value: object) -> tuple[str, ...]:
    """2-4 distinct names, each short text (whether each is known is the session's check)."""
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_CANDIDATES:
        raise ProtocolError(f"Compare takes 2 to {MAX_CANDIDATES} models.")
    names: list[str] = []
    for name in value:
        if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME_CHARS:
            raise ProtocolError("A model to compare must be named by 1 to 200 characters.")
        if name in names:
            raise ProtocolError("Compare needs different models: one was chosen twice.")
        names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Compare(Command):
    type = "compare"
    text: str = ""
    chat_id: str = ""  # "" = the active chat, or a new one
    candidates: tuple[str, ...] = ()
    blind: bool = False

    @classmethod
    def from_msg(cls, msg: Msg) -> Compare:
        blind = msg.get("blind", False)
        if not isinstance(blind, bool):
            raise ProtocolError("blind must be true or false.")
        return cls(
            _text(msg, "text", limit=MAX_TEXT_CHARS),
            _chat_id(msg, optional=True),
            _candidates(msg.get("candidates")),
            blind,
        )


@dataclass(frozen=True)
class CompareKeep(Command):
    type = "compare_keep"
    chat_id: str = ""
    pane: int = 0

    @classmethod
    def from_msg(cls, msg: Msg) -> CompareKeep:
        return cls(_chat_id(msg), _count(msg, "pane", 0, "The pane to keep must be 0 to 3."))
