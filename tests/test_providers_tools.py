"""Tool calls through both HTTP clients, against the fake provider: the request
shapes of tools and tool turns, calls streamed in pieces, servers that refuse tools,
and llama-cpp-python, which answers a request offering tools only when not streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_provider import (
    SSE_HEADERS,
    FakeProvider,
    FakeResponse,
    anthropic_reply,
    anthropic_tool_use,
    error,
    openai_reply,
    openai_tool_calls,
    sse_response,
)
from provider_clients import anthropic, openai

from livechat_widget.providers.base import BaseClient
from livechat_widget.providers.errors import ContextTooLong, ProviderError, ToolsUnsupported
from livechat_widget.providers.events import (
    FinishEvent,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageEvent,
)
from livechat_widget.providers.messages import (
    ModelMessage,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
)
from livechat_widget.providers.openai import OpenAICompatibleClient

FIXTURES = Path(__file__).parent / "fixtures"

DESCRIBE = ToolSpec(
    "describe_variable",
    "Describe a variable of the kernel.",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
)
LIST = ToolSpec("list_variables", "List the kernel's variables.", {"type": "object"})
TOOLS = (DESCRIBE, LIST)
ASK = [ModelMessage.of_text("user", "What is df?")]

# A turn with two calls (the second failed), then the person writes again.
CONVERSATION = [
    ModelMessage.of_text("system", "Be brief."),
    ModelMessage.of_text("user", "What is df?"),
    ModelMessage(
        "assistant",
        (
            TextPart("Let me look."),
            ToolCallPart("call_1", "describe_variable", '{"name": "df"}'),
            ToolCallPart("call_2", "list_variables", "{}"),
        ),
    ),
    ModelMessage(
        "tool",
        (
            ToolResultPart("call_1", "DataFrame, 3 rows × 2 columns"),
            ToolResultPart("call_2", "Error: the kernel is busy.", is_error=True),
        ),
    ),
    ModelMessage("assistant", (ToolCallPart("call_3", "list_variables", "not json"),)),
    ModelMessage("tool", (ToolResultPart("call_3", "Error: the arguments are not JSON."),)),
    ModelMessage.of_text("user", "And x?"),
]


async def events_of(
    c: BaseClient, messages: list[ModelMessage] = ASK, tools: tuple[ToolSpec, ...] = TOOLS
) -> list[StreamEvent]:
    stream = c.stream(messages, tools=tools)
    try:
        return [event async for event in stream]
    finally:
        await stream.aclose()
        await c.aclose()  # type: ignore[attr-defined]


def calls_of(events: list[StreamEvent]) -> list[tuple[str | None, str | None, str]]:
    """The calls, as a consumer joins their pieces: (id, name, arguments) by index."""
    calls: dict[int, tuple[str | None, str | None, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call_id, name, arguments = calls.get(event.index, (None, None, ""))
            calls[event.index] = (
                call_id or event.id,
                name or event.name,
                arguments + event.arguments,
            )
    return [calls[i] for i in sorted(calls)]


# ------------------------------------------------------------------ request shapes


async def test_openai_request_with_tools_and_tool_turns(fp: FakeProvider) -> None:
    await events_of(openai(fp), CONVERSATION)
    assert fp.requests[0].json == {
        "model": "fake-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is df?"},
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "describe_variable", "arguments": '{"name": "df"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "list_variables", "arguments": "{}"},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "DataFrame, 3 rows × 2 columns"},
            {"role": "tool", "tool_call_id": "call_2", "content": "Error: the kernel is busy."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_3",
                        "type": "function",
                        "function": {"name": "list_variables", "arguments": "not json"},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "call_3",
                "content": "Error: the arguments are not JSON.",
            },
            {"role": "user", "content": "And x?"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "describe_variable",
                    "description": "Describe a variable of the kernel.",
                    "parameters": DESCRIBE.parameters,
                },
            },
            {
                "type": "function",
                "function": {
                    "name": "list_variables",
                    "description": "List the kernel's variables.",
                    "parameters": {"type": "object"},
                },
            },
        ],
    }
    assert "tool_choice" not in fp.requests[0].json  # the server's default: auto


async def test_anthropic_request_with_tools_and_tool_turns(fp: FakeProvider) -> None:
    await events_of(anthropic(fp), CONVERSATION)
    assert fp.requests[0].json == {
        "model": "claude-fake",
        "max_tokens": 4096,
        "messages": [
            {"role": "user", "content": "What is df?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "describe_variable",
                        "input": {"name": "df"},
                    },
                    {"type": "tool_use", "id": "call_2", "name": "list_variables", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": "DataFrame, 3 rows × 2 columns",
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_2",
                        "content": "Error: the kernel is busy.",
                        "is_error": True,
                    },
                ],
            },
            {
                "role": "assistant",
                # Arguments that are not a JSON object: an empty input (the call was
                # already answered with an error).
                "content": [
                    {"type": "tool_use", "id": "call_3", "name": "list_variables", "input": {}}
                ],
            },
            {
                "role": "user",
                # The tool result first, then the person's next message, in one turn.
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_3",
                        "content": "Error: the arguments are not JSON.",
                    },
                    {"type": "text", "text": "And x?"},
                ],
            },
        ],
        "stream": True,
        "system": "Be brief.",
        "tools": [
            {
                "name": "describe_variable",
                "description": "Describe a variable of the kernel.",
                "input_schema": DESCRIBE.parameters,
            },
            {
                "name": "list_variables",
                "description": "List the kernel's variables.",
                "input_schema": {"type": "object"},
            },
        ],
    }


async def test_anthropic_merges_text_after_results_and_results_first(fp: FakeProvider) -> None:
    messages = [
        ModelMessage.of_text("user", "a"),
        ModelMessage("assistant", (ToolCallPart("c", "f", "[1, 2]"),)),
        ModelMessage.of_text("user", "typed while the tool ran"),
        ModelMessage("tool", (ToolResultPart("c", "ok"),)),
        ModelMessage.of_text("user", "b"),
        ModelMessage.of_text("user", "c"),
    ]
    await events_of(anthropic(fp), messages, ())
    assert fp.requests[0].json["messages"][1:] == [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "c", "name": "f", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c", "content": "ok"},
                {"type": "text", "text": "typed while the tool ran\n\nb\n\nc"},
            ],
        },
    ]
    assert "tools" not in fp.requests[0].json


async def test_without_tools_the_payload_is_unchanged(fp: FakeProvider) -> None:
    await events_of(openai(fp), ASK, ())
    await events_of(anthropic(fp), ASK, ())
    assert fp.requests[0].json == {
        "model": "fake-model",
        "messages": [{"role": "user", "content": "What is df?"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert fp.requests[1].json == {
        "model": "claude-fake",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "What is df?"}],
        "stream": True,
    }


def test_tool_parts_belong_in_their_messages() -> None:
    c = OpenAICompatibleClient("http://127.0.0.1:9/v1", "m")
    with pytest.raises(TypeError, match="ToolResultPart belongs in tool messages"):
        c.stream([ModelMessage("user", (ToolResultPart("c", "x"),))])
    with pytest.raises(TypeError, match="ToolCallPart belongs in assistant messages"):
        c.stream([ModelMessage("tool", (ToolCallPart("c", "f", "{}"),))])


# ------------------------------------------------------------------ calls streamed in pieces

CALLS = [
    ("call_a", "describe_variable", '{"name": "df"}'),
    ("call_b", "list_variables", "{}"),
    ("call_c", "describe_variable", '{"name": "sales_2024"}'),
]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_several_calls_with_arguments_in_pieces(fp: FakeProvider, provider: str) -> None:
    if provider == "openai":
        fp.script(openai_tool_calls(CALLS, "Let me look.", split_arguments=4).split(3, 9))
        c: BaseClient = openai(fp)
    else:
        fp.script(anthropic_tool_use(CALLS, "Let me look.", split_arguments=4).split(3, 9))
        c = anthropic(fp)
    events = await events_of(c)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me look."
    assert calls_of(events) == CALLS
    pieces = [e for e in events if isinstance(e, ToolCallDelta) and e.index == 2 and e.arguments]
    assert len(pieces) == 4  # each piece arrives as an event of its own
    firsts = [e for e in events if isinstance(e, ToolCallDelta) and e.id]
    assert [(e.index, e.id, e.name) for e in firsts] == [
        (i, call[0], call[1]) for i, call in enumerate(CALLS)
    ]
    assert events[-1] == FinishEvent(
        "tool_calls", "tool_calls" if provider == "openai" else "tool_use"
    )


async def test_recorded_anthropic_calls_split_at_random_boundaries(fp: FakeProvider) -> None:
    raw = (FIXTURES / "anthropic_tool_use.sse").read_bytes()
    for seed in range(3):
        fp.script(FakeResponse(200, dict(SSE_HEADERS), [raw]).split(seed, 11))
        events = await events_of(anthropic(fp))
        assert [(i, n, json.loads(a)) for i, n, a in calls_of(events)] == [
            (
                "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "get_weather",
                {"location": "San Francisco, CA", "unit": "fahrenheit"},
            ),
            ("toolu_01CqxHrfbcqzHyVX8ykmQ2ym", "get_time", {"timezone": "America/Los_Angeles"}),
        ]
        assert events[-1] == FinishEvent("tool_calls", "tool_use")


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_malformed_arguments_pass_through_as_text(fp: FakeProvider, provider: str) -> None:
    calls = [("call_x", "run_python", '{"code": "print(1)"'), ("call_y", "list_variables", "nope")]
    if provider == "openai":
        fp.script(openai_tool_calls(calls))
        c: BaseClient = openai(fp)
    else:
        fp.script(anthropic_tool_use(calls))
        c = anthropic(fp)
    events = await events_of(c)
    assert calls_of(events) == calls  # joined as sent: the agent loop answers them
    assert events[-1].kind == "finish"


# ------------------------------------------------------------------ servers that refuse tools

REFUSALS = {
    "ollama": (400, {"error": "registry.ollama.ai/library/gemma:2b does not support tools"}),
    "ollama /v1": (
        400,
        {
            "error": {
                "message": "gemma:2b does not support tools",
                "type": "api_error",
                "param": None,
                "code": None,
            }
        },
    ),
    "vllm": (
        400,
        {
            "object": "error",
            "message": '"auto" tool choice requires --enable-auto-tool-choice and '
            "--tool-call-parser to be set",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
    ),
    "llama-server": (
        500,
        {
            "error": {
                "code": 500,
                "message": "tools param requires --jinja flag",
                "type": "server_error",
            }
        },
    ),
    "azure": (
        400,
        {
            "error": {
                "message": "Unrecognized request argument supplied: tools",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    ),
    "openrouter": (
        404,
        {"error": {"message": "No endpoints found that support tool use.", "code": 404}},
    ),
    "fastapi": (422, {"detail": "Function calling is not supported for this model."}),
    "generic": (400, {"error": {"message": "Tools are not supported."}}),
}


@pytest.mark.parametrize("server", list(REFUSALS))
async def test_a_refusal_of_tools_is_tools_unsupported(fp: FakeProvider, server: str) -> None:
    status, body = REFUSALS[server]
    fp.script(error(status, body))
    with pytest.raises(ToolsUnsupported) as info:
        await events_of(openai(fp))
    message = info.value.user_message
    assert message.startswith(f"127.0.0.1:{fp.port} does not accept tools for 'fake-model'")
    assert "tools are turned off for this chat, and it goes on without them" in message
    assert info.value.status_code == status
    assert len(fp.requests) == 1  # not retried, not even a 500: it would be refused again


@pytest.mark.parametrize("server", ["ollama", "llama-server", "generic"])
async def test_the_same_words_without_tools_are_not_tools_unsupported(
    fp: FakeProvider, server: str
) -> None:
    status, body = REFUSALS[server]
    fp.script(error(status, body))
    with pytest.raises(ProviderError) as info:
        await events_of(openai(fp, max_retries=0), tools=())
    assert not isinstance(info.value, ToolsUnsupported)


async def test_an_unrelated_400_with_tools_is_not_tools_unsupported(fp: FakeProvider) -> None:
    fp.script(
        error(
            400,
            {
                "error": {
                    "message": "temperature must be at most 2",
                    "type": "invalid_request_error",
                }
            },
        )
    )
    with pytest.raises(ProviderError) as info:
        await events_of(openai(fp))
    assert not isinstance(info.value, ToolsUnsupported)
    assert "rejected the request" in info.value.user_message


async def test_anthropic_and_in_stream_refusals(fp: FakeProvider) -> None:
    fp.script(
        error(
            400,
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "tools are not supported"},
            },
        )
    )
    with pytest.raises(ToolsUnsupported, match="Anthropic does not accept tools for 'claude-fake'"):
        await events_of(anthropic(fp))
    # An error object in the stream (before any text): not retried either.
    fp.script(
        sse_response({"error": {"message": "this model does not support tools", "code": 500}})
    )
    with pytest.raises(ToolsUnsupported):
        await events_of(openai(fp))
    assert len(fp.requests) == 2


# ------------------------------------------------------------------ llama-cpp-python

LLAMA_CPP_PYTHON_REFUSAL = {
    "error": {
        "message": "Automatic streaming tool choice is not supported",
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}


@pytest.mark.parametrize("status", [500, 400])
async def test_llama_cpp_python_is_asked_again_without_streaming(
    fp: FakeProvider, status: int
) -> None:
    whole = (FIXTURES / "llama_cpp_python_tool_call.json").read_bytes()
    answer = FakeResponse(200, {"content-type": "application/json"}, [whole], "length")
    fp.script(error(status, LLAMA_CPP_PYTHON_REFUSAL), answer, answer)
    # Its chatml-function-calling format offers the tools only with tool_choice "auto".
    c = openai(fp, extra_body={"tool_choice": "auto"})
    expected = [
        ToolCallDelta(
            0,
            "call__0_describe_variable_cmpl-9b1d2c4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "describe_variable",
            '{"name": "df"}',
        ),
        UsageEvent(311, 9),
        FinishEvent("tool_calls", "tool_calls"),
    ]
    assert await events_of(c) == expected
    first, second = fp.requests[0].json, fp.requests[1].json
    assert first["stream"] is True and "stream_options" in first
    assert second["stream"] is False and "stream_options" not in second
    assert second["tools"] == first["tools"] and second["tool_choice"] == "auto"
    # The client remembers: the next reply offering tools is not streamed at all ...
    assert await events_of(c) == expected
    assert fp.requests[2].json["stream"] is False and len(fp.requests) == 3
    # ... and one without tools still is.
    fp.script(openai_reply("Plain text."))
    await events_of(c, tools=())
    assert fp.requests[3].json["stream"] is True and "tools" not in fp.requests[3].json


async def test_llama_cpp_pythons_empty_stream_is_asked_again_without_streaming(
    fp: FakeProvider,
) -> None:
    # What its server really does (0.3.x): the refusal is raised after the 200 status,
    # so the stream is empty; the same request not streamed answers with the call.
    whole = (FIXTURES / "llama_cpp_python_tool_call.json").read_bytes()
    answer = FakeResponse(200, {"content-type": "application/json"}, [whole], "length")
    empty = FakeResponse(200, {"content-type": "text/event-stream"}, [], "length")
    fp.script(empty, answer)
    c = openai(fp, extra_body={"tool_choice": "auto"})
    (call, *_rest) = await events_of(c)
    assert isinstance(call, ToolCallDelta) and call.name == "describe_variable"
    assert [r.json["stream"] for r in fp.requests] == [True, False]
    # An empty stream to a request without tools is still the context-length error.
    fp.script(empty)
    with pytest.raises(ContextTooLong):
        await events_of(c, tools=())


async def test_the_refusal_without_tools_is_an_error_as_before(fp: FakeProvider) -> None:
    fp.script(error(400, LLAMA_CPP_PYTHON_REFUSAL))
    with pytest.raises(ProviderError):
        await events_of(openai(fp), tools=())
    assert len(fp.requests) == 1


async def test_anthropic_tool_use_then_a_text_reply(fp: FakeProvider) -> None:
    # The builder and the default reply in one conversation, as browser tests script it.
    fp.script(anthropic_tool_use([("toolu_1", "list_variables", "{}")]), anthropic_reply("Done."))
    assert calls_of(await events_of(anthropic(fp))) == [("toolu_1", "list_variables", "{}")]
    events = await events_of(anthropic(fp))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Done."
