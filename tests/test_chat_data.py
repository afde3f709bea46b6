"""read_chats() and ChatWidget.to_pandas(): one DataFrame row per message, read by the
same parser as the app."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from widget_doubles import make_widget, settle

from livechat_widget import chat_data, read_chats
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import ChatNotFound, CsvStore

COLUMNS = [
    "chat_id",
    "title",
    "message_id",
    "timestamp",
    "user_id",
    "role",
    "content",
    "status",
    "error",
    "error_kind",
    "context",
    "context_fingerprint",
    "reasoning",
    "usage",
    "version_of",
    "tools",
    "attachments",
]


def two_chats(root):
    store = CsvStore(root)
    registry = ChatRegistry(store)
    first = registry.new()
    registry.append(first.id, "user", "Hello, world", user_id="ada")
    registry.append(first.id, "assistant", "Hi!", user_id="ada")
    store.append(first.id, "context", "df: DataFrame (3, 2)", user_id="ada")
    registry.append(first.id, "user", "Now with df", user_id="ada")
    registry.append(
        first.id,
        "assistant",
        "partial",
        user_id="ada",
        status="error",
        error="Connection lost",
        error_kind="context_length",
    )
    second = registry.new("Second")
    registry.append(second.id, "system", "Be brief.", user_id="bob")
    registry.append(second.id, "user", 'quotes " and, commas\nand lines', user_id="bob")
    registry.append(second.id, "assistant", "", user_id="bob", status="stopped")
    return store, first.id, second.id


def test_read_chats_has_one_row_per_message_with_its_chat_and_status(tmp_path):
    store, first, second = two_chats(tmp_path / "logs")
    df = read_chats(tmp_path / "logs")

    assert list(df.columns) == COLUMNS
    assert len(df) == 7
    assert df["message_id"].dtype == "int64"
    assert (
        str(df["timestamp"].dtype).startswith("datetime64") and str(df["timestamp"].dt.tz) == "UTC"
    )
    assert list(df.chat_id) == [first] * 4 + [second] * 3  # chats oldest first
    assert list(df.message_id) == [0, 1, 2, 3, 0, 1, 2]
    assert list(df.title) == ["Hello, world"] * 4 + ["Second"] * 3
    assert list(df.role) == [
        "user",
        "assistant",
        "user",
        "assistant",
        "system",
        "user",
        "assistant",
    ]
    assert list(df.status) == ["complete"] * 3 + ["error", "complete", "complete", "stopped"]
    errored = df.iloc[3]
    assert (errored.error, errored.error_kind) == ("Connection lost", "context_length")
    assert df.iloc[5].content == 'quotes " and, commas\nand lines'
    assert list(df.user_id) == ["ada"] * 4 + ["bob"] * 3
    # The context row belongs to the user message after it, and only to it.
    assert df.iloc[2].context == "df: DataFrame (3, 2)"
    assert df.drop(index=2).context.isna().all()
    # The stored timestamps, parsed.
    stored = [r.timestamp for r in store.load(first) if r.role == "user"][0]
    assert df.iloc[0].timestamp == pd.Timestamp(stored)


def test_to_pandas_is_one_chat_the_active_one_by_default(tmp_path):
    two_chats(tmp_path / "logs")
    widget = make_widget(tmp_path)  # shows the most recently updated chat: "Second"
    df = widget.to_pandas()
    assert list(df.columns) == COLUMNS
    assert set(df.chat_id) == {widget.active_chat_id} and list(df.title.unique()) == ["Second"]
    other = next(c.id for c in widget.chats if c.id != widget.active_chat_id)
    assert list(widget.to_pandas(other).content)[:2] == ["Hello, world", "Hi!"]
    with pytest.raises(ChatNotFound):
        widget.to_pandas("11111111-1111-4111-8111-111111111111")
    with pytest.raises(ValueError):
        widget.to_pandas("../etc/passwd")


async def test_to_pandas_sees_a_reply_as_soon_as_it_is_saved(tmp_path):
    widget = make_widget(tmp_path)
    with pytest.raises(ValueError, match="no chat is open"):
        widget.to_pandas()
    await widget.ask("Hi there")
    await settle(widget)
    df = widget.to_pandas()
    assert list(zip(df.role, df.content, df.status, strict=True)) == [
        ("user", "Hi there", "complete"),
        ("assistant", "Hello there", "complete"),
    ]


def test_a_file_from_an_earlier_version_and_unknown_roles(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    chat_id = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
    (logs / f"{chat_id}.csv").write_text(
        "timestamp,user_id,role,content\n"
        "2025-01-01T10:00:00.000Z,ada,user,hi\n"
        '2025-01-01T10:00:01.000Z,ada,some_future_event,"{""x"": 1}"\n'
        "2025-01-01T10:00:02.000Z,ada,assistant,hello\n",
        encoding="utf-8",
    )
    df = read_chats(logs)
    assert list(df.role) == ["user", "assistant"] and list(df.message_id) == [0, 1]
    assert list(df.content) == ["hi", "hello"] and list(df.title) == ["hi", "hi"]


def test_a_new_event_role_is_one_table_entry(tmp_path, monkeypatch):
    """The extension point other event rows use: previous/next message, one or many."""
    store, first, _ = two_chats(tmp_path / "logs")
    store.append(first, "rating", '{"stars": 5}')
    store.append(first, "rating", '{"stars": 2}')
    store.append(first, "note", "first")
    store.append(first, "note", "second")
    extra = (
        chat_data.EventColumn("rating", "rating", "previous", parse=json.loads),
        chat_data.EventColumn("note", "notes", "previous", many=True),
    )
    monkeypatch.setattr(chat_data, "EVENT_COLUMNS", chat_data.EVENT_COLUMNS + extra)
    df = read_chats(tmp_path / "logs")
    last = df[df.chat_id == first].iloc[-1]
    assert last.rating == {"stars": 2} and last.notes == ["first", "second"]
    assert df[df.chat_id == first].iloc[0].notes == []


def test_an_empty_or_missing_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    df = read_chats(tmp_path / "empty")
    assert list(df.columns) == COLUMNS and len(df) == 0
    with pytest.raises(FileNotFoundError, match="no chat folder"):
        read_chats(tmp_path / "missing")


def test_a_damaged_chat_is_skipped_with_a_warning(tmp_path):
    store, first, second = two_chats(tmp_path / "logs")
    store.path(second).write_bytes(b"not,a,chat,log\n1,2,3,4\n")
    with pytest.warns(UserWarning, match="cannot be read"):
        df = read_chats(store)
    assert set(df.chat_id) == {first}


def test_without_pandas_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    two_chats(tmp_path / "logs")
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    with pytest.raises(ImportError, match=r'pip install "livechat-widget\[pandas\]"'):
        read_chats(tmp_path / "logs")


def test_reasoning_usage_and_edits_are_columns(tmp_path):
    from livechat_widget.reply_usage import Usage

    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat = registry.new()
    registry.append(chat.id, "user", "2+2?")
    usage = Usage("m-1", 9, 1, False, 120.0, 30.0)
    registry.append(chat.id, "assistant", "4", reasoning="add them", usage=usage)
    registry.append(chat.id, "user", "3+3?", replaces=0)
    store.append(chat.id, "usage", "not json")  # a damaged row is no value, not a crash
    df = read_chats(tmp_path / "logs")
    reply, edited = df.iloc[1], df.iloc[2]
    assert reply.reasoning == "add them" and reply.usage["model"] == "m-1"
    assert reply.usage["prompt_tokens"] == 9 and edited.version_of == 0
    import pandas as pd

    assert pd.isna(df.iloc[0].reasoning) and pd.isna(edited.usage)


def test_attachments_column_lists_a_user_messages_files(tmp_path):
    from livechat_widget.attachments import AttachmentStore

    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    saved = AttachmentStore(store.root).save(chat_id, [("data.csv", b"a,b\n1,2\n")])
    registry.append(chat_id, "user", "Look", attachments=saved, user_id="ada")
    registry.append(chat_id, "assistant", "Two columns.", user_id="ada")
    df = read_chats(tmp_path / "logs")
    assert list(df.attachments) == [
        [
            {
                "name": "data.csv",
                "media_type": "text/csv",
                "size": 8,
                "sha256": saved[0].sha256,
            }
        ],
        [],
    ]
