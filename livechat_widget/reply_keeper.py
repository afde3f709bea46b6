"""A streaming reply survives its kernel: while it streams, its chat's reply lock is
held (reply_lock.py) and the text so far is written every half second (``partial``
rows); a reply found unfinished and unlocked later is saved as interrupted, with that
text, so it offers Retry and the next prompt is never merged with the orphaned one.
"""

from __future__ import annotations

import asyncio
import logging

from .chat_registry import ChatRegistry
from .reply_lock import ReplyLock, answered_elsewhere
from .streaming import Reply

log = logging.getLogger(__name__)

KEEP_EVERY_S = 0.5  # a kernel killed mid-reply loses at most this much of its text
INTERRUPTED = (
    "This reply was cut off: its kernel stopped (or its page closed) before the model "
    "finished. The text so far is kept; Retry asks again."
)


class ReplyKeeper:
    """Started with a reply, stopped (``stop``) before the reply's own row is written."""

    def __init__(self, registry: ChatRegistry, reply: Reply, user_id: str) -> None:
        self.registry = registry
        self.reply = reply
        self.user_id = user_id
        self.lock = ReplyLock.take(registry.store.root, reply.chat_id)
        self._write("")  # a reply began: should its kernel die now, its prompt gets an answer
        self.task = asyncio.get_running_loop().create_task(self._keep())

    async def _keep(self) -> None:
        kept = 0  # text parts written so far
        while True:
            await asyncio.sleep(KEEP_EVERY_S)
            parts = self.reply.text_parts
            if len(parts) > kept:
                if not self._write("".join(parts[kept:])):
                    return
                kept = len(parts)

    def _write(self, text: str) -> bool:
        try:
            self.registry.append_partial(self.reply.chat_id, text, self.user_id)
        except Exception as exc:  # the reply goes on; only its safety net is gone
            log.warning("could not keep the text of a streaming reply: %s", exc)
            return False
        return True

    def stop(self) -> None:
        self.task.cancel()
        self.lock.release()


def save_interrupted(registry: ChatRegistry, chat_id: str, user_id: str) -> bool:
    """If ``chat_id``'s last prompt waits for a reply that no process is giving (the
    caller knows none streams in this one), save that reply as interrupted; True if so."""
    text = registry.unanswered(chat_id)
    if text is None or answered_elsewhere(registry.store.root, chat_id):
        return False
    registry.append(
        chat_id,
        "assistant",
        text,
        user_id=user_id,
        status="error",
        error=INTERRUPTED,
        error_kind="interrupted",
    )
    return True
