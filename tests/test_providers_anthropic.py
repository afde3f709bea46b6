"""AnthropicClient against the fake provider, with Messages API streams written from
Anthropic's streaming documentation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fake_provider import (
    CUT,
    SSE_HEADERS,
    FakeProvider,
    FakeResponse,
    anthropic_event,
    anthropic_reply,
    error,
)

from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.base import ReplyStream
from livechat_widget.providers.config import RetryPolicy
from livechat_widget.providers.errors import (
    AIError,
    AuthenticationFailed,
    ContentFiltered,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    StreamInterrupted,
)
from livechat_widget.providers.events import (
    FinishEvent,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageEvent,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-ant-api03-SECRETSECRETSECRET"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def client(fp: FakeProvider, *, random: Any = None, **kw: Any) -> AnthropicClient:
    """A client of the fake provider with tiny backoffs; ``random`` draws the jitter."""
    retry = RetryPolicy(
        backoff_base=kw.pop("backoff_base", 0.01), **({} if random is None else {"random": random})
    )
    return AnthropicClient(kw.pop("model", "claude-fake"), KEY, base_url=fp.url, retry=retry, **kw)


async def run(
    c: AnthropicClient, messages: list[dict[str, str]] = MESSAGES
) -> tuple[str, str, ReplyStream]:
    stream = c.stream(messages)
    text, reasoning = [], []
    try:
        async for event in stream:
            if event.kind == "text" or event.kind == "reasoning":
                (reasoning if event.kind == "reasoning" else text).append(event.text)
    finally:
        await stream.aclose()
        await c.aclose()
    return "".join(text), "".join(reasoning), stream


async def fails(c: AnthropicClient, cls: type[AIError]) -> AIError:
    with pytest.raises(cls) as info:
        await run(c)
    assert type(info.value) is cls
    assert KEY not in info.value.user_message and "SECRET" not in info.value.user_message
    return info.value


def events(*items: tuple[str, dict[str, Any]]) -> FakeResponse:
    return FakeResponse(200, dict(SSE_HEADERS), [anthropic_event(n, d) for n, d in items])


def text_delta(text: str, index: int = 0) -> tuple[str, dict[str, Any]]:
    return (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": text},
        },
    )


START = (
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "c",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "cache_read_input_tokens": 5, "output_tokens": 1},
        },
    },
)
BLOCK = (
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)


def stop(reason: str = "end_turn", tokens: int = 2) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": None},
                "usage": {"output_tokens": tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


async def test_stream_with_thinking_split_at_random_boundaries(fp: FakeProvider) -> None:
    for seed in range(3):
        fp.script(
            anthropic_reply("Caf\u00e9 \U0001f600 na\u2028ve", thinking="Let me think.").split(
                seed, 11, delay=0.0002 if seed == 0 else 0.0
            )
        )
        text, reasoning, stream = await run(client(fp))
        assert (text, reasoning) == ("Caf\u00e9 \U0001f600 na\u2028ve", "Let me think.")
        assert (stream.finish_reason, stream.provider_finish_reason) == ("stop", "end_turn")
        assert stream.usage == {"prompt_tokens": 12, "completion_tokens": 4}  # 4 tokens
    request = fp.requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json == {
        "model": "claude-fake",
        "max_tokens": 4096,
        "stream": True,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }


async def test_payload_merges_turns_and_drops_empty_ones(fp: FakeProvider) -> None:
    await run(
        client(fp, max_tokens=100),
        [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": "c"},
            {"role": "user", "content": "d"},
        ],
    )
    assert fp.requests[0].json["messages"] == [
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
    ]
    assert fp.requests[0].json["max_tokens"] == 100 and "system" not in fp.requests[0].json


async def test_base_url_ending_in_v1(fp: FakeProvider) -> None:
    c = AnthropicClient("claude-fake", KEY, base_url=fp.url + "/v1")
    await run(c)
    assert fp.requests[0].path == "/v1/messages"


async def test_usage_counts_cache_tokens_and_ping_and_unknown_events(fp: FakeProvider) -> None:
    fp.script(
        events(
            START,
            BLOCK,
            ("ping", {"type": "ping"}),
            text_delta("Hel"),
            ("future_event", {"type": "future_event", "x": 1}),
            text_delta("lo"),
            *stop(tokens=7),
        )
    )
    text, _, stream = await run(client(fp))
    assert text == "Hello"
    assert stream.usage == {"prompt_tokens": 30, "completion_tokens": 7}


async def test_max_tokens_is_length(fp: FakeProvider) -> None:
    fp.script(anthropic_reply("cut here", stop_reason="max_tokens"))
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason, stream.provider_finish_reason) == (
        "cut here",
        "length",
        "max_tokens",
    )


async def test_refusal_is_content_filtered(fp: FakeProvider) -> None:
    fp.script(anthropic_reply("I can", stop_reason="refusal"))
    exc = await fails(client(fp), ContentFiltered)
    assert exc.partial_text == "I can"


async def test_error_event_mid_stream(fp: FakeProvider) -> None:
    fp.script(
        events(
            START,
            BLOCK,
            text_delta("Partial"),
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ),
        )
    )
    exc = await fails(client(fp), ProviderError)
    assert exc.partial_text == "Partial"
    assert "overloaded" in exc.user_message
    assert len(fp.requests) == 1  # text was shown: never replayed


async def test_error_event_before_any_text_is_retried(fp: FakeProvider) -> None:
    fp.script(
        events(
            START,
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ),
        )
    )
    text, _, _ = await run(client(fp))
    assert text == fp.text
    assert len(fp.requests) == 2


async def test_529_is_retried_like_503(
    fp: FakeProvider, max_jitter: list[tuple[float, float]]
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fp.script(error(529, overloaded))
    text, _, _ = await run(client(fp, random=max_jitter))
    assert text == fp.text and len(fp.requests) == 2
    fp.reset()
    fp.script(*[error(529, overloaded) for _ in range(3)])
    exc = await fails(client(fp, random=max_jitter), ProviderError)
    assert "overloaded" in exc.user_message and exc.status_code == 529
    assert len(fp.requests) == 3
    assert max_jitter == [(0.0, 0.01), (0.0, 0.01), (0.0, 0.02)]


@pytest.mark.parametrize(
    ("status", "etype", "message", "cls"),
    [
        (401, "authentication_error", f"invalid x-api-key {KEY}", AuthenticationFailed),
        (403, "permission_error", "Your API key does not have permission", AuthenticationFailed),
        (404, "not_found_error", "model: claude-fake", ModelNotFound),
        (
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API.",
            QuotaExceeded,
        ),
        (400, "invalid_request_error", "messages: roles must alternate", ProviderError),
        (
            413,
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
            ProviderError,
        ),
    ],
)
async def test_http_errors(
    fp: FakeProvider, status: int, etype: str, message: str, cls: type[AIError]
) -> None:
    fp.script(
        error(
            status,
            {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_1"},
        )
    )
    exc = await fails(client(fp), cls)
    assert len(fp.requests) == 1
    if cls is AuthenticationFailed:
        assert "ANTHROPIC_API_KEY" in exc.user_message or "permission" in exc.user_message
    if cls is ModelNotFound:
        assert "'claude-fake'" in exc.user_message


async def test_rate_limit_with_retry_after(fp: FakeProvider) -> None:
    limited = {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded"},
    }
    fp.script(
        error(429, limited, headers={"retry-after": "0"}),
        error(429, limited, headers={"retry-after": "7200"}),
    )
    exc = await fails(client(fp), RateLimited)
    assert "2 hours" in exc.user_message and "UTC" in exc.user_message
    assert len(fp.requests) == 2


async def test_end_without_message_stop_or_stop_reason(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200,
            dict(SSE_HEADERS),
            [
                anthropic_event(*START),
                anthropic_event(*BLOCK),
                anthropic_event(*text_delta("Hal")),
                anthropic_event(*text_delta("f")),
                b'event: content_block_delta\ndata: {"ty',
                CUT,
            ],
            framing="close",
        )
    )
    exc = await fails(client(fp), StreamInterrupted)
    assert exc.partial_text == "Half"
    assert len(fp.requests) == 1


async def test_stop_reason_without_message_stop_is_complete(fp: FakeProvider) -> None:
    reply = anthropic_reply("done", message_stop=False)
    reply.framing = "close"
    fp.script(reply)
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("done", "stop")


async def test_cancel_closes_the_response(fp: FakeProvider) -> None:
    fp.script(anthropic_reply("one two three four five six seven", tokens_per_s=20))
    c = client(fp)
    stream = c.stream(MESSAGES)

    first = asyncio.Event()

    async def consume() -> None:
        async for _ in stream:
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 30)  # streaming: the next token is ~50 ms away
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fp.async_wait_for_disconnect(0, timeout=10.0)
    assert stream.outcome == "stopped"
    await c.aclose()


def test_repr_and_describe() -> None:
    c = AnthropicClient("claude-haiku-4-5", KEY)
    assert c.provider == "anthropic"
    assert c.describe() == "claude-haiku-4-5 via api.anthropic.com"
    assert repr(c) == (
        "AnthropicClient(provider='anthropic', "
        "base_url='https://api.anthropic.com', model='claude-haiku-4-5')"
    )
    assert KEY not in repr(c)


# ------------------------------------------------------------------ the event union


async def events_of(c: AnthropicClient) -> list[StreamEvent]:
    stream = c.stream(MESSAGES)
    try:
        return [event async for event in stream]
    finally:
        await stream.aclose()
        await c.aclose()


async def test_recorded_tool_use_is_tool_call_events(fp: FakeProvider) -> None:
    raw = (FIXTURES / "anthropic_tool_use.sse").read_bytes()
    text = ["Okay", ",", " let", "'s", " check", " the", " weather", " and", " the", " time", "."]
    weather = ['{"location":', ' "San', " Francisc", 'o, CA"', ', "unit": "fah', 'renheit"}']
    expected: list[StreamEvent] = [
        *(TextDelta(piece) for piece in text),
        # Block 1 is the first tool call, block 2 the second (OpenAI's numbering);
        # the empty first partial_json is no event.
        ToolCallDelta(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        *(ToolCallDelta(0, arguments=piece) for piece in weather),
        ToolCallDelta(1, "toolu_01CqxHrfbcqzHyVX8ykmQ2ym", "get_time"),
        ToolCallDelta(1, arguments='{"timezone": "America/'),
        ToolCallDelta(1, arguments='Los_Angeles"}'),
        UsageEvent(472, 89),
        FinishEvent("tool_calls", "tool_use"),  # in OpenAI's vocabulary, as every reason
    ]
    for seed in range(3):
        fp.script(FakeResponse(200, dict(SSE_HEADERS), [raw]).split(seed, 12))
        assert await events_of(client(fp)) == expected
    arguments = "".join(
        e.arguments for e in expected if isinstance(e, ToolCallDelta) and e.index == 0
    )
    assert json.loads(arguments) == {"location": "San Francisco, CA", "unit": "fahrenheit"}


async def test_thinking_text_usage_and_finish_events(fp: FakeProvider) -> None:
    fp.script(anthropic_reply("Hi there", thinking="Hmm"))
    events = await events_of(client(fp))
    assert [e.kind for e in events] == ["reasoning", "text", "text", "usage", "finish"]
    assert events[0] == ReasoningDelta("Hmm")
    assert events[-1] == FinishEvent("stop", "end_turn")


async def test_input_json_for_no_tool_block_is_malformed(fp: FakeProvider) -> None:
    bad = (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 3,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
    )
    fp.script(events(START, BLOCK, text_delta("ok"), bad, *stop()))
    got = await events_of(client(fp))
    assert [e.kind for e in got] == ["text", "usage", "finish"]


async def test_non_streamed_answer_with_tool_use(fp: FakeProvider) -> None:
    answer = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 7},
    }
    fp.script(FakeResponse(200, {"content-type": "application/json"}, [json.dumps(answer)]))
    assert await events_of(client(fp)) == [
        TextDelta("Checking."),
        ToolCallDelta(0, "toolu_1", "f", '{"x": 1}'),
        UsageEvent(5, 7),
        FinishEvent("tool_calls", "tool_use"),
    ]
