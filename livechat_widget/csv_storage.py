r"""CsvStore: one append-only CSV file per chat, safe against crashes and concurrent writers.

The format (header ``timestamp,user_id,role,content``, event rows, timestamps) is in
``csv_format`` and the README ("Where chats live"). This module is the file I/O:

- Writes: each ``append`` serialises its row(s) in memory and writes them with one
  ``os.write`` on an ``O_APPEND`` descriptor while holding an exclusive lock (see
  ``file_lock``), then ``fsync``\s. A short or failed write is truncated back, so
  nothing half-written stays and nothing already on disk is touched. Loads hold a
  shared lock.
- Torn tails: a crash in the middle of a write can leave an incomplete last record.
  ``load`` returns every complete record before it, moves the torn bytes to
  ``<root>/quarantine/<chat-id>-<UTC timestamp>.partial``, truncates the file back to
  its last complete record and logs a warning; ``append`` checks the tail the same way
  before writing, so the next row always starts on a clean line. Damage *before* the
  last complete record (not something a crash of this writer can produce) is not
  repaired: it raises ``StorageError`` and the file is left as it is.
- Unknown chats: ``load`` of a chat with no file returns ``[]``; ``archive`` and
  ``delete`` raise ``ChatNotFound`` (a ``KeyError``).
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from itertools import starmap
from pathlib import Path

from . import file_lock
from .attachment_rows import ATTACHMENT_ROLE, Attachment, attachment_row
from .attachments import FILES_SUFFIX, move_files, remove_files
from .csv_format import (
    CHAT_ID_PATTERN,
    FINGERPRINT_ROLE,
    HEADER,
    HEADER_LINE,
    MESSAGE_ROLES,
    ROLE_PATTERN,
    STATUSES,
    TIMESTAMP_PATTERN,
    ChatNotFound,
    Message,
    Row,
    StorageError,
    complete_end,
    default_user,
    encode_record,
    history_start_from_records,
    messages_from_records,
    messages_from_rows,
    next_timestamp_ms,
    parse_records,
    parse_status,
    status_content,
    status_fields,
    timestamp_from_ms,
    utc_timestamp,
    validate_chat_id,
)
from .file_lock import fsync_dir
from .text_cleaning import clean_text

__all__ = [  # the format's names are re-exported: most callers need only this module
    "HEADER",
    "MESSAGE_ROLES",
    "STATUSES",
    "ChatNotFound",
    "CsvStore",
    "Message",
    "Row",
    "StorageError",
    "history_start_from_records",
    "messages_from_records",
    "messages_from_rows",
    "next_timestamp_ms",
    "parse_status",
    "status_content",
    "status_fields",
    "timestamp_from_ms",
    "utc_timestamp",
    "validate_chat_id",
]

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"  # a spreadsheet may have saved the file with one


def _read_all(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    offset = 0
    while True:  # read to the real end, even if the file grew after fstat
        chunk = os.pread(fd, max(size - offset, 1 << 16), offset)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        offset += len(chunk)


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _file_stamp() -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z"


class CsvStore:
    """One CSV file per chat under ``root`` (see the module docstring for the format)."""

    def __init__(self, root: str | os.PathLike[str] = "chat_logs") -> None:
        self.root = Path(root)
        self._user = default_user()
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
            if len(name) == 40 and name.endswith(".csv") and CHAT_ID_PATTERN.fullmatch(name[:36]):
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
                file_lock.lock(fd, lock)
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
        events: Sequence[tuple[str, str]] = (),
        context: str | None = None,
        attachments: Sequence[Attachment] = (),
        fingerprints: str = "",
    ) -> Row:
        """Append one row (and its ``status`` event row when ``status`` is given) durably.

        ``context`` (a user message's kernel context) is a ``context`` event row written
        just before the row, in the same write, then its ``fingerprints`` (a
        ``context_fingerprint`` row, JSON: what its variables looked like); so are
        ``attachments``, one ``attachment`` row per file (saved first: attachments.py).

        ``status`` is None/"complete" (no event row), "stopped", "length" or "error"
        (``error`` is the text, ``error_kind`` an optional ``error_kind`` row).
        ``events`` are ``(role, content)`` event rows written right after the row, in the
        same write (e.g. the ``edit`` row that makes a user message a version, a reply's
        ``reasoning`` and ``usage`` rows).
        Returns the ``Row`` written (content as stored).
        Raises ValueError for bad arguments and StorageError when the disk refuses.
        """
        path = self.path(chat_id)
        if not isinstance(role, str) or not ROLE_PATTERN.fullmatch(role):
            raise ValueError(f"role must be lowercase letters/digits/_ (e.g. 'user'), not {role!r}")
        if not isinstance(content, str):
            raise TypeError(f"content must be str, not {type(content).__name__}")
        if timestamp is None or isinstance(timestamp, datetime):
            ts = utc_timestamp(timestamp)
        elif isinstance(timestamp, str) and TIMESTAMP_PATTERN.fullmatch(timestamp):
            ts = timestamp
        else:
            raise ValueError(f"timestamp must be like 2026-11-25T06:40:01.123Z, not {timestamp!r}")
        if user_id is None:
            user_id = self._user
        elif not isinstance(user_id, str):
            raise TypeError(f"user_id must be str, not {type(user_id).__name__}")
        row = Row(ts, clean_text(user_id), role, clean_text(content))
        text = encode_record(*_astuple(row))
        for event_role, event_content in events:
            if not ROLE_PATTERN.fullmatch(event_role) or event_role in MESSAGE_ROLES:
                raise ValueError(f"not an event row role: {event_role!r}")
            text += encode_record(ts, row.user_id, event_role, clean_text(event_content))
        if attachments and role != "user":
            raise ValueError("only a user message can carry attached files")
        before = [("context", context)] if context else []  # context, attachments, the row
        before += [(FINGERPRINT_ROLE, fingerprints)] if context and fingerprints else []
        before += [(ATTACHMENT_ROLE, attachment_row(a)) for a in attachments]
        text = "".join(encode_record(ts, row.user_id, r, clean_text(c)) for r, c in before) + text
        if status is not None and status != "complete":
            text += encode_record(
                ts, row.user_id, "status", clean_text(status_content(status, error))
            )
            if status == "error" and error_kind:
                text += encode_record(ts, row.user_id, "error_kind", clean_text(error_kind))
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
                fd = self._open_locked(path, flags, file_lock.EXCLUSIVE)
            except FileNotFoundError:  # the folder does not exist (yet, or any more)
                self._ensure_dir(self.root)
                fd = self._open_locked(path, flags, file_lock.EXCLUSIVE)
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
        try:
            st = os.fstat(fd)
            size = self._clean_tail(fd, chat_id, path, st)
            data = HEADER_LINE.encode() + payload if size == 0 else payload
            if not data:
                return
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(
                        errno.ENOSPC,
                        f"only {written} of {len(data)} bytes were written (disk full?)",
                    )
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
            fsync_dir(self.root)  # make the new file's name durable too

    def _clean_tail(self, fd: int, chat_id: str, path: Path, st: os.stat_result) -> int:
        """With ``fd`` locked exclusively: make sure the file ends after a complete record
        (repairing a torn tail) and return its size."""
        size = st.st_size
        known = self._clean.get(chat_id)
        same = known is not None and known[:2] == (st.st_dev, st.st_ino) and known[2] <= size
        start = known[2] if known is not None and same else 0
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
            file_lock.lock(fd, file_lock.SHARED)
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
                records = parse_records(data, path)
            except StorageError:
                if complete_end(data) == len(data):
                    raise  # damage before the last complete record: not a torn tail
            else:
                self._clean[chat_id] = (st.st_dev, st.st_ino, len(data))
                return records
        end = complete_end(data)
        head, header = data.removeprefix(BOM), HEADER_LINE.encode()
        if head[: len(header)] != header[: len(head)]:
            # Not a torn chat log (whose first write may have been cut inside the header)
            # but something else under a chat's name — random bytes, another program's
            # file: never "repaired" into an empty chat; left as it is.
            raise StorageError(
                f"cannot read {path}: not a chat log (it does not start with the header "
                f"{HEADER_LINE.strip()!r}); the file was left unchanged"
            )
        return parse_records(self._repair(chat_id, path, data, end), path)

    def load(self, chat_id: str) -> list[Row]:
        """Every complete row of the chat, event rows included; ``[]`` if it has no file."""
        return list(starmap(Row, self.load_records(chat_id)))

    # -- torn tails ----------------------------------------------------------------------

    def _repair(self, chat_id: str, path: Path, data: bytes, end: int) -> bytes:
        try:
            fd = self._open_locked(path, os.O_RDWR, file_lock.EXCLUSIVE)
        except OSError as exc:
            log.warning(
                "%s ends with an incomplete row (%d bytes) that could not be set aside "
                "(%s); showing the %d complete bytes before it",
                path,
                len(data) - end,
                _cause(exc),
                end,
            )
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
        end = complete_end(data)
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
                    view = view[os.write(qfd, view) :]
                os.fsync(qfd)
            except OSError as exc:
                os.close(qfd)
                os.unlink(qpath)
                raise StorageError(f"cannot write {qpath}: {_cause(exc)}") from None
            os.close(qfd)
            fsync_dir(qdir)
            try:
                os.ftruncate(fd, end)  # only after the torn bytes are safely elsewhere
                os.fsync(fd)
            except OSError as exc:
                raise StorageError(f"cannot write {path}: {_cause(exc)}") from None
            log.warning(
                "%s ended with an incomplete row (a write interrupted by a crash?): "
                "moved its %d bytes to %s and kept the %d complete bytes before it",
                path,
                len(torn),
                qpath,
                end,
            )
            data = data[:end]
        self._clean[chat_id] = (st.st_dev, st.st_ino, end)
        return data, end

    # -- whole files -------------------------------------------------------------------

    def archive(self, chat_id: str) -> Path:
        """ "Clear chat": move the file to ``root/archive/<chat-id>-<UTC timestamp>.csv``
        and its attached files beside it (``….files``): renames; nothing is rewritten.
        Returns the new path; KeyError if no file."""
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
            files = dest.with_suffix(FILES_SUFFIX)
            moved = move_files(self.root, chat_id, files)  # first: a failure changes nothing
            try:
                os.replace(path, dest)
            except OSError as exc:
                if moved:
                    os.rename(files, self.root / f"{chat_id}{FILES_SUFFIX}")
                raise StorageError(f"cannot archive {path} to {dest}: {_cause(exc)}") from None
            self._clean.pop(chat_id, None)
        finally:
            os.close(fd)
        fsync_dir(self.root)
        fsync_dir(adir)
        return dest

    def delete(self, chat_id: str) -> None:
        """Remove the chat's file and its attached files (KeyError if there is no file)."""
        path = self.path(chat_id)
        try:
            fd = self._lock_existing(chat_id, path, "delete")
        except ChatNotFound:
            remove_files(self.root, chat_id)  # left by a chat file removed by hand
            raise
        try:
            try:
                os.unlink(path)
            except OSError as exc:
                raise StorageError(f"cannot delete {path}: {_cause(exc)}") from None
            self._clean.pop(chat_id, None)
            remove_files(self.root, chat_id)
        finally:
            os.close(fd)
        fsync_dir(self.root)

    def _lock_existing(self, chat_id: str, path: Path, verb: str) -> int:
        # Wait for appends in progress: they hold the exclusive lock.
        try:
            return self._open_locked(path, os.O_RDONLY, file_lock.EXCLUSIVE)
        except FileNotFoundError:
            raise ChatNotFound(chat_id) from None
        except OSError as exc:
            raise StorageError(f"cannot {verb} {path}: {_cause(exc)}") from None


def _astuple(row: Row) -> tuple[str, str, str, str]:
    return row.timestamp, row.user_id, row.role, row.content
