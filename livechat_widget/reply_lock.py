"""Which chats are being answered right now, as every process on the folder can tell.

A reply holds an exclusive lock on ``.replying/<chat-id>.lock`` in the chat folder for
as long as it streams. The operating system drops the lock when the process dies, so a
chat whose last prompt has no answer and whose lock is free was interrupted (a kernel
killed, a page closed mid-reply) — not merely still being answered by another kernel.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import file_lock

log = logging.getLogger(__name__)

LOCK_DIR = ".replying"


def _path(root: str | os.PathLike[str], chat_id: str) -> Path:
    return Path(root) / LOCK_DIR / f"{chat_id}.lock"


class ReplyLock:
    """Held while a reply streams; ``release`` (or the process ending) lets it go."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def take(cls, root: str | os.PathLike[str], chat_id: str) -> ReplyLock:
        """The lock of ``chat_id`` (without one if the folder cannot hold lock files:
        the reply goes on, other processes just cannot tell it is alive)."""
        path = _path(root, chat_id)
        try:
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.info("no reply lock for chat %s: %s", chat_id, exc)
            return cls(None)
        if not file_lock.try_lock(fd):  # another process answers in this chat
            os.close(fd)
            return cls(None)
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def answered_elsewhere(root: str | os.PathLike[str], chat_id: str) -> bool:
    """Whether a live process holds ``chat_id``'s reply lock (this one included)."""
    try:
        fd = os.open(_path(root, chat_id), os.O_RDWR)
    except OSError:
        return False  # never locked, or gone: nobody is answering
    try:
        return not file_lock.try_lock(fd)
    finally:
        os.close(fd)
