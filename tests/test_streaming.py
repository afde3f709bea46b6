"""When deltas leave the kernel: at once after a pause, on the grid's ticks (one message
per frame) while pieces keep coming, and always adding up to the whole reply."""

from __future__ import annotations

import asyncio
import time

from livechat_widget import streaming, telemetry
from livechat_widget.frame_clock import BUDGET, FrameClock
from livechat_widget.providers.base import BaseClient
from livechat_widget.providers.events import TextDelta, ToolCallDelta
from livechat_widget.reply_usage import reply_usage
from livechat_widget.streaming import Reply, stream_reply


class GatedClient(BaseClient):
    """Yields each text after the test opens its gate, so the test decides when pieces
    arrive relative to the deltas already sent."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.gates = [asyncio.Event() for _ in texts]

    async def _generate(self, messages, state):
        for text, gate in zip(self.texts, self.gates, strict=True):
            await gate.wait()
            yield TextDelta(text)


class PacedClient(BaseClient):
    """Yields `count` pieces, one every `every` seconds (0: as fast as the loop goes)."""

    def __init__(self, count: int, every: float) -> None:
        self.count, self.every = count, every

    async def _generate(self, messages, state):
        for i in range(self.count):
            await asyncio.sleep(self.every)
            yield TextDelta(f"t{i} ")


async def wait_until(condition, what: str) -> None:
    for _ in range(3000):  # a hang guard, not a timing requirement
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_piece_after_a_pause_goes_out_at_once_and_later_ones_coalesce(monkeypatch):
    # An interval of an hour: any delta sent before the reply ends was sent on the
    # leading edge, not by a timer.
    monkeypatch.setattr(streaming, "FLUSH_INTERVAL", 3600.0)
    client = GatedClient(["first", " second", " third"])
    sent: list[str] = []
    reply = Reply("c", 1)
    task = asyncio.create_task(
        stream_reply(client, [], reply, lambda d: sent.append(d["text"]), lambda r: None)
    )
    client.gates[0].set()
    await wait_until(lambda: sent == ["first"], "the first piece went out on its own")
    client.gates[1].set()
    client.gates[2].set()
    outcome = await asyncio.wait_for(task, 30)
    # The two later pieces came within the interval: one delta, the final one.
    assert sent == ["first", " second third"]
    assert outcome.text == "first second third" and outcome.status == "complete"


def apply_in_order(messages: list[tuple[str, dict]]) -> str:
    """What a view shows, applying deltas and snapshots as js/stream_state.ts does;
    fails on a gap, which no message may leave."""
    text, seq = "", -1
    for kind, msg in messages:
        if kind == "delta":
            assert msg["seq"] == seq + 1, f"delta {msg['seq']} after {seq}"
            text += msg["text"]
        else:
            assert msg["seq"] >= seq and msg["text"].startswith(text)
            text = msg["text"]
        seq = msg["seq"]
    return text


async def test_one_message_per_frame_and_nothing_lost_while_pieces_keep_coming(monkeypatch):
    # Frequent snapshots, so that some fall due with pieces pending and carry them.
    monkeypatch.setattr(streaming, "SNAPSHOT_INTERVAL", 0.05)
    client = PacedClient(count=600, every=0.001)
    messages: list[tuple[str, dict]] = []
    times: list[float] = []

    def record(kind: str, msg: dict) -> None:
        times.append(time.monotonic())
        messages.append((kind, dict(msg)))

    reply = Reply("c", 1)
    outcome = await asyncio.wait_for(
        stream_reply(
            client,
            [],
            reply,
            lambda d: record("delta", d),
            lambda r: record("snapshot", r.snapshot()),
        ),
        60,
    )
    assert outcome.text == "".join(f"t{i} " for i in range(600))
    assert apply_in_order(messages) == outcome.text
    kinds = [kind for kind, _ in messages]
    assert "snapshot" in kinds and kinds.count("delta") < 600  # pieces were coalesced
    # A snapshot due with pieces pending carried them in place of that tick's delta.
    carried = [
        msg
        for (kind, msg), (_, before) in zip(messages[1:], messages, strict=False)
        if kind == "snapshot" and msg["seq"] > before["seq"]
    ]
    assert carried
    # Messages but the last delta (sent when the stream ends) waited for a tick: half a
    # frame apart at least (a tick may follow a delta sent at once after a pause).
    gaps = [b - a for a, b in zip(times[:-2], times[1:-1], strict=True)]
    assert gaps and min(gaps) >= streaming.FLUSH_INTERVAL / 2 * 0.95
    assert len(messages) <= BUDGET * (times[-1] - times[0] + 1)


async def test_a_tick_over_the_message_budget_rests_and_loses_nothing(monkeypatch):
    # Deltas only: a snapshot (not recorded here) would carry pending pieces instead.
    monkeypatch.setattr(streaming, "SNAPSHOT_INTERVAL", 3600.0)

    class TightClock(FrameClock):
        """Refuses every other slot, as if the page's budget were half spent."""

        def __init__(self) -> None:
            super().__init__()
            self.asked = 0

        def take_slot(self) -> bool:
            self.asked += 1
            return self.asked % 2 == 0

    clock = TightClock()
    client = PacedClient(count=200, every=0.001)
    # On a slow machine the stream outlasts a snapshot interval: a snapshot due at a
    # tick carries that tick's pieces, so both kinds are kept, as a view applies them.
    messages: list[tuple[str, dict]] = []
    outcome = await asyncio.wait_for(
        stream_reply(
            client,
            [],
            Reply("c", 1),
            lambda d: messages.append(("delta", dict(d))),
            lambda r: messages.append(("snapshot", dict(r.snapshot()))),
            clock=clock,
        ),
        60,
    )
    assert apply_in_order(messages) == outcome.text == "".join(f"t{i} " for i in range(200))
    assert clock.asked >= 2 * (len(messages) - 1)  # a refused tick sent nothing


async def test_a_snapshot_follows_sent_deltas_even_when_the_stream_goes_quiet(monkeypatch):
    # A view rendered during a pause must find the text sent so far in the snapshot.
    monkeypatch.setattr(streaming, "SNAPSHOT_INTERVAL", 0.05)
    client = GatedClient(["hello", " world"])
    snapshots: list[str] = []
    reply = Reply("c", 1)
    task = asyncio.create_task(
        stream_reply(
            client, [], reply, lambda d: None, lambda r: snapshots.append(r.snapshot()["text"])
        )
    )
    client.gates[0].set()
    await wait_until(lambda: snapshots == ["hello"], "a snapshot of the first delta")
    client.gates[1].set()
    await asyncio.wait_for(task, 30)


def nothing(_: object) -> None:
    pass


class ToolCallingClient(BaseClient):
    """Answers with `text` (maybe none), then a tool call, and finishes for it."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def _generate(self, messages, state):
        if self.text:
            yield TextDelta(self.text)
        yield ToolCallDelta(0, "call_1", "get_weather")
        yield ToolCallDelta(0, arguments='{"city": "Paris"}')
        state.finish_reason = "tool_calls"


async def test_tool_calls_are_carried_but_a_reply_of_tool_calls_alone_is_an_error():
    # This chat offers no tools yet: a reply with text keeps its text; one without says
    # why nothing came. The calls are on the outcome either way.
    outcome = await stream_reply(ToolCallingClient(""), [], Reply("c", 1), nothing, nothing)
    assert (outcome.status, outcome.error) == ("error", streaming.NO_TOOLS)
    assert [c.name for c in outcome.tool_calls] == ["get_weather", None]
    outcome = await stream_reply(ToolCallingClient("Hm."), [], Reply("c", 1), nothing, nothing)
    assert (outcome.status, outcome.text, len(outcome.tool_calls)) == ("complete", "Hm.", 2)


async def test_a_reply_is_measured_once_by_its_stream():
    events: list[dict] = []

    def handler(name, data):
        events.append(data)

    telemetry.attach(handler)
    try:
        outcome = await stream_reply(
            PacedClient(count=5, every=0.002), [], Reply("c", 1), nothing, nothing
        )
    finally:
        telemetry.detach(handler)
    (event,) = events
    stats = outcome.stats
    assert stats is not None and event["stats"] is stats  # one measurement, two readers
    assert (stats.outcome, stats.deltas, stats.finish_reason) == ("completed", 5, None)
    assert stats.ttft_ms is not None and stats.tokens_per_s is not None
    usage = reply_usage("m", stats, [], outcome.text, "")
    assert usage.ttft_ms == round(stats.ttft_ms, 1)
    assert usage.tokens_per_s == round(stats.tokens_per_s, 1)


async def test_no_flush_loop_outlives_its_reply():
    # The last piece and the end of the stream come in one go: the flush loop is woken
    # by the piece as it is cancelled (wait_for drops such a cancellation before 3.12).
    for _ in range(5):
        await stream_reply(PacedClient(count=4, every=0.03), [], Reply("c", 1), nothing, nothing)

    def flushers() -> list[asyncio.Task]:
        return [
            t
            for t in asyncio.all_tasks()
            if t.get_coro().__name__ == "flush_when_due" and not t.done()  # type: ignore[union-attr]
        ]

    await wait_until(lambda: not flushers(), "every flush loop ended")
