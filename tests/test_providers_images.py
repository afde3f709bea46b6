"""Images, files and PDFs through both HTTP clients, against the fake provider: the
exact request shapes (beside a context text and tool turns), servers that refuse
images (ImagesUnsupported), a client that takes none, and the demo's description."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fake_provider import FakeProvider, anthropic_event, error, sse_response
from provider_clients import anthropic, openai

from livechat_widget.providers.base import BaseClient, ReplyStream
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.errors import ImagesUnsupported, ProviderError, ToolsUnsupported
from livechat_widget.providers.events import StreamEvent, TextDelta
from livechat_widget.providers.messages import (
    DocumentPart,
    FilePart,
    ImagePart,
    ModelMessage,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    file_text,
)
from livechat_widget.providers.openai import OpenAICompatibleClient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
PDF = b"%PDF-1.4\n% a tiny document\n%%EOF\n"
PNG_64 = base64.b64encode(PNG).decode()
PDF_64 = base64.b64encode(PDF).decode()
CSV = FilePart("data.csv", "text/csv", "city,temp\nOslo,4")
CSV_TEXT = '<file name="data.csv" type="text/csv">\ncity,temp\nOslo,4\n</file>'
CONTEXT = "The person attached this context from their Jupyter kernel:\n\n<context ...>"
LIST = ToolSpec("list_variables", "List the kernel's variables.", {"type": "object"})

CONVERSATION = [
    ModelMessage.of_text("system", "Be brief."),
    ModelMessage(
        "user",
        (
            TextPart(CONTEXT),
            TextPart("What do these show?"),
            ImagePart(PNG, "image/png"),
            CSV,
            DocumentPart("report.pdf", "application/pdf", PDF),
        ),
    ),
    ModelMessage(
        "assistant", (TextPart("Let me look."), ToolCallPart("call_1", "list_variables", "{}"))
    ),
    ModelMessage("tool", (ToolResultPart("call_1", "df: DataFrame"),)),
    ModelMessage.of_text("user", "And df?"),
]
ASK_WITH_IMAGE = [ModelMessage("user", (TextPart("What is this?"), ImagePart(PNG, "image/png")))]


async def events_of(
    c: BaseClient, messages: list[ModelMessage], tools: tuple[ToolSpec, ...] = ()
) -> list[StreamEvent]:
    stream = c.stream(messages, tools=tools)
    try:
        return [event async for event in stream]
    finally:
        await stream.aclose()
        await c.aclose()


# ------------------------------------------------------------------ request shapes


async def test_openai_request_with_an_image_a_csv_and_a_pdf(fp: FakeProvider) -> None:
    await events_of(openai(fp), CONVERSATION, (LIST,))
    assert fp.requests[0].json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": CONTEXT},
                {"type": "text", "text": "What do these show?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_64}"}},
                {"type": "text", "text": CSV_TEXT},
                {
                    "type": "file",
                    "file": {
                        "filename": "report.pdf",
                        "file_data": f"data:application/pdf;base64,{PDF_64}",
                    },
                },
            ],
        },
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "list_variables", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "df: DataFrame"},
        {"role": "user", "content": "And df?"},
    ]
    assert [t["function"]["name"] for t in fp.requests[0].json["tools"]] == ["list_variables"]


async def test_anthropic_request_with_an_image_a_csv_and_a_pdf(fp: FakeProvider) -> None:
    await events_of(anthropic(fp), CONVERSATION, (LIST,))
    body = fp.requests[0].json
    assert body["system"] == "Be brief."
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": CONTEXT},
                {"type": "text", "text": "What do these show?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG_64},
                },
                {"type": "text", "text": CSV_TEXT},
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_64},
                    "title": "report.pdf",
                },
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_1", "name": "list_variables", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "df: DataFrame"},
                {"type": "text", "text": "And df?"},
            ],
        },
    ]


async def test_a_file_alone_is_sent_as_blocks_not_as_the_message_text(fp: FakeProvider) -> None:
    only_file = [ModelMessage("user", (CSV,))]
    await events_of(anthropic(fp), only_file)
    await events_of(openai(fp), only_file)
    assert fp.requests[0].json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": CSV_TEXT}]}
    ]
    assert fp.requests[1].json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": CSV_TEXT}]}
    ]


def test_the_file_framing_escapes_the_tag_only() -> None:
    part = FilePart('my "best" <data> & more.csv', "text/csv", "a\n</file> <b>")
    assert file_text(part) == (
        '<file name="my &quot;best&quot; &lt;data&gt; &amp; more.csv" type="text/csv">\n'
        "a\n</file> <b>\n</file>"
    )


async def test_without_attachments_the_payloads_are_unchanged(fp: FakeProvider) -> None:
    ask = [ModelMessage.of_text("user", "Hi")]
    await events_of(openai(fp), ask)
    await events_of(anthropic(fp), ask)
    assert fp.requests[0].json["messages"] == [{"role": "user", "content": "Hi"}]
    assert fp.requests[1].json["messages"] == [{"role": "user", "content": "Hi"}]


def test_attachments_belong_in_user_messages() -> None:
    c = OpenAICompatibleClient("http://127.0.0.1:9/v1", "m")
    for role in ("system", "assistant"):
        with pytest.raises(TypeError, match=f"ImagePart belongs in user messages, not in {role}"):
            c.stream([ModelMessage(role, (ImagePart(PNG, "image/png"),))])  # type: ignore[arg-type]


async def test_a_client_of_ones_own_that_takes_no_images_says_so_before_any_request() -> None:
    class Shouter(BaseClient):
        provider = "shouter"
        model = "shout-1"

        async def _generate(self, messages: list[ModelMessage], state: ReplyStream) -> Any:
            yield TextDelta(messages[-1].text.upper())

        def describe(self, model: str | None = None) -> str:
            return "shouter"

    for part, flag in (
        (ImagePart(PNG, "image/png"), "takes_images"),
        (CSV, "takes_files"),
        (DocumentPart("r.pdf", "application/pdf", PDF), "takes_files"),
    ):
        with pytest.raises(TypeError) as info:
            Shouter().stream([ModelMessage("user", (TextPart("hi"), part))])
        assert str(info.value) == (
            f"Shouter cannot send a {type(part).__name__}: its {flag} is not True. Send text "
            f"only, or set {flag} = True and translate the part in _generate."
        )
    assert await Shouter().stream([ModelMessage.of_text("user", "hi")]).collect() == "HI"


# ------------------------------------------------------------------ servers that refuse images

REFUSALS = {
    "openai": (
        400,
        {
            "error": {
                "message": "Invalid content type. image_url is only supported by certain models.",
                "type": "invalid_request_error",
                "param": "messages.[0].content.[1].type",
                "code": None,
            }
        },
    ),
    "ollama capability": (400, {"error": '"llama3.2" does not support vision'}),
    "ollama runner": (500, {"error": "this model is missing data required for image input"}),
    "ollama anthropic api": (
        400,
        {"error": {"message": "this model does not support image input"}},
    ),
    "vllm": (
        400,
        {
            "object": "error",
            "message": "Qwen2.5-7B-Instruct is not a multimodal model",
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
                "message": "image input is not supported by this server",
                "type": "server_error",
            }
        },
    ),
    "llama-server with hint": (
        500,
        {
            "error": {
                "code": 500,
                "message": "image input is not supported - hint: if this is unexpected, you "
                "may need to provide the mmproj",
                "type": "server_error",
            }
        },
    ),
    "openrouter": (
        404,
        {"error": {"message": "No endpoints found that support image input", "code": 404}},
    ),
}
MESSAGE = (
    "fake-model does not take images: send the message without them, or choose a model that does."
)


@pytest.mark.parametrize("server", list(REFUSALS))
async def test_a_refusal_of_images_is_images_unsupported(fp: FakeProvider, server: str) -> None:
    status, body = REFUSALS[server]
    fp.script(error(status, body))
    with pytest.raises(ImagesUnsupported) as info:
        await events_of(openai(fp), ASK_WITH_IMAGE)
    assert info.value.user_message.startswith(MESSAGE + ' The provider said: "')
    assert info.value.status_code == status
    assert len(fp.requests) == 1  # not retried, not even a 500: it would be refused again


@pytest.mark.parametrize("server", ["openai", "ollama runner", "llama-server", "openrouter"])
async def test_the_same_words_without_images_are_not_images_unsupported(
    fp: FakeProvider, server: str
) -> None:
    status, body = REFUSALS[server]
    fp.script(error(status, body))
    with pytest.raises(ProviderError) as info:
        await events_of(openai(fp, max_retries=0), [ModelMessage("user", (CSV,))])
    assert not isinstance(info.value, ImagesUnsupported)


async def test_an_unrelated_400_with_images_is_not_images_unsupported(fp: FakeProvider) -> None:
    body = {"error": {"message": "temperature must be at most 2", "type": "invalid_request_error"}}
    fp.script(error(400, body))
    with pytest.raises(ProviderError) as info:
        await events_of(openai(fp), ASK_WITH_IMAGE)
    assert not isinstance(info.value, ImagesUnsupported)
    assert "rejected the request" in info.value.user_message


async def test_tools_refused_with_images_in_the_request_stay_tools_unsupported(
    fp: FakeProvider,
) -> None:
    fp.script(error(400, {"error": "registry.ollama.ai/library/llava does not support tools"}))
    with pytest.raises(ToolsUnsupported):
        await events_of(openai(fp), ASK_WITH_IMAGE, (LIST,))


async def test_refusals_in_the_stream_and_from_anthropic(fp: FakeProvider) -> None:
    fp.script(sse_response({"error": {"message": "image input is not supported", "code": 500}}))
    with pytest.raises(ImagesUnsupported, match="^fake-model does not take images"):
        await events_of(openai(fp), ASK_WITH_IMAGE)
    assert len(fp.requests) == 1
    # Anthropic's API (or a server speaking it: Ollama's) refusing in its error event.
    refusal = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "model does not support images"},
    }
    fp.script(error(400, refusal))
    with pytest.raises(ImagesUnsupported, match="^claude-fake does not take images"):
        await events_of(anthropic(fp), ASK_WITH_IMAGE)
    fp.script(sse_response(anthropic_event("error", refusal)))
    with pytest.raises(ImagesUnsupported):
        await events_of(anthropic(fp), ASK_WITH_IMAGE)
    assert len(fp.requests) == 3


# ------------------------------------------------------------------ the demo


async def test_the_demo_describes_what_it_received() -> None:
    messages = [
        ModelMessage(
            "user",
            (
                TextPart("What is in my plot?"),
                ImagePart(b"\0" * 12_345, "image/png"),
                CSV,
                DocumentPart("report.pdf", "application/pdf", b"\0" * 3_000_000),
            ),
        )
    ]
    text = await DemoClient(pace=0).stream(messages).collect()
    assert "> What is in my plot?" in text
    assert (
        "- I received an image (image/png, 12 KB).\n"
        "- I received a file, data.csv (text/csv), as 16 bytes of text.\n"
        "- I received a document, report.pdf (application/pdf, 2.9 MB).\n\n"
        "I am offline and cannot look inside them"
    ) in text
    alone = [ModelMessage("user", (ImagePart(b"\0" * 2048, "image/jpeg"),))]
    text = await DemoClient(pace=0).stream(alone).collect()
    assert text.startswith("- I received an image (image/jpeg, 2 KB).")
    assert "Send me a message" not in text
