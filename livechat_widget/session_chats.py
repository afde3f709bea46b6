"""Changes to a chat's file other than replies: new, rename, delete, archive, code runs,
exports. A part of ``ChatSession`` (session.py), kept apart so each stays readable;
every change is announced to the sessions on the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .chat_data import frame as chat_frame
from .chat_export import ExportFile, export_chat
from .chat_registry import ChatInfo, ChatRegistry
from .code_run import RunResult
from .folders import Folder
from .refusals import Refused


class SessionError(Refused):
    """A request the chat cannot carry out now; the text is fit to show as is."""


class ChatChanges:
    """The attributes are the session's."""

    registry: ChatRegistry
    folder: Folder

    def discard(self, chat_id: str) -> bool:
        raise NotImplementedError

    def new_chat(self, title: str | None = None) -> ChatInfo:
        info = self.registry.new(title)
        self.folder.announce(info.id)
        return info

    def rename(self, chat_id: str, title: str) -> ChatInfo:
        """Set a chat's title (whitespace collapsed; ValueError if empty)."""
        info = self.registry.rename(chat_id, title)  # made one clean line there
        self.folder.announce(chat_id)
        return info

    def delete(self, chat_id: str) -> None:
        """Delete a chat and its file; a reply streaming in it is discarded."""
        self.registry.delete(chat_id)
        self.discard(chat_id)  # only once the file is gone: a failure keeps both
        self.folder.announce(chat_id)

    def archive(self, chat_id: str) -> Path:
        """Move a chat's file to ``archive/`` (a reply streaming in it is discarded)."""
        path = self.registry.archive(chat_id)
        self.discard(chat_id)
        self.folder.announce(chat_id)
        return path

    def record_run(self, chat_id: str, message_id: int, run: RunResult) -> None:
        """Keep a run of one of reply ``message_id``'s code blocks (a ``code_run`` row)."""
        self.registry.append_run(chat_id, message_id, run.to_json())
        self.folder.announce(chat_id)

    def reply_text(self, chat_id: str, message_id: int) -> str:
        """The text of reply ``message_id`` as stored (its code blocks are what runs)."""
        messages = self.registry.messages(chat_id)
        if not 0 <= message_id < len(messages) or messages[message_id].role != "assistant":
            raise SessionError("There is no such reply in this chat.")
        return messages[message_id].content

    def export(self, chat_id: str, format: str = "markdown") -> ExportFile:
        """A chat as the text of a Markdown, JSON or notebook file (chat_export.py)."""
        self.registry.get(chat_id)
        return export_chat(self.registry.store, chat_id, format)

    def to_pandas(self, chat_id: str) -> Any:
        """A chat's messages as a DataFrame with ``read_chats``' columns."""
        self.registry.get(chat_id)
        return chat_frame(self.registry.store, [chat_id])
