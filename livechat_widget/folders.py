"""What every session on one chat folder in this process shares: its registry, the
replies streaming in it and the sessions (views) to tell when one of them changes a
chat. One ``Folder`` per folder path, so message ids and titles agree between views
and two views never answer in the same chat at once.
"""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from .chat_registry import ChatRegistry
from .csv_storage import CsvStore
from .streaming import Reply

if TYPE_CHECKING:
    from .session import ChatSession

log = logging.getLogger(__name__)


class Folder:
    """What every session on one chat folder in this process shares."""

    def __init__(self, store: CsvStore) -> None:
        self.registry = ChatRegistry(store)
        self.replies: dict[str, Reply] = {}  # chat id -> the reply streaming in it
        self.sessions: weakref.WeakSet[ChatSession] = weakref.WeakSet()

    def tell_others(self, session: ChatSession, chat_id: str) -> None:
        """A reply started or ended in ``chat_id``: the other sessions' views redraw it
        (a notebook cell run again makes a second widget on the same folder)."""
        for other in list(self.sessions):
            if other is not session and not other.closed:
                try:
                    other.listener.chat_changed(chat_id)
                except Exception:
                    log.exception("updating another view of chat %s failed", chat_id)

    def chats_added(self, chat_ids: list[str]) -> None:
        """Chats written straight to disk (``import_chats``): index them, redraw lists."""
        for chat_id in chat_ids:
            self.registry.adopt(chat_id)
        for session in list(self.sessions):
            if not session.closed and chat_ids:
                try:  # one redraw per view: it publishes the whole chat list
                    session.listener.chat_changed(chat_ids[-1])
                except Exception:
                    log.exception("showing imported chats in another view failed")


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
