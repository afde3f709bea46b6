"""CsvStore: round trips, torn tails, concurrent writers, failures, chat id validation."""

from __future__ import annotations

import csv
import errno
import fcntl
import getpass
import logging
import os
import re
import stat
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from livechat_widget import csv_format, csv_storage, file_lock
from livechat_widget.csv_storage import (
    CsvStore,
    Message,
    Row,
    StorageError,
    messages_from_rows,
)

HERE = Path(__file__).resolve().parent
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def store(tmp_path: Path) -> CsvStore:
    return CsvStore(tmp_path / "chat_logs")


# -- round trips -------------------------------------------------------------------------

CONTENTS = [
    "plain",
    "",
    " ",
    "a,b,c",
    'say "hi"',
    '"',
    '""',
    '",\n"',
    'ends with quote"',
    "line\nbreak",
    "carriage\rreturn",
    "windows\r\nline",
    "\n",
    "\r",
    "\r\n",
    "\n\n\r\r\n",
    "trailing newline\n",
    "  leading and trailing spaces  ",
    "tab\tseparated",
    "nul\x00inside",
    "\x00",
    "line separators \u2028 \u2029 \u0085 end",
    "\ufeffBOM at start",
    "BOM \ufeff inside",
    "emoji 🚀👍🏽👨‍👩‍👧 and flags 🇫🇷",
    "日本語のテキスト, ελληνικά, العربية",
    "=SUM(A1:A9)",
    "+1",
    "-1",
    "@cmd",
    "\\ backslash \\\\ and \\n literal",
    "x" * 200_000,  # 200 KB, beyond csv's default field_size_limit (128 KiB)
    ('long, "quoted"\nmulti-line é🚀 ' * 5000),
]


def test_every_content_case_round_trips(store: CsvStore) -> None:
    chat = new_id()
    written = [
        store.append(chat, "user" if i % 2 else "assistant", c) for i, c in enumerate(CONTENTS)
    ]
    assert [r.content for r in written] == CONTENTS
    rows = store.load(chat)
    assert rows == written
    assert [r.content for r in rows] == CONTENTS
    # A fresh store (new process) reads the same.
    assert CsvStore(store.root).load(chat) == written


def test_file_is_plain_csv_readable_by_the_csv_module(store: CsvStore) -> None:
    chat = new_id()
    # Before Python 3.11 the csv module rejects NUL outright (CsvStore reads it anyway).
    contents = [c for c in CONTENTS if sys.version_info >= (3, 11) or "\x00" not in c]
    for c in contents:
        store.append(chat, "user", c, user_id='alice, "the" admin')
    csv.field_size_limit(2**31 - 1)
    with open(store.path(chat), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["timestamp", "user_id", "role", "content"]
    assert [r[3] for r in rows[1:]] == contents
    assert {r[1] for r in rows[1:]} == {'alice, "the" admin'}


def test_large_field_loads_with_the_default_field_size_limit(store, monkeypatch) -> None:
    chat = new_id()
    big = "é" * 300_000
    store.append(chat, "assistant", big)
    monkeypatch.setattr(csv_format, "_field_limit_raised", False)
    old = csv.field_size_limit(131072)
    try:
        assert store.load(chat)[0].content == big
    finally:
        csv.field_size_limit(old)


def test_lone_surrogates_are_stored_replaced(store: CsvStore) -> None:
    chat = new_id()
    row = store.append(chat, "assistant", "half an emoji \ud83d and \ude80 alone")
    assert row.content == "half an emoji \ufffd and \ufffd alone"
    pair = store.append(chat, "assistant", "a pair \ud83d\ude80 joins")
    assert pair.content == "a pair 🚀 joins"
    assert [r.content for r in store.load(chat)] == [row.content, pair.content]


def test_row_format_modes_and_defaults(store: CsvStore) -> None:
    chat = new_id()
    assert not store.root.exists()  # created only when first needed
    row = store.append(chat, "user", "hello")
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(chat).stat().st_mode) == 0o600
    assert TS.match(row.timestamp)
    stamp = datetime.strptime(row.timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(seconds=5)
    assert row.user_id == (getpass.getuser() or "unknown")
    assert row.role == "user"
    text = store.path(chat).read_text(encoding="utf-8")
    assert text == f'timestamp,user_id,role,content\n{row.timestamp},{row.user_id},user,"hello"\n'
    assert store.exists(chat)
    assert store.list_chats() == [chat]


def test_user_id_falls_back_to_unknown(tmp_path, monkeypatch) -> None:
    def fail():
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", fail)
    store = CsvStore(tmp_path)
    assert store.append(new_id(), "user", "x").user_id == "unknown"


def test_explicit_timestamp_and_user(store: CsvStore) -> None:
    chat = new_id()
    when = datetime(2026, 11, 25, 7, 40, 1, 123999, tzinfo=timezone(timedelta(hours=1)))
    row = store.append(chat, "user", "x", user_id="bob", timestamp=when)
    assert (row.timestamp, row.user_id) == ("2026-11-25T06:40:01.123Z", "bob")
    row = store.append(chat, "user", "y", timestamp="2026-11-25T06:40:02.000Z")
    assert row.timestamp == "2026-11-25T06:40:02.000Z"
    for bad in ("2026-11-25 06:40:02", "2026-11-25T06:40:02.000Z\n", "now,1", 12):
        with pytest.raises(ValueError):
            store.append(chat, "user", "z", timestamp=bad)
    with pytest.raises(ValueError):
        store.append(chat, "user", "z", timestamp=datetime(2026, 1, 1))  # naive
    assert len(store.load(chat)) == 2


@pytest.mark.parametrize("role", ["", "User", "a,b", "user\n", "rôle", "x" * 40, None, 1])
def test_bad_roles_are_rejected(store: CsvStore, role) -> None:
    with pytest.raises(ValueError):
        store.append(new_id(), role, "x")
    assert not store.root.exists()


def test_non_str_content_is_rejected(store: CsvStore) -> None:
    with pytest.raises(TypeError):
        store.append(new_id(), "user", b"bytes")


# -- status markers and messages ----------------------------------------------------------


def test_status_rows_mark_stopped_and_failed_replies(store: CsvStore, monkeypatch) -> None:
    chat = new_id()
    store.append(chat, "system", "be brief")
    store.append(chat, "user", "hi")
    store.append(chat, "assistant", "partial rep", status="stopped")
    store.append(chat, "title", "Greetings")
    store.append(chat, "user", "again")
    store.append(chat, "assistant", "cut off", status="length")
    writes = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(data) or real_write(fd, data))
    store.append(chat, "assistant", "oops", status="error", error="Rate limited: try later")
    assert len(writes) == 1 and writes[0].count(b"\n") == 2  # reply + marker: one write
    monkeypatch.undo()
    store.append(chat, "assistant", "fine", status="complete")
    rows = store.load(chat)
    assert [(r.role, r.content) for r in rows] == [
        ("system", "be brief"),
        ("user", "hi"),
        ("assistant", "partial rep"),
        ("status", "stopped"),
        ("title", "Greetings"),
        ("user", "again"),
        ("assistant", "cut off"),
        ("status", "length"),
        ("assistant", "oops"),
        ("status", "error: Rate limited: try later"),
        ("assistant", "fine"),
    ]
    messages = messages_from_rows(rows)
    assert [(m.id, m.role, m.content, m.status, m.error) for m in messages] == [
        (0, "system", "be brief", "complete", ""),
        (1, "user", "hi", "complete", ""),
        (2, "assistant", "partial rep", "stopped", ""),
        (3, "user", "again", "complete", ""),
        (4, "assistant", "cut off", "length", ""),
        (5, "assistant", "oops", "error", "Rate limited: try later"),
        (6, "assistant", "fine", "complete", ""),
    ]
    assert messages[2].timestamp == rows[2].timestamp
    assert isinstance(messages[0], Message)
    with pytest.raises(ValueError):
        store.append(chat, "assistant", "x", status="weird")
    assert len(store.load(chat)) == len(rows)


def test_messages_from_rows_ignores_status_before_any_message() -> None:
    rows = [
        Row("t0", "u", "status", "stopped"),
        Row("t1", "u", "title", "T"),
        Row("t2", "u", "user", "q"),
        Row("t3", "u", "status", "nonsense"),
        Row("t4", "u", "status", "error"),
    ]
    assert messages_from_rows(rows) == [Message(0, "user", "q", "t2", "u", "error", "")]


# -- chat ids -----------------------------------------------------------------------------

GOOD = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
BAD_IDS = [
    "",
    " ",
    ".",
    "..",
    "../x",
    "../" + GOOD,
    GOOD + "/..",
    "/etc/passwd",
    "/" + GOOD,
    "a/b",
    "..\\x",
    "x\\" + GOOD,
    "%2e%2e%2fx",
    "%2E%2E/",
    "..%2f",
    "~",
    "~root",
    GOOD.upper(),
    GOOD[:-1] + "B",
    str(uuid.uuid1()),
    str(uuid.uuid3(uuid.NAMESPACE_DNS, "x")),
    str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")),
    "00000000-0000-0000-0000-000000000000",
    GOOD.replace("-", ""),
    "{" + GOOD + "}",
    "urn:uuid:" + GOOD,
    GOOD + ".csv",
    GOOD + "\n",
    "\n" + GOOD,
    GOOD + "\r",
    GOOD + "\x00",
    "\x00" + GOOD,
    GOOD[:8] + "\x00",
    " " + GOOD,
    GOOD + " ",
    GOOD[:-1],
    GOOD + "0",
    GOOD[:14] + "1" + GOOD[15:],
    GOOD[:19] + "c" + GOOD[20:],
    GOOD.replace("3", "\u0663"),
    GOOD.replace("-", "\u2010"),
    "x" * 5000,
    GOOD * 2,
    "con",
    "nul",
    "CON.csv",
    None,
    123,
    1.5,
    b"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
    uuid.UUID(GOOD),
    [GOOD],
    {GOOD: 1},
    Path(GOOD),
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=range(len(BAD_IDS)))
def test_bad_chat_ids_are_rejected_before_any_path(store: CsvStore, bad, monkeypatch) -> None:
    touched = []
    for name in ("open", "stat", "lstat", "unlink", "replace", "makedirs", "scandir"):
        real = getattr(os, name)
        monkeypatch.setattr(
            os, name, lambda *a, _real=real, **k: touched.append(a) or _real(*a, **k)
        )
    for call in (
        lambda: store.path(bad),
        lambda: store.exists(bad),
        lambda: store.load(bad),
        lambda: store.append(bad, "user", "x"),
        lambda: store.archive(bad),
        lambda: store.delete(bad),
        lambda: store.create(bad),
        lambda: store.load_records(bad),
    ):
        with pytest.raises(ValueError):
            call()
    monkeypatch.undo()
    assert touched == []
    assert not store.root.exists()


def test_a_good_id_is_accepted_and_str_subclasses_become_str(store: CsvStore) -> None:
    class S(str):
        pass

    assert store.path(S(GOOD)) == store.root / f"{GOOD}.csv"
    assert type(csv_storage.validate_chat_id(S(GOOD))) is str


def test_unknown_chat_loads_empty_and_list_ignores_other_files(store: CsvStore) -> None:
    assert store.load(new_id()) == []
    assert store.list_chats() == []
    chat = new_id()
    store.append(chat, "user", "x")
    for name in ("notes.csv", GOOD.upper() + ".csv", f"{GOOD}.csv.bak", f"{GOOD}.txt"):
        (store.root / name).write_text("x")
    (store.root / "archive").mkdir()
    assert store.list_chats() == [chat]
    assert not store.exists(new_id())


# -- torn tails -----------------------------------------------------------------------------


def _quarantined(store: CsvStore, chat: str) -> list[Path]:
    return sorted((store.root / "quarantine").glob(f"{chat}-*.partial"))


def test_torn_tail_at_every_byte_offset(tmp_path: Path, caplog) -> None:
    source = CsvStore(tmp_path / "source")
    chat = new_id()
    contents = ["héllo, wörld 🚀", 'multi\nline "quoted"\r\nreply, ✓', "", "日本\n"]
    rows, ends = [], []
    for i, c in enumerate(contents):
        rows.append(source.append(chat, "user" if i % 2 == 0 else "assistant", c))
        ends.append(source.path(chat).stat().st_size)
    data = source.path(chat).read_bytes()
    header_end = data.index(b"\n") + 1
    boundaries = [0, header_end, *ends]
    store = CsvStore(tmp_path / "torn")
    store.root.mkdir()
    caplog.set_level(logging.WARNING, logger="livechat_widget.csv_storage")
    for k in range(len(data) + 1):
        torn_chat = new_id()
        path = store.path(torn_chat)
        path.write_bytes(data[:k])
        good_end = max(b for b in boundaries if b <= k)
        expected = [r for r, end in zip(rows, ends, strict=True) if end <= k]
        caplog.clear()
        assert store.load(torn_chat) == expected, k
        assert path.read_bytes() == data[:good_end], k
        quarantine = _quarantined(store, torn_chat)
        if good_end == k:
            assert quarantine == [] and not caplog.records, k
        else:
            assert [q.read_bytes() for q in quarantine] == [data[good_end:k]], k
            assert stat.S_IMODE(quarantine[0].stat().st_mode) == 0o600
            assert any("incomplete row" in r.getMessage() for r in caplog.records), k
        after = store.append(torn_chat, "user", 'after, "the" crash')
        assert store.load(torn_chat) == [*expected, after], k
        assert CsvStore(store.root).load(torn_chat) == [*expected, after], k


def test_append_repairs_a_torn_tail_it_did_not_load(tmp_path: Path) -> None:
    """A crash left an open quote ending in a newline: the cheap 'ends with \\n' check
    is not enough; append must still start on a clean line."""
    for warm in (False, True):
        store = CsvStore(tmp_path / f"s{warm}")
        chat = new_id()
        first = store.append(chat, "user", "first")
        if warm:
            store.load(chat)  # this store now remembers the file as clean up to here
        torn = b'2026-11-25T06:40:01.123Z,root,assistant,"half a reply\n'
        with open(store.path(chat), "ab") as f:  # another process crashed mid-write
            f.write(torn)
        second = store.append(chat, "assistant", "second")
        assert store.load(chat) == [first, second]
        assert [q.read_bytes() for q in _quarantined(store, chat)] == [torn]


def test_missing_final_newline_is_torn(store: CsvStore) -> None:
    chat = new_id()
    first = store.append(chat, "user", "first")
    store.append(chat, "user", "second")
    path = store.path(chat)
    path.write_bytes(path.read_bytes()[:-1])  # looks complete, but the newline is missing
    assert store.load(chat) == [first]
    assert _quarantined(store, chat)[0].read_bytes().endswith(b'"second"')


def test_load_of_a_torn_file_that_cannot_be_repaired_still_returns_rows(
    store: CsvStore, monkeypatch, caplog
) -> None:
    chat = new_id()
    first = store.append(chat, "user", "first")
    with open(store.path(chat), "ab") as f:
        f.write(b"2026-11-25T06:40:01.123Z,ro")
    before = store.path(chat).read_bytes()
    real_open = os.open

    def deny_rw(path, flags, *args):
        if flags & (os.O_RDWR | os.O_WRONLY):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny_rw)
    assert store.load(chat) == [first]
    assert store.path(chat).read_bytes() == before  # nothing changed
    assert "could not be set aside" in caplog.text


def test_spreadsheet_saved_file_loads(store: CsvStore) -> None:
    chat = new_id()
    store.root.mkdir()
    store.path(chat).write_bytes(
        "\ufefftimestamp,user_id,role,content\r\n"
        "2026-11-25T06:40:01.123Z,alice,user,Hello\r\n"
        '2026-11-25T06:40:02.123Z,alice,assistant,"Two\r\nlines, ""quoted"""\r\n'.encode()
    )
    rows = store.load(chat)
    assert [(r.user_id, r.role, r.content) for r in rows] == [
        ("alice", "user", "Hello"),
        ("alice", "assistant", 'Two\r\nlines, "quoted"'),
    ]
    added = store.append(chat, "user", "more")
    assert store.load(chat) == [*rows, added]


def test_damage_before_the_last_complete_row_raises_and_changes_nothing(store) -> None:
    chat = new_id()
    store.root.mkdir()
    cases = [
        b"time,who,what\n1,2,3\n",  # not a chat log
        b'timestamp,user_id,role,content\n2026-11-25T06:40:01.123Z,u,user,"a"x\n',
        b"timestamp,user_id,role,content\n2026-11-25T06:40:01.123Z,u,user\n",
        b'timestamp,user_id,role,content\n2026-11-25T06:40:01.123Z,u,user,"\xff"\n',
    ]
    for data in cases:
        store.path(chat).write_bytes(data)
        with pytest.raises(StorageError, match=re.escape(str(store.path(chat)))):
            store.load(chat)
        assert store.path(chat).read_bytes() == data
        assert not (store.root / "quarantine").exists()


# -- concurrency ----------------------------------------------------------------------------


def test_two_processes_append_to_one_chat(tmp_path: Path) -> None:
    sys.path.insert(0, str(HERE))
    from _storage_writer import content

    root, chat, go = tmp_path / "logs", new_id(), tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "_storage_writer.py"),
                str(root),
                chat,
                tag,
                "1000",
                str(go),
            ]
        )
        for tag in ("A", "B")
    ]
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = CsvStore(root).load(chat)
    assert len(rows) == 2000
    for tag in ("A", "B"):
        mine = [r for r in rows if r.user_id == tag]
        assert [r.content for r in mine] == [content(tag, i) for i in range(1000)]
    # They really ran at the same time: the two writers' rows alternate somewhere.
    switches = sum(a.user_id != b.user_id for a, b in zip(rows, rows[1:], strict=False))
    assert switches > 1
    assert root.joinpath(f"{chat}.csv").read_bytes().count(b"timestamp,user_id") == 1


def test_append_after_another_store_archived_the_file(tmp_path: Path) -> None:
    a, b = CsvStore(tmp_path), CsvStore(tmp_path)
    chat = new_id()
    a.append(chat, "user", "old")
    archived = b.archive(chat)
    row = a.append(chat, "user", "new")  # must not land in the archived file
    assert a.load(chat) == [row]
    assert [r.content for r in _load_path(archived)] == ["old"]


def test_append_waits_for_the_lock_and_follows_a_moved_file(store: CsvStore) -> None:
    chat = new_id()
    first = store.append(chat, "user", "first")
    path = store.path(chat)
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # like an archive in progress in another process
    result = []
    writer = threading.Thread(target=lambda: result.append(store.append(chat, "user", "second")))
    writer.start()
    writer.join(0.3)
    assert writer.is_alive()  # blocked on the lock
    moved = path.with_name("moved.csv")
    os.replace(path, moved)  # what archive does while it holds the lock
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    writer.join(10)
    assert not writer.is_alive()
    assert [r.content for r in _load_path(moved)] == ["first"]  # nothing landed in it
    assert store.load(chat) == result and first not in result


def _load_path(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [Row(*r) for r in list(csv.reader(f))[1:]]


# -- failures -------------------------------------------------------------------------------


def test_disk_full_raises_a_clear_error_and_keeps_earlier_rows(store, monkeypatch) -> None:
    chat = new_id()
    kept = [store.append(chat, "user", f"row {i}") for i in range(3)]
    before = store.path(chat).read_bytes()

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageError) as info:
        store.append(chat, "assistant", "lost", status="error", error="x")
    assert str(info.value) == f"cannot write {store.path(chat)}: No space left on device"
    monkeypatch.undo()
    assert store.path(chat).read_bytes() == before
    added = store.append(chat, "user", "after")
    assert store.load(chat) == [*kept, added]


def test_partial_write_is_taken_back(store: CsvStore, monkeypatch) -> None:
    chat = new_id()
    kept = [store.append(chat, "user", 'first, "row"\nwith lines')]
    before = store.path(chat).read_bytes()
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[: len(data) // 2]))
    with pytest.raises(StorageError, match=r"cannot write .*: only \d+ of \d+ bytes"):
        store.append(chat, "assistant", "a long reply " * 50)
    monkeypatch.undo()
    assert store.path(chat).read_bytes() == before
    added = store.append(chat, "user", "after")
    assert store.load(chat) == [*kept, added]


def test_failed_fsync_is_taken_back(store: CsvStore, monkeypatch) -> None:
    chat = new_id()
    kept = [store.append(chat, "user", "first")]
    before = store.path(chat).read_bytes()
    real_fsync = os.fsync
    calls = []

    def eio_once(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", eio_once)
    with pytest.raises(StorageError, match="Input/output error"):
        store.append(chat, "assistant", "reply")
    monkeypatch.undo()
    assert store.path(chat).read_bytes() == before
    assert store.load(chat) == kept


def test_read_only_folder_raises_a_clear_error(store: CsvStore, monkeypatch) -> None:
    # Root ignores permission bits, so the refusal is simulated where the OS would give it.
    chat = new_id()
    kept = store.append(chat, "user", "kept")
    before = store.path(chat).read_bytes()
    real_open = os.open

    def read_only(path, flags, *args):
        if flags & (os.O_RDWR | os.O_WRONLY | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(StorageError) as info:
        store.append(chat, "user", "refused")
    assert str(info.value) == f"cannot write {store.path(chat)}: Read-only file system"
    other = new_id()
    with pytest.raises(StorageError, match="Read-only file system"):
        store.append(other, "user", "refused")
    assert store.load(chat) == [kept]  # reading still works
    monkeypatch.undo()
    assert store.path(chat).read_bytes() == before
    assert not store.exists(other)


def test_root_that_is_a_regular_file(tmp_path: Path) -> None:
    root = tmp_path / "chat_logs"
    root.write_text("not a folder")
    store = CsvStore(root)
    chat = new_id()
    with pytest.raises(StorageError) as info:
        store.append(chat, "user", "x")
    assert str(root) in str(info.value) and "Not a directory" in str(info.value)
    with pytest.raises(StorageError, match="Not a directory"):
        store.load(chat)
    assert root.read_text() == "not a folder"


def test_root_that_is_a_regular_file_list_chats(tmp_path: Path) -> None:
    root = tmp_path / "chat_logs"
    root.write_text("not a folder")
    with pytest.raises(StorageError, match="Not a directory"):
        CsvStore(root).list_chats()


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    store = CsvStore(tmp_path / "a" / "b" / "logs")
    chat = new_id()
    row = store.append(chat, "user", "x")
    assert store.load(chat) == [row]


# -- archive / delete -----------------------------------------------------------------------


def test_archive_moves_the_file_whole(store: CsvStore) -> None:
    chat = new_id()
    rows = [store.append(chat, "user", f"m{i}\n") for i in range(3)]
    data = store.path(chat).read_bytes()
    dest = store.archive(chat)
    assert dest.parent == store.root / "archive"
    assert re.fullmatch(rf"{chat}-\d{{8}}T\d{{9}}Z\.csv", dest.name)
    assert dest.read_bytes() == data
    assert not store.exists(chat) and store.list_chats() == [] and store.load(chat) == []
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    again = store.append(chat, "user", "fresh start")
    assert store.load(chat) == [again]
    second = store.archive(chat)
    assert second != dest and dest.read_bytes() == data
    assert [r.content for r in _load_path(dest)] == [r.content for r in rows]
    with pytest.raises(KeyError):
        store.archive(chat)


def test_delete(store: CsvStore) -> None:
    chat, other = new_id(), new_id()
    store.append(chat, "user", "x")
    kept = store.append(other, "user", "y")
    store.delete(chat)
    assert not store.path(chat).exists()
    assert store.list_chats() == [other] and store.load(other) == [kept]
    with pytest.raises(KeyError):
        store.delete(chat)


def test_create_makes_a_header_only_file(store: CsvStore) -> None:
    chat = new_id()
    store.create(chat)
    assert store.path(chat).read_bytes() == b"timestamp,user_id,role,content\n"
    assert store.load(chat) == []
    row = store.append(chat, "user", "x")
    store.create(chat)  # no-op on an existing chat
    assert store.load(chat) == [row]


def test_load_records_matches_load(store: CsvStore) -> None:
    chat = new_id()
    rows = [store.append(chat, "user", c) for c in ("a", 'b,"c"\n')]
    assert store.load_records(chat) == [[r.timestamp, r.user_id, r.role, r.content] for r in rows]


def test_without_fcntl_the_store_works_in_one_process_and_says_so(store, monkeypatch) -> None:
    # As on Windows: no fcntl module. One process can still use its chats.
    monkeypatch.setattr(file_lock, "fcntl", None)
    monkeypatch.setattr(file_lock, "_warned", False)
    chat = new_id()
    with pytest.warns(RuntimeWarning, match="no fcntl file locking"):
        store.append(chat, "user", "hello")
    store.append(chat, "assistant", "hi")  # warned once only
    assert [r.content for r in store.load(chat)] == ["hello", "hi"]


def test_the_package_imports_without_fcntl() -> None:
    import subprocess
    import sys

    # (ChatWidget's own dependencies, e.g. ipykernel's, bring their Windows code paths.)
    code = (
        "import sys; sys.modules['fcntl'] = None; import livechat_widget; "
        "from livechat_widget import CsvStore, ChatRegistry, client_from_env; "
        "from livechat_widget.file_lock import AVAILABLE; assert not AVAILABLE"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=HERE.parent)
