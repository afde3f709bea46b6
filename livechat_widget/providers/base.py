"""The interface every client offers, and the stream a reply arrives in.

::

    stream = client.stream([{"role": "user", "content": "Hi"}])   # options: model=,
                                        # temperature=, max_tokens= (None: the client's)
    async for piece in stream:          # Piece(kind="text" | "reasoning", text=...)
        ...
    stream.finish_reason                # "stop", "length", "tool_calls", ... after the end
    stream.usage                        # {"prompt_tokens": .., "completion_tokens": ..} or None
    stream.stats                        # the reply's figures, once it ended
    await stream.aclose()               # closes the HTTP response at once

The iteration ends normally only when the provider said the reply is finished.
Every other end raises a subclass of :class:`~.errors.AIError` whose
``user_message`` a person can act on and whose ``partial_text`` is the text already
yielded. Each stream emits one ``telemetry`` event when it ends, however it ends.

Finish reasons use OpenAI's vocabulary for every client (the raw value is kept in
``stream.provider_finish_reason``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol, TypedDict, TypeVar, runtime_checkable

from .. import telemetry
from .errors import AIError

__all__ = [
    "BaseClient",
    "ChatClient",
    "Piece",
    "ReplyOptions",
    "ReplyStats",
    "ReplyStream",
    "chat_messages",
]

_CHAT_ROLES = frozenset({"system", "user", "assistant"})

C = TypeVar("C", bound="BaseClient")


class Piece(NamedTuple):
    """One piece of a reply: ``kind`` is "text" (the answer) or "reasoning"."""

    kind: str
    text: str


class ReplyOptions(NamedTuple):
    """What one reply asks for beyond the messages; None: the client's own choice."""

    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


class ReplyStats(TypedDict):
    """A finished reply's figures (``ReplyStream.stats``)."""

    ttft_ms: float | None  # time to the first piece (text or reasoning)
    tokens_per_s: float | None  # completion tokens (or pieces) / generation time
    pieces: int
    completion_tokens: int | None  # as the provider reported them
    prompt_tokens: int | None
    outcome: str  # "completed", "stopped" or the error class name
    finish_reason: str | None


@runtime_checkable
class ChatClient(Protocol):
    """What the widget needs of a client (the demo, the HTTP clients, a test double)."""

    def stream(self, messages: Iterable[Mapping[str, Any]]) -> ReplyStream:
        """A chat's settings, when it has any, come as keyword arguments: ``model``,
        ``temperature``, ``max_tokens`` (only those set; a client that takes none
        still serves chats that set none)."""
        ...

    def describe(self) -> str: ...

    async def aclose(self) -> None: ...


class ReplyStream:
    """The object returned by ``client.stream(messages)``: an async iterator of
    :class:`Piece`, with ``finish_reason`` and ``usage`` once it ended normally."""

    def __init__(
        self,
        client: Any,
        generate: Callable[[ReplyStream], AsyncGenerator[Piece, None]],
        options: ReplyOptions | None = None,
    ) -> None:
        self.client = client
        self.options = options or ReplyOptions()
        self.finish_reason: str | None = None
        self.provider_finish_reason: str | None = None
        self.usage: dict[str, int] | None = None
        self.pieces = 0
        #: "completed", "stopped" or the error class name, once the stream ended.
        self.outcome: str | None = None
        self._stats: ReplyStats | None = None
        self._text_parts: list[str] = []
        self._start = time.perf_counter()
        self._first: float | None = None
        self._gen = generate(self)

    @property
    def text(self) -> str:
        """The answer text yielded so far (reasoning excluded)."""
        return "".join(self._text_parts)

    @property
    def stats(self) -> ReplyStats | None:
        """Time to first piece, tokens per second, counts, outcome and finish reason;
        ``None`` until the stream ended (so a widget can read them off the stream)."""
        return None if self._stats is None else ReplyStats(**self._stats)

    def __aiter__(self) -> ReplyStream:
        return self

    async def __anext__(self) -> Piece:
        if self.outcome is not None:
            raise StopAsyncIteration
        try:
            piece = await self._gen.__anext__()
        except StopAsyncIteration:
            self._end("completed")
            raise
        except AIError as exc:
            if not exc.partial_text:
                exc.partial_text = self.text
            self._end(type(exc).__name__)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self._end("stopped")
            raise
        except BaseException as exc:
            self._end(type(exc).__name__)
            raise
        if self._first is None:
            self._first = time.perf_counter()
        self.pieces += 1
        if piece.kind == "text":
            self._text_parts.append(piece.text)
        return piece

    async def aclose(self) -> None:
        """Stop: close the HTTP response now. Safe to call at any time, repeatedly."""
        if self.outcome is None:
            self._end("stopped")
        await self._gen.aclose()

    async def collect(self) -> str:
        """Iterate to the end and return the answer text (a convenience for scripts)."""
        async for _ in self:
            pass
        return self.text

    def _end(self, outcome: str) -> None:
        if self.outcome is not None:
            return
        self.outcome = outcome
        end = time.perf_counter()
        first = self._first
        usage = self.usage or {}
        completion = usage.get("completion_tokens")
        generated = completion if completion is not None else self.pieces
        tokens_per_s = None
        if first is not None and generated and end - first > 0:
            tokens_per_s = generated / (end - first)
        ttft_ms = None if first is None else (first - self._start) * 1000.0
        self._stats = ReplyStats(
            ttft_ms=ttft_ms,
            tokens_per_s=tokens_per_s,
            pieces=self.pieces,
            completion_tokens=completion,
            prompt_tokens=usage.get("prompt_tokens"),
            outcome=outcome,
            finish_reason=self.finish_reason,
        )
        client = self.client
        telemetry.emit(
            telemetry.LATENCY_EVENT,
            {
                "ttft_ms": ttft_ms,
                "total_ms": (end - self._start) * 1000.0,
                "pieces": self.pieces,
                "completion_tokens": completion,
                "tokens_per_s": tokens_per_s,
                "provider": getattr(client, "provider", "?"),
                "model": self.options.model or getattr(client, "model", "?"),
                "outcome": outcome,
                "client": client,
            },
        )

    def __repr__(self) -> str:
        return (
            f"<ReplyStream {getattr(self.client, 'provider', '?')} pieces={self.pieces} "
            f"outcome={self.outcome}>"
        )


def chat_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Role and content of each chat message. Rows with other roles (events such as
    a ``title`` row) are left out; content must be a string."""
    out = []
    for message in messages:
        role = message.get("role")
        if role not in _CHAT_ROLES:
            continue
        content = message.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError(f"message content must be a string, not {type(content).__name__}")
        out.append({"role": str(role), "content": content})
    return out


class BaseClient:
    """Shared by the clients here: ``stream`` wraps the subclass's ``_generate``."""

    provider = "?"
    model = "?"

    #: The highest temperature the provider accepts.
    max_temperature = 2.0

    def stream(
        self,
        messages: Iterable[Mapping[str, Any]],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ReplyStream:
        """Start a reply to ``messages`` (a list of ``{"role", "content"}``); ``model``,
        ``temperature`` and ``max_tokens`` override the client's for this reply."""
        chat = chat_messages(messages)
        options = ReplyOptions(model or None, temperature, max_tokens)
        return ReplyStream(self, lambda state: self._generate(chat, state), options)

    async def list_models(self) -> list[str]:
        """The models the provider offers (its list endpoint; [] when it has none)."""
        return [self.model] if self.model else []

    def _generate(
        self, messages: list[dict[str, str]], state: ReplyStream
    ) -> AsyncGenerator[Piece, None]:
        raise NotImplementedError

    def describe(self, model: str | None = None) -> str:
        """A short label of the client, naming ``model`` instead of its own if given."""
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
