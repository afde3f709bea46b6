"""What every session on one chat folder in this process shares: its registry, the
replies streaming in it and the sessions to tell when a chat changes. One ``Folder``
per folder path, so message ids and titles agree between views and two views never
answer in the same chat at once. A session announces each of its writes here, and
every session on the folder (the writer's too) redraws from that one event.
"""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Protocol

from .chat_registry import ChatRegistry
from .csv_storage import CsvStore
from .streaming import Reply

log = logging.getLogger(__name__)


class Member(Protocol):
    """A session on the folder (session.py), as the folder sees it."""

    closed: bool

    def chat_changed(self, chat_id: str) -> None: ...


class Folder:
    """What every session on one chat folder in this process shares."""

    def __init__(self, store: CsvStore) -> None:
        self.registry = ChatRegistry(store)
        self.replies: dict[str, Reply] = {}  # chat id -> the reply streaming in it
        self.sessions: weakref.WeakSet[Member] = weakref.WeakSet()

    def announce(self, chat_id: str) -> None:
        """``chat_id`` changed (created, renamed, deleted, a row appended, a reply
        started or ended): every session on the folder redraws what it shows of it (a
        notebook cell run again makes a second widget on the same folder)."""
        for session in list(self.sessions):
            if not session.closed:
                try:
                    session.chat_changed(chat_id)
                except Exception:
                    log.exception("updating a view of chat %s failed", chat_id)

    def chats_added(self, chat_ids: list[str]) -> None:
        """Chats written straight to disk (``import_chats``): index them, redraw lists."""
        for chat_id in chat_ids:
            self.registry.adopt(chat_id)
        if chat_ids:  # one redraw per view: it publishes the whole chat list
            self.announce(chat_ids[-1])


_FOLDERS: dict[Path, Folder] = {}


def chats_added(root: Path, chat_ids: list[str]) -> None:
    """Tell the widgets on the chat folder ``root`` in this process (if any) about new
    chat files; a widget created later reads them from disk anyway."""
    folder = _FOLDERS.get(Path(root).resolve())
    if folder is not None:
        folder.chats_added(chat_ids)


def folder_for(store: CsvStore) -> Folder:
    root = Path(store.root).resolve()
    if root not in _FOLDERS:
        _FOLDERS[root] = Folder(store)
    return _FOLDERS[root]
