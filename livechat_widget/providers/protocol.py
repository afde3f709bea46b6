"""What the provider protocols share: the state of one response being turned into
events, surrogate mending, usage bookkeeping."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, Literal, Protocol, TypeAlias

from .base import ReplyStream
from .classify import ErrorInfo
from .errors import (
    AIError,
    ContextTooLong,
    ImagesUnsupported,
    ProviderError,
    StreamInterrupted,
    ToolsUnsupported,
)
from .events import ReasoningDelta, StreamEvent, TextDelta
from .sse import ServerSentEvent


class Speaker(Protocol):
    """What a response's protocol needs of its client: names to write messages with
    (the HTTP client, http_client.py)."""

    provider: str

    def who(self) -> str: ...
    def model_label(self, model: str | None) -> str: ...
    def in_stream_error(
        self,
        info: ErrorInfo,
        model: str | None = None,
        *,
        tools: bool = False,
        images: bool = False,
    ) -> AIError: ...


__all__ = [
    "MAX_MALFORMED_CHUNKS",
    "StreamProtocol",
    "TextMender",
    "text_event",
    "kept",
    "set_usage",
]

log = logging.getLogger(__name__)

#: Malformed chunks tolerated (skipped) before the stream fails with ProviderError.
MAX_MALFORMED_CHUNKS = 3

_SURROGATE_RE = re.compile("[\ud800-\udfff]")

TextKind: TypeAlias = Literal["text", "reasoning"]


def text_event(kind: TextKind, text: str) -> TextDelta | ReasoningDelta:
    """The event of a piece of text of this kind."""
    return ReasoningDelta(text) if kind == "reasoning" else TextDelta(text)


class TextMender:
    """Joins a UTF-16 surrogate pair that a server split across two chunks (JSON
    ``"\\ud83d"`` then ``"\\ude00"``) and turns lone surrogates into U+FFFD, so the
    text can always be encoded as UTF-8 (CSV, comm messages)."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: dict[TextKind, str] = {"text": "", "reasoning": ""}

    def mend(self, kind: TextKind, text: str) -> str:
        held = self.pending[kind]
        if held:
            text = held + text
            self.pending[kind] = ""
        if not text or not _SURROGATE_RE.search(text):
            return text
        if "\ud800" <= text[-1] <= "\udbff":  # a high surrogate: its pair may come next
            self.pending[kind] = text[-1]
            text = text[:-1]
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")

    def flush(self) -> list[StreamEvent]:
        held = [kind for kind, text in self.pending.items() if text]
        out: list[StreamEvent] = [text_event(kind, "\ufffd") for kind in held]
        self.pending = {"text": "", "reasoning": ""}
        return out


def kept(state: ReplyStream) -> str:
    """How an interrupted reply's message ends: the text so far is kept only if any came."""
    return " The text so far is kept; try again." if state.deltas else " Try again."


def set_usage(state: ReplyStream, prompt: Any, completion: Any) -> None:
    """Record token counts the provider reported (ignoring anything not an int)."""
    usage = dict(state.usage or {})
    if isinstance(prompt, int) and not isinstance(prompt, bool):
        usage["prompt_tokens"] = prompt
    if isinstance(completion, int) and not isinstance(completion, bool):
        usage["completion_tokens"] = completion
    if usage:
        state.usage = usage


class StreamProtocol:
    """Turns one response's server-sent events into stream events. ``on_event``
    returns the stream events of one server-sent event; ``done`` stops reading;
    ``finished`` means the provider said the reply is finished; ``error`` is raised
    after the events were yielded (and ``retryable`` says it may be retried, if
    nothing was yielded)."""

    def __init__(self, client: Speaker, state: ReplyStream) -> None:
        self.client = client
        self.state = state
        self.done = False
        self.finished = False
        self.error: AIError | None = None
        self.retryable = False
        self.malformed = 0
        self.got_content = False
        self.events = 0  # server-sent events received
        self.mender = TextMender()

    def on_event(self, event: ServerSentEvent) -> Iterable[StreamEvent]:
        raise NotImplementedError

    def at_end(self, pending: bool) -> list[StreamEvent]:
        """The last events once the body ended; raises if the reply is incomplete.
        ``pending``: the body ended inside an event."""
        raise NotImplementedError

    def fail(self, error: AIError, *, retryable: bool = False) -> None:
        self.error = error
        # Tools or images the server refuses are refused again.
        self.retryable = retryable and not isinstance(error, (ToolsUnsupported, ImagesUnsupported))
        self.done = True

    def provider_error(self, info: ErrorInfo) -> AIError:
        """The error for an error object the provider sent in this reply's stream."""
        state = self.state
        options = state.options
        return self.client.in_stream_error(
            info, self.model, tools=bool(options.tools), images=options.images
        )

    def skip_malformed(self, why: str) -> tuple[()]:
        self.malformed += 1
        log.warning("%s: skipped a malformed chunk (%s)", self.client.provider, why)
        if self.malformed >= MAX_MALFORMED_CHUNKS:
            self.fail(
                ProviderError(
                    f"{self.client.who()} sent {self.malformed} malformed chunks, so the "
                    f"reply cannot be trusted. Try again; if it keeps happening, the server "
                    f"may not be fully compatible."
                )
            )
        return ()

    def interrupted(self, pending: bool) -> AIError:
        if self.events == 0 and not pending:
            # Nothing at all: llama.cpp's server (and others) answer a prompt longer than
            # the model's context this way when streaming, though not when not streaming.
            return ContextTooLong(
                f"{self.client.who()} ended the reply without sending anything. Most likely "
                f"the conversation is too long for {self.model_name()}: continue with the "
                f"oldest turns left out, or start a new chat."
            )
        if self.got_content or self.state.deltas:
            what = "The connection closed before the reply was finished"
        else:
            what = "The connection closed before any reply arrived"
        cut = " (in the middle of a message)" if pending else ""
        return StreamInterrupted(f"{what}{cut}.{kept(self.state)}")

    @property
    def model(self) -> str | None:
        """The model this reply asked for, when not the client's own."""
        return self.state.options.model

    def model_name(self) -> str:
        return repr(self.client.model_label(self.model))
