"""What a reply stream yields: one typed event per thing the model said.

::

    async for event in client.stream(messages):
        match event.kind:
            case "text":        event.text            # a piece of the answer
            case "reasoning":   event.text            # a piece of the model's thinking
            case "tool_call":   event.index, event.id, event.name, event.arguments
            case "usage":       event.prompt_tokens, event.completion_tokens
            case "finish":      event.reason          # OpenAI's vocabulary, for every client

A stream that ends normally ends with one ``FinishEvent``, after one ``UsageEvent``
when the provider counted the tokens. Tool calls arrive in pieces, as OpenAI streams
them: the first ``ToolCallDelta`` of a call names its ``id`` and ``name``; the later
ones of the same ``index`` carry pieces of its JSON ``arguments`` (``id`` and ``name``
None), to be joined in order. A reply may make several calls (``index`` 0, 1, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "FinishEvent",
    "ReasoningDelta",
    "StreamEvent",
    "TextDelta",
    "ToolCallDelta",
    "UsageEvent",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer."""

    text: str
    kind: Literal["text"] = field(default="text", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the reasoning the model shows before (or between) its answer."""

    text: str
    kind: Literal["reasoning"] = field(default="reasoning", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of the ``index``-th tool call of the reply: its ``id`` and ``name``
    when it starts (None after), then pieces of its JSON ``arguments``."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    kind: Literal["tool_call"] = field(default="tool_call", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """The tokens the provider counted for this reply (None: not reported)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    kind: Literal["usage"] = field(default="usage", init=False, repr=False)


@dataclass(frozen=True, slots=True)
class FinishEvent:
    """The provider said the reply is finished: ``reason`` in OpenAI's vocabulary
    ("stop", "length", "tool_calls", ...), ``provider_reason`` as the provider said it
    (None when it named none)."""

    reason: str
    provider_reason: str | None = None
    kind: Literal["finish"] = field(default="finish", init=False, repr=False)


StreamEvent: TypeAlias = TextDelta | ReasoningDelta | ToolCallDelta | UsageEvent | FinishEvent
"""One event of a reply stream; ``kind`` tells which."""
