"""ChatRegistry: index built from the files, titles, counts, order, search, restarts."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import pytest

from livechat_widget.chat_registry import ChatInfo, ChatRegistry, SearchHit
from livechat_widget.csv_format import encode_record as _record
from livechat_widget.csv_storage import HEADER, CsvStore, Message, StorageError


@pytest.fixture
def store(tmp_path: Path) -> CsvStore:
    return CsvStore(tmp_path / "chat_logs")


def ts(n: int) -> str:
    """A timestamp n seconds after a fixed start (for ordering tests)."""
    return f"2026-11-25T06:{n // 60:02d}:{n % 60:02d}.000Z"


def test_new_chat_without_title_is_a_header_only_file(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    info = reg.new()
    assert isinstance(info, ChatInfo)
    assert uuid.UUID(info.id).version == 4 and str(uuid.UUID(info.id)) == info.id
    assert (info.title, info.message_count) == ("New chat", 0)
    assert info.created_at == info.updated_at
    assert store.path(info.id).read_text() == ",".join(HEADER) + "\n"
    assert reg.get(info.id) == info and reg.list() == [info] and len(reg) == 1
    assert ChatRegistry(store).get(info.id) == info  # same times after a restart


def test_new_chat_with_title_writes_a_title_row(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    info = reg.new("  My\n  project   notes ")
    assert info.title == "My project notes"
    assert [(r.role, r.content) for r in store.load(info.id)] == [("title", "My project notes")]
    assert info.created_at == info.updated_at == store.load(info.id)[0].timestamp
    for bad in ("", "  \n "):
        with pytest.raises(ValueError):
            reg.new(bad)
    assert len(reg) == 1


def test_title_rules(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new().id
    reg.append(chat, "system", "You are terse.")
    assert reg.get(chat).title == "New chat"  # a system message does not name the chat
    long = "Plan a three-day trip to Lisbon\nwith kids, museums and good food on a budget please"
    reg.append(chat, "user", long)
    title = reg.get(chat).title
    assert "\n" not in title and len(title) <= 60 and title.endswith("…")
    assert title.startswith("Plan a three-day trip to Lisbon with kids")
    reg.append(chat, "assistant", "Sure")
    reg.append(chat, "user", "Second question")
    assert reg.get(chat).title == title  # the first user message names it
    reg.rename(chat, "Lisbon")
    reg.rename(chat, "Lisbon trip")
    assert reg.get(chat).title == "Lisbon trip"  # the latest title row wins
    reg.append(chat, "user", "more")
    assert reg.get(chat).title == "Lisbon trip"
    assert ChatRegistry(store).get(chat).title == "Lisbon trip"
    with pytest.raises(ValueError):
        reg.rename(chat, " ")
    short = reg.new().id
    reg.append(short, "user", "  hi  there ")
    assert reg.get(short).title == "hi there"
    blank = reg.new().id
    reg.append(blank, "user", "   ")
    reg.append(blank, "user", "later")
    assert reg.get(blank).title == "New chat"  # the first user message was blank
    assert ChatRegistry(store).get(blank).title == "New chat"


def test_counts_exclude_event_rows_and_messages_carry_status(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new("T").id
    m0 = reg.append(chat, "user", "q1")
    m1 = reg.append(chat, "assistant", "half", status="stopped")
    m2 = reg.append(chat, "user", "q2")
    m3 = reg.append(chat, "assistant", "", status="error", error="The provider timed out.")
    m4 = reg.append(chat, "assistant", "long", status="length")
    reg.rename(chat, "T2")
    assert [m.id for m in (m0, m1, m2, m3, m4)] == [0, 1, 2, 3, 4]
    assert (m1.status, m3.status, m3.error, m4.status) == (
        "stopped",
        "error",
        "The provider timed out.",
        "length",
    )
    assert reg.get(chat).message_count == 5
    assert reg.messages(chat) == [m0, m1, m2, m3, m4]
    again = ChatRegistry(store)
    assert again.messages(chat) == [m0, m1, m2, m3, m4]
    assert again.get(chat) == reg.get(chat)
    with pytest.raises(ValueError):
        reg.append(chat, "title", "not through append")
    with pytest.raises(KeyError):
        reg.append(str(uuid.uuid4()), "user", "unknown chat")


def test_get_errors(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    for bad in ("../x", "", "X" * 36, None):
        with pytest.raises(ValueError):
            reg.get(bad)
    with pytest.raises(KeyError):
        reg.get(str(uuid.uuid4()))


def _write_chat(store: CsvStore, rows: list[tuple[int, str, str]]) -> str:
    chat = str(uuid.uuid4())
    for n, role, content in rows:
        store.append(chat, role, content, timestamp=ts(n))
    return chat


def test_list_is_most_recently_updated_first_and_survives_a_restart(store: CsvStore) -> None:
    a = _write_chat(store, [(1, "user", "alpha"), (50, "assistant", "late reply")])
    b = _write_chat(store, [(10, "user", "beta")])
    c = _write_chat(store, [(20, "title", "gamma"), (30, "user", "hi")])
    reg = ChatRegistry(store)
    assert [i.id for i in reg.list()] == [a, c, b]
    assert reg.get(a).created_at == ts(1) and reg.get(a).updated_at == ts(50)
    reg.append(b, "user", "now")  # real clock: far later than the fixed timestamps
    time.sleep(0.002)  # timestamps have millisecond resolution
    empty = reg.new()
    time.sleep(0.002)
    reg.rename(c, "Gamma renamed")
    before = reg.list()
    assert [i.id for i in before] == [c, empty.id, b, a]
    assert ChatRegistry(store).list() == before
    reg.refresh()
    assert reg.list() == before


def test_restart_equality_with_many_chats(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    for i in range(12):
        chat = reg.new(f"chat {i}" if i % 3 == 0 else None).id
        for j in range(i):
            reg.append(
                chat,
                "user" if j % 2 == 0 else "assistant",
                f"message {i}.{j}\nline 2",
                status="stopped" if j == 3 else None,
            )
        if i % 4 == 1:
            reg.rename(chat, f"renamed {i}")
    assert ChatRegistry(store).list() == reg.list()
    assert sorted(c.message_count for c in reg.list()) == list(range(12))


def test_search_ranking_and_snippets(store: CsvStore) -> None:
    filler = "word " * 60
    old_title = _write_chat(store, [(1, "title", "Python tips"), (2, "user", "nothing here")])
    newest_content = _write_chat(
        store, [(3, "user", "hello"), (40, "assistant", filler + "use PyThOn\n3.12 " + filler)]
    )
    mid_title = _write_chat(
        store, [(5, "user", "python again: what is new?"), (20, "assistant", "a lot")]
    )
    _write_chat(store, [(30, "user", "unrelated")])
    reg = ChatRegistry(store)
    hits = reg.search("PYTHON")
    assert all(isinstance(h, SearchHit) for h in hits)
    assert [h.chat.id for h in hits] == [mid_title, old_title, newest_content]
    assert hits[1].snippet == "Python tips"  # matched only by its title
    assert hits[0].snippet == "python again: what is new?"
    snippet = hits[2].snippet
    assert "PyThOn 3.12" in snippet and "\n" not in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) <= 125
    assert reg.search("python", limit=2) == hits[:2]
    assert reg.search("") == [] and reg.search("   ") == []
    assert reg.search("no such text") == []
    # Event rows and other columns are not searched: only titles and message contents.
    assert reg.search("assistant") == []
    assert reg.search("2026-11") == []


def test_search_sees_cached_and_new_messages(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new().id
    reg.append(chat, "user", "first")
    reg.messages(chat)  # now cached
    reg.append(chat, "assistant", "The answer is Zebra-42.")
    assert [h.chat.id for h in reg.search("zebra-42")] == [chat]
    other = ChatRegistry(store)  # nothing cached
    assert [(h.chat.id, h.snippet) for h in other.search("ZEBRA")] == [
        (chat, "The answer is Zebra-42.")
    ]


def test_search_handles_case_changes_that_change_length(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new("x").id
    reg.append(chat, "user", "İİİİ stanbul and the Bosphorus")
    [hit] = reg.search("bosphorus")
    assert "Bosphorus" in hit.snippet


def test_delete_and_archive(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    keep, gone, cleared = reg.new("keep").id, reg.new("gone").id, reg.new("cleared").id
    reg.append(cleared, "user", "old conversation")
    reg.messages(cleared)
    reg.delete(gone)
    assert not store.path(gone).exists()
    with pytest.raises(KeyError):
        reg.get(gone)
    with pytest.raises(KeyError):
        reg.delete(gone)
    path = reg.archive(cleared)
    assert path.parent == store.root / "archive" and path.exists()
    assert not store.exists(cleared)
    with pytest.raises(KeyError):
        reg.messages(cleared)
    assert [c.id for c in reg.list()] == [keep]
    assert [c.id for c in ChatRegistry(store).list()] == [keep]
    assert reg.search("old conversation") == []


def test_messages_are_cached_for_paging_a_long_chat(store: CsvStore, monkeypatch) -> None:
    chat = str(uuid.uuid4())
    store.root.mkdir()
    lines = [",".join(HEADER) + "\n"]
    for i in range(20_000):
        lines.append(
            _record(
                ts(i % 3600),
                "u",
                "user" if i % 2 == 0 else "assistant",
                f'message {i}, "quoted"\nsecond line',
            )
        )
    store.path(chat).write_text("".join(lines), encoding="utf-8")
    reg = ChatRegistry(store)
    assert reg.get(chat).message_count == 20_000
    assert reg.get(chat).title == 'message 0, "quoted" second line'
    reads = []
    real = store.load_records
    monkeypatch.setattr(store, "load_records", lambda c: reads.append(c) or real(c))
    first = reg.messages(chat)
    assert len(first) == 20_000 and first[19_999].content.startswith("message 19999,")
    for _ in range(50):  # the widget pages through it
        page = reg.messages(chat)[-100:]
        assert page[0].id == 19_900
    new = reg.append(chat, "user", "one more")
    assert new.id == 20_000 and reg.messages(chat)[-1] == new
    assert reads == [chat]
    first.clear()  # callers get their own lists
    assert len(reg.messages(chat)) == 20_001


def test_cache_is_bounded(store: CsvStore, monkeypatch) -> None:
    reg = ChatRegistry(store, cache_size=2)
    chats = [reg.new().id for _ in range(3)]
    for c in chats:
        reg.append(c, "user", c)
    reads = []
    real = store.load_records
    monkeypatch.setattr(store, "load_records", lambda c: reads.append(c) or real(c))
    for c in chats:
        reg.messages(c)
    reg.messages(chats[0])  # evicted by the third
    assert reads == [*chats, chats[0]]


def test_messages_miss_picks_up_another_process_appends(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new().id
    reg.append(chat, "user", "mine")
    store.append(chat, "assistant", "from elsewhere")  # e.g. another kernel
    assert [m.content for m in reg.messages(chat)] == ["mine", "from elsewhere"]
    assert reg.get(chat).message_count == 2


def test_unreadable_chat_is_skipped_with_a_warning(store: CsvStore, caplog) -> None:
    reg = ChatRegistry(store)
    good = reg.new("good").id
    bad = str(uuid.uuid4())
    store.path(bad).write_text("not,a,chat\n")
    caplog.set_level(logging.WARNING)
    again = ChatRegistry(store)
    assert [c.id for c in again.list()] == [good]
    assert bad in caplog.text and "not a chat log" in caplog.text
    with pytest.raises(StorageError):
        store.load(bad)


def test_a_new_chat_goes_to_the_top(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    for _ in range(5):
        other = reg.new().id
        reg.append(other, "user", "x")
        fresh = reg.new()  # in the same millisecond, often: still newer
        assert reg.list()[0] == fresh
        assert ChatRegistry(store).list()[0] == fresh


def test_order_follows_operations_even_within_a_millisecond(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    first, second = reg.new("first").id, reg.new("second").id
    for _ in range(20):
        reg.append(second, "assistant", "reply")
        reg.rename(first, "first")
        assert [c.id for c in reg.list()] == [first, second]
        reg.append(second, "user", "q")
        assert [c.id for c in reg.list()] == [second, first]
    assert ChatRegistry(store).list() == reg.list()
    stamps = [r.timestamp for r in store.load(second)]
    assert stamps == sorted(set(stamps))  # strictly increasing


def test_registry_on_a_missing_folder_is_empty_until_used(tmp_path: Path) -> None:
    store = CsvStore(tmp_path / "nowhere")
    reg = ChatRegistry(store)
    assert reg.list() == [] and reg.search("x") == []
    assert not store.root.exists()
    info = reg.new()
    assert store.root.is_dir() and os.listdir(store.root) == [f"{info.id}.csv"]


def test_message_type(store: CsvStore) -> None:
    reg = ChatRegistry(store)
    chat = reg.new().id
    m = reg.append(chat, "user", "x", user_id="alice")
    assert isinstance(m, Message) and m.user_id == "alice" and m.status == "complete"
