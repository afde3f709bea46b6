"""Anthropic's Messages API, streamed natively.

A turn's content is its text alone, as a string, unless it holds another part; then
it is a list of content blocks, in the message's order: ``text``; ``tool_use`` and
``tool_result``; an image as ``{"type": "image", "source": {"type": "base64",
"media_type", "data"}}``; a file's text as a ``text`` block framed by
``messages.file_text``; a PDF as ``{"type": "document", "source": {"type": "base64",
"media_type": "application/pdf", "data"}, "title": <its name>}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from ._format import join_url
from .base import ReplyOptions, ReplyStream
from .classify import error_info
from .config import DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_MODEL
from .errors import ContentFiltered, ProviderError
from .events import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta
from .http_client import HTTPClient
from .messages import (
    DocumentPart,
    FilePart,
    ImagePart,
    ModelMessage,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    file_text,
    unsupported,
)
from .protocol import StreamProtocol, TextKind, set_usage, text_event
from .sse import ServerSentEvent

__all__ = ["ANTHROPIC_VERSION", "AnthropicClient"]

ANTHROPIC_VERSION = "2023-06-01"

_ANTHROPIC_STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "model_context_window_exceeded": "length",
}


class _AnthropicProtocol(StreamProtocol):
    def __init__(self, client: HTTPClient, state: ReplyStream) -> None:
        super().__init__(client, state)
        self.tools: dict[int, int] = {}  # content block index -> tool call index

    def on_event(self, event: ServerSentEvent) -> Iterable[StreamEvent]:
        try:
            obj = json.loads(event.data)
        except ValueError:
            return self.skip_malformed("not JSON")
        if not isinstance(obj, dict):
            return self.skip_malformed("not a JSON object")
        kind = obj.get("type") or event.event
        if kind == "content_block_delta":
            return self._block_delta(obj, event)
        if kind == "ping" or kind == "content_block_stop":
            return ()
        if kind == "message_start":
            message = obj.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if isinstance(usage, dict):
                set_usage(self.state, _input_tokens(usage), usage.get("output_tokens"))
            return ()
        if kind == "content_block_start":
            return self._block_start(obj, event)
        if kind == "message_delta":
            delta = obj.get("delta")
            usage = obj.get("usage")
            if isinstance(usage, dict):
                set_usage(self.state, _input_tokens(usage), usage.get("output_tokens"))
            stop = delta.get("stop_reason") if isinstance(delta, dict) else None
            if stop is not None:
                self._stop(str(stop))
            return ()
        if kind == "message_stop":
            self.done = True
            if self.state.finish_reason is None:
                self.state.finish_reason = "stop"
            self.finished = True
            return ()
        if kind == "error":
            info = error_info(obj)
            self.fail(
                self.provider_error(info),
                retryable=info.type in ("overloaded_error", "api_error", "rate_limit_error")
                and not self.got_content,
            )
            return ()
        return ()  # an event type added after this was written

    def _block_start(self, obj: dict[str, Any], event: ServerSentEvent) -> Iterable[StreamEvent]:
        block = obj.get("content_block")
        if not isinstance(block, dict):
            return ()
        btype = block.get("type")
        if btype == "text" and block.get("text"):
            return self._text("text", block.get("text"), event)
        if btype == "thinking" and block.get("thinking"):
            return self._text("reasoning", block.get("thinking"), event)
        if btype == "tool_use":  # {id, name, input: {}}; the input follows in pieces
            index = obj.get("index")
            call = self.tools.setdefault(index if isinstance(index, int) else -1, len(self.tools))
            call_id, name = block.get("id"), block.get("name")
            self.got_content = True
            return (
                ToolCallDelta(
                    call,
                    call_id if isinstance(call_id, str) else None,
                    name if isinstance(name, str) else None,
                ),
            )
        return ()  # server_tool_use, redacted_thinking, ...

    def _block_delta(self, obj: dict[str, Any], event: ServerSentEvent) -> Iterable[StreamEvent]:
        delta = obj.get("delta")
        if not isinstance(delta, dict):
            return self.skip_malformed("delta is not an object")
        dtype = delta.get("type")
        if dtype == "text_delta":
            return self._text("text", delta.get("text"), event)
        if dtype == "thinking_delta":
            return self._text("reasoning", delta.get("thinking"), event)
        if dtype == "input_json_delta":
            index = obj.get("index")
            call = self.tools.get(index if isinstance(index, int) else -1)
            piece = delta.get("partial_json")
            if call is None or not isinstance(piece, str):
                return self.skip_malformed("input_json_delta of no tool_use block")
            return (ToolCallDelta(call, arguments=piece),) if piece else ()
        return ()  # signature_delta, citations_delta, ...

    def _text(self, kind: TextKind, text: Any, event: ServerSentEvent) -> Iterable[StreamEvent]:
        if not isinstance(text, str):
            return self.skip_malformed(f"{kind} is {type(text).__name__}")
        if not text:
            return ()
        self.got_content = True
        mender = self.mender
        if mender.pending[kind] or "\\u" in event.data:
            text = mender.mend(kind, text)
            if not text:
                return ()
        return (text_event(kind, text),)

    def _stop(self, reason: str) -> None:
        state = self.state
        state.provider_finish_reason = reason
        if reason == "refusal":
            state.finish_reason = reason
            self.fail(
                ContentFiltered(
                    "Claude declined to continue this reply (refusal). Rephrase the message and "
                    "try again."
                )
            )
            return
        state.finish_reason = _ANTHROPIC_STOP.get(reason, reason)
        self.finished = True

    def at_end(self, pending: bool) -> list[StreamEvent]:
        tail = self.mender.flush()
        if self.finished:
            return tail
        raise self.interrupted(pending)


def _input_tokens(usage: Mapping[str, Any]) -> int | None:
    total = 0
    found = False
    for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            total += value
            found = True
    return total if found else None


# A turn's content: its text alone as a string (as text-only turns were always sent),
# or a list of content blocks once a tool call, a tool result or an attachment is in it.
Content: TypeAlias = str | list[dict[str, Any]]


def _base64(media_type: str, data: bytes) -> dict[str, str]:
    """A block's ``source``: the bytes inline, base64."""
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}


def _content(message: ModelMessage, who: str) -> Content:
    """``message`` as a turn's content; "" when it has nothing to send."""
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            blocks.append({"type": "image", "source": _base64(part.media_type, part.data)})
        elif isinstance(part, FilePart):
            blocks.append({"type": "text", "text": file_text(part)})
        elif isinstance(part, DocumentPart):
            source = _base64(part.media_type, part.data)
            blocks.append({"type": "document", "source": source, "title": part.name})
        elif isinstance(part, ToolCallPart):
            blocks.append(
                {"type": "tool_use", "id": part.id, "name": part.name, "input": _input(part)}
            )
        elif isinstance(part, ToolResultPart):
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": part.tool_call_id,
                "content": part.content,
            }
            if part.is_error:
                result["is_error"] = True
            blocks.append(result)
        else:
            raise unsupported(part, who)
    if all(isinstance(part, TextPart) for part in message.parts):
        return message.text if message.text.strip() else ""
    return blocks


def _input(call: ToolCallPart) -> dict[str, Any]:
    """A call's arguments as the object ``tool_use`` takes; ``{}`` when they are not
    a JSON object (the call was already answered with an error result)."""
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _merged(first: Content, then: Content) -> Content:
    """Two turns of one role as one: texts joined by a blank line; with blocks, the
    tool results first (the API wants them at the start of a user turn)."""
    if isinstance(first, str) and isinstance(then, str):
        return first + "\n\n" + then
    blocks: list[dict[str, Any]] = []
    for block in _blocks(first) + _blocks(then):
        if blocks and block["type"] == "text" and blocks[-1]["type"] == "text":
            blocks[-1] = {"type": "text", "text": blocks[-1]["text"] + "\n\n" + block["text"]}
        else:
            blocks.append(block)
    results = [b for b in blocks if b["type"] == "tool_result"]
    return results + [b for b in blocks if b["type"] != "tool_result"]


def _blocks(content: Content) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


class AnthropicClient(HTTPClient):
    """Anthropic's Messages API with streaming. System messages become the top-level
    ``system``; consecutive messages of the same role are merged; empty ones dropped.
    Other parameters as ``OpenAICompatibleClient``, plus ``max_tokens`` (the
    Messages API requires one; a chat's own setting overrides it)."""

    max_temperature = 1.0  # the Messages API accepts 0..1

    def __init__(
        self,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_ANTHROPIC_BASE_URL,
        max_tokens: int = 4096,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("provider", "anthropic")
        super().__init__(base_url, model, api_key, **kwargs)
        self.max_tokens = max_tokens

    @property
    def _endpoint_path(self) -> str:  # type: ignore[override]
        return "/messages" if urlsplit(self.base_url).path.endswith("/v1") else "/v1/messages"

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "text/event-stream", "anthropic-version": ANTHROPIC_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        headers.update(self.extra_headers)
        return headers

    def _payload(self, messages: list[ModelMessage], options: ReplyOptions) -> dict[str, Any]:
        system, turns = self._wire_messages(messages)
        payload: dict[str, Any] = {
            "model": options.model or self.model,
            "max_tokens": options.max_tokens or self.max_tokens,
            "messages": turns,
            "stream": True,
        }
        if system:
            payload["system"] = system
        if options.temperature is not None:
            payload["temperature"] = options.temperature
        if options.tools:
            payload["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                for t in options.tools
            ]
        payload.update(self.extra_body)
        return payload

    def _wire_messages(self, messages: list[ModelMessage]) -> tuple[str, list[dict[str, Any]]]:
        """The top-level ``system`` text and the turns: consecutive messages of one
        role merged, empty ones dropped (the Messages API wants alternating turns)."""
        system = "\n\n".join(m.text for m in messages if m.role == "system" and m.text.strip())
        turns: list[dict[str, Any]] = []
        for message in messages:
            if message.role == "system":
                continue
            role = "user" if message.role == "tool" else message.role  # results: the user's
            content = _content(message, type(self).__name__)
            if not content:
                continue
            if turns and turns[-1]["role"] == role:
                turns[-1] = {"role": role, "content": _merged(turns[-1]["content"], content)}
            else:
                turns.append({"role": role, "content": content})
        return system, turns

    def _protocol(self, state: ReplyStream) -> StreamProtocol:
        return _AnthropicProtocol(self, state)

    _models_params = {"limit": "1000"}  # the list is paged: the most one page holds

    def _models_url(self) -> str:
        return join_url(self.base_url, self._endpoint_path[: -len("/messages")] + "/models")

    def _key_hint(self) -> str:
        return "LIVECHAT_API_KEY or ANTHROPIC_API_KEY"

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[StreamEvent]:
        try:
            obj = json.loads(body)
        except ValueError:
            raise ProviderError(
                "Anthropic sent an answer that is not valid JSON. Try again."
            ) from None
        if not isinstance(obj, dict) or obj.get("type") == "error":
            raise self.in_stream_error(
                error_info(obj),
                state.options.model,
                tools=bool(state.options.tools),
                images=state.options.images,
            )
        events: list[StreamEvent] = []
        calls = 0
        for block in obj.get("content") or []:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text" and isinstance(block.get("text"), str):
                events.append(TextDelta(block["text"]))
            elif btype == "thinking" and isinstance(block.get("thinking"), str):
                events.append(ReasoningDelta(block["thinking"]))
            elif btype == "tool_use" and isinstance(block.get("name"), str):
                arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
                call_id = block.get("id") if isinstance(block.get("id"), str) else None
                events.append(ToolCallDelta(calls, call_id, block["name"], arguments))
                calls += 1
        usage = obj.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        set_usage(state, _input_tokens(usage), usage.get("output_tokens"))
        stop = obj.get("stop_reason")
        if stop is None or not events:
            raise ProviderError("Anthropic sent an answer without text. Try again.")
        state.provider_finish_reason = str(stop)
        state.finish_reason = _ANTHROPIC_STOP.get(str(stop), str(stop))
        return events
