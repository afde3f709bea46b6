"""How a reply ends, however it ends: saved (with its usage and status rows), reported
once to the listener and to ``await chat.ask()``, its chat released. A part of
``ChatSession`` (session.py), kept apart so each stays readable."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from .chat_registry import ChatRegistry
from .csv_storage import ChatNotFound, Message, StorageError
from .folders import Folder
from .providers.base import ChatClient
from .reply_keeper import ReplyKeeper
from .reply_usage import StepUsage, Usage, reply_usage
from .session_options import SessionListener
from .session_stats import SessionStats
from .streaming import Outcome, Reply
from .versions import ShownMessage

log = logging.getLogger(__name__)


class ReplyEnding:
    """The end of a reply; the attributes are the session's."""

    client: ChatClient
    registry: ChatRegistry
    replies: dict[str, Reply]
    listener: SessionListener
    folder: Folder
    user_id: str
    closed: bool
    _waiters: dict[int, asyncio.Future[ShownMessage]]
    _keepers: dict[int, ReplyKeeper]
    _stats: SessionStats

    def redact(self, text: str) -> str:
        raise NotImplementedError

    def _shown(self, chat_id: str, message: Message) -> ShownMessage:
        raise NotImplementedError

    def cost_of(self, chat_id: str, usage: Usage) -> float | None:
        raise NotImplementedError

    def _finish(self, reply: Reply, task: asyncio.Task[Outcome]) -> None:
        """Runs when a reply's task ends, however it ends: save, then report once.
        Whatever fails in here, the chat is released and ``await ask()`` returns."""
        self._keepers.pop(id(reply)).stop()  # before the reply's own row is written
        discarded = self.replies.get(reply.chat_id) is not reply  # its chat went away
        if not discarded:
            del self.replies[reply.chat_id]
        failed = "The reply failed unexpectedly."
        ended = self._unsaved(reply, reply.text, reply.reasoning, failed)
        kept: ShownMessage | None = None  # the reply as saved: the views show it
        try:
            outcome = _outcome(reply, task)
            usage = self._usage(reply, outcome)
            self._stats.count(outcome.status, usage)
            if discarded:
                message = replace(ended.message, content=outcome.text, status="stopped", error="")
                ended = ShownMessage(message)
            else:
                ended = kept = self._save(reply, outcome, usage)
        except Exception as exc:
            log.exception("finishing the reply in chat %s failed", reply.chat_id)
            error = self.redact(f"The reply failed unexpectedly ({exc}).")
            ended = ShownMessage(replace(ended.message, error=error))
            self.listener.problem(error)
        finally:
            if not self.closed:
                self.listener.reply_finished(reply, kept)
            self.folder.announce(reply.chat_id)
            waiter = self._waiters.pop(id(reply), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ended)
        if ended.message.timestamp:  # saved
            self.listener.message_saved(ended, reply.chat_id)

    def _unsaved(
        self, reply: Reply, text: str, reasoning: str, error: str, usage: Usage | None = None
    ) -> ShownMessage:
        """A reply that could not be saved, as ``ask`` returns it (no timestamp)."""
        message = Message(reply.message_id, "assistant", text, "", self.user_id, "error", error)
        return ShownMessage(replace(message, reasoning=reasoning, usage=usage))

    def _usage(self, reply: Reply, outcome: Outcome) -> Usage:
        # A server that chose the model itself named it when asked (resolve_model).
        model = reply.model or self.client.model
        steps = [
            StepUsage.of(*step) for step in zip(reply.steps, reply.step_reasoning, strict=True)
        ]
        usage = reply_usage(
            model, outcome.stats, reply.prompt, outcome.text, outcome.reasoning, steps
        )
        # A request refused before anything came back (too long, no such model, ...)
        # is not billed: its estimated tokens get no price.
        answered = outcome.text or outcome.reasoning or reply.tools
        reported = outcome.stats is not None and outcome.stats.prompt_tokens is not None
        if not (answered or reported):
            return usage
        return replace(usage, cost=self.cost_of(reply.chat_id, usage))

    def _save(self, reply: Reply, outcome: Outcome, usage: Usage) -> ShownMessage:
        """Append the assistant row (with its status marker); the message as saved.

        Every reply is saved, even one stopped before its first token: it keeps its id
        and its status row says the prompt was withdrawn (see history.model_history)."""
        status, error = outcome.status, self.redact(outcome.error)
        try:
            saved = self.registry.append(
                reply.chat_id,
                "assistant",
                outcome.text,
                user_id=self.user_id,
                status=None if status == "complete" else status,
                error=error or None,
                error_kind=outcome.error_kind or None,
                reasoning=outcome.reasoning,
                usage=usage,
            )
            return self._shown(reply.chat_id, saved)
        except (StorageError, ChatNotFound) as exc:
            log.error("could not save the reply in chat %s: %s", reply.chat_id, exc)
            error = self.redact(f"The reply could not be saved: {exc}")
            self.listener.problem(error)
            return self._unsaved(reply, outcome.text, outcome.reasoning, error, usage)


def _outcome(reply: Reply, task: asyncio.Task[Outcome]) -> Outcome:
    if task.cancelled():  # cancelled before it could start streaming
        return Outcome(reply.text, reply.reasoning, "stopped")
    exc = task.exception()
    if exc is not None:  # stream_reply should not raise; never hang on it
        return Outcome(
            reply.text, reply.reasoning, "error", f"The reply failed unexpectedly ({exc})."
        )
    return task.result()
