"""DemoClient: offline, deterministic, paced."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.events import FinishEvent, TextDelta, UsageEvent

HELLO = [{"role": "user", "content": "How do I plot a sine wave?"}]


async def test_demo_reply_is_markdown_quotes_the_user_and_explains_setup() -> None:
    stream = DemoClient(pace=0).stream(HELLO)
    events = [e async for e in stream]
    pieces = [e for e in events if isinstance(e, TextDelta)]
    text = "".join(p.text for p in pieces)
    assert len(pieces) > 50
    # Text, then the usage and the finish, as every client's stream ends.
    assert events[len(pieces) :] == [UsageEvent(7, len(pieces)), FinishEvent("stop", "stop")]
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
    other = await reply(
        [*HELLO, {"role": "assistant", "content": first}, {"role": "user", "content": "Thanks!"}]
    )
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
    assert elapsed >= 0.19  # 20 intervals at 100 pieces/s: paced, not at once


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
    assert (demo.provider, demo.model, demo.describe()) == ("demo", "demo", "demo model (offline)")
    assert "demo" in repr(demo)
    with pytest.raises(ValueError):
        DemoClient(pace=-1)
