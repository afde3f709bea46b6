"""How many tokens a model takes, and how many the next request of a chat would send.

The window comes from the chat's ``context_window`` setting when it has one, else from
the provider where it says, asked once per model and kept for the session:

- a llama.cpp server's ``GET /props`` (``default_generation_settings.n_ctx``, newer
  builds also ``n_ctx`` at its top level): the context each slot really has;
- an OpenAI-compatible model list whose entry for the model carries it: OpenRouter's
  ``context_length``, vLLM's ``max_model_len``, LM Studio's ``max_context_length`` /
  ``loaded_context_length``, or a ``context_window`` field (Groq).

Anything else (OpenAI, Anthropic, Ollama, the demo) leaves it unknown: no gauge until
the chat sets one. The provider is asked in a task on the kernel's loop, on a
connection of its own, never blocking a handler. No base URL leaves this module.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence

from .providers.base import ChatClient
from .providers.messages import ModelMessage, TextPart, ToolCallPart, ToolResultPart
from .reply_usage import CHARS_PER_TOKEN, Usage

log = logging.getLogger(__name__)

ASK_TIMEOUT_S = 10.0  # a server that does not answer this quickly is left unasked
WINDOW_KEYS = (
    "context_length",
    "max_model_len",
    "max_context_length",
    "loaded_context_length",
    "context_window",
)


def _tokens(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value > 0 else None


def window_from_props(obj: object) -> int | None:
    """``n_ctx`` from a llama.cpp server's ``/props`` body; None if it has none."""
    if not isinstance(obj, Mapping):
        return None
    settings = obj.get("default_generation_settings")
    if isinstance(settings, Mapping) and _tokens(settings.get("n_ctx")):
        return _tokens(settings.get("n_ctx"))
    return _tokens(obj.get("n_ctx"))


def window_from_models(obj: object, model: str) -> int | None:
    """The window the model list's entry for ``model`` carries (the only entry when
    the list has one); None when it carries none."""
    if not isinstance(obj, Mapping):
        return None
    entries = [e for e in (obj.get("data") or obj.get("models") or []) if isinstance(e, Mapping)]
    named = [e for e in entries if model and model in (e.get("id"), e.get("name"), e.get("model"))]
    entry = named[0] if named else entries[0] if len(entries) == 1 else None
    if entry is None:
        return None
    for place in (entry, entry.get("top_provider"), entry.get("meta")):
        if isinstance(place, Mapping):
            for key in WINDOW_KEYS:
                if _tokens(place.get(key)):
                    return _tokens(place.get(key))
    return None


async def provider_window(client: ChatClient, model: str) -> int | None:
    """Ask an OpenAI-compatible server for ``model``'s window (see the module docstring)."""
    from .providers.openai import OpenAICompatibleClient

    if not isinstance(client, OpenAICompatibleClient) or client.provider == "ollama":
        return None
    import httpx

    headers = {k: v for k, v in client._headers().items() if k != "accept"}
    root = client.base_url[:-3] if client.base_url.endswith("/v1") else client.base_url
    urls = [] if client.provider != "openai-compatible" else [(root + "/props", "props")]
    urls.append((client.base_url + "/models", "models"))
    timeout = httpx.Timeout(ASK_TIMEOUT_S, connect=min(ASK_TIMEOUT_S, client.timeouts.connect))
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
        for url, kind in urls:
            try:
                response = await http.get(url, headers=headers)
                body = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as exc:
                log.info("could not ask for the context window (%s)", type(exc).__name__)
                continue
            found = window_from_props(body) if kind == "props" else window_from_models(body, model)
            if found:
                return found
    return None


class ContextWindows:
    """The provider's window for each model, asked once and kept (None: it did not say)."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.known: dict[str, int | None] = {}
        self._tasks: dict[str, asyncio.Task[int | None]] = {}  # referenced until they end

    def get(self, model: str, then: Callable[[], None] | None = None) -> int | None:
        """The window if known; else ask (once) and call ``then`` when the answer came."""
        if model in self.known or model in self._tasks:
            return self.known.get(model)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # no loop here: the next call from the kernel's loop asks
        task = loop.create_task(provider_window(self.client, model))
        self._tasks[model] = task

        def done(task: asyncio.Task[int | None]) -> None:
            self._tasks.pop(model, None)
            failed = task.cancelled() or task.exception() is not None
            if failed and not task.cancelled():
                log.info("could not ask for the context window: %s", task.exception())
            self.known[model] = None if failed else task.result()
            if then is not None and self.known[model] is not None:
                then()

        task.add_done_callback(done)
        return None


def message_chars(message: ModelMessage) -> int:
    """The characters of a model message the model reads as text (images left out)."""
    chars = 0
    for part in message.parts:
        if isinstance(part, TextPart):
            chars += len(part.text)
        elif isinstance(part, ToolCallPart):
            chars += len(part.name) + len(part.arguments)
        elif isinstance(part, ToolResultPart):
            chars += len(part.content)
        else:
            chars += len(getattr(part, "text", ""))
    return chars


def request_tokens(history: Sequence[ModelMessage], last: Usage | None) -> tuple[int, bool]:
    """(tokens, estimated) of a request sending ``history`` (system prompt included).
    ``last``: the usage of the reply that ends it, when the history has not been
    shortened since: the provider's count of that request and reply, if larger."""
    chars = sum(message_chars(m) for m in history)
    estimate = math.ceil(chars / CHARS_PER_TOKEN)
    if last is None or last.estimated:
        return estimate, True
    step = last.steps[-1] if last.steps else last
    reported = (step.prompt_tokens or 0) + (step.completion_tokens or 0)
    return (estimate, True) if estimate > reported else (reported, False)
