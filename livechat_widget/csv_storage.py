"""CsvStore: one append-only CSV file per chat, safe against crashes and concurrent writers.

File format (readable with ``csv``, pandas or DuckDB)::

    timestamp,user_id,role,content
    2026-11-25T06:40:01.123Z,alice,user,"Hello, world"
    2026-11-25T06:40:03.456Z,alice,assistant,"Hi! How can I help?"
    2026-11-25T06:40:03.456Z,alice,status,"stopped"

- ``chat_logs/<chat-id>.csv``; the chat id is a canonical lowercase UUID4 string and
  anything else raises ``ValueError`` before a path is built.
- Timestamps are ISO 8601 UTC with milliseconds and ``Z``, strictly increasing within
  a process (see ``next_timestamp_ms``). Files are UTF-8 with ``\\n``
  line ends; the content field is always quoted, so a record written by this module
  ends with the only ``\\n`` outside quotes. A file saved by a spreadsheet (UTF-8 BOM,
  CRLF) loads too.
- Roles: ``user``, ``assistant``, ``system`` are messages. Everything else is an *event
  row* in the same four columns:

  - ``title``: the chat was renamed; content is the new title (latest one wins).
  - ``status``: how the message just before it ended, when it did not end normally;
    content is ``stopped`` (the person pressed Stop), ``length`` (the provider's token
    limit) or ``error: <text>`` (the reply failed; <text> is the error shown). A
    reply and its status row are written by one ``write`` call, so a failed write
    cannot leave one without the other.
  - ``error_kind``: right after an ``error`` status row, what kind of failure it was
    when the app can offer a remedy for it; content is ``context_length`` (the
    conversation is too long for the model). Written by the same ``write`` call.
  - ``history_start``: the person chose to leave the oldest turns out of what the model
    is sent; content is the id (0-based message index) of the first message sent from
    then on (``system`` messages before it are still sent). Latest one wins.

- Content round-trips exactly, including commas, quotes, ``\\r``, ``\\n``, ``\\r\\n``,
  NUL, U+2028/U+2029/U+0085, BOM characters and text starting with ``=``/``+``/``-``/
  ``@`` (no spreadsheet-formula escaping is added: the file is data, not a sheet). A
  lone UTF-16 surrogate (a provider may split an emoji) is stored as U+FFFD; the
  returned ``Row`` shows what was stored.

Writes: each ``append`` serialises its row(s) in memory and writes them with one
``os.write`` on an ``O_APPEND`` descriptor while holding an exclusive ``fcntl.flock``,
then ``fsync``\\s. A short or failed write is truncated back, so nothing half-written
stays and nothing already on disk is touched. Loads hold a shared lock.

Torn tails: a crash in the middle of a write can leave an incomplete last record (half a
row, half a UTF-8 character, an open quote, no final newline). ``load`` returns every
complete record before it, moves the torn bytes to
``<root>/quarantine/<chat-id>-<UTC timestamp>.partial``, truncates the file back to its
last complete record and logs a warning; ``append`` checks the tail the same way before
writing, so the next row always starts on a clean line. A record is complete when it
ends with a ``\\n`` that lies outside quotes (an even number of ``"`` bytes before it).
Damage *before* the last complete record (not something a crash of this writer can
produce) is not repaired: it raises ``StorageError`` and the file is left as it is.

Unknown chats: ``load`` of a chat with no file returns ``[]``; ``archive`` and
``delete`` raise ``ChatNotFound`` (a ``KeyError``).

Loading sets ``csv.field_size_limit`` (process-wide) high enough for large messages.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import getpass
import io
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import starmap
from pathlib import Path
from typing import NoReturn

log = logging.getLogger(__name__)

HEADER = ("timestamp", "user_id", "role", "content")
MESSAGE_ROLES = frozenset({"user", "assistant", "system"})
STATUSES = ("stopped", "length", "error")

_HEADER_LINE = ",".join(HEADER) + "\n"
_CHAT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_ROLE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^\s|\s$')
_NUL_OK = sys.version_info >= (3, 11)  # csv.reader rejects NUL before 3.11


class StorageError(Exception):
    """A chat file could not be read or written; the message names the path and cause."""


class ChatNotFound(KeyError):
    """No chat has that id (any more): never created, deleted or archived."""

    def __str__(self) -> str:
        return f"no chat {self.args[0]!r}" if self.args else "no such chat"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a chat file, exactly as stored."""

    timestamp: str
    user_id: str
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Message:
    """A user/assistant/system row with the status its event rows gave it.

    ``id`` is the message's index among the chat's messages (0-based); ``status`` is
    ``complete``, ``stopped``, ``length`` or ``error`` (then ``error`` holds the text).
    """

    id: int
    role: str
    content: str
    timestamp: str
    user_id: str
    status: str = "complete"
    error: str = ""
    error_kind: str = ""  # "context_length" when the model's context was too small


def messages_from_rows(rows: Iterable[Row]) -> list[Message]:
    """Messages of a chat: user/assistant/system rows, numbered from 0, with each
    ``status`` row applied to the message before it; other event rows are skipped."""
    return messages_from_records((r.timestamp, r.user_id, r.role, r.content) for r in rows)


def messages_from_records(records: Iterable[Sequence[str]]) -> list[Message]:
    """``messages_from_rows`` for raw ``[timestamp, user_id, role, content]`` records."""
    messages: list[Message] = []
    for ts, user_id, role, content in records:
        if role in MESSAGE_ROLES:
            messages.append(Message(len(messages), role, content, ts, user_id))
        elif role == "status" and messages:
            status, error = parse_status(content)
            if status:
                last = messages[-1]
                messages[-1] = Message(last.id, last.role, last.content, last.timestamp,
                                       last.user_id, status, error)
        elif role == "error_kind" and messages and messages[-1].status == "error":
            last = messages[-1]
            messages[-1] = Message(last.id, last.role, last.content, last.timestamp,
                                   last.user_id, last.status, last.error, content.strip())
    return messages


def history_start_from_records(records: Iterable[Sequence[str]]) -> int:
    """The id of the first message sent to the model (the latest ``history_start``
    row; 0 when there is none or it is malformed)."""
    start = 0
    for record in records:
        if record[2] == "history_start":
            value = record[3].strip()
            start = int(value) if value.isdigit() and len(value) < 10 else start
    return start


def parse_status(content: str) -> tuple[str, str]:
    """(status, error) from a ``status`` row's content; ("", "") if it is not one."""
    if content in ("stopped", "length", "complete"):
        return content, ""
    if content == "error" or content.startswith("error:"):
        return "error", content[6:].strip()
    return "", ""


def status_content(status: str, error: str | None = None) -> str:
    """The content of the ``status`` event row for ``status`` (see module docs)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if status == "error":
        return f"error: {error or ''}".rstrip()
    return status


_clock_lock = threading.Lock()
_last_ms = 0


def next_timestamp_ms() -> int:
    """Milliseconds since the epoch, strictly increasing within this process.

    Rows written in quick succession (a reply, then a rename of another chat) get
    distinct times, so "most recently updated" is well defined and, being stored in the
    files, the same after a restart. Only a sustained rate above 1,000 rows/s makes the
    stamps run ahead of the clock, and only by as much as that burst.
    """
    global _last_ms
    with _clock_lock:
        _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        return _last_ms


def timestamp_from_ms(ms: int) -> str:
    """``2026-11-25T06:40:01.123Z`` for ``ms`` milliseconds since the epoch."""
    when = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def utc_timestamp(when: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-25T06:40:01.123Z`` (default: now,
    from ``next_timestamp_ms``)."""
    if when is None:
        return timestamp_from_ms(next_timestamp_ms())
    if when.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (or an ISO 8601 UTC string)")
    when = when.astimezone(timezone.utc)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def validate_chat_id(chat_id: object) -> str:
    """Return ``chat_id`` if it is a canonical lowercase UUID4 string, else raise ValueError."""
    if not isinstance(chat_id, str) or not _CHAT_ID.fullmatch(chat_id):
        shown = repr(chat_id[:60]) if isinstance(chat_id, str) else type(chat_id).__name__
        raise ValueError(f"not a valid chat id (a lowercase UUID4 string expected): {shown}")
    return str.__str__(chat_id)  # a plain str even if a subclass came in


def _default_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (e.g. a container uid)
        return "unknown"


def _clean_text(text: str) -> str:
    """Replace lone surrogates with U+FFFD (a valid surrogate pair becomes its character)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _field(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _record(ts: str, user_id: str, role: str, content: str) -> str:
    # The content is always quoted: a record then ends with the only "\n" outside quotes.
    return f'{ts},{_field(user_id)},{role},"{content.replace(chr(34), chr(34) * 2)}"\n'


def _complete_end(data: bytes) -> int:
    """Length of the longest prefix of ``data`` made of complete records.

    A record ends at a ``\\n`` with an even number of ``"`` bytes before it (UTF-8
    continuation bytes never equal ``"`` or ``\\n``, so bytes can be scanned directly).
    """
    if data.endswith(b"\n") and not data.count(b'"') & 1:
        return len(data)  # the fast path: one C-level count
    end = pos = parity = 0
    lines = data.split(b"\n")
    for line in lines[:-1]:  # the last piece has no "\n" after it
        pos += len(line) + 1
        parity ^= line.count(b'"') & 1
        if not parity:
            end = pos
    return end


_field_limit_raised = False


def _raise_field_limit() -> None:
    global _field_limit_raised
    if not _field_limit_raised:
        if csv.field_size_limit() < 2**31 - 1:
            csv.field_size_limit(2**31 - 1)
        _field_limit_raised = True


def _parse(data: bytes, path: Path) -> list[list[str]]:
    """The records (header removed) of complete file bytes; StorageError if damaged."""
    if not data:
        return []
    _raise_field_limit()
    if not _NUL_OK and b"\x00" in data:  # Python 3.10's csv rejects NUL: hide it
        return _parse_with_nul(data, path)
    # TextIOWrapper decodes in chunks, which beats decoding the whole file into one str.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream, strict=True)
    try:
        records = list(reader)
    except UnicodeDecodeError:
        _utf8_error(data, path)
    except csv.Error as exc:
        raise StorageError(f"cannot read {path}: damaged at line {reader.line_num} ({exc}); "
                           "the file was left unchanged") from None
    return _check_records(records, path)


def _utf8_error(data: bytes, path: Path) -> NoReturn:
    try:
        data.decode("utf-8-sig")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    line = data.count(b"\n", 0, start) + 1
    raise StorageError(f"cannot read {path}: not valid UTF-8 at line {line} (byte {start}); "
                       "the file was left unchanged")


def _parse_with_nul(data: bytes, path: Path) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _utf8_error(data, path)
    nul = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    reader = csv.reader(io.StringIO(text.replace("\x00", nul), newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise StorageError(f"cannot read {path}: damaged at line {reader.line_num} ({exc}); "
                           "the file was left unchanged") from None
    return [[f.replace(nul, "\x00") for f in r] for r in _check_records(records, path)]


def _check_records(records: list[list[str]], path: Path) -> list[list[str]]:
    """Drop the header (checking it) and make sure every row has four fields."""
    if not records:
        return records
    if records[0] != list(HEADER):
        raise StorageError(f"cannot read {path}: not a chat log (its header is "
                           f"{','.join(records[0])[:80]!r}, expected {','.join(HEADER)!r})")
    del records[0]
    if set(map(len, records)) - {4}:
        records = [r for r in records if r]  # blank lines, e.g. from a spreadsheet
        for r in records:
            if len(r) != 4:
                raise StorageError(f"cannot read {path}: a row has {len(r)} fields, expected 4 "
                                   f"({','.join(r)[:80]!r}); the file was left unchanged")
    return records


def _read_all(fd: int, size: int) -> bytes:
    parts = []
    offset = 0
    while True:  # read to the real end, even if the file grew after fstat
        chunk = os.pread(fd, max(size - offset, 1 << 16), offset)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        offset += len(chunk)


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_stamp() -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z"


class CsvStore:
    """One CSV file per chat under ``root`` (see the module docstring for the format)."""

    def __init__(self, root: str | os.PathLike[str] = "chat_logs") -> None:
        self.root = Path(root)
        self._user = _default_user()
        # chat_id -> (st_dev, st_ino, size) of a file whose first `size` bytes are known
        # to be complete records, so append checks only what was added since.
        self._clean: dict[str, tuple[int, int, int]] = {}

    def __repr__(self) -> str:
        return f"CsvStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------

    def path(self, chat_id: str) -> Path:
        """``root/<chat-id>.csv``; ValueError for anything but a lowercase UUID4 string."""
        return self.root / f"{validate_chat_id(chat_id)}.csv"

    def exists(self, chat_id: str) -> bool:
        return self.path(chat_id).is_file()

    def list_chats(self) -> list[str]:
        """Ids of the chats on disk, sorted."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageError(f"cannot read {self.root}: {_cause(exc)}") from None
        ids = []
        for entry in entries:
            name = entry.name
            if len(name) == 40 and name.endswith(".csv") and _CHAT_ID.fullmatch(name[:36]):
                ids.append(name[:36])
        ids.sort()
        return ids

    def _ensure_dir(self, path: Path) -> None:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except FileExistsError:
            raise StorageError(f"cannot write {path}: it exists and is not a folder") from None
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {_cause(exc)}") from None

    def _open_locked(self, path: Path, flags: int, lock: int) -> int:
        """Open ``path`` and lock it; retry if it was replaced or removed meanwhile (an
        archive/delete by someone else), so a write never lands in a moved-away file."""
        while True:
            fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, lock)
                st = os.fstat(fd)
                try:
                    now = os.stat(path)
                except FileNotFoundError:
                    now = None
                if now is not None and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                    return fd
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if not flags & os.O_CREAT and now is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))

    # -- writing -----------------------------------------------------------------------

    def append(
        self,
        chat_id: str,
        role: str,
        content: str,
        *,
        user_id: str | None = None,
        timestamp: str | datetime | None = None,
        status: str | None = None,
        error: str | None = None,
        error_kind: str | None = None,
    ) -> Row:
        """Append one row (and its ``status`` event row when ``status`` is given) durably.

        ``status`` is None/"complete" (no event row), "stopped", "length" or "error"
        (``error`` is the text, ``error_kind`` an optional ``error_kind`` row).
        Returns the ``Row`` written (content as stored).
        Raises ValueError for bad arguments and StorageError when the disk refuses.
        """
        path = self.path(chat_id)
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            raise ValueError(f"role must be lowercase letters/digits/_ (e.g. 'user'), not {role!r}")
        if not isinstance(content, str):
            raise TypeError(f"content must be str, not {type(content).__name__}")
        if timestamp is None or isinstance(timestamp, datetime):
            ts = utc_timestamp(timestamp)
        elif isinstance(timestamp, str) and _TIMESTAMP.fullmatch(timestamp):
            ts = timestamp
        else:
            raise ValueError(f"timestamp must be like 2026-11-25T06:40:01.123Z, not {timestamp!r}")
        if user_id is None:
            user_id = self._user
        elif not isinstance(user_id, str):
            raise TypeError(f"user_id must be str, not {type(user_id).__name__}")
        row = Row(ts, _clean_text(user_id), role, _clean_text(content))
        text = _record(*_astuple(row))
        if status is not None and status != "complete":
            text += _record(ts, row.user_id, "status", _clean_text(status_content(status, error)))
            if status == "error" and error_kind:
                text += _record(ts, row.user_id, "error_kind", _clean_text(error_kind))
        payload = text.encode("utf-8")
        self._write(chat_id, path, payload)
        return row

    def create(self, chat_id: str) -> None:
        """Create the chat's file with just the header (an empty chat); no-op if it exists."""
        self._write(chat_id, self.path(chat_id), b"")

    def _write(self, chat_id: str, path: Path, payload: bytes) -> None:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
        try:
            try:
                fd = self._open_locked(path, flags, fcntl.LOCK_EX)
            except FileNotFoundError:  # the folder does not exist (yet, or any more)
                self._ensure_dir(self.root)
                fd = self._open_locked(path, flags, fcntl.LOCK_EX)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
        try:
            st = os.fstat(fd)
            size = self._clean_tail(fd, chat_id, path, st)
            data = _HEADER_LINE.encode() + payload if size == 0 else payload
            if not data:
                return
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes were written "
                                  "(disk full?)")
                os.fsync(fd)
            except BaseException as exc:
                try:  # take back whatever part of this write reached the file
                    if os.fstat(fd).st_size != size:
                        os.ftruncate(fd, size)
                        os.fsync(fd)
                except OSError:
                    log.warning("could not truncate %s back after a failed write", path)
                if isinstance(exc, OSError):
                    raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
                raise
            self._clean[chat_id] = (st.st_dev, st.st_ino, size + len(data))
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
        finally:
            os.close(fd)
        if size == 0:
            _fsync_dir(self.root)  # make the new file's name durable too

    def _clean_tail(self, fd: int, chat_id: str, path: Path, st: os.stat_result) -> int:
        """With ``fd`` locked exclusively: make sure the file ends after a complete record
        (repairing a torn tail) and return its size."""
        size = st.st_size
        known = self._clean.get(chat_id)
        same = known is not None and known[:2] == (st.st_dev, st.st_ino) and known[2] <= size
        start = known[2] if same else 0
        if start < size:
            tail = os.pread(fd, size - start, start)
            if len(tail) != size - start or not tail.endswith(b"\n") or tail.count(b'"') & 1:
                _, size = self._repair_locked(fd, chat_id, path)
        return size

    # -- reading -----------------------------------------------------------------------

    def load_records(self, chat_id: str) -> list[list[str]]:
        """Raw ``[timestamp, user_id, role, content]`` lists, header excluded (fast path
        for the registry); same torn-tail handling as ``load``."""
        path = self.path(chat_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {_cause(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            st = os.fstat(fd)
            data = _read_all(fd, st.st_size)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {_cause(exc)}") from None
        finally:
            os.close(fd)
        if not data or data.endswith(b"\n"):
            # Fast path: a strict parse fails at the end of data inside an open quote, so a
            # clean parse of bytes ending in "\n" means the last record is complete.
            try:
                records = _parse(data, path)
            except StorageError:
                if _complete_end(data) == len(data):
                    raise  # damage before the last complete record: not a torn tail
            else:
                self._clean[chat_id] = (st.st_dev, st.st_ino, len(data))
                return records
        end = _complete_end(data)
        return _parse(self._repair(chat_id, path, data, end), path)

    def load(self, chat_id: str) -> list[Row]:
        """Every complete row of the chat, event rows included; ``[]`` if it has no file."""
        return list(starmap(Row, self.load_records(chat_id)))

    # -- torn tails ----------------------------------------------------------------------

    def _repair(self, chat_id: str, path: Path, data: bytes, end: int) -> bytes:
        try:
            fd = self._open_locked(path, os.O_RDWR, fcntl.LOCK_EX)
        except OSError as exc:
            log.warning("%s ends with an incomplete row (%d bytes) that could not be set aside "
                        "(%s); showing the %d complete bytes before it", path, len(data) - end,
                        _cause(exc), end)
            return data[:end]
        try:
            data, _ = self._repair_locked(fd, chat_id, path)
        except StorageError as exc:
            log.warning("%s", exc)
            return data[:end]
        finally:
            os.close(fd)
        return data

    def _repair_locked(self, fd: int, chat_id: str, path: Path) -> tuple[bytes, int]:
        """With ``fd`` (read-write) locked exclusively: move the bytes after the last
        complete record to the quarantine folder and truncate. Returns (the complete
        bytes, their length)."""
        st = os.fstat(fd)
        data = _read_all(fd, st.st_size)
        end = _complete_end(data)
        if end < len(data):
            torn = data[end:]
            qdir = self.root / "quarantine"
            self._ensure_dir(qdir)
            stamp = _file_stamp()
            for n in range(1000):
                qpath = qdir / f"{chat_id}-{stamp}{f'-{n}' if n else ''}.partial"
                try:
                    qfd = os.open(qpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                    break
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise StorageError(f"cannot write {qpath}: {_cause(exc)}") from None
            else:
                raise StorageError(f"cannot write {qdir}: too many quarantine files for {chat_id}")
            try:
                view = memoryview(torn)
                while view:
                    view = view[os.write(qfd, view):]
                os.fsync(qfd)
            except OSError as exc:
                os.close(qfd)
                os.unlink(qpath)
                raise StorageError(f"cannot write {qpath}: {_cause(exc)}") from None
            os.close(qfd)
            _fsync_dir(qdir)
            try:
                os.ftruncate(fd, end)  # only after the torn bytes are safely elsewhere
                os.fsync(fd)
            except OSError as exc:
                raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
            log.warning("%s ended with an incomplete row (a write interrupted by a crash?): "
                        "moved its %d bytes to %s and kept the %d complete bytes before it",
                        path, len(torn), qpath, end)
            data = data[:end]
        self._clean[chat_id] = (st.st_dev, st.st_ino, end)
        return data, end

    # -- whole files -------------------------------------------------------------------

    def archive(self, chat_id: str) -> Path:
        """"Clear chat": move the file to ``root/archive/<chat-id>-<UTC timestamp>.csv``
        (one rename; nothing is rewritten). Returns the new path; KeyError if no file."""
        path = self.path(chat_id)
        adir = self.root / "archive"
        fd = self._lock_existing(chat_id, path, "archive")
        try:
            self._ensure_dir(adir)
            stamp = _file_stamp()
            dest = adir / f"{chat_id}-{stamp}.csv"
            n = 0
            while dest.exists():
                n += 1
                dest = adir / f"{chat_id}-{stamp}-{n}.csv"
            try:
                os.replace(path, dest)
            except OSError as exc:
                raise StorageError(f"cannot archive {path} to {dest}: {_cause(exc)}") from None
            self._clean.pop(chat_id, None)
        finally:
            os.close(fd)
        _fsync_dir(self.root)
        _fsync_dir(adir)
        return dest

    def delete(self, chat_id: str) -> None:
        """Remove the chat's file (KeyError if there is none)."""
        path = self.path(chat_id)
        fd = self._lock_existing(chat_id, path, "delete")
        try:
            try:
                os.unlink(path)
            except OSError as exc:
                raise StorageError(f"cannot delete {path}: {_cause(exc)}") from None
            self._clean.pop(chat_id, None)
        finally:
            os.close(fd)
        _fsync_dir(self.root)

    def _lock_existing(self, chat_id: str, path: Path, verb: str) -> int:
        # Wait for appends in progress: they hold the exclusive lock.
        try:
            return self._open_locked(path, os.O_RDONLY, fcntl.LOCK_EX)
        except FileNotFoundError:
            raise ChatNotFound(chat_id) from None
        except OSError as exc:
            raise StorageError(f"cannot {verb} {path}: {_cause(exc)}") from None


def _astuple(row: Row) -> tuple[str, str, str, str]:
    return row.timestamp, row.user_id, row.role, row.content
