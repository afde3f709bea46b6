"""Compare: one message put to 2-4 models at once, their replies streaming side by side.

The person's message is saved once; each candidate (a compare client by its label, or
a model of the session's own client) answers it in a pane: a ``Reply`` streamed by
``stream_reply`` as any reply is, without its own flush loop. One flush loop for the
whole run (``flush_when_due`` on the widget's frame grid) sends every pane's pending
pieces as one ``compare_delta`` message, so four panes cost the page no more messages
than one reply. Each pane is saved when it ends as a version of the turn's reply
(versions.py: a reply written when the branch ends in a reply is its sibling).

The run sits in ``session.replies`` (a ``Reply`` whose task waits for the panes), so
Stop, delete, close, recover and busy treat it as a chat's one streaming reply. Once
it ends it stays open in ``session.compares`` (the saved versions hidden from the
message list) until the person keeps a pane: that version is selected, a
``compare_vote`` row records the choice, and the turn shows as an ordinary one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from .chat_registry import ChatRegistry
from .chat_settings import ChatSettings, request_options
from .folders import Folder
from .frame_clock import START_MESSAGES, FrameClock
from .model_list import ModelList
from .providers.base import ChatClient
from .providers.messages import ModelMessage
from .reply_keeper import ReplyKeeper
from .reply_usage import Usage
from .session_chats import SessionError
from .session_stats import SessionStats
from .streaming import SNAPSHOT_INTERVAL, Outcome, Reply, flush_when_due, stream_reply
from .versions import ShownMessage
from .wire_compare import CompareDeltaMsg, ComparePane, CompareState, PaneDelta

MIN_CANDIDATES, MAX_CANDIDATES = 2, 4
VOTE_ROLE = "compare_vote"


class CompareListener(Protocol):
    """What a compare run reports (the widget)."""

    def compare_started(self, chat_id: str) -> None: ...  # show its chat
    def compare_changed(self, chat_id: str) -> None: ...  # the run's state: publish it
    def compare_delta(self, delta: CompareDeltaMsg) -> None: ...


class CompareHost(Protocol):
    """What a compare run needs of its session (session.py)."""

    client: ChatClient
    registry: ChatRegistry
    replies: dict[str, Reply]
    compares: dict[str, CompareRun]
    compare_clients: Mapping[str, ChatClient]
    model_list: ModelList
    frame_clock: FrameClock
    folder: Folder
    user_id: str
    closed: bool  # its widget closed: save, but tell nobody
    _stats: SessionStats

    def settings(self, chat_id: str) -> ChatSettings: ...
    def _usage(self, reply: Reply, outcome: Outcome) -> Usage: ...
    def _save(self, reply: Reply, outcome: Outcome, usage: Usage) -> ShownMessage: ...


@dataclass
class Pane:
    label: str  # as asked: a compare client's label, or a model name
    client: ChatClient
    reply: Reply
    started: float = field(default_factory=time.monotonic)
    first: float | None = None  # when its first piece was flushed
    status: str = "streaming"
    error: str = ""
    usage: Usage | None = None
    saved: int | None = None  # its message id once saved
    finished: int = 0  # 1 for the first pane to end, ...

    def payload(self, index: int, blind: bool) -> ComparePane:
        snap = self.reply.snapshot()
        usage = self.usage
        tokens = usage.completion_tokens if usage else len(self.reply.text_parts)
        speed = usage.tokens_per_s if usage else None
        if usage is None and self.first is not None and tokens:
            elapsed = time.monotonic() - self.first
            speed = tokens / elapsed if elapsed > 0.05 else None
        ttft = usage.ttft_ms if usage and usage.ttft_ms is not None else None
        if ttft is None and self.first is not None:
            ttft = (self.first - self.started) * 1000
        return {
            "label": f"Model {'ABCD'[index]}" if blind else self.label,
            "model": "" if blind else self.reply.model,
            "text": snap["text"],
            "reasoning": snap["reasoning"],
            "status": self.status,
            "error": self.error,
            "message_id": self.saved,
            "ttft_ms": ttft,
            "tokens_per_s": speed,
            "tokens": tokens,
            "cost": usage.cost if usage else None,
            "finished": self.finished,
        }


@dataclass(eq=False)
class CompareRun(Reply):
    """A chat's comparison: in ``session.replies`` while it streams."""

    panes: list[Pane] = field(default_factory=list)
    blind: bool = False
    keeper: ReplyKeeper | None = None
    ended: int = 0  # panes ended so far

    def state(self) -> CompareState:
        return {
            "chat_id": self.chat_id,
            "seq": self.seq,
            "blind": self.blind,
            "streaming": self.task is not None and not self.task.done(),
            "panes": [pane.payload(i, self.blind) for i, pane in enumerate(self.panes)],
        }


class _Flush:
    """The run as the flush loop sees it: every pane's pending pieces, one message."""

    def __init__(self, run: CompareRun) -> None:
        self.run = run

    @property
    def arrived(self) -> asyncio.Event:
        return self.run.arrived

    @property
    def seq(self) -> int:
        return self.run.seq

    @property
    def text_parts(self) -> list[str]:
        return [part for pane in self.run.panes for part in pane.reply.text_parts]

    def take_delta(self) -> CompareDeltaMsg | None:
        pieces: list[PaneDelta] = []
        now = time.monotonic()
        for index, pane in enumerate(self.run.panes):
            reply = pane.reply
            if reply.pending_text or reply.pending_reasoning:
                if pane.first is None:
                    pane.first = now
                text, reasoning = "".join(reply.pending_text), "".join(reply.pending_reasoning)
                reply.pending_text.clear()
                reply.pending_reasoning.clear()
                pieces.append({"pane": index, "text": text, "reasoning": reasoning})
        if not pieces:
            return None
        self.run.seq += 1
        return {"type": "compare_delta", "chat_id": self.run.chat_id, "seq": self.run.seq,
                "panes": pieces}  # fmt: skip


def candidate_clients(
    host: CompareHost, chat_id: str, candidates: Sequence[str]
) -> list[tuple[str, ChatClient, str]]:
    """(label, client, model) of each candidate: a compare client's label, else a model
    of the session's client (its list, its own model, the chat's). SessionError else."""
    if not MIN_CANDIDATES <= len(candidates) <= MAX_CANDIDATES:
        raise SessionError(
            f"Compare takes {MIN_CANDIDATES} to {MAX_CANDIDATES} models, not {len(candidates)}."
        )
    if len(set(candidates)) != len(candidates):
        raise SessionError("Compare needs different models: one was chosen twice.")
    own = {*host.model_list.names, host.client.model, host.settings(chat_id).model} - {""}
    found = []
    for name in candidates:
        client = host.compare_clients.get(name)
        if client is not None:
            found.append((name, client, client.model or ""))
        elif name in own:
            found.append((name, host.client, name))
        else:
            raise SessionError(f"There is no model {name!r} to compare here.")
    return found


def start_compare(
    host: CompareHost,
    listener: CompareListener,
    chat_id: str,
    history: list[ModelMessage],
    chosen: list[tuple[str, ChatClient, str]],
    blind: bool,
) -> CompareRun:
    """Stream the last user message of ``history`` (saved already) to every candidate."""
    settings = host.settings(chat_id)
    message_id = len(host.registry.messages(chat_id))
    run = CompareRun(chat_id, message_id, owner=host, blind=blind)
    for label, client, model in chosen:
        reply = Reply(chat_id, message_id, owner=host, arrived=run.arrived)
        reply.model, reply.prompt = model, history
        run.panes.append(Pane(label, client, reply))
    host.replies[chat_id] = run
    host.compares[chat_id] = run
    run.keeper = ReplyKeeper(host.registry, run.panes[0].reply, host.user_id)
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[Outcome]] = []
    for pane in run.panes:
        reply = pane.reply
        options = request_options(replace(settings, model=reply.model), pane.client.model)
        task = loop.create_task(
            stream_reply(
                pane.client, reply.prompt, reply, _ignore, _ignore, options, coalesce=False
            )
        )
        reply.task = task
        task.add_done_callback(partial(_pane_ended, host, listener, run, pane))
        tasks.append(task)
    run.task = loop.create_task(_run(host, listener, run, tasks), name=f"compare {chat_id}")
    run.task.add_done_callback(lambda _task: _run_ended(host, listener, run, tasks))
    listener.compare_started(chat_id)
    return run


def _ignore(_: Any) -> None:
    pass


async def _run(
    host: CompareHost,
    listener: CompareListener,
    run: CompareRun,
    tasks: list[asyncio.Task[Outcome]],
) -> None:
    host.frame_clock.count_sent(START_MESSAGES)

    def snapshot(_: object) -> None:
        listener.compare_changed(run.chat_id)

    flush = _Flush(run)
    ended = False
    flusher = asyncio.create_task(
        flush_when_due(
            flush,
            listener.compare_delta,
            snapshot,
            host.frame_clock,
            SNAPSHOT_INTERVAL * len(run.panes),  # each snapshot carries every pane's text
            ended=lambda: ended,
        )
    )
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:  # Stop: every pane stops, and is saved as stopped
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
    finally:
        ended = True
        flush.arrived.set()  # wakes a loop that lost its cancellation (flush_when_due)
        flusher.cancel()


def _pane_ended(
    host: CompareHost,
    listener: CompareListener,
    run: CompareRun,
    pane: Pane,
    task: asyncio.Task[Outcome],
) -> None:
    """Save the pane as a version of the turn's reply (unless its chat went away)."""
    run.ended += 1
    pane.finished = run.ended
    reply = pane.reply
    # Its last pieces: the state published below carries them (not a delta).
    reply.pending_text.clear()
    reply.pending_reasoning.clear()
    if task.cancelled():
        outcome = Outcome(reply.text, reply.reasoning, "stopped")
    else:
        outcome = task.result()  # stream_reply never raises
    pane.status, pane.error = outcome.status, outcome.error
    if run.chat_id not in host.registry:
        return  # discarded: its chat was deleted or archived
    try:
        reply.model = reply.model or pane.client.model or ""  # a server that chose it said
        pane.usage = host._usage(reply, outcome)
        host._stats.count(outcome.status, pane.usage)
        saved = host._save(reply, outcome, pane.usage)
        if saved.message.timestamp:
            pane.saved = saved.message.id
        else:
            pane.status, pane.error = "error", saved.message.error
    finally:
        if not host.closed:
            host.frame_clock.count_sent()  # the state sync below: within the page's budget
            listener.compare_changed(run.chat_id)


def _run_ended(
    host: CompareHost,
    listener: CompareListener,
    run: CompareRun,
    tasks: list[asyncio.Task[Outcome]],
) -> None:
    for task in tasks:  # stopped before it began waiting for them
        task.cancel()
    if run.keeper is not None:
        run.keeper.stop()
    if host.replies.get(run.chat_id) is run:
        del host.replies[run.chat_id]
    if not host.closed:
        host.frame_clock.count_sent()  # the syncs below: within the page's budget
        listener.compare_changed(run.chat_id)
    host.folder.announce(run.chat_id)


def keep(host: CompareHost, chat_id: str, pane: int) -> int:
    """The person keeps pane ``pane``'s reply: it becomes the turn's selected version,
    the vote is saved (a ``compare_vote`` row) and the comparison closes. Returns the
    kept message id."""
    run = host.compares.get(chat_id)
    if run is None:
        raise SessionError("There is no comparison to keep a reply from in this chat.")
    if chat_id in host.replies:
        raise SessionError("The replies are still streaming: wait for them, or stop them.")
    if not 0 <= pane < len(run.panes) or run.panes[pane].saved is None:
        raise SessionError("That reply was not saved, so it cannot be kept.")
    kept = run.panes[pane]
    message_id = kept.saved
    assert message_id is not None
    host.registry.select_version(chat_id, message_id)
    vote = {
        "candidates": [p.label for p in run.panes],
        "models": [p.reply.model for p in run.panes],
        "message_ids": [p.saved for p in run.panes],
        "kept": kept.label,
        "kept_message_id": message_id,
        "blind": run.blind,
    }
    host.registry.store.append(chat_id, VOTE_ROLE, json.dumps(vote, ensure_ascii=False))
    del host.compares[chat_id]
    host.folder.announce(chat_id)
    return message_id


def open_saved(
    host: CompareHost,
    listener: CompareListener,
    title: str,
    prompt: str,
    replies: Sequence[tuple[str, str, str]],
) -> str:
    """A new chat where ``prompt`` has the saved ``replies`` ((label, model, text) each)
    as versions of its answer, shown side by side in panes as an ended comparison (Keep
    works as after a live one). Returns the chat id. For ``compare_view``."""
    chat_id = host.registry.new(title).id
    host.registry.append(chat_id, "user", prompt, user_id=host.user_id)
    message_id = len(host.registry.messages(chat_id))
    run = CompareRun(chat_id, message_id, owner=host)
    for label, model, text in replies:
        saved = host.registry.append(chat_id, "assistant", text, user_id=host.user_id)
        reply = Reply(chat_id, saved.id, owner=host, text_parts=[text])
        reply.model = model
        run.ended += 1
        pane = Pane(label, host.client, reply, status="complete", saved=saved.id)
        pane.finished = run.ended
        run.panes.append(pane)
    host.compares[chat_id] = run
    host.folder.announce(chat_id)
    listener.compare_changed(chat_id)
    return chat_id
