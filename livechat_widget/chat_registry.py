"""ChatRegistry: an in-memory index of the chats in a CsvStore, rebuilt from the files.

The files are the single source of truth: everything here (titles, times, counts) is
derived from them, so a registry built in a new process equals the one before it.

- ``created_at`` / ``updated_at`` are the times of a chat's first and last rows; a chat
  with no rows yet (a header, as ``new()`` leaves it) uses its file's mtime for both.
- ``title`` is the latest ``title`` row, else the first user message on one line and
  shortened to about 60 characters, else "New chat".
- ``message_count`` counts user/assistant/system rows, not event rows.
- ``list()`` is most recently updated first (ties: newer ``created_at``, then id).

Appends go through the store and update the index; the messages of the chats used last
are cached. Another process's changes show after ``refresh()`` (or a ``messages()`` call
that misses the cache). Not thread-safe: one thread (the loop).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .attachment_rows import Attachment
from .chat_search import file_snippet, find_chats
from .chat_settings import (
    ALLOWED_TOOLS,
    allowed_tools_from_records,
    overrides_from_records,
    settings_content,
)
from .csv_format import PARTIAL_ROLE, pending_tools_from_records, unanswered_from_records
from .csv_storage import (
    MESSAGE_ROLES,
    ChatNotFound,
    CsvStore,
    Message,
    StorageError,
    history_start_from_records,
    messages_from_records,
    next_timestamp_ms,
    status_fields,
    timestamp_from_ms,
    utc_timestamp,
    validate_chat_id,
)
from .reply_usage import Totals, Usage, add_usage, merge_totals, usage_totals
from .text_cleaning import MAX_TITLE_CHARS, clean_title, one_line
from .tool_rows import ToolRecord, records_with
from .versions import EDIT_ROLE, SELECT_ROLE, VersionTree, tree_from_records

log = logging.getLogger(__name__)

DEFAULT_TITLE = "New chat"
TITLE_CHARS = 60  # a title derived from the first user message


@dataclass(frozen=True, slots=True)
class ChatInfo:
    id: str
    title: str
    created_at: str
    updated_at: str
    message_count: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    chat: ChatInfo
    snippet: str


@dataclass(slots=True)
class _Entry:
    info: ChatInfo
    has_rows: bool  # False: header only (times come from the file's mtime)
    explicit_title: bool  # the title comes from a `title` row
    has_user: bool  # a user message exists (so the derived title is fixed)
    history_start: int = 0  # id of the first message sent to the model
    settings: dict[str, Any] = field(default_factory=dict)  # the chat's own settings
    usage: Totals = field(default_factory=lambda: usage_totals(()))  # summed
    unanswered: str | None = None  # a reply's text that never finished (csv_format.py)
    tools: list[ToolRecord] = field(default_factory=list)  # calls of the coming reply
    allowed_tools: frozenset[str] = frozenset()  # "Allow for this chat" (settings rows)


def _summarise(chat_id: str, records: list[list[str]], path: Path) -> _Entry:
    if not records:
        try:
            stamp = timestamp_from_ms(os.stat(path).st_mtime_ns // 1_000_000)
        except OSError:
            stamp = utc_timestamp()
        return _Entry(ChatInfo(chat_id, DEFAULT_TITLE, stamp, stamp, 0), False, False, False)
    roles = [r[2] for r in records]
    count = roles.count("user") + roles.count("assistant") + roles.count("system")
    has_user, explicit, title = "user" in roles, "title" in roles, ""
    if explicit:
        title = one_line(records[len(roles) - 1 - roles[::-1].index("title")][3], MAX_TITLE_CHARS)
    elif has_user:
        title = one_line(records[roles.index("user")][3], TITLE_CHARS)
    info = ChatInfo(chat_id, title or DEFAULT_TITLE, records[0][0], records[-1][0], count)
    entry = _Entry(info, True, explicit, has_user, history_start_from_records(records))
    entry.unanswered = unanswered_from_records(records)
    entry.tools = pending_tools_from_records(records)
    if "settings" in roles:
        entry.settings = overrides_from_records(records)
        entry.allowed_tools = allowed_tools_from_records(records)
    if "usage" in roles:
        usages = (Usage.from_json(r[3]) for r in records if r[2] == "usage")
        entry.usage = usage_totals(u for u in usages if u is not None)
    return entry


_Read = tuple[list[Message], VersionTree, _Entry]


def _read(store: CsvStore, chat_id: str) -> _Read:
    """A chat's messages, versions and summary from its file (pure: any thread)."""
    records = store.load_records(chat_id)
    summary = _summarise(chat_id, records, store.path(chat_id))
    return messages_from_records(records), tree_from_records(records), summary


def summarise(chat_id: str, records: list[list[str]], path: Path) -> ChatInfo:
    """The ``ChatInfo`` of a chat from its records, by the rules above (for readers that
    load the files themselves, e.g. ``chat_data``)."""
    return _summarise(chat_id, records, path).info


def _sort_key(info: ChatInfo) -> tuple[str, str, str]:
    return info.updated_at, info.created_at, info.id


class ChatRegistry:
    """In-memory index ``{chat_id: ChatInfo}`` of the chats in ``store``."""

    def __init__(self, store: CsvStore, *, cache_size: int = 8) -> None:
        self.store = store
        self.cache_size = cache_size
        self._index: dict[str, _Entry] = {}
        self._cache: OrderedDict[str, list[Message]] = OrderedDict()
        self._trees: dict[str, VersionTree] = {}  # the versions of each cached chat
        self.unreadable: builtins.list[str] = []  # chat files left out: they cannot be read
        self.refresh()

    # -- the index ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the index from the files (and forget cached messages)."""
        index: dict[str, _Entry] = {}
        self.unreadable = []
        for chat_id in self.store.list_chats():
            try:
                records = self.store.load_records(chat_id)
            except StorageError as exc:
                log.warning("skipping a chat that cannot be read: %s", exc)
                self.unreadable.append(chat_id)
                continue
            index[chat_id] = _summarise(chat_id, records, self.store.path(chat_id))
        self._index = index
        self._cache.clear()
        self._trees.clear()

    def adopt(self, chat_id: str) -> ChatInfo:
        """Index a chat whose file was written by someone else (``import_chats``)."""
        records = self.store.load_records(chat_id)
        self._index[chat_id] = entry = _summarise(chat_id, records, self.store.path(chat_id))
        self._cache.pop(chat_id, None)
        return entry.info

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._index

    def _entry(self, chat_id: str) -> _Entry:
        entry = self._index.get(validate_chat_id(chat_id))
        if entry is None:
            raise ChatNotFound(chat_id)
        return entry

    def get(self, chat_id: str) -> ChatInfo:
        """The chat's info; ValueError for a malformed id, ChatNotFound for an unknown chat."""
        return self._entry(chat_id).info

    def list(self) -> list[ChatInfo]:
        """All chats, most recently updated first."""
        return sorted((e.info for e in self._index.values()), key=_sort_key, reverse=True)

    # -- changes -----------------------------------------------------------------------

    def new(self, title: str | None = None) -> ChatInfo:
        """Create a chat (its file exists at once); a title, if given, is a `title` row."""
        chat_id = str(uuid.uuid4())
        if title is not None:
            title = clean_title(title)
            row = self.store.append(chat_id, "title", title)
            info = ChatInfo(chat_id, title, row.timestamp, row.timestamp, 0)
            entry = _Entry(info, True, True, False)
        else:
            now = next_timestamp_ms() * 1_000_000
            self.store.create(chat_id)
            try:  # the file's mtime is the chat's time: make it as precise as a row's
                os.utime(self.store.path(chat_id), ns=(now, now))
            except OSError:
                pass
            entry = _summarise(chat_id, [], self.store.path(chat_id))
        self._index[chat_id] = entry
        return entry.info

    def rename(self, chat_id: str, title: str) -> ChatInfo:
        """Set the chat's title (appends a `title` row)."""
        entry = self._entry(chat_id)
        title = clean_title(title)
        row = self.store.append(chat_id, "title", title)
        self._touch(entry, row.timestamp, title=title)
        entry.explicit_title = True
        return entry.info

    def append(
        self,
        chat_id: str,
        role: str,
        content: str,
        *,
        user_id: str | None = None,
        status: str | None = None,
        error: str | None = None,
        error_kind: str | None = None,
        replaces: int | None = None,
        context: str | None = None,
        reasoning: str = "",
        usage: Usage | None = None,
        attachments: Sequence[Attachment] = (),
        fingerprints: str = "",
    ) -> Message:
        """Append a user/assistant/system message (with its status marker, if any);
        ``replaces``: the id of the message this one is a new version of (an edit);
        ``context``, its variables' ``fingerprints``, ``attachments`` (AttachmentStore's):
        a user message's rows before it; ``reasoning`` and ``usage``: a reply's rows."""
        entry = self._entry(chat_id)
        if role not in MESSAGE_ROLES:
            raise ValueError(f"role must be one of {sorted(MESSAGE_ROLES)}, not {role!r}")
        events: list[tuple[str, str]] = []
        if replaces is not None:
            self._check_version_of(chat_id, replaces, role)
            events.append((EDIT_ROLE, str(replaces)))
        if reasoning:
            events.append(("reasoning", reasoning))
        if usage is not None:
            events.append(("usage", usage.to_json()))
        row = self.store.append(
            chat_id,
            role,
            content,
            user_id=user_id,
            status=status,
            error=error,
            error_kind=error_kind,
            events=events,
            context=context if role == "user" else None,
            attachments=attachments,
            fingerprints=fingerprints,
        )
        status, error, kind = status_fields(status, error, error_kind)
        message = Message(
            entry.info.message_count,
            role,
            row.content,
            row.timestamp,
            row.user_id,
            status,
            error,
            kind,
            context=(context or "") if role == "user" else "",
            fingerprints=fingerprints if role == "user" and context else "",
            reasoning=reasoning,
            usage=usage,
            tools=tuple(entry.tools) if role == "assistant" else (),
            attachments=tuple(attachments),
        )
        entry.tools = []  # tool rows belong to the assistant message right after them
        if usage is not None:
            add_usage(entry.usage, usage)
        entry.unanswered = None  # a reply that began is answered by this message
        title = None
        if role == "user" and not entry.has_user:
            entry.has_user = True
            if not entry.explicit_title:
                title = one_line(row.content, TITLE_CHARS) or DEFAULT_TITLE
        self._touch(entry, row.timestamp, title=title, added=1)
        cached = self._cache.get(chat_id)
        if cached is not None:
            cached.append(message)
            self._trees[chat_id].add(role, replaces)
            self._cache.move_to_end(chat_id)
        return message

    def _check_version_of(self, chat_id: str, message_id: int, role: str) -> None:
        messages = self.messages(chat_id)
        if not isinstance(message_id, int) or not 0 <= message_id < len(messages):
            raise ValueError(f"no message {message_id!r} in this chat")
        if messages[message_id].role != role:
            raise ValueError(f"message {message_id} is not a {role} message")

    def tree(self, chat_id: str) -> VersionTree:
        """The chat's versions (see versions.py); read it, do not change it."""
        self.messages(chat_id)  # loads the tree with the messages
        return self._trees[chat_id]

    def select_version(self, chat_id: str, message_id: int) -> None:
        """Show message ``message_id`` among its versions (a ``select`` row)."""
        entry = self._entry(chat_id)
        if not isinstance(message_id, int) or not 0 <= message_id < entry.info.message_count:
            raise ValueError(f"no message {message_id!r} in this chat")
        tree = self.tree(chat_id)
        row = self.store.append(chat_id, SELECT_ROLE, str(message_id))
        tree.select(message_id)
        self._touch(entry, row.timestamp)

    def append_run(self, chat_id: str, message_id: int, content: str) -> Message:
        """Record a code run of message ``message_id`` (a ``code_run`` row whose JSON
        ``content`` names it); returns the message with its runs."""
        entry = self._entry(chat_id)
        if not 0 <= message_id < entry.info.message_count:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        row = self.store.append(chat_id, "code_run", content)
        self._touch(entry, row.timestamp)
        cached = self._cache.get(chat_id)
        if cached is not None:
            found = cached[message_id]
            cached[message_id] = replace(found, runs=(*found.runs, row.content))
            return cached[message_id]
        return self.messages(chat_id)[message_id]

    def append_tool(self, chat_id: str, role: str, content: str) -> None:
        """A ``tool_call`` or ``tool_result`` row of the reply in progress (tool_rows.py)."""
        entry = self._entry(chat_id)
        row = self.store.append(chat_id, role, content)
        entry.tools = records_with(entry.tools, role, row.content)
        self._touch(entry, row.timestamp)

    def allowed_tools(self, chat_id: str) -> frozenset[str]:
        return self._entry(chat_id).allowed_tools

    def allow_tool(self, chat_id: str, name: str) -> None:
        """Let ``name`` run without asking for the rest of this chat (a settings row)."""
        allowed = self._entry(chat_id).allowed_tools | {name}
        self.add_settings(chat_id, {ALLOWED_TOOLS: sorted(allowed)})
        self._entry(chat_id).allowed_tools = allowed

    def append_partial(self, chat_id: str, text: str, user_id: str | None = None) -> None:
        """Keep more of a streaming reply's text (a ``partial`` row), so that a kernel
        that dies mid-reply loses at most what came since."""
        entry = self._entry(chat_id)
        row = self.store.append(chat_id, PARTIAL_ROLE, text, user_id=user_id)
        entry.unanswered = (entry.unanswered or "") + row.content
        self._touch(entry, row.timestamp)

    def unanswered(self, chat_id: str) -> str | None:
        """The text of the chat's reply that never finished, if its last message waits
        for one (it may still be streaming: see reply_lock.py)."""
        return self._entry(chat_id).unanswered

    def history_start(self, chat_id: str) -> int:
        """The id of the first message the model is sent (0 = the whole chat)."""
        entry = self._entry(chat_id)
        # A hand-edited file may point past its last message: then the whole chat is sent.
        return entry.history_start if entry.history_start < entry.info.message_count else 0

    def set_history_start(self, chat_id: str, start: int) -> None:
        """Leave the messages before ``start`` out of what the model is sent (a
        ``history_start`` row)."""
        entry = self._entry(chat_id)
        if not isinstance(start, int) or not 0 <= start <= entry.info.message_count:
            raise ValueError(f"history start must be a message id, not {start!r}")
        row = self.store.append(chat_id, "history_start", str(start))
        entry.history_start = start
        self._touch(entry, row.timestamp)

    def settings(self, chat_id: str) -> dict[str, Any]:
        """The settings the chat set itself (the rest follow the defaults)."""
        return dict(self._entry(chat_id).settings)

    def add_settings(self, chat_id: str, changes: dict[str, Any]) -> None:
        """Record checked changes of the chat's settings (a ``settings`` row; a None
        value: back to the default)."""
        entry = self._entry(chat_id)
        row = self.store.append(chat_id, "settings", settings_content(changes))
        for key, value in changes.items():
            if value is None:
                entry.settings.pop(key, None)
            else:
                entry.settings[key] = value
        self._touch(entry, row.timestamp)

    def usage(self, chat_id: str | None = None) -> Totals:
        """Replies, tokens and cost summed over a chat's replies, or every chat's (None)."""
        if chat_id is not None:
            return dict(self._entry(chat_id).usage)
        totals = usage_totals(())
        for entry in self._index.values():
            merge_totals(totals, entry.usage)
        return totals

    def _touch(
        self, entry: _Entry, stamp: str, *, title: str | None = None, added: int = 0
    ) -> None:
        info = entry.info
        entry.info = replace(
            info,
            title=info.title if title is None else title,
            created_at=info.created_at if entry.has_rows else stamp,
            updated_at=stamp,
            message_count=info.message_count + added,
        )
        entry.has_rows = True

    def delete(self, chat_id: str) -> None:
        """Delete the chat's file and forget it."""
        self._entry(chat_id)
        try:
            self.store.delete(chat_id)
        except ChatNotFound:
            pass  # already gone from disk: just forget it
        self._forget(chat_id)

    def archive(self, chat_id: str) -> Path:
        """Move the chat's file to the archive folder ("clear chat"); returns its new path."""
        self._entry(chat_id)
        path = self.store.archive(chat_id)
        self._forget(chat_id)
        return path

    def _forget(self, chat_id: str) -> None:
        self._index.pop(chat_id, None)
        self._cache.pop(chat_id, None)
        self._trees.pop(chat_id, None)

    # -- messages ----------------------------------------------------------------------

    def messages(self, chat_id: str) -> builtins.list[Message]:  # list(): a method here
        """The chat's messages (a new list each call; cached for recently used chats)."""
        entry = self._entry(chat_id)
        if chat_id not in self._cache:
            self._install(chat_id, entry, _read(self.store, chat_id))
        self._cache.move_to_end(chat_id)
        return list(self._cache[chat_id])

    def is_loaded(self, chat_id: str) -> bool:
        return chat_id in self._cache

    async def load(self, chat_id: str) -> None:
        """Read and parse a chat that is not in memory in a worker thread, so the event
        loop goes on meanwhile (a 200 MB chat takes seconds); ``messages`` then has it."""
        entry = self._entry(chat_id)
        if chat_id in self._cache:
            return
        read = await asyncio.to_thread(_read, self.store, chat_id)
        # Written to (or deleted) meanwhile: the next ``messages`` reads it afresh.
        if chat_id not in self._cache and self._index.get(chat_id) is entry:
            if read[2].info.message_count >= entry.info.message_count:
                self._install(chat_id, entry, read)

    def _install(self, chat_id: str, entry: _Entry, read: _Read) -> None:
        messages, tree, fresh = read
        self._trees[chat_id] = tree
        # The file may have grown in another process: take its view of the chat.
        if not fresh.has_rows:  # keep the in-memory times of an empty chat
            fresh.info = entry.info
        self._index[chat_id] = fresh
        self._cache[chat_id] = messages
        while len(self._cache) > self.cache_size:
            evicted, _ = self._cache.popitem(last=False)
            self._trees.pop(evicted, None)

    def search(self, query: str, limit: int = 50) -> builtins.list[SearchHit]:
        """Chats whose title or message contents contain ``query`` (case-insensitive):
        title matches first, then the rest, each group most recently updated first.

        The snippet is about 120 characters around the first match in the messages, on
        one line; for a chat that matches only by its title it is the title. A blank
        query matches nothing.
        """
        found = find_chats(
            self.list(),
            query,
            limit,
            lambda chat_id, q: file_snippet(self.store, chat_id, q, self._cache.get(chat_id)),
        )
        return [SearchHit(info, snippet) for info, snippet in found]
