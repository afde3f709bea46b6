"""Validation of browser messages (livechat_widget/protocol.py)."""

from __future__ import annotations

import pytest

from livechat_widget.protocol import (
    Compare,
    CompareKeep,
    DismissError,
    Edit,
    FrameSync,
    LoadOlder,
    NewChat,
    ProtocolError,
    Rename,
    Search,
    SelectVersion,
    Send,
    Stop,
    parse_command,
)

CHAT = "3f1c2b4a-9d8e-4f6a-8b7c-1d2e3f4a5b6c"


@pytest.mark.parametrize(
    "msg, expected",
    [
        ({"type": "send", "text": "hi"}, Send(text="hi")),
        ({"type": "send", "text": "hi", "chat_id": CHAT}, Send(chat_id=CHAT, text="hi")),
        ({"type": "send", "text": "x" * 100_000}, Send(text="x" * 100_000)),
        ({"type": "stop", "chat_id": CHAT}, Stop(chat_id=CHAT)),
        (
            {"type": "rename", "chat_id": CHAT, "title": "  a \n b\t"},
            Rename(CHAT, "a b"),
        ),
        ({"type": "search", "query": "", "request": "r1"}, Search("r1")),
        (
            {"type": "load_older", "chat_id": CHAT, "before": 100},
            LoadOlder(chat_id=CHAT, before=100),
        ),
        ({"type": "new_chat", "extra": "ignored"}, NewChat()),
        ({"type": "dismiss_error"}, DismissError()),
    ],
)
def test_valid_messages(msg, expected):
    assert parse_command(msg) == expected


@pytest.mark.parametrize(
    "msg, fragment",
    [
        ("send", "not an object"),
        ({"type": None}, "Unknown message type"),
        ({"type": "x" * 1000}, "Unknown message type"),
        ({"type": "send", "text": None}, "must be text"),
        ({"type": "send"}, "text is missing"),
        ({"type": "search", "query": "q"}, "no valid id"),
        ({"type": "list_models", "request": "a b"}, "no valid id"),
        ({"type": "send", "text": "\n \t"}, "empty"),
        ({"type": "send", "text": "x" * 100_001}, "too long"),
        ({"type": "send", "text": "hi", "chat_id": CHAT.upper()}, "not valid"),
        ({"type": "send", "text": "hi", "chat_id": CHAT + "\n"}, "not valid"),
        ({"type": "select_chat", "chat_id": "../../" + CHAT}, "not valid"),
        ({"type": "select_chat", "chat_id": "3f1c2b4a-9d8e-1f6a-8b7c-1d2e3f4a5b6c"}, "not valid"),
        ({"type": "rename", "chat_id": CHAT, "title": "t" * 201}, "too long"),
        ({"type": "load_older", "chat_id": CHAT, "before": True}, "oldest message"),
        ({"type": "load_older", "chat_id": CHAT, "before": -1}, "oldest message"),
        ({"type": "load_older", "chat_id": CHAT, "before": "5"}, "oldest message"),
    ],
)
def test_invalid_messages_raise_a_readable_error(msg, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        parse_command(msg)


@pytest.mark.parametrize(
    "msg, expected",
    [
        (
            {"type": "edit", "chat_id": CHAT, "message_id": 4, "text": "new text"},
            Edit(chat_id=CHAT, text="new text", message_id=4),
        ),
        (
            {"type": "select_version", "chat_id": CHAT, "message_id": 0, "version": 2},
            SelectVersion(chat_id=CHAT, message_id=0, version=2),
        ),
    ],
)
def test_edit_and_select_version_messages(msg, expected):
    assert parse_command(msg) == expected


@pytest.mark.parametrize(
    "msg, fragment",
    [
        ({"type": "edit", "message_id": 0, "text": "x"}, "not valid"),
        ({"type": "edit", "chat_id": CHAT, "message_id": 0, "text": ""}, "empty"),
        ({"type": "edit", "chat_id": CHAT, "message_id": 0, "text": "x" * 100_001}, "too long"),
        ({"type": "edit", "chat_id": CHAT, "message_id": 1.5, "text": "x"}, "whole number"),
        ({"type": "edit", "chat_id": CHAT, "message_id": 10**9, "text": "x"}, "whole number"),
        ({"type": "select_version", "chat_id": CHAT, "message_id": 0, "version": 0}, "whole"),
        ({"type": "select_version", "chat_id": CHAT, "message_id": 0, "version": False}, "whole"),
        ({"type": "select_version", "chat_id": CHAT, "message_id": None, "version": 1}, "whole"),
    ],
)
def test_invalid_edit_and_select_version_messages(msg, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        parse_command(msg)


@pytest.mark.parametrize(
    "msg, expected",
    [
        (
            {"type": "frame_sync", "view": "a1b2", "shift_ms": 3.25},
            FrameSync(shift_ms=3.25, view="a1b2"),
        ),
        (
            {"type": "frame_sync", "view": "v", "shift_ms": -10},
            FrameSync(shift_ms=-10.0, view="v"),
        ),
    ],
)
def test_frame_sync_messages(msg, expected):
    assert parse_command(msg) == expected


@pytest.mark.parametrize(
    "msg, fragment",
    [
        ({"type": "frame_sync", "view": "v", "shift_ms": 10.5}, "-10 to 10 ms"),
        ({"type": "frame_sync", "view": "v", "shift_ms": True}, "-10 to 10 ms"),
        ({"type": "frame_sync", "view": "v", "shift_ms": "3"}, "-10 to 10 ms"),
        ({"type": "frame_sync", "view": "v", "shift_ms": float("nan")}, "-10 to 10 ms"),
        ({"type": "frame_sync", "shift_ms": 1}, "id of the view"),
        ({"type": "frame_sync", "view": "a b", "shift_ms": 1}, "id of the view"),
        ({"type": "frame_sync", "view": "v" * 65, "shift_ms": 1}, "id of the view"),
    ],
)
def test_invalid_frame_sync_messages(msg, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        parse_command(msg)


@pytest.mark.parametrize(
    "missing, fragment",
    [("model", "The model is missing."), ("system_prompt", "The system prompt is missing.")],
)
def test_a_forged_configure_names_the_missing_field(missing, fragment):
    msg = {"type": "configure", "model": "m", "system_prompt": "", "temperature": None}
    msg["max_tokens"] = None
    del msg[missing]
    with pytest.raises(ProtocolError, match=fragment):
        parse_command(msg)


def test_every_command_has_its_own_handler():
    """A command class added without a handler would reach the base case (a TypeError
    shown as a bug): each one is registered, by its type, in controller.py."""
    from livechat_widget.controller import Controller
    from livechat_widget.protocol import COMMANDS, Command

    dispatcher = Controller.__dict__["dispatch"].dispatcher  # the singledispatchmethod's
    base = dispatcher.dispatch(Command)
    for kind, cls in COMMANDS.items():
        assert dispatcher.dispatch(cls) is not base, kind


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (
            {"type": "compare", "text": "hi", "candidates": ["a", "b"]},
            Compare("hi", "", ("a", "b"), False),
        ),
        (
            {
                "type": "compare",
                "text": "hi",
                "chat_id": CHAT,
                "candidates": list("abcd"),
                "blind": True,
            },
            Compare("hi", CHAT, ("a", "b", "c", "d"), True),
        ),
        ({"type": "compare_keep", "chat_id": CHAT, "pane": 3}, CompareKeep(CHAT, 3)),
    ],
)
def test_compare_messages(msg, expected):
    assert parse_command(msg) == expected


@pytest.mark.parametrize(
    ("msg", "fragment"),
    [
        ({"type": "compare", "text": "hi", "candidates": ["a"]}, "2 to 4"),
        ({"type": "compare", "text": "hi", "candidates": list("abcde")}, "2 to 4"),
        ({"type": "compare", "text": "hi", "candidates": "ab"}, "2 to 4"),
        ({"type": "compare", "text": "hi"}, "2 to 4"),
        ({"type": "compare", "text": "hi", "candidates": ["a", "a"]}, "twice"),
        ({"type": "compare", "text": "hi", "candidates": ["a", 2]}, "1 to 200"),
        ({"type": "compare", "text": "hi", "candidates": ["a", "x" * 201]}, "1 to 200"),
        ({"type": "compare", "text": "hi", "candidates": ["a", "b"], "blind": "yes"}, "blind"),
        ({"type": "compare", "text": " ", "candidates": ["a", "b"]}, "empty"),
        ({"type": "compare_keep", "chat_id": CHAT, "pane": -1}, "pane"),
        ({"type": "compare_keep", "chat_id": CHAT, "pane": True}, "pane"),
        ({"type": "compare_keep", "chat_id": "nope", "pane": 0}, "chat id"),
    ],
)
def test_invalid_compare_messages(msg, fragment):
    with pytest.raises(ProtocolError, match=fragment):
        parse_command(msg)
