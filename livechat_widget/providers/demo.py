"""The offline demo client: deterministic, needs no network, and is the default when
nothing is configured. Its reply shows how markdown streams in and says how to
connect a real model."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any

from .base import BaseClient, ReplyStream
from .events import StreamEvent, TextDelta
from .messages import ModelMessage, as_model_messages

__all__ = ["DemoClient"]


class DemoClient(BaseClient):
    """Offline and deterministic: streams a markdown reply (with a list and a code
    block) that quotes the last user message and explains how to connect a model.
    ``pace`` is pieces per second (0 = as fast as possible)."""

    provider = "demo"

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
        last = next((m.text for m in reversed(chat) if m.role == "user"), "")
        last = last.strip()
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
        else:
            parts.append("Hello! Send me a message and I will echo it back.")
        parts.append(
            "I am the **demo model**: I run offline and cannot really understand you, "
            "but I show how replies stream in. To talk to a real model, set a few "
            "environment variables before starting Jupyter:\n\n"
            "- **OpenAI**: `OPENAI_API_KEY` (and optionally `LIVECHAT_MODEL`, "
            "e.g. `gpt-4o-mini`)\n"
            "- **Anthropic**: `ANTHROPIC_API_KEY` (and optionally `LIVECHAT_MODEL`)\n"
            "- **Ollama** or another local server: `LIVECHAT_PROVIDER=ollama` and "
            "`LIVECHAT_MODEL=llama3.2`, or `LIVECHAT_BASE_URL` for any "
            "OpenAI-compatible server\n\n"
            "For example:"
        )
        parts.append(
            "```bash\n"
            "export OPENAI_API_KEY=sk-...\n"
            "export LIVECHAT_MODEL=gpt-4o-mini\n"
            "jupyter lab\n"
            "```"
        )
        parts.append("Then open a new chat and ask again.")
        return "\n\n".join(parts)

    async def _generate(
        self, messages: list[ModelMessage], state: ReplyStream
    ) -> AsyncGenerator[StreamEvent, None]:
        text = self.reply_text(messages)
        tokens = _split_tokens(text)
        delay = 1.0 / self.pace if self.pace > 0 else 0.0
        start = time.monotonic()
        for i, token in enumerate(tokens):
            if delay:
                # Sleep to the schedule, so the pace holds however slow the consumer is.
                wait = start + i * delay - time.monotonic()
                await asyncio.sleep(max(wait, 0.0))
            elif i % 64 == 0:
                await asyncio.sleep(0)  # stay cancellable and let the loop breathe
            yield TextDelta(token)
        prompt = sum(len(m.text.split()) for m in messages)
        state.usage = {"prompt_tokens": prompt, "completion_tokens": len(tokens)}
        state.finish_reason = state.provider_finish_reason = "stop"


_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def _split_tokens(text: str) -> list[str]:
    """Word-sized pieces, each with its leading whitespace (like most tokenizers)."""
    return _TOKEN_RE.findall(text)
