"""One reply in progress: runs a client's stream and coalesces its text.

Sending one comm message per token loses tokens above Jupyter Server's iopub rate
limit (~1000 msg/s) and re-sending a growing string per token is quadratic. So pieces
are buffered and flushed as deltas, at most one per frame of the page (frame_clock.py),
and the full text so far is published (for views rendered mid-stream) far less often.
The flush is on the leading edge: a piece that follows a pause goes out at once; pieces
that keep coming wait for the next tick of the page-aligned grid, at most a frame.
A snapshot that falls due with pieces pending carries them itself, in place of that
tick's delta (its seq counts as one): one message per tick, whatever is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .frame_clock import FRAME, START_MESSAGES, FrameClock
from .providers.base import ChatClient, ChatStream, ReplyStats
from .providers.errors import AIError, ContextTooLong, ToolsUnsupported
from .providers.events import ToolCallDelta
from .providers.messages import ModelMessage, ToolSpec
from .tool_rows import ToolRecord
from .wire import DeltaMsg, Stream, tool_payload

log = logging.getLogger(__name__)

# At most one message per tick of the page's frames (frame_clock.py): no more than the
# page can paint, far under the iopub limit.
FLUSH_INTERVAL = FRAME  # s: a delta after a pause this long goes out at once
SNAPSHOT_INTERVAL = 0.25  # s between snapshots of the whole text (grows with its size)


NO_TOOLS = (
    "The model answered with a tool call instead of text; this chat does not offer "
    "tools. Try again or rephrase the message."
)


@dataclass
class Outcome:
    text: str
    reasoning: str
    status: str  # complete | stopped | length | error
    error: str = ""
    error_kind: str = ""  # "context_length": the conversation outgrew the model
    stats: ReplyStats | None = None  # the streams' measurement (None: none started)
    tool_calls: list[ToolCallDelta] = field(default_factory=list)  # as they arrived


@dataclass
class StepEnd:
    """How one model request of a reply ended: its finish reason and tool calls."""

    finish: str | None
    calls: list[ToolCallDelta]


class ToolSteps(Protocol):
    """What runs a reply's tool calls between its model requests (agent_loop.py)."""

    def specs(self) -> tuple[ToolSpec, ...]: ...

    async def answer(self, end: StepEnd, reply: Reply) -> list[ModelMessage] | Outcome:
        """The messages that carry the step's calls and their results to the next
        request, or the reply's outcome when it ends here (stopped, step limit)."""
        ...

    def refused(self, error: ToolsUnsupported) -> None:
        """The server does not take tools: the chat goes on without them."""
        ...


@dataclass
class Reply:
    """State of one assistant message being generated."""

    chat_id: str
    message_id: int
    text_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    seq: int = -1  # seq of the last delta sent; the first delta is 0
    pending_text: list[str] = field(default_factory=list)
    pending_reasoning: list[str] = field(default_factory=list)
    task: asyncio.Task[Any] | None = None
    owner: Any = None  # the session that started it (and publishes it)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a piece is pending
    model: str = ""  # the model asked for ("" = the client's)
    prompt: list[ModelMessage] = field(default_factory=list)  # what the model was sent
    tools: list[ToolRecord] = field(default_factory=list)  # its tool calls, latest state
    steps: list[ReplyStats] = field(default_factory=list)  # each model request, measured
    step_reasoning: list[int] = field(default_factory=list)  # reasoning chars of each
    #: Tool calls waiting for the person's answer ("once", "chat", "deny"), by call id.
    waiting: dict[str, asyncio.Future[str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    def snapshot(self) -> Stream:
        """The text covered by deltas up to `seq` (pending pieces go out in delta seq+1)."""
        text = self.text_parts[: len(self.text_parts) - len(self.pending_text)]
        reasoning = self.reasoning_parts[: len(self.reasoning_parts) - len(self.pending_reasoning)]
        return {
            "message_id": self.message_id,
            "text": "".join(text),
            "reasoning": "".join(reasoning),
            "seq": self.seq,
            "tools": [tool_payload(call) for call in self.tools],
        }

    def take_delta(self) -> DeltaMsg | None:
        """The coalesced delta since the last one, or None when nothing arrived."""
        if not self.pending_text and not self.pending_reasoning:
            return None
        self.seq += 1
        delta: DeltaMsg = {
            "type": "delta",
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "seq": self.seq,
            "text": "".join(self.pending_text),
            "reasoning": "".join(self.pending_reasoning),
        }
        self.pending_text.clear()
        self.pending_reasoning.clear()
        return delta


def _uncancel() -> None:
    """Take back a cancellation this task handled, so its later awaits (closing the
    stream) are not cancelled again. Task.uncancel exists from Python 3.11; on 3.10 a
    handled CancelledError needs nothing more."""
    uncancel = getattr(asyncio.current_task(), "uncancel", None)
    if uncancel is not None:
        uncancel()


async def stream_reply(
    client: ChatClient,
    history: list[ModelMessage],
    reply: Reply,
    send_delta: Callable[[DeltaMsg], None],
    publish_snapshot: Callable[[Reply], None],
    options: Mapping[str, Any] | None = None,
    clock: FrameClock | None = None,
    tools: ToolSteps | None = None,
    coalesce: bool = True,
) -> Outcome:
    """Stream one reply into `reply`, flushing deltas as they come. Never raises
    AIError or CancelledError: they become the outcome's status (error / stopped).
    ``options`` (model, temperature, max_tokens) go to ``client.stream``; ``clock`` is
    the widget's grid of the page's frames (a fresh one if None); ``tools`` runs the
    model's tool calls between its requests (none: a reply is one request). The
    outcome carries the streams' own measurement of the reply (``stats``).
    ``coalesce`` False: the caller flushes the pieces itself (compare.py: one message
    per frame for every pane); nothing is sent from here."""
    flusher = None
    ended = False
    if coalesce:
        grid = clock or FrameClock()
        grid.count_sent(START_MESSAGES)
        flusher = asyncio.create_task(
            flush_when_due(reply, send_delta, publish_snapshot, grid, ended=lambda: ended)
        )
    try:
        outcome = await _steps(client, history, reply, dict(options or {}), tools)
    except asyncio.CancelledError:
        # Stop: keep what arrived. The task ends normally so its result is persisted.
        _uncancel()
        outcome = Outcome(reply.text, reply.reasoning, "stopped")
    except AIError as exc:
        text = reply.text or (exc.partial_text or "")
        kind = "context_length" if isinstance(exc, ContextTooLong) else ""
        outcome = Outcome(text, reply.reasoning, "error", exc.user_message, kind)
    except Exception as exc:  # a bug in a client must not leave a reply spinning forever
        log.exception("reply stream failed")
        outcome = Outcome(
            reply.text,
            reply.reasoning,
            "error",
            f"The reply failed unexpectedly ({type(exc).__name__}: {exc}).",
        )
    finally:
        if flusher is not None:
            ended = True
            reply.arrived.set()  # wakes a loop that lost its cancellation (flush_when_due)
            flusher.cancel()
        # The last pieces go out as a final delta, so deltas always add up to `done`.
        delta = reply.take_delta() if flusher is not None else None
        if delta is not None:
            try:
                send_delta(delta)
            except Exception:  # the views catch up from `done`
                log.exception("sending the last delta failed")
    outcome.stats = combined(reply.steps)
    return outcome


async def _steps(
    client: ChatClient,
    history: list[ModelMessage],
    reply: Reply,
    options: dict[str, Any],
    tools: ToolSteps | None,
) -> Outcome:
    """Model request, its tool calls answered, the next request..., until one ends
    without calls (or ``tools`` ends the reply)."""
    messages = list(history)
    specs = tools.specs() if tools is not None else ()
    while True:
        before = len(reply.text_parts) + len(reply.reasoning_parts)
        try:
            end = await _request(client, messages, reply, options, specs)
        except ToolsUnsupported as exc:
            if (
                tools is None
                or not specs
                or len(reply.text_parts) + len(reply.reasoning_parts) > before
            ):
                raise
            tools.refused(exc)
            specs = ()
            continue
        if tools is None or not specs or not end.calls:
            return _ended(end, reply)
        answered = await tools.answer(end, reply)
        if isinstance(answered, Outcome):
            return answered
        messages += answered


async def _request(
    client: ChatClient,
    messages: list[ModelMessage],
    reply: Reply,
    options: dict[str, Any],
    specs: tuple[ToolSpec, ...],
) -> StepEnd:
    """One model request streamed into ``reply``; measured into ``reply.steps``."""
    with_tools = {**options, "tools": specs} if specs else options
    reasoning = len(reply.reasoning_parts)
    stream = client.stream(messages, **with_tools)
    try:
        return await _read(stream, reply)
    finally:
        await _close(stream)
        if stream.stats is not None:
            reply.steps.append(stream.stats)
            reply.step_reasoning.append(sum(map(len, reply.reasoning_parts[reasoning:])))


async def _read(stream: ChatStream, reply: Reply) -> StepEnd:
    """Iterate one stream into `reply`; how it ended, if it ended normally."""
    finish: str | None = None
    calls: list[ToolCallDelta] = []
    async for event in stream:
        if event.kind == "text" or event.kind == "reasoning":
            if not isinstance(event.text, str):
                raise TypeError(f"the client yielded a {type(event.text).__name__}, not text")
            parts, pending = (
                (reply.reasoning_parts, reply.pending_reasoning)
                if event.kind == "reasoning"
                else (reply.text_parts, reply.pending_text)
            )
            parts.append(event.text)
            pending.append(event.text)
            reply.arrived.set()
        elif event.kind == "tool_call":
            calls.append(event)
        elif event.kind == "finish":
            finish = event.reason
    return StepEnd(finish, calls)


def _ended(end: StepEnd, reply: Reply) -> Outcome:
    """The outcome of a reply whose last request ended normally."""
    if end.finish == "tool_calls" and not reply.text:
        return Outcome(reply.text, reply.reasoning, "error", NO_TOOLS, tool_calls=end.calls)
    status = "length" if end.finish == "length" else "complete"
    return Outcome(reply.text, reply.reasoning, status, tool_calls=end.calls)


def combined(steps: list[ReplyStats]) -> ReplyStats | None:
    """A reply's figures from its requests': the first one's as they are; several
    summed (time to first token from the first, speed over all generation time)."""
    if len(steps) <= 1:
        return steps[0] if steps else None
    first, last = steps[0], steps[-1]

    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    # Each request's speed span: its generation time, or its whole time if it came whole.
    spans = [
        s.generation_s if s.generation_s and s.generation_s >= 0.005 else s.total_ms / 1000
        for s in steps
    ]
    generation = sum(spans) or None
    completion = total([s.completion_tokens for s in steps])
    deltas = sum(s.deltas for s in steps)
    generated = completion if completion is not None else deltas
    return ReplyStats(
        ttft_ms=first.ttft_ms,
        generation_s=generation,
        total_ms=sum(s.total_ms for s in steps),
        deltas=deltas,
        prompt_tokens=total([s.prompt_tokens for s in steps]),
        completion_tokens=completion,
        tokens_per_s=generated / generation if generated and generation else None,
        outcome=last.outcome,
        finish_reason=last.finish_reason,
    )


async def _close(stream: ChatStream) -> None:
    """Close the HTTP response now (not at garbage collection) so the server stops."""
    try:
        await stream.aclose()
    except asyncio.CancelledError:
        _uncancel()  # Stop pressed as the reply ended: the outcome above stands
    except Exception:
        log.debug("closing the reply stream failed", exc_info=True)


class Flushable(Protocol):
    """What the flush loop reads: a Reply, or a compare run's panes (compare.py)."""

    @property
    def arrived(self) -> asyncio.Event: ...  # set when a piece is pending

    @property
    def seq(self) -> int: ...  # of the last message sent

    @property
    def text_parts(self) -> list[str]: ...

    def take_delta(self) -> Any: ...  # the pending pieces as one message, or None


async def flush_when_due(
    reply: Flushable,
    send_delta: Callable[[Any], None],
    publish_snapshot: Callable[[Any], None],
    grid: FrameClock,
    snapshot_every: float = SNAPSHOT_INTERVAL,
    ended: Callable[[], bool] = lambda: False,
) -> None:
    """Send the reply's pending pieces as deltas, at most one message per tick of the
    page's frames, and a snapshot of the whole text now and then, until ``ended()``.

    The caller cancels the task and sets ``ended``: before Python 3.12, ``wait_for``
    loses a cancellation that arrives as its awaitable completes, and the loop would
    then wait forever for pieces of a reply that ended (a task left behind per reply)."""
    last_sent = -FLUSH_INTERVAL  # when the last delta or snapshot went out
    last_tick = -1
    next_snapshot = time.monotonic() + snapshot_every
    published_seq = reply.seq  # the seq of the last snapshot
    while True:
        # Sleep until a piece arrives, or until a snapshot of sent deltas is due.
        due = None if reply.seq == published_seq else next_snapshot - time.monotonic()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(reply.arrived.wait(), due)
        if ended():
            return
        # A message after a pause goes out at once. Otherwise (pieces keep coming, or
        # the message budget is spent) it waits for the next tick of the grid with a
        # slot, half a frame at least after a message sent at once.
        now = time.monotonic()
        sent = now >= last_sent + FLUSH_INTERVAL and grid.take_slot()
        after = max(now, last_sent + FLUSH_INTERVAL / 2)
        while not sent:
            last_tick, tick = grid.tick_after(after, last_tick)
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            sent, after = grid.take_slot(), tick
        reply.arrived.clear()
        snapshot_due = time.monotonic() >= next_snapshot
        delta = reply.take_delta()
        if delta is not None and not snapshot_due:
            send_delta(delta)
        elif reply.seq != published_seq and snapshot_due:
            publish_snapshot(reply)  # carries the pieces of `delta`, if any
            published_seq = reply.seq
            # Each snapshot re-sends the whole text: space them out as it grows.
            size = sum(map(len, reply.text_parts))
            next_snapshot = time.monotonic() + snapshot_every + size / 1_000_000
        last_sent = time.monotonic()
