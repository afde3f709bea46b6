"""The offline demo client: deterministic, needs no network, and is the default when
nothing is configured. Its reply shows how markdown streams in (and, offered the
kernel's tools, how tool calls go) and says how to connect a real model."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from typing import Any

from .base import BaseClient, ReplyStream
from .demo_tools import calls_so_far, next_call, results_of_turn
from .events import StreamEvent, TextDelta, ToolCallDelta
from .messages import (
    DocumentPart,
    FilePart,
    ImagePart,
    ModelMessage,
    ToolCallPart,
    ToolResultPart,
    as_model_messages,
)

__all__ = ["DemoClient"]

_WHO_I_AM = (
    "I am the **demo model**: I run offline and cannot really understand you, "
    "but I show how replies stream in."
)
_HOW_TO_CONNECT = (
    "To talk to a real model, set a few "
    "environment variables before starting Jupyter:\n\n"
    "- **OpenAI**: `OPENAI_API_KEY` (and optionally `LIVECHAT_MODEL`, "
    "e.g. `gpt-4o-mini`)\n"
    "- **Anthropic**: `ANTHROPIC_API_KEY` (and optionally `LIVECHAT_MODEL`)\n"
    "- **Ollama** or another local server: `LIVECHAT_PROVIDER=ollama` and "
    "`LIVECHAT_MODEL=llama3.2`, or `LIVECHAT_BASE_URL` for any "
    "OpenAI-compatible server\n\n"
    "For example:"
)
_EXAMPLE = [
    "```bash\nexport OPENAI_API_KEY=sk-...\nexport LIVECHAT_MODEL=gpt-4o-mini\njupyter lab\n```",
    "Then open a new chat and ask again.",
]


class DemoClient(BaseClient):
    """Offline and deterministic: streams a markdown reply (with a list and a code
    block) that quotes the last user message and explains how to connect a model.
    ``pace`` is pieces per second (0 = as fast as possible).

    Offered the kernel's tools, it calls them by a fixed script (``demo_tools``): a
    question about the kernel's data lists the variables and describes the first
    DataFrame; a ```python block the person asks to run is run. Once the calls
    returned, it quotes what they returned.

    Sent attachments, it says what it received ("I received an image (image/png,
    12 KB)..."), so the offline chat shows them going to the model."""

    provider = "demo"
    takes_images = True
    takes_files = True

    def __init__(self, pace: float = 40.0, *, model: str = "demo") -> None:
        if pace < 0:
            raise ValueError("pace must be >= 0")
        self.pace = float(pace)
        self.model = model

    def describe(self, model: str | None = None) -> str:
        if model and model != self.model:
            return f"{model} (demo, offline)"
        return "demo model (offline)"

    def __repr__(self) -> str:
        return f"DemoClient(provider='demo', model={self.model!r}, pace={self.pace})"

    @staticmethod
    def reply_text(messages: Iterable[ModelMessage | Mapping[str, Any]]) -> str:
        """The full reply the demo gives to ``messages``."""
        chat = as_model_messages(messages)
        asked = next((m for m in reversed(chat) if m.role == "user"), None)
        last = asked.text.strip() if asked is not None else ""
        received = _received(asked) if asked is not None else []
        turn = sum(1 for m in chat if m.role == "user")
        parts = []
        if last:
            quoted = last if len(last) <= 280 else last[:277].rstrip() + "..."
            quote = "\n".join("> " + line if line.strip() else ">" for line in quoted.splitlines())
            words = len(last.split())
            openers = (
                "You wrote:",
                "Here is what I received:",
                "Your message was:",
                "I read this from you:",
            )
            opener = openers[zlib.crc32(last.encode("utf-8", "replace")) % len(openers)]
            parts.append(
                f"{opener}\n\n{quote}\n\n"
                f"That is {words} word{'s' if words != 1 else ''} and "
                f"{len(last)} character{'s' if len(last) != 1 else ''}"
                f" (message {turn} of this chat)."
            )
        elif not received:
            parts.append("Hello! Send me a message and I will echo it back.")
        if received:
            parts.append(
                "\n".join(f"- {line}" for line in received)
                + "\n\nI am offline and cannot look inside them; a real model would read "
                "them with your message."
            )
        parts.append(f"{_WHO_I_AM} {_HOW_TO_CONNECT}")
        parts += _EXAMPLE
        return "\n\n".join(parts)

    @staticmethod
    def results_text(messages: Sequence[ModelMessage]) -> str:
        """The demo's answer once its tool calls returned: what each returned, quoted
        briefly, and how to connect a real model."""
        parts = ["Here is what the tools returned:"]
        for name, result in results_of_turn(messages):
            failed = " (it failed)" if result.is_error else ""
            parts.append(f"**{name}**{failed}:\n\n{_excerpt(result.content)}")
        parts.append(
            "I am the **demo model**: I call the kernel's tools by a fixed script, and "
            f"cannot really read what they return. {_HOW_TO_CONNECT}"
        )
        parts += _EXAMPLE
        return "\n\n".join(parts)

    async def _generate(
        self, messages: list[ModelMessage], state: ReplyStream
    ) -> AsyncGenerator[StreamEvent, None]:
        call = next_call(messages, {tool.name for tool in state.options.tools})
        if call is not None:
            text = call.intro
        elif messages and messages[-1].role == "tool":
            text = self.results_text(messages)
        else:
            text = self.reply_text(messages)
        pieces: list[StreamEvent] = [TextDelta(token) for token in _split_tokens(text)]
        if call is not None:
            call_id = f"call_demo_{calls_so_far(messages) + 1}"  # unique in the chat
            pieces += [
                ToolCallDelta(0, call_id, call.name),
                ToolCallDelta(0, None, None, call.arguments),
            ]
        delay = 1.0 / self.pace if self.pace > 0 else 0.0
        start = time.monotonic()
        for i, piece in enumerate(pieces):
            if delay:
                # Sleep to the schedule, so the pace holds however slow the consumer is.
                wait = start + i * delay - time.monotonic()
                await asyncio.sleep(max(wait, 0.0))
            elif i % 64 == 0:
                await asyncio.sleep(0)  # stay cancellable and let the loop breathe
            yield piece
        prompt = sum(_words(m) for m in messages)
        state.usage = {"prompt_tokens": prompt, "completion_tokens": len(pieces)}
        reason = "stop" if call is None else "tool_calls"
        state.finish_reason = state.provider_finish_reason = reason


def _size(n: int) -> str:
    """A byte count as a person reads it: 512 bytes, 12 KB, 3.4 MB."""
    if n < 1024:
        return f"{n} byte{'s' if n != 1 else ''}"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _received(message: ModelMessage) -> list[str]:
    """One line per attachment of ``message``: what the demo received."""
    lines = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            lines.append(f"I received an image ({part.media_type}, {_size(len(part.data))}).")
        elif isinstance(part, DocumentPart):
            lines.append(
                f"I received a document, {part.name} ({part.media_type}, {_size(len(part.data))})."
            )
        elif isinstance(part, FilePart):
            lines.append(
                f"I received a file, {part.name} ({part.media_type}), as "
                f"{_size(len(part.text.encode()))} of text."
            )
    return lines


def _words(message: ModelMessage) -> int:
    """The words of a message, its tool calls' arguments and results included."""
    words = len(message.text.split())
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            words += len(part.content.split())
        elif isinstance(part, ToolCallPart):
            words += len(part.arguments.split())
    return words


def _excerpt(text: str, lines: int = 8, chars: int = 400) -> str:
    """The start of ``text`` as a fenced block (a table's columns stay aligned)."""
    text = text.strip("\n").rstrip()
    if not text.strip():
        return "(nothing)"
    every = text.splitlines()
    short = "\n".join(every[:lines])
    if len(short) > chars:
        short = short[: chars - 3].rstrip() + "..."
    elif len(every) > lines:
        short += "\n..."
    fence = "~~~~" if "```" in short else "```"
    return f"{fence}text\n{short}\n{fence}"


_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def _split_tokens(text: str) -> list[str]:
    """Word-sized pieces, each with its leading whitespace (like most tokenizers)."""
    return _TOKEN_RE.findall(text)
