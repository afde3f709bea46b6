"""Chats as data: the messages of a chat folder as one pandas DataFrame.

One row per message (``user``/``assistant``/``system`` rows of the CSV files), across
all chats, with the chat it belongs to and what its event rows say about it:

- ``chat_id``, ``title`` (the chat's title, as the chat list shows it),
  ``message_id`` (the message's id in its chat, 0-based), ``timestamp`` (UTC,
  ``datetime64``), ``user_id``, ``role``, ``content``;
- ``status`` (``complete``, ``stopped``, ``length``, ``error``), ``error`` and
  ``error_kind``, exactly as the app reads them (``csv_format.messages_from_records``);
- one column per entry of ``EVENT_COLUMNS``: the content of an event row, put on the
  message it belongs to (the message before the row, or the one after it). A new kind
  of event row becomes a column by adding one entry there;
- ``tools``: a reply's tool calls, each a dict of its ``tool_call`` and ``tool_result``
  rows (id, name, arguments, step, offset, source, needs_consent, status, content,
  images, ms), in order ([] for other messages);
- ``attachments``: a user message's attached files, each a dict (name, media_type,
  size, sha256: the file is ``<chat-id>.files/<sha256>.<ext>``), [] otherwise.

pandas is optional: without it these functions raise an ImportError that says how to
install it. The files are parsed by ``csv_storage`` (the same code the app uses), never
by a second CSV reader.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .chat_registry import summarise
from .csv_storage import MESSAGE_ROLES, CsvStore, StorageError, messages_from_records
from .reply_usage import Usage

if TYPE_CHECKING:
    import pandas as pd

PANDAS_HINT = 'pip install "livechat-widget[pandas]"  (or: pip install pandas)'

BASE_COLUMNS = (
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
)


@dataclass(frozen=True)
class EventColumn:
    """An event row role shown as a column of the message it belongs to."""

    role: str  # the event row's role in the CSV
    column: str  # the DataFrame column
    attach: Literal["previous", "next"]  # the message before the row, or after it
    many: bool = False  # a list of every such row (else the last one wins)
    parse: Callable[[str], object] = field(default=str)  # e.g. json.loads for JSON content


# Roles that add a column (README "Where chats live" documents each role). Readers skip
# roles that are in neither this table nor the message roles.
EVENT_COLUMNS: tuple[EventColumn, ...] = (
    # The exact text the model received with the user message that follows it.
    EventColumn("context", "context", "next"),
    # What its variables looked like then ({name: fingerprint}: stale_context.py).
    EventColumn("context_fingerprint", "context_fingerprint", "next", parse=lambda c: _json(c)),
    # What the model streamed as reasoning, and the reply's tokens, speed and model.
    EventColumn("reasoning", "reasoning", "previous"),
    EventColumn("usage", "usage", "previous", parse=lambda c: _usage(c)),
    # An edited user message: the id of the message it is a new version of.
    EventColumn("edit", "version_of", "previous", parse=lambda c: _message_id(c)),
)


def _usage(content: str) -> dict[str, Any] | None:
    usage = Usage.from_json(content)
    return None if usage is None else usage.payload()


def _json(content: str) -> object:
    try:
        return json.loads(content)
    except ValueError:
        return None  # a hand-edited row


def _message_id(content: str) -> int | None:
    text = content.strip()
    return int(text) if text.isdigit() else None


def require_pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"This needs pandas, which is not installed: {PANDAS_HINT}") from None
    return pandas


def _store(folder: CsvStore | str | os.PathLike[str]) -> CsvStore:
    return folder if isinstance(folder, CsvStore) else CsvStore(folder)


def message_records(chat_id: str, title: str, records: list[list[str]]) -> list[dict[str, Any]]:
    """The DataFrame rows of one chat, as dicts (every column present)."""
    by_role = {spec.role: spec for spec in EVENT_COLUMNS}
    rows: list[dict[str, Any]] = []
    for message in messages_from_records(records):
        row: dict[str, Any] = {
            "chat_id": chat_id,
            "title": title,
            "message_id": message.id,
            "timestamp": message.timestamp,
            "user_id": message.user_id,
            "role": message.role,
            "content": message.content,
            "status": message.status,
            "error": message.error,
            "error_kind": message.error_kind,
        }
        row.update({c.column: [] if c.many else None for c in EVENT_COLUMNS})
        row["tools"] = [asdict(call) for call in message.tools]
        row["attachments"] = [asdict(file) for file in message.attachments]
        rows.append(row)
    # Event rows: messages are numbered in file order, so a row's neighbours are known
    # from the count of message rows before it.
    seen = 0
    for record in records:
        role = record[2]
        if role in MESSAGE_ROLES:
            seen += 1
            continue
        spec = by_role.get(role)
        if spec is None:
            continue
        target = seen - 1 if spec.attach == "previous" else seen
        if not 0 <= target < len(rows):
            continue  # nothing to attach it to (a context row at the very end)
        value = spec.parse(record[3])
        if spec.many:
            rows[target][spec.column].append(value)
        else:
            rows[target][spec.column] = value
    return rows


def frame(store: CsvStore, chat_ids: Iterable[str]) -> pd.DataFrame:
    """The messages of ``chat_ids`` in ``store`` as a DataFrame (see the module docs).

    Chats come oldest first (by their first row), messages in order. A chat file that
    cannot be read is skipped with a warning."""
    pd = require_pandas()
    chats: list[tuple[str, list[dict[str, Any]]]] = []
    for chat_id in chat_ids:
        try:
            records = store.load_records(chat_id)
        except StorageError as exc:
            warnings.warn(f"skipped a chat that cannot be read: {exc}", stacklevel=3)
            continue
        info = summarise(chat_id, records, store.path(chat_id))
        chats.append((info.created_at, message_records(chat_id, info.title, records)))
    chats.sort(key=lambda chat: chat[0])
    columns = [*BASE_COLUMNS, *(spec.column for spec in EVENT_COLUMNS), "tools", "attachments"]
    rows = [row for _, chat_rows in chats for row in chat_rows]
    df = pd.DataFrame.from_records(rows, columns=columns)
    df["message_id"] = df["message_id"].astype("int64")
    # A hand-edited timestamp that is not ISO 8601 becomes NaT rather than failing the read.
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601", errors="coerce")
    return df


def read_chats(folder: CsvStore | str | os.PathLike[str] = "chat_logs") -> pd.DataFrame:
    """Every message of every chat in ``folder`` as a pandas DataFrame, one row per
    message: ``chat_id``, ``title``, ``message_id``, ``timestamp``, ``user_id``,
    ``role``, ``content``, ``status``, ``error``, ``error_kind``, the event columns
    (``EVENT_COLUMNS``), ``tools`` (a reply's tool calls, as dicts) and ``attachments``
    (a user message's files, as dicts). Archived chats (``archive/``) are not included.

    >>> df = read_chats("chat_logs")
    >>> df[df.role == "assistant"].groupby("chat_id").size()
    """
    store = _store(folder)
    if not store.root.is_dir():
        raise FileNotFoundError(f"no chat folder {str(store.root)!r}")
    df = frame(store, store.list_chats())
    df.attrs["folder"] = str(store.root)  # where replay() finds these chats
    return df
