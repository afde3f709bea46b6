"""DemoClient, client_from_env, telemetry events and the public exports."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fake_provider import FakeProvider, error, openai_reply

import livechat_widget
from livechat_widget import telemetry
from livechat_widget.providers import errors as ai_errors
from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.base import Piece
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.errors import AIError, ProviderError
from livechat_widget.providers.openai import OpenAICompatibleClient

HELLO = [{"role": "user", "content": "How do I plot a sine wave?"}]


# ------------------------------------------------------------------ demo


async def test_demo_reply_is_markdown_quotes_the_user_and_explains_setup() -> None:
    stream = DemoClient(pace=0).stream(HELLO)
    pieces = [p async for p in stream]
    text = "".join(p.text for p in pieces)
    assert all(p.kind == "text" for p in pieces) and len(pieces) > 50
    assert "> How do I plot a sine wave?" in text
    assert "\n- **OpenAI**" in text  # a list
    assert "```bash\n" in text and text.count("```") == 2  # a fenced code block
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LIVECHAT_PROVIDER", "LIVECHAT_MODEL"):
        assert name in text
    assert stream.finish_reason == "stop"
    assert stream.usage == {"prompt_tokens": 7, "completion_tokens": len(pieces)}
    assert text == DemoClient.reply_text(HELLO)


async def test_demo_is_deterministic_and_follows_the_conversation() -> None:
    async def reply(messages: list[dict[str, str]]) -> str:
        return await DemoClient(pace=0).stream(messages).collect()

    first = await reply(HELLO)
    assert first == await reply(HELLO)
    other = await reply([*HELLO, {"role": "assistant", "content": first},
                         {"role": "user", "content": "Thanks!"}])
    assert "> Thanks!" in other and "message 2 of this chat" in other
    assert "Hello!" in await reply([])


async def test_demo_pace() -> None:
    stream = DemoClient(pace=100).stream(HELLO)
    start = time.monotonic()
    count = 0
    async for _ in stream:
        count += 1
        if count == 21:
            break
    elapsed = time.monotonic() - start
    await stream.aclose()
    assert 0.19 <= elapsed < 0.6  # 20 intervals at 100 pieces/s


async def test_demo_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the demo client must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    client = client_from_env({})
    assert isinstance(client, DemoClient)
    client.pace = 0
    text = await client.stream(HELLO).collect()
    assert "demo model" in text


def test_demo_identity() -> None:
    demo = DemoClient()
    assert demo.pace == 40.0
    assert (demo.provider, demo.model, demo.describe()) == ("demo", "demo",
                                                            "demo model (offline)")
    assert "demo" in repr(demo)
    with pytest.raises(ValueError):
        DemoClient(pace=-1)


# ------------------------------------------------------------------ configuration


def test_nothing_configured_is_the_demo() -> None:
    assert isinstance(client_from_env({}), DemoClient)
    assert isinstance(client_from_env({"LIVECHAT_MODEL": "x"}), DemoClient)
    assert isinstance(client_from_env({"LIVECHAT_PROVIDER": "demo",
                                       "OPENAI_API_KEY": "sk-x"}), DemoClient)


def test_openai_from_conventional_variables() -> None:
    c = client_from_env({"OPENAI_API_KEY": "sk-openai-key-123"})
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.provider, c.base_url, c.model) == ("openai", "https://api.openai.com/v1",
                                                 "gpt-4o-mini")
    assert c._api_key == "sk-openai-key-123"
    assert c.describe() == "gpt-4o-mini via api.openai.com"
    assert "sk-openai-key-123" not in repr(c)
    c = client_from_env({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https://openrouter.ai/api/v1",
                         "LIVECHAT_MODEL": "deepseek/deepseek-r1"})
    assert (c.provider, c.base_url, c.model) == ("openrouter", "https://openrouter.ai/api/v1",
                                                 "deepseek/deepseek-r1")


def test_livechat_variables_take_precedence() -> None:
    c = client_from_env({"LIVECHAT_PROVIDER": "OpenAI", "LIVECHAT_BASE_URL": "http://box:8000/v1",
                         "LIVECHAT_MODEL": "qwen", "LIVECHAT_API_KEY": "mine",
                         "OPENAI_API_KEY": "other", "OPENAI_BASE_URL": "http://x/v1"})
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.base_url, c.model, c._api_key) == ("http://box:8000/v1", "qwen", "mine")
    assert c.describe() == "qwen via box:8000"
    c = client_from_env({"LIVECHAT_BASE_URL": "http://localhost:8080/v1"})
    assert isinstance(c, OpenAICompatibleClient) and c._api_key is None


def test_anthropic() -> None:
    c = client_from_env({"ANTHROPIC_API_KEY": "sk-ant-xyz"})
    assert isinstance(c, AnthropicClient)
    assert (c.provider, c.model, c._api_key) == ("anthropic", "claude-haiku-4-5", "sk-ant-xyz")
    assert "sk-ant-xyz" not in repr(c)
    c = client_from_env({"LIVECHAT_PROVIDER": "anthropic", "LIVECHAT_MODEL": "claude-opus-4-1",
                         "LIVECHAT_API_KEY": "k2", "ANTHROPIC_API_KEY": "k1"})
    assert (c.model, c._api_key) == ("claude-opus-4-1", "k2")


@pytest.mark.parametrize(("host", "url"), [
    (None, "http://localhost:11434/v1"),
    ("0.0.0.0:11434", "http://localhost:11434/v1"),
    ("gpu-box", "http://gpu-box:11434/v1"),
    ("https://ollama.example.org:443", "https://ollama.example.org:443/v1"),
])
def test_ollama(host: str | None, url: str) -> None:
    env = {"LIVECHAT_PROVIDER": "ollama"}
    if host:
        env["OLLAMA_HOST"] = host
    c = client_from_env(env)
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.provider, c.base_url, c.model) == ("ollama", url, "llama3.2")


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="LIVECHAT_PROVIDER='gemini'"):
        client_from_env({"LIVECHAT_PROVIDER": "gemini"})


def test_keyword_arguments_reach_the_client() -> None:
    c = client_from_env({"OPENAI_API_KEY": "k"}, read_timeout=300.0, max_retries=5)
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.read_timeout, c.max_retries) == (300.0, 5)


def test_public_exports() -> None:
    assert livechat_widget.AIError is ai_errors.AIError is AIError
    assert livechat_widget.DemoClient is DemoClient
    assert livechat_widget.client_from_env is client_from_env
    for name in ("ConnectionFailed", "AuthenticationFailed", "ModelNotFound", "RateLimited",
                 "QuotaExceeded", "ProviderError", "ContentFiltered", "StreamInterrupted"):
        cls = getattr(ai_errors, name)
        assert issubclass(cls, AIError)
        err = cls("what happened; what to do")
        assert (err.user_message, err.partial_text) == ("what happened; what to do", "")
    assert Piece("text", "a").kind == "text"


# ------------------------------------------------------------------ telemetry


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


KEYS = {"ttft_ms", "total_ms", "pieces", "completion_tokens", "tokens_per_s", "provider",
        "model", "outcome", "client"}


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
    assert (data["provider"], data["model"], data["outcome"]) == ("openai-compatible",
                                                                   "fake-model", "completed")
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
        events: list[Any], caplog: pytest.LogCaptureFixture) -> None:
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
