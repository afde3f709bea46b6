"""ReplyStream: one telemetry event per reply however it ends, and its stats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fake_provider import FakeProvider, error, openai_reply

from livechat_widget import telemetry
from livechat_widget.providers.base import ChatClient, check_client
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.errors import ProviderError
from livechat_widget.providers.openai import OpenAICompatibleClient

HELLO = [{"role": "user", "content": "How do I plot a sine wave?"}]


@pytest.fixture
def events() -> Iterator[list[tuple[tuple[str, str, str], dict[str, Any]]]]:
    seen: list[tuple[tuple[str, str, str], dict[str, Any]]] = []

    def handler(name: tuple[str, str, str], data: dict[str, Any]) -> None:
        seen.append((name, data))

    telemetry.attach(handler)
    try:
        yield seen
    finally:
        telemetry.detach(handler)


KEYS = {
    "ttft_ms",
    "total_ms",
    "pieces",
    "completion_tokens",
    "tokens_per_s",
    "provider",
    "model",
    "outcome",
    "client",
    "stats",
}


async def test_completed_reply_emits_one_event(events: list[Any]) -> None:
    with FakeProvider(text="one two three four", tokens_per_s=50) as fp:
        client = OpenAICompatibleClient(fp.base_url, "fake-model")
        text = await client.stream(HELLO).collect()
        await client.aclose()
    assert text == "one two three four"
    assert len(events) == 1
    name, data = events[0]
    assert name == ("livechat", "ai", "latency_ms") == telemetry.LATENCY_EVENT
    assert set(data) == KEYS
    assert data["client"] is client
    assert (data["provider"], data["model"], data["outcome"]) == (
        "openai-compatible",
        "fake-model",
        "completed",
    )
    assert (data["pieces"], data["completion_tokens"]) == (4, 4)
    assert 0 < data["ttft_ms"] <= data["total_ms"]
    assert 40 <= data["total_ms"] < 2000  # 4 chunks 20 ms apart after the role chunk
    assert data["tokens_per_s"] > 0


async def test_error_and_stop_outcomes(events: list[Any]) -> None:
    with FakeProvider() as fp:
        fp.script(error(400))
        client = OpenAICompatibleClient(fp.base_url, "m")
        with pytest.raises(ProviderError):
            await client.stream(HELLO).collect()
        fp.script(openai_reply("a b c d e f g h", tokens_per_s=20))
        stream = client.stream(HELLO)
        await stream.__anext__()
        await stream.aclose()
        await stream.aclose()  # idempotent: still one event
        await client.aclose()
    assert [d["outcome"] for _, d in events] == ["ProviderError", "stopped"]
    assert events[0][1]["ttft_ms"] is None and events[0][1]["tokens_per_s"] is None
    assert events[1][1]["pieces"] == 1


async def test_cancelled_demo_is_stopped(events: list[Any]) -> None:
    demo = DemoClient(pace=50)
    stream = demo.stream(HELLO)

    async def consume() -> None:
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stream.aclose()
    assert len(events) == 1
    data = events[0][1]
    assert (data["outcome"], data["provider"], data["client"]) == ("stopped", "demo", demo)
    assert 2 <= data["pieces"] <= 8


async def test_raising_handler_is_logged_and_never_breaks_a_reply(
    events: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(name: Any, data: Any) -> None:
        raise RuntimeError("subscriber bug")

    telemetry.attach(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="livechat_widget.telemetry"):
            text = await DemoClient(pace=0).stream(HELLO).collect()
    finally:
        telemetry.detach(broken)
    assert "demo model" in text
    assert len(events) == 1  # the other subscribers still ran
    assert any("subscriber bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_default_subscriber_logs_at_info(caplog: pytest.LogCaptureFixture) -> None:
    assert telemetry.log_handler in telemetry.handlers()
    with caplog.at_level(logging.INFO, logger="livechat_widget.telemetry"):
        await DemoClient(pace=0).stream(HELLO).collect()
    lines = [r for r in caplog.records if r.name == "livechat_widget.telemetry"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert "demo/demo completed" in lines[0].getMessage()


def test_attach_and_detach() -> None:
    seen: list[Any] = []

    def handler(name: Any, data: Any) -> None:
        seen.append(data)

    telemetry.attach(handler)
    telemetry.attach(handler)  # once only
    telemetry.emit(telemetry.LATENCY_EVENT, {"x": 1})
    telemetry.detach(handler)
    telemetry.detach(handler)  # harmless
    telemetry.emit(telemetry.LATENCY_EVENT, {"x": 2})
    assert seen == [{"x": 1}]


async def test_stats_are_on_the_stream_once_it_ended(events: list[Any]) -> None:
    with FakeProvider(text="one two three four", tokens_per_s=50) as fp:
        client = OpenAICompatibleClient(fp.base_url, "fake-model")
        stream = client.stream(HELLO)
        assert stream.stats is None
        await stream.collect()
        await client.aclose()
    stats = stream.stats
    assert stats is not None
    assert (stats.outcome, stats.finish_reason, stats.deltas) == ("completed", "stop", 4)
    assert (stats.completion_tokens, stats.prompt_tokens) == (4, 9)
    assert stats.reported == {"prompt_tokens": 9, "completion_tokens": 4}
    assert stats.ttft_ms is not None and stats.ttft_ms > 0
    assert stats.tokens_per_s is not None and stats.tokens_per_s > 0
    assert stats.generation_s is not None and stats.generation_s * 1000 < stats.total_ms
    data = events[0][1]  # the telemetry event carries the same measurement
    assert data["stats"] is stats
    assert (data["ttft_ms"], data["tokens_per_s"], data["pieces"], data["outcome"]) == (
        stats.ttft_ms,
        stats.tokens_per_s,
        stats.deltas,
        stats.outcome,
    )


async def test_stats_of_a_stopped_and_of_a_failed_reply() -> None:
    stream = DemoClient(pace=0).stream(HELLO)
    await stream.__anext__()
    await stream.aclose()
    assert stream.stats is not None
    assert (stream.stats.outcome, stream.stats.deltas, stream.stats.finish_reason) == (
        "stopped",
        1,
        None,
    )
    with FakeProvider() as fp:
        fp.script(error(400))
        client = OpenAICompatibleClient(fp.base_url, "m")
        failed = client.stream(HELLO)
        with pytest.raises(ProviderError):
            await failed.collect()
        await client.aclose()
    assert failed.stats is not None
    assert (failed.stats.outcome, failed.stats.ttft_ms, failed.stats.deltas) == (
        "ProviderError",
        None,
        0,
    )


def test_every_client_here_is_a_chat_client_and_others_are_told_what_they_lack() -> None:
    clients = [DemoClient(), OpenAICompatibleClient("http://127.0.0.1:9/v1", "m")]
    for client in clients:
        assert isinstance(client, ChatClient) and check_client(client) is client
    assert DemoClient().safe_base_url == "" and clients[1].safe_base_url == "http://127.0.0.1:9/v1"

    class OnlyStream:
        def stream(self, messages: Any) -> None: ...

        def describe(self) -> str:
            return "mine"

    with pytest.raises(TypeError, match="has no aclose, base_url, list_models") as info:
        check_client(OnlyStream())
    assert "BaseClient" in str(info.value)
