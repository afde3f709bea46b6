"""The interface every client offers, and the stream a reply arrives in.

::

    stream = client.stream([{"role": "user", "content": "Hi"}])   # or ModelMessage
                                        # objects; options: model=, temperature=,
                                        # max_tokens= (None: the client's)
    async for event in stream:          # TextDelta, ReasoningDelta, ToolCallDelta,
        ...                             # then UsageEvent and FinishEvent (events.py)
    stream.finish_reason                # "stop", "length", "tool_calls", ... after the end
    stream.usage                        # {"prompt_tokens": .., "completion_tokens": ..} or None
    stream.stats                        # the reply's figures (ReplyStats), once it ended
    await stream.aclose()               # closes the HTTP response at once

The iteration ends normally only when the provider said the reply is finished; its
last event is then a ``FinishEvent``. Every other end raises a subclass of
:class:`~.errors.AIError` whose ``user_message`` a person can act on and whose
``partial_text`` is the text already yielded. Each stream measures its reply once,
and emits that measurement as one ``telemetry`` event when it ends, however it ends.

Finish reasons use OpenAI's vocabulary for every client (the raw value is kept in
``stream.provider_finish_reason``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable

from .. import telemetry
from ._format import safe_url
from .errors import AIError
from .events import FinishEvent, StreamEvent, UsageEvent
from .messages import (
    DocumentPart,
    FilePart,
    ImagePart,
    ModelMessage,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    as_model_messages,
    carries_images,
    unsupported,
)

__all__ = [
    "BaseClient",
    "ChatClient",
    "ChatStream",
    "ReplyOptions",
    "ReplyStats",
    "ReplyStream",
    "check_client",
    "takes_tools",
]

C = TypeVar("C", bound="BaseClient")


class ReplyOptions(NamedTuple):
    """What one reply asks for beyond the messages; None: the client's own choice."""

    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()  # the tools the model may call in this reply
    images: bool = False  # the messages carry images (a refusal may be about them)


@dataclass(frozen=True, slots=True)
class ReplyStats:
    """One reply, measured once while it streamed (``ReplyStream.stats``): the
    telemetry event and the chat's ``usage`` row both read these figures."""

    ttft_ms: float | None  # from stream() to the first text, reasoning or tool call
    generation_s: float | None  # from that first event to the end
    total_ms: float  # from stream() to the end
    deltas: int  # text, reasoning and tool-call events yielded
    prompt_tokens: int | None  # as the provider reported them
    completion_tokens: int | None
    tokens_per_s: float | None  # completion tokens (else deltas) / generation time
    outcome: str  # "completed", "stopped" or the error class name
    finish_reason: str | None

    @property
    def reported(self) -> dict[str, int] | None:
        """The provider's token counts, if it sent any."""
        counts = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}
        reported = {k: v for k, v in counts.items() if v is not None}
        return reported or None


class ChatStream(Protocol):
    """What ``client.stream(...)`` returns: an async iterator of events that can be
    closed at any time, with the reply's figures once it ended."""

    def __aiter__(self) -> AsyncIterator[StreamEvent]: ...

    async def __anext__(self) -> StreamEvent: ...

    @property
    def stats(self) -> ReplyStats | None: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChatClient(Protocol):
    """What the widget and the session need of a client: the demo, the HTTP clients,
    or one's own (subclass ``BaseClient`` and write ``_generate`` and
    ``describe``)."""

    @property
    def provider(self) -> str:
        """ "openai", "anthropic", "ollama", "demo", ..."""
        ...

    @property
    def model(self) -> str:
        """The model replies ask for unless a chat names another; "" when the server
        chooses (``resolve_model`` asks it which)."""
        ...

    @property
    def max_temperature(self) -> float:
        """The highest temperature the provider accepts."""
        ...

    @property
    def base_url(self) -> str:
        """The server's URL as configured ("" without a server); never shown."""
        ...

    @property
    def safe_base_url(self) -> str:
        """``base_url`` without credentials or query ("" without a server)."""
        ...

    def stream(
        self,
        messages: Iterable[ModelMessage | Mapping[str, Any]],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> ChatStream:
        """A reply to ``messages``; the options override the client's for this reply.
        A client whose ``supports_tools`` is true also takes ``tools=`` (a sequence of
        ToolSpec); the session passes it to no other."""
        ...

    def describe(self, model: str | None = None) -> str:
        """A short label of the client, naming ``model`` instead of its own if given."""
        ...

    async def resolve_model(self) -> str:
        """The model replies ask for: ``model``, else the one the server names."""
        ...

    async def list_models(self) -> list[str]:
        """The models the provider offers ([] when it has no list)."""
        ...

    async def aclose(self) -> None: ...


def check_client(client: object) -> ChatClient:
    """``client`` if it offers every member of :class:`ChatClient`; else a TypeError
    naming what it lacks."""
    if isinstance(client, ChatClient):
        return client
    missing = [m for m in _MEMBERS if not hasattr(client, m)]
    raise TypeError(
        f"{type(client).__name__} is not a chat client: it has no "
        f"{', '.join(missing)}. Subclass livechat_widget.providers.base.BaseClient "
        f"(write _generate and describe) to make one."
    )


def takes_tools(client: ChatClient) -> bool:
    """Whether ``client.stream`` is given ``tools=``: its ``supports_tools`` says so and
    its ``stream`` has the parameter (a client written before tools keeps working)."""
    if getattr(client, "supports_tools", False) is not True:
        return False
    try:
        parameters = inspect.signature(client.stream).parameters
    except (TypeError, ValueError):
        return False
    return "tools" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


_MEMBERS = (
    "aclose",
    "base_url",
    "describe",
    "list_models",
    "max_temperature",
    "model",
    "provider",
    "resolve_model",
    "safe_base_url",
    "stream",
)


class ReplyStream:
    """The object returned by ``client.stream(messages)``: an async iterator of
    :data:`~.events.StreamEvent`, with ``finish_reason``, ``usage`` and ``stats``
    once it ended.

    ``generate`` yields the text, reasoning and tool-call events and records what the
    provider reported on the stream (``finish_reason``, ``usage``); when it ends, the
    stream adds the ``UsageEvent`` (if any counts came) and the ``FinishEvent``."""

    def __init__(
        self,
        client: ChatClient,
        generate: Callable[[ReplyStream], AsyncGenerator[StreamEvent, None]],
        options: ReplyOptions | None = None,
    ) -> None:
        self.client = client
        self.options = options or ReplyOptions()
        self.finish_reason: str | None = None
        self.provider_finish_reason: str | None = None
        self.usage: dict[str, int] | None = None
        self.deltas = 0  # text, reasoning and tool-call events yielded
        #: "completed", "stopped" or the error class name, once the stream ended.
        self.outcome: str | None = None
        self._stats: ReplyStats | None = None
        self._text_parts: list[str] = []
        self._tail: list[StreamEvent] = []  # usage and finish, once `generate` ended
        self._start = time.perf_counter()
        self._first: float | None = None
        self._gen = generate(self)

    @property
    def text(self) -> str:
        """The answer text yielded so far (reasoning excluded)."""
        return "".join(self._text_parts)

    @property
    def stats(self) -> ReplyStats | None:
        """The reply's figures; ``None`` until the stream ended."""
        return self._stats

    def __aiter__(self) -> ReplyStream:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._tail:
            return self._tail.pop(0)
        if self.outcome is not None:
            raise StopAsyncIteration
        try:
            event = await self._gen.__anext__()
        except StopAsyncIteration:
            self._end("completed")
            self._tail = self._last_events()
            return self._tail.pop(0)
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
        self.deltas += 1
        if event.kind == "text":
            self._text_parts.append(event.text)
        return event

    def _last_events(self) -> list[StreamEvent]:
        usage = self.usage
        tail: list[StreamEvent] = []
        if usage:
            tail.append(UsageEvent(usage.get("prompt_tokens"), usage.get("completion_tokens")))
        tail.append(FinishEvent(self.finish_reason or "stop", self.provider_finish_reason))
        return tail

    async def aclose(self) -> None:
        """Stop: close the HTTP response now. Safe to call at any time, repeatedly."""
        if self.outcome is None:
            self._end("stopped")
        self._tail = []
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
        generated = completion if completion is not None else self.deltas
        generation_s = None if first is None else end - first
        # A reply that came whole (not streamed) has no generation time to speak of:
        # its speed is over the whole request.
        span = generation_s if generation_s and generation_s >= 0.005 else end - self._start
        tokens_per_s = generated / span if generated and span > 0 and first else None
        stats = self._stats = ReplyStats(
            ttft_ms=None if first is None else (first - self._start) * 1000.0,
            generation_s=generation_s,
            total_ms=(end - self._start) * 1000.0,
            deltas=self.deltas,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=completion,
            tokens_per_s=tokens_per_s,
            outcome=outcome,
            finish_reason=self.finish_reason,
        )
        client = self.client
        telemetry.emit(
            telemetry.LATENCY_EVENT,
            {
                "ttft_ms": stats.ttft_ms,
                "total_ms": stats.total_ms,
                "pieces": stats.deltas,
                "completion_tokens": completion,
                "tokens_per_s": tokens_per_s,
                "provider": client.provider,
                "model": self.options.model or client.model,
                "outcome": outcome,
                "client": client,
                "stats": stats,
            },
        )

    def __repr__(self) -> str:
        return f"<ReplyStream {self.client.provider} deltas={self.deltas} outcome={self.outcome}>"


_SENDABLE = (TextPart, ToolCallPart, ToolResultPart)
# A tool call is the assistant's; a tool result is a tool message's; what the person
# attached is the person's.
_PLACE: dict[type[Part], str] = {
    ToolCallPart: "assistant",
    ToolResultPart: "tool",
    ImagePart: "user",
    FilePart: "user",
    DocumentPart: "user",
}
# The attachment parts, and the client attribute that says it translates them.
_TAKES: dict[type[Part], str] = {
    ImagePart: "takes_images",
    FilePart: "takes_files",
    DocumentPart: "takes_files",
}


def _check_part(part: Part, role: str, client: object) -> None:
    """Raise TypeError for a part ``client`` cannot send, or one in the wrong message."""
    who = type(client).__name__
    flag = _TAKES.get(type(part))
    if flag is not None:
        if getattr(client, flag, False) is not True:
            raise TypeError(
                f"{who} cannot send a {type(part).__name__}: its {flag} is not True. Send "
                f"text only, or set {flag} = True and translate the part in _generate."
            )
    elif not isinstance(part, _SENDABLE):
        raise unsupported(part, who)
    place = _PLACE.get(type(part))
    if place is not None and role != place:
        raise TypeError(f"a {type(part).__name__} belongs in {place} messages, not in {role} ones")


class BaseClient:
    """Shared by the clients here: ``stream`` wraps the subclass's ``_generate``.
    A client of one's own subclasses it and writes ``_generate`` and ``describe``."""

    provider = "?"
    model = "?"
    base_url = ""  # no server
    #: ``stream`` takes ``tools=``; a subclass's ``_generate`` finds them in
    #: ``state.options.tools`` (one that ignores them just never calls a tool).
    supports_tools = True
    #: ``stream`` takes ImageParts (``takes_images``), and FileParts and DocumentParts
    #: (``takes_files``): a client that translates them says so; for any other, they
    #: are a TypeError before any request.
    takes_images = False
    takes_files = False

    #: The highest temperature the provider accepts.
    max_temperature = 2.0

    @property
    def safe_base_url(self) -> str:
        return safe_url(self.base_url) if self.base_url else ""

    def stream(
        self,
        messages: Iterable[ModelMessage | Mapping[str, Any]],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: Iterable[ToolSpec] = (),
    ) -> ReplyStream:
        """Start a reply to ``messages`` (``ModelMessage`` objects or
        ``{"role", "content"}`` dicts); ``model``, ``temperature`` and ``max_tokens``
        override the client's for this reply; ``tools`` are the tools the model may
        call. Raises TypeError, before any request, for a part the client cannot send."""
        chat = as_model_messages(messages)
        for message in chat:
            for part in message.parts:
                _check_part(part, message.role, self)
        images = carries_images(chat)
        options = ReplyOptions(model or None, temperature, max_tokens, tuple(tools), images)
        return ReplyStream(self, lambda state: self._generate(chat, state), options)

    async def resolve_model(self) -> str:
        """The model to ask for: the client's own (a server may choose: see
        OpenAICompatibleClient)."""
        return self.model

    async def list_models(self) -> list[str]:
        """The models the provider offers (its list endpoint; [] when it has none)."""
        return [self.model] if self.model else []

    def _generate(
        self, messages: list[ModelMessage], state: ReplyStream
    ) -> AsyncGenerator[StreamEvent, None]:
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
