"""OpenAICompatibleClient against a real local HTTP server (tests/fake_provider.py).

Bodies are written from the providers' documented stream formats; faults are
injected by the server. Backoff bases are tiny so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fake_provider import (
    SSE_HEADERS,
    FakeProvider,
    FakeResponse,
    openai_chunk,
    openai_reply,
    sse,
    sse_response,
)

from livechat_widget.providers.base import ReplyStream
from livechat_widget.providers.config import RetryPolicy
from livechat_widget.providers.errors import (
    AIError,
    ContentFiltered,
    ProviderError,
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
from livechat_widget.providers.messages import ImagePart, ModelMessage, TextPart
from livechat_widget.providers.openai import OpenAICompatibleClient

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-test-SECRETSECRETSECRET1234"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def client(fp: FakeProvider, *, random: Any = None, **kw: Any) -> OpenAICompatibleClient:
    """A client of the fake provider with tiny backoffs; ``random`` draws the jitter."""
    retry = RetryPolicy(
        max_retries=kw.pop("max_retries", 2),
        backoff_base=kw.pop("backoff_base", 0.01),
        max_retry_wait=kw.pop("max_retry_wait", 5.0),
        **({} if random is None else {"random": random}),
    )
    return OpenAICompatibleClient(
        fp.base_url, kw.pop("model", "fake-model"), kw.pop("api_key", KEY), retry=retry, **kw
    )


async def run(
    c: OpenAICompatibleClient, messages: list[dict[str, str]] = MESSAGES
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


async def fails(
    c: OpenAICompatibleClient, cls: type[AIError], messages: list[dict[str, str]] = MESSAGES
) -> AIError:
    with pytest.raises(cls) as info:
        await run(c, messages)
    assert type(info.value) is cls
    assert KEY not in info.value.user_message
    assert "<" not in info.value.user_message  # never raw HTML
    return info.value


def body(*events: Any) -> FakeResponse:
    return sse_response(*events)


async def events_of(
    c: OpenAICompatibleClient, messages: list[dict[str, str]] = MESSAGES
) -> list[StreamEvent]:
    """Every event of one reply, in order."""
    stream = c.stream(messages)
    try:
        return [event async for event in stream]
    finally:
        await stream.aclose()
        await c.aclose()


def recorded(name: str, seed: int) -> FakeResponse:
    """A stream recorded in tests/fixtures, cut at random byte boundaries."""
    raw = (FIXTURES / name).read_bytes()
    return FakeResponse(200, dict(SSE_HEADERS), [raw]).split(seed, 12)


def assembled(events: list[StreamEvent]) -> dict[int, tuple[str | None, str | None, str]]:
    """The tool calls of a reply, as a consumer joins their pieces: index -> (id,
    name, arguments); an id or a name is announced once."""
    calls: dict[int, tuple[str | None, str | None, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call_id, name, arguments = calls.get(event.index, (None, None, ""))
            assert not (call_id and event.id) and not (name and event.name), "announced twice"
            calls[event.index] = (
                call_id or event.id,
                name or event.name,
                arguments + event.arguments,
            )
    return calls


# ------------------------------------------------------------------ recorded streams
# One per server family, written from their documentation: (body, text, reasoning,
# finish_reason, usage).

OPENAI = sse(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "", "refusal": None},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
        "usage": None,
        "obfuscation": "abc",
    },
    openai_chunk("Hello"),
    openai_chunk(" wor"),
    openai_chunk("ld\u2028!"),
    openai_chunk(None, finish_reason="stop"),
    openai_chunk(
        empty_choices=True, usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    ),
    "[DONE]",
)

OLLAMA = sse(
    *[
        {
            "id": "chatcmpl-9",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "llama3.2",
            "system_fingerprint": "fp_ollama",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": c}, "finish_reason": f}
            ],
        }
        for c, f in [("Hi", None), (" there", None), ("", "stop")]
    ],
    {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "llama3.2",
        "choices": [],
        "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
    },
    "[DONE]",
)

VLLM = sse(
    {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [
            {
                "index": 0,
                "delta": {"reasoning_content": "Think"},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [
            {
                "index": 0,
                "delta": {"content": "Ans"},
                "logprobs": None,
                "finish_reason": None,
                "stop_reason": None,
            }
        ],
    },
    {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [
            {
                "index": 0,
                "delta": {"content": "wer"},
                "logprobs": None,
                "finish_reason": "length",
                "stop_reason": None,
            }
        ],
    },
    {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen",
        "choices": [],
        "usage": {"prompt_tokens": 4, "total_tokens": 9, "completion_tokens": 5},
    },
    "[DONE]",
)

LLAMA_CPP = sse(  # no role chunk at all; usage and timings on the final chunk
    {
        "choices": [{"finish_reason": None, "index": 0, "delta": {"reasoning_content": "Hmm."}}],
        "created": 1,
        "id": "chatcmpl-x",
        "model": "gguf",
        "object": "chat.completion.chunk",
    },
    {
        "choices": [{"finish_reason": None, "index": 0, "delta": {"content": "\u00c9t\u00e9 "}}],
        "created": 1,
        "id": "chatcmpl-x",
        "model": "gguf",
        "object": "chat.completion.chunk",
    },
    {
        "choices": [{"finish_reason": None, "index": 0, "delta": {"content": "\U0001f600"}}],
        "created": 1,
        "id": "chatcmpl-x",
        "model": "gguf",
        "object": "chat.completion.chunk",
    },
    {
        "choices": [{"finish_reason": "stop", "index": 0, "delta": {}}],
        "created": 1,
        "id": "chatcmpl-x",
        "model": "gguf",
        "object": "chat.completion.chunk",
        "usage": {"completion_tokens": 3, "prompt_tokens": 7, "total_tokens": 10},
        "timings": {"predicted_ms": 12.5},
    },
    "[DONE]",
)

AZURE = sse(  # prompt-filter chunk with empty choices first; CRLF line ends
    {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [
            {
                "prompt_index": 0,
                "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
            }
        ],
    },
    {
        "choices": [
            {
                "content_filter_results": {},
                "delta": {"content": "", "refusal": None, "role": "assistant"},
                "finish_reason": None,
                "index": 0,
                "logprobs": None,
            }
        ],
        "created": 1,
        "id": "chatcmpl-a",
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
    },
    {
        "choices": [
            {
                "content_filter_results": {"hate": {"filtered": False}},
                "delta": {"content": "Azure"},
                "finish_reason": None,
                "index": 0,
            }
        ],
        "created": 1,
        "id": "chatcmpl-a",
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
    },
    {
        "choices": [
            {"content_filter_results": {}, "delta": {}, "finish_reason": "stop", "index": 0}
        ],
        "created": 1,
        "id": "chatcmpl-a",
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
    },
    "[DONE]",
).replace(b"\n", b"\r\n")

OPENROUTER = b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n" + sse(
    {
        "id": "gen-1",
        "provider": "DeepInfra",
        "model": "deepseek/deepseek-r1",
        "object": "chat.completion.chunk",
        "created": 1,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "", "reasoning": "Let me see."},
                "finish_reason": None,
                "native_finish_reason": None,
                "logprobs": None,
            }
        ],
    },
    {
        "id": "gen-1",
        "provider": "DeepInfra",
        "model": "deepseek/deepseek-r1",
        "object": "chat.completion.chunk",
        "created": 1,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "Route", "reasoning": None},
                "finish_reason": None,
                "native_finish_reason": None,
                "logprobs": None,
            }
        ],
    },
    {
        "id": "gen-1",
        "provider": "DeepInfra",
        "model": "deepseek/deepseek-r1",
        "object": "chat.completion.chunk",
        "created": 1,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "d"},
                "finish_reason": "stop",
                "native_finish_reason": "stop",
                "logprobs": None,
            }
        ],
    },
    {
        "id": "gen-1",
        "provider": "DeepInfra",
        "model": "deepseek/deepseek-r1",
        "object": "chat.completion.chunk",
        "created": 1,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "finish_reason": None,
                "native_finish_reason": None,
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 6, "completion_tokens": 9, "total_tokens": 15, "cost": 0.0001},
    },
    "[DONE]",
)

RECORDED = {
    "openai": (
        OPENAI,
        "Hello world\u2028!",
        "",
        "stop",
        {"prompt_tokens": 5, "completion_tokens": 3},
    ),
    "ollama": (OLLAMA, "Hi there", "", "stop", {"prompt_tokens": 11, "completion_tokens": 2}),
    "vllm": (VLLM, "Answer", "Think", "length", {"prompt_tokens": 4, "completion_tokens": 5}),
    "llama.cpp": (
        LLAMA_CPP,
        "\u00c9t\u00e9 \U0001f600",
        "Hmm.",
        "stop",
        {"prompt_tokens": 7, "completion_tokens": 3},
    ),
    "azure": (AZURE, "Azure", "", "stop", None),
    "openrouter": (
        OPENROUTER,
        "Routed",
        "Let me see.",
        "stop",
        {"prompt_tokens": 6, "completion_tokens": 9},
    ),
}


@pytest.mark.parametrize("flavour", list(RECORDED))
async def test_recorded_streams_split_at_random_byte_boundaries(
    fp: FakeProvider, flavour: str
) -> None:
    raw, text, reasoning, finish, usage = RECORDED[flavour]
    for seed in range(3):
        # Seed 0 pauses between pieces so they reach the client as separate reads.
        fp.script(
            FakeResponse(200, dict(SSE_HEADERS), [raw]).split(
                seed, 12, delay=0.0002 if seed == 0 else 0.0
            )
        )
        got_text, got_reasoning, stream = await run(client(fp))
        assert (got_text, got_reasoning) == (text, reasoning)
        assert stream.finish_reason == finish
        assert stream.usage == usage
        assert stream.outcome == "completed"
    assert len(fp.requests) == 3


async def test_request_shape(fp: FakeProvider) -> None:
    text, _, stream = await run(client(fp))
    assert text == fp.text
    assert stream.finish_reason == "stop"
    request = fp.requests[0]
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "text/event-stream"
    assert request.json == {
        "model": "fake-model",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_event_rows_are_not_sent(fp: FakeProvider) -> None:
    await run(
        client(fp),
        [
            {"role": "title", "content": "x"},
            *MESSAGES,
            {"role": "user", "content": "More", "timestamp": "t"},
        ],
    )
    assert fp.requests[0].json["messages"] == [*MESSAGES, {"role": "user", "content": "More"}]


async def test_role_in_every_delta_and_missing_role(fp: FakeProvider) -> None:
    fp.script(
        body(
            *[openai_chunk(t, role="assistant") for t in ("a", "b")],
            openai_chunk(None, finish_reason="stop"),
            "[DONE]",
        ),
        body(openai_chunk("c"), openai_chunk("d", finish_reason="stop"), "[DONE]"),
    )
    assert (await run(client(fp)))[0] == "ab"
    assert (await run(client(fp)))[0] == "cd"


async def test_reasoning_field_kept_out_of_the_answer(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk(None, reasoning="R1 ", reasoning_field="reasoning"),
            openai_chunk(None, reasoning="R2"),  # reasoning_content
            openai_chunk("T", finish_reason="stop"),
            "[DONE]",
        )
    )
    text, reasoning, stream = await run(client(fp))
    assert (text, reasoning) == ("T", "R1 R2")
    assert stream.text == "T"


async def test_finish_reason_length_is_a_finished_reply(fp: FakeProvider) -> None:
    fp.script(openai_reply("cut by the limit", finish_reason="length"))
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason, stream.outcome) == (
        "cut by the limit",
        "length",
        "completed",
    )


async def test_finish_reason_content_filter(fp: FakeProvider) -> None:
    fp.script(openai_reply("Some text", finish_reason="content_filter"))
    exc = await fails(client(fp), ContentFiltered)
    assert exc.partial_text == "Some text"
    assert "content filter" in exc.user_message


async def test_finish_reason_error(fp: FakeProvider) -> None:
    fp.script(openai_reply("Half", finish_reason="error"))
    exc = await fails(client(fp), ProviderError)
    assert exc.partial_text == "Half"
    assert len(fp.requests) == 1


async def test_finish_reason_tool_calls(fp: FakeProvider) -> None:
    fp.script(
        openai_reply("Calling", finish_reason="tool_calls"),
        body(
            openai_chunk(None, role="assistant"),
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "id": "c", "function": {}}]},
                        "finish_reason": None,
                    }
                ]
            },
            openai_chunk(None, finish_reason="tool_calls"),
            "[DONE]",
        ),
    )
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("Calling", "tool_calls")
    # A reply that is a tool call alone still ends normally: the call is an event (the
    # chat, which offers no tools, says so; tests/test_streaming.py).
    assert await events_of(client(fp)) == [
        ToolCallDelta(0, "c"),
        FinishEvent("tool_calls", "tool_calls"),
    ]


@pytest.mark.parametrize("code", [400, "server_error"])
@pytest.mark.parametrize("done", [True, False])
async def test_in_band_error_object(fp: FakeProvider, code: Any, done: bool) -> None:
    events: list[Any] = [
        openai_chunk("Par"),
        openai_chunk("tial"),
        {"error": {"message": "Upstream model crashed", "type": "server_error", "code": code}},
    ]
    if done:
        events.append("[DONE]")
    fp.script(body(*events))
    exc = await fails(client(fp), ProviderError)
    assert exc.partial_text == "Partial"
    assert "Upstream model crashed" in exc.user_message
    assert len(fp.requests) == 1


async def test_error_event_type(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200,
            dict(SSE_HEADERS),
            [sse(openai_chunk("x")), b'event: error\ndata: {"message": "boom"}\n\n'],
        )
    )
    exc = await fails(client(fp), ProviderError)
    assert "boom" in exc.user_message and exc.partial_text == "x"


async def test_done_without_content_or_finish_is_an_error(fp: FakeProvider) -> None:
    fp.script(body(openai_chunk("", role="assistant"), "[DONE]"))
    exc = await fails(client(fp), ProviderError)
    assert exc.partial_text == ""
    assert len(fp.requests) == 1


async def test_data_after_done_is_ignored(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk("ok", finish_reason="stop"),
            "[DONE]",
            openai_chunk("MORE"),
            "not json",
            {"error": {"message": "late"}},
        )
    )
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("ok", "stop")


async def test_two_malformed_chunks_are_skipped(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk("a"),
            "{not json",
            openai_chunk("b"),
            {"choices": [{"index": 0, "delta": {"content": None}}]},
            openai_chunk("c", finish_reason="stop"),
            "[DONE]",
        )
    )
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("abc", "stop")


async def test_third_malformed_chunk_fails(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk("a"),
            "{not json",
            {"choices": [{"index": 0, "delta": {"content": 42}}]},
            openai_chunk("b"),
            {"choices": [{"index": 0, "delta": {"content": None}}]},
            openai_chunk("c", finish_reason="stop"),
            "[DONE]",
        )
    )
    exc = await fails(client(fp), ProviderError)
    assert exc.partial_text == "ab"
    assert "3 malformed" in exc.user_message


async def test_end_without_done_or_finish_reason(fp: FakeProvider) -> None:
    reply = openai_reply("never finished", finish_reason=None, usage=False, done=False)
    reply.framing = "close"  # the body ends cleanly, it is just missing its end
    fp.script(reply)
    exc = await fails(client(fp), StreamInterrupted)
    assert exc.partial_text == "never finished"
    assert len(fp.requests) == 1


async def test_finish_reason_without_done_is_complete(fp: FakeProvider) -> None:
    reply = openai_reply("finished", done=False)
    reply.framing = "close"
    fp.script(reply)
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("finished", "stop")


async def test_unicode_separators_and_split_surrogate_pair(fp: FakeProvider) -> None:
    # A server that splits an astral character into two JSON escapes in two chunks.
    fp.script(
        FakeResponse(
            200,
            dict(SSE_HEADERS),
            [
                sse(openai_chunk("a\u2028b\u2029c\x85d ")),
                b'data: {"choices":[{"index":0,"delta":{"content":"x\\ud83d"},'
                b'"finish_reason":null}]}\n\n',
                b'data: {"choices":[{"index":0,"delta":{"content":"\\ude00y"},'
                b'"finish_reason":null}]}\n\n',
                b'data: {"choices":[{"index":0,"delta":{"content":"\\ud83d\\ude80 \\udc00!"},'
                b'"finish_reason":"stop"}]}\n\n',
                sse("[DONE]"),
            ],
        ).split(5, 4, delay=0.0003)
    )
    text, _, stream = await run(client(fp))
    assert text == "a\u2028b\u2029c\x85d x\U0001f600y\U0001f680 \ufffd!"
    text.encode("utf-8")  # no lone surrogate left
    assert stream.finish_reason == "stop"


# ------------------------------------------------------------------ stop, cancel, misc


async def test_cancelling_the_task_closes_the_response(fp: FakeProvider) -> None:
    fp.script(openai_reply("one two three four five six seven eight nine ten", tokens_per_s=20))
    c = client(fp)
    stream = c.stream(MESSAGES)
    got: list[str] = []

    async def consume() -> None:
        async for piece in stream:
            got.append(piece.text)

    task = asyncio.create_task(consume())
    while len(got) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fp.async_wait_for_disconnect(0, timeout=1.0)
    assert not fp.requests[0].finished.is_set()
    assert stream.outcome == "stopped"
    await stream.aclose()
    await c.aclose()


async def test_aclose_mid_stream_closes_the_response(fp: FakeProvider) -> None:
    fp.script(openai_reply("one two three four five six", tokens_per_s=20))
    c = client(fp)
    stream = c.stream(MESSAGES)
    piece = await stream.__anext__()
    assert piece.text == ""[:0] + "one"
    await stream.aclose()
    assert await fp.async_wait_for_disconnect(0, timeout=1.0)
    assert stream.outcome == "stopped"
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    await c.aclose()


async def test_non_streamed_json_answer(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200,
            {"content-type": "application/json"},
            [
                json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "Whole answer"},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
                    }
                )
            ],
            "length",
        )
    )
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason, stream.usage) == (
        "Whole answer",
        "stop",
        {"prompt_tokens": 3, "completion_tokens": 2},
    )


async def test_azure_deployment_url_and_api_key_header(fp: FakeProvider) -> None:
    c = OpenAICompatibleClient(
        fp.base_url + "/openai/deployments/gpt4o?api-version=2024-10-21",
        "gpt-4o",
        KEY,
        provider="azure",
    )
    text, _, _ = await run(c)
    assert text == fp.text
    request = fp.requests[0]
    assert request.path == "/v1/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
    assert request.headers["api-key"] == KEY and "authorization" not in request.headers
    assert "api-version" not in repr(c)


async def test_custom_headers_and_extra_body(fp: FakeProvider) -> None:
    c = client(fp, headers={"HTTP-Referer": "https://example.org"}, extra_body={"temperature": 0.2})
    await run(c)
    assert fp.requests[0].headers["http-referer"] == "https://example.org"
    assert fp.requests[0].json["temperature"] == 0.2


def test_repr_and_describe_never_show_the_key() -> None:
    c = OpenAICompatibleClient("https://user:pw@api.openai.com/v1", "gpt-4o-mini", KEY)
    assert c.provider == "openai"
    assert c.describe() == "gpt-4o-mini via api.openai.com"
    assert repr(c) == (
        "OpenAICompatibleClient(provider='openai', "
        "base_url='https://api.openai.com/v1', model='gpt-4o-mini')"
    )
    for text in (repr(c), str(c), c.describe()):
        assert KEY not in text and "pw" not in text
    ollama = OpenAICompatibleClient("http://localhost:11434/v1", "llama3.2")
    assert ollama.provider == "ollama"
    assert ollama.describe() == "llama3.2 via localhost:11434 (Ollama)"


async def test_unexpected_chunk_shapes_count_as_malformed(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk("a"),
            {"choices": {"0": "x"}},
            {"choices": ["x"]},
            openai_chunk("b", finish_reason="stop"),
            "[DONE]",
        )
    )
    text, _, stream = await run(client(fp))
    assert (text, stream.finish_reason) == ("ab", "stop")


# ------------------------------------------------------------------ the event union


async def test_recorded_parallel_tool_calls_are_events(fp: FakeProvider) -> None:
    weather = ['{"', "location", '":"', "Paris", ",", " France", '"}']
    time = ['{"', "timezone", '":"', "Europe", "/Paris", '"}']
    expected: list[StreamEvent] = [
        ToolCallDelta(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather"),
        *(ToolCallDelta(0, arguments=piece) for piece in weather),
        ToolCallDelta(1, "call_Ul2fD8R0zvjJxG7mlbVhXm3A", "get_time"),
        *(ToolCallDelta(1, arguments=piece) for piece in time),
        UsageEvent(82, 51),
        FinishEvent("tool_calls", "tool_calls"),
    ]
    for seed in range(3):
        fp.script(recorded("openai_tool_calls.sse", seed))
        events = await events_of(client(fp))
        assert events == expected
    calls = assembled(events)
    assert {i: (c[0], c[1], json.loads(c[2])) for i, c in calls.items()} == {
        0: ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", {"location": "Paris, France"}),
        1: ("call_Ul2fD8R0zvjJxG7mlbVhXm3A", "get_time", {"timezone": "Europe/Paris"}),
    }
    assert [e.kind for e in events][-2:] == ["usage", "finish"]


async def test_a_server_repeating_the_call_id_and_adding_function_call(fp: FakeProvider) -> None:
    fp.script(recorded("openai_tool_calls_repeated_ids.sse", 1))
    events = await events_of(client(fp))
    assert events == [
        TextDelta("Let me"),
        TextDelta(" look"),
        TextDelta(" that up."),
        ToolCallDelta(0, "chatcmpl-tool-5c1e9a", "search_docs", '{"query": '),
        ToolCallDelta(0, arguments='"sine wave'),
        ToolCallDelta(0, arguments=' plot"}'),
        FinishEvent("tool_calls", "tool_calls"),
    ]
    assert json.loads(assembled(events)[0][2]) == {"query": "sine wave plot"}


async def test_legacy_function_call_and_calls_without_an_index(fp: FakeProvider) -> None:
    def delta(d: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}

    fp.script(
        body(
            delta({"role": "assistant", "function_call": {"name": "f", "arguments": ""}}),
            delta({"function_call": {"arguments": '{"x": 1}'}}),
            delta({}, "function_call"),
            "[DONE]",
        ),
        # Whole calls, one a chunk, without an index (and arguments as an object).
        body(
            delta({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]}),
            delta({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": {"y": 2}}}]}),
            delta({}, "tool_calls"),
            "[DONE]",
        ),
    )
    assert await events_of(client(fp)) == [
        ToolCallDelta(0, None, "f"),
        ToolCallDelta(0, arguments='{"x": 1}'),
        FinishEvent("tool_calls", "function_call"),
    ]
    assert await events_of(client(fp)) == [
        ToolCallDelta(0, "a", "f", "{}"),
        ToolCallDelta(1, "b", "g", '{"y": 2}'),
        FinishEvent("tool_calls", "tool_calls"),
    ]


async def test_text_and_reasoning_events_end_with_usage_then_finish(fp: FakeProvider) -> None:
    fp.script(openai_reply("Hi there", reasoning="Think"))
    assert await events_of(client(fp)) == [
        ReasoningDelta("Think"),
        TextDelta("Hi"),
        TextDelta(" there"),
        UsageEvent(9, 3),
        FinishEvent("stop", "stop"),
    ]


async def test_non_streamed_answer_with_a_tool_call(fp: FakeProvider) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    answer = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
    }
    fp.script(FakeResponse(200, {"content-type": "application/json"}, [json.dumps(answer)]))
    assert await events_of(client(fp)) == [
        ToolCallDelta(0, "call_1", "f", "{}"),
        FinishEvent("tool_calls", "tool_calls"),
    ]


async def test_model_messages_and_plain_dicts_reach_the_wire_alike(fp: FakeProvider) -> None:
    messages = [
        ModelMessage.of_text("system", "Be brief."),
        ModelMessage("user", (TextPart("Look:"), TextPart("here"))),
    ]
    await run(client(fp), messages)  # type: ignore[arg-type]
    assert fp.requests[0].json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Look:"}, {"type": "text", "text": "here"}],
        },
    ]
    image = ModelMessage("user", (ImagePart(b"\x89PNG", "image/png"),))
    text_only = client(fp)
    text_only.takes_images = False  # a client that says it takes no images
    with pytest.raises(TypeError, match="ImagePart"):
        text_only.stream([image])
    assert len(fp.requests) == 1  # refused before any request
