"""The chat file format: rows, messages, event rows, timestamps, encoding and parsing.

Pure functions and value types, no file I/O (that is ``csv_storage.CsvStore``). The
format itself is documented in the README ("Where chats live").
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from .attachment_rows import ATTACHMENT_ROLE, Attachment, parse_attachment
from .reply_usage import Usage
from .tool_rows import CALL_ROLE, RESULT_ROLE, ToolRecord, records_with

HEADER = ("timestamp", "user_id", "role", "content")
MESSAGE_ROLES = frozenset({"user", "assistant", "system"})
STATUSES = ("stopped", "length", "error")
# JSON {name: fingerprint} of the variables in the `context` row before it (stale_context.py)
FINGERPRINT_ROLE = "context_fingerprint"

HEADER_LINE = ",".join(HEADER) + "\n"
CHAT_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
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
    context: str = ""  # a user message: the kernel context sent with it (a `context` row)
    fingerprints: str = ""  # ... and what its variables looked like (FINGERPRINT_ROLE, JSON)
    runs: tuple[str, ...] = ()  # an assistant message: its `code_run` rows (JSON), in order
    reasoning: str = ""  # what the model streamed as reasoning (a `reasoning` row)
    usage: Usage | None = None  # tokens, speed and model of a reply (a `usage` row)
    tools: tuple[ToolRecord, ...] = ()  # an assistant message: its tool calls, in order
    attachments: tuple[Attachment, ...] = ()  # a user message: its files (`attachment` rows)


def messages_from_rows(rows: Iterable[Row]) -> list[Message]:
    """Messages of a chat: user/assistant/system rows, numbered from 0, with each
    ``status``, ``error_kind``, ``reasoning`` and ``usage`` row applied to the message
    before it; other event rows are skipped."""
    return messages_from_records((r.timestamp, r.user_id, r.role, r.content) for r in rows)


def messages_from_records(records: Iterable[Sequence[str]]) -> list[Message]:
    """``messages_from_rows`` for raw ``[timestamp, user_id, role, content]`` records."""
    messages: list[Message] = []
    context = fingerprints = ""  # `context` rows belong to the user message right after
    tools: list[ToolRecord] = []  # tool rows belong to the assistant message after them
    files: list[Attachment] = []  # attachment rows belong to the user message after them
    for ts, user_id, role, content in records:
        if role in MESSAGE_ROLES:
            user = role == "user"
            messages.append(
                Message(
                    len(messages),
                    role,
                    content,
                    ts,
                    user_id,
                    context=context if user else "",
                    fingerprints=fingerprints if user else "",
                    tools=tuple(tools) if role == "assistant" else (),
                    attachments=tuple(files) if user else (),
                )
            )
            context = fingerprints = ""
            tools, files = [], []
        elif role == "context":
            context = content
        elif role == FINGERPRINT_ROLE:
            fingerprints = content
        elif role == ATTACHMENT_ROLE:
            attachment = parse_attachment(content)
            if attachment is not None:
                files.append(attachment)
        elif role == CALL_ROLE or role == RESULT_ROLE:
            tools = records_with(tools, role, content)
        elif role == "code_run":
            target = _run_target(content, len(messages))
            if target is not None:
                found = messages[target]
                messages[target] = replace(found, runs=(*found.runs, content))
        elif role == "status" and messages:
            status, error = parse_status(content)
            if status:
                messages[-1] = replace(messages[-1], status=status, error=error)
        elif role == "error_kind" and messages and messages[-1].status == "error":
            messages[-1] = replace(messages[-1], error_kind=content.strip())
        elif role in ("reasoning", "usage") and messages and messages[-1].role == "assistant":
            if role == "reasoning":
                messages[-1] = replace(messages[-1], reasoning=content)
            else:
                messages[-1] = replace(messages[-1], usage=Usage.from_json(content))
    return messages


def _run_target(content: str, count: int) -> int | None:
    """The id of the message a ``code_run`` row belongs to, if it is a message so far."""
    try:
        target = json.loads(content).get("message_id")
    except (ValueError, AttributeError):
        return None
    ok = isinstance(target, int) and not isinstance(target, bool) and 0 <= target < count
    return target if ok else None


PARTIAL_ROLE = "partial"  # a reply's text so far, written while it streams


def pending_tools_from_records(records: Sequence[Sequence[str]]) -> list[ToolRecord]:
    """The tool calls after the last message: a reply's, still running or cut off."""
    tail: list[Sequence[str]] = []
    for record in reversed(records):
        if record[2] in MESSAGE_ROLES:
            break
        tail.append(record)
    tools: list[ToolRecord] = []
    for record in reversed(tail):
        if record[2] == CALL_ROLE or record[2] == RESULT_ROLE:
            tools = records_with(tools, record[2], record[3])
    return tools


def unanswered_from_records(records: Sequence[Sequence[str]]) -> str | None:
    """The text of a reply that began but has no row of its own — the ``partial`` rows
    after the last message (a reply writes an empty one as it starts) — or None."""
    parts: list[str] = []
    for record in reversed(records):
        if record[2] in MESSAGE_ROLES:
            break
        if record[2] == PARTIAL_ROLE:
            parts.append(record[3])
    return "".join(reversed(parts)) if parts else None


def history_start_from_records(records: Iterable[Sequence[str]]) -> int:
    """The id of the first message sent to the model (the latest ``history_start``
    row; 0 when there is none or it is malformed)."""
    start = 0
    for record in records:
        if record[2] == "history_start":
            value = record[3].strip()
            start = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else start
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


def status_fields(
    status: str | None, error: str | None, error_kind: str | None
) -> tuple[str, str, str]:
    """(status, error, error_kind) of a message just written, as reading it back gives."""
    if status is None or status == "complete":
        return "complete", "", ""
    status, error = parse_status(status_content(status, error))
    return status, error, (error_kind or "") if status == "error" else ""


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
    if not isinstance(chat_id, str) or not CHAT_ID_PATTERN.fullmatch(chat_id):
        shown = repr(chat_id[:60]) if isinstance(chat_id, str) else type(chat_id).__name__
        raise ValueError(f"not a valid chat id (a lowercase UUID4 string expected): {shown}")
    return str.__str__(chat_id)  # a plain str even if a subclass came in


def default_user() -> str:
    """Who writes rows unless told: the JupyterHub user, else the OS user."""
    try:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (e.g. a container uid)
        return "unknown"


def _field(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def encode_record(ts: str, user_id: str, role: str, content: str) -> str:
    # The content is always quoted: a record then ends with the only "\n" outside quotes.
    return f'{ts},{_field(user_id)},{role},"{content.replace(chr(34), chr(34) * 2)}"\n'


def complete_end(data: bytes) -> int:
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


def parse_records(data: bytes, path: Path) -> list[list[str]]:
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
        raise StorageError(
            f"cannot read {path}: damaged at line {reader.line_num} ({exc}); "
            "the file was left unchanged"
        ) from None
    return _check_records(records, path)


def _utf8_error(data: bytes, path: Path) -> NoReturn:
    try:
        data.decode("utf-8-sig")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    line = data.count(b"\n", 0, start) + 1
    raise StorageError(
        f"cannot read {path}: not valid UTF-8 at line {line} (byte {start}); "
        "the file was left unchanged"
    )


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
        raise StorageError(
            f"cannot read {path}: damaged at line {reader.line_num} ({exc}); "
            "the file was left unchanged"
        ) from None
    return [[f.replace(nul, "\x00") for f in r] for r in _check_records(records, path)]


def _check_records(records: list[list[str]], path: Path) -> list[list[str]]:
    """Drop the header (checking it) and make sure every row has four fields."""
    if not records:
        return records
    if records[0] != list(HEADER):
        raise StorageError(
            f"cannot read {path}: not a chat log (its header is "
            f"{','.join(records[0])[:80]!r}, expected {','.join(HEADER)!r})"
        )
    del records[0]
    if set(map(len, records)) - {4}:
        records = [r for r in records if r]  # blank lines, e.g. from a spreadsheet
        for r in records:
            if len(r) != 4:
                raise StorageError(
                    f"cannot read {path}: a row has {len(r)} fields, expected 4 "
                    f"({','.join(r)[:80]!r}); the file was left unchanged"
                )
    return records
