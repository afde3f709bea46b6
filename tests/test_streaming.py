"""When deltas leave the kernel: at once after a pause, at most one per interval while
pieces keep coming, and always adding up to the whole reply."""

from __future__ import annotations

import asyncio
import time

from livechat_widget import streaming
from livechat_widget.providers.base import Piece
from livechat_widget.streaming import Reply, stream_reply


class GatedClient:
    """Yields each text after the test opens its gate, so the test decides when pieces
    arrive relative to the deltas already sent."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.gates = [asyncio.Event() for _ in texts]

    def stream(self, history):
        async def pieces():
            for text, gate in zip(self.texts, self.gates, strict=True):
                await gate.wait()
                yield Piece("text", text)

        return pieces()


class PacedClient:
    """Yields `count` pieces, one every `every` seconds (0: as fast as the loop goes)."""

    def __init__(self, count: int, every: float) -> None:
        self.count, self.every = count, every

    def stream(self, history):
        async def pieces():
            for i in range(self.count):
                await asyncio.sleep(self.every)
                yield Piece("text", f"t{i} ")

        return pieces()


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


async def test_deltas_keep_the_interval_and_lose_nothing_while_pieces_keep_coming():
    client = PacedClient(count=600, every=0.001)
    times: list[float] = []
    texts: list[str] = []
    seqs: list[int] = []

    def send(delta) -> None:
        times.append(time.monotonic())
        texts.append(delta["text"])
        seqs.append(delta["seq"])

    outcome = await asyncio.wait_for(
        stream_reply(client, [], Reply("c", 1), send, lambda r: None), 60
    )
    assert "".join(texts) == outcome.text == "".join(f"t{i} " for i in range(600))
    assert seqs == list(range(len(seqs)))
    # Every delta but the last (sent when the stream ends) waited for the interval.
    gaps = [b - a for a, b in zip(times[:-2], times[1:-1], strict=True)]
    assert gaps and min(gaps) >= streaming.FLUSH_INTERVAL * 0.95
    assert len(texts) < 600  # pieces were coalesced


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
