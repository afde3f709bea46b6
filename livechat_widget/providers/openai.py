"""OpenAI's chat completions protocol, spoken by OpenAI and most servers: Ollama,
vLLM, llama.cpp's server, LM Studio, OpenRouter, Azure OpenAI deployments."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._format import join_url, netloc, safe_url
from .base import ReplyOptions, ReplyStream
from .classify import ErrorInfo, error_info
from .config import DEFAULT_OPENAI_BASE_URL, DEFAULT_OPENAI_MODEL
from .errors import ContentFiltered, ModelNotFound, ProviderError
from .events import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta
from .http_client import HTTPClient, model_ids
from .messages import ModelMessage
from .openai_wire import wire_messages, wire_tools
from .protocol import StreamProtocol, TextKind, set_usage, text_event
from .sse import ServerSentEvent

__all__ = ["OpenAICompatibleClient"]

log = logging.getLogger(__name__)

# A server that streams no reply offering tools, though it answers one whole:
# llama-cpp-python (chatml-function-calling, functionary) and older llama.cpp servers.
_NO_STREAMED_TOOLS = (
    b"automatic streaming tool choice is not supported",
    b"cannot use tools with stream",
)


class _OpenAIProtocol(StreamProtocol):
    def __init__(self, client: HTTPClient, state: ReplyStream) -> None:
        super().__init__(client, state)
        self.saw_done = False
        self.calls = _ToolCalls()

    def on_event(self, event: ServerSentEvent) -> Iterable[StreamEvent]:
        data = event.data
        if data[:1] == "[" and data.strip() == "[DONE]":
            self.saw_done = True
            self.done = True
            return ()
        if not data.strip():
            return ()  # an empty data event (a keep-alive)
        try:
            obj = json.loads(data)
        except ValueError:
            if event.event == "error":
                self.fail(self.provider_error(ErrorInfo(data, "", "")))
                return ()
            return self.skip_malformed("not JSON")
        if not isinstance(obj, dict):
            return self.skip_malformed("not a JSON object")
        if (
            "error" in obj
            and obj["error"]
            or obj.get("object") == "error"
            or (event.event == "error")
        ):
            code = error_info(obj).code
            self.fail(
                self.provider_error(error_info(obj)),
                retryable=code in ("429", "500", "502", "503", "529") and not self.got_content,
            )
            return ()
        usage = obj.get("usage")
        if usage:
            set_usage(
                self.state,
                usage.get("prompt_tokens") if isinstance(usage, dict) else None,
                usage.get("completion_tokens") if isinstance(usage, dict) else None,
            )
        choices = obj.get("choices")
        if choices is not None and not isinstance(choices, list):
            return self.skip_malformed("choices is not a list")
        if not choices:
            if choices is None and not usage and "prompt_filter_results" not in obj:
                return self.skip_malformed("no choices")
            return ()  # the usage chunk, Azure's prompt-filter chunk
        choice = choices[0]
        if not isinstance(choice, dict):
            return self.skip_malformed("choice is not an object")
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message")  # a few servers send whole messages
        events: list[StreamEvent] = []
        if isinstance(delta, dict):
            if _null_content_only(delta, choice):
                return self.skip_malformed("null content")
            texts = _texts(delta)
            if texts is None:
                return self.skip_malformed(f"content is {type(delta.get('content')).__name__}")
            events = self._mended(texts, data)
            events += self.calls.parse(delta)
        elif delta is not None:
            return self.skip_malformed("delta is not an object")
        if events:
            self.got_content = True
        finish = choice.get("finish_reason")
        if finish is not None:
            self._finish(str(finish))
        return events

    def _mended(self, texts: list[tuple[TextKind, str]], data: str) -> list[StreamEvent]:
        mender = self.mender
        if mender.pending["text"] or mender.pending["reasoning"] or "\\u" in data:
            texts = [(kind, mender.mend(kind, text)) for kind, text in texts]
        return [text_event(kind, text) for kind, text in texts if text]

    def _finish(self, reason: str) -> None:
        state = self.state
        state.provider_finish_reason = reason
        # The legacy function_call is a tool call in today's vocabulary.
        state.finish_reason = "tool_calls" if reason == "function_call" else reason
        if reason == "content_filter":
            self.fail(
                ContentFiltered(
                    f"{self.client.who()}'s content filter stopped the reply. Rephrase the "
                    f"message and try again."
                )
            )
        elif reason == "error":
            self.fail(
                ProviderError(
                    f"{self.client.who()} reported an error while writing the reply and stopped. "
                    f"Try again."
                )
            )
        else:
            self.finished = True

    def at_end(self, pending: bool) -> list[StreamEvent]:
        tail = self.mender.flush()
        if self.finished:
            return tail
        if self.saw_done:
            if self.got_content:
                return tail  # [DONE] after text, without a finish reason: still an end
            raise ProviderError(
                f"{self.client.who()} ended the reply without sending any text or a reason. "
                f"Try again."
            )
        raise self.interrupted(pending)


def _null_content_only(delta: dict[str, Any], choice: dict[str, Any]) -> bool:
    """``{"content": null}`` and nothing else, mid-reply: a chunk with nothing in it."""
    return (
        "content" in delta
        and delta["content"] is None
        and len(delta) == 1
        and choice.get("finish_reason") is None
    )


def _texts(delta: dict[str, Any]) -> list[tuple[TextKind, str]] | None:
    """The reasoning, text and refusal of a delta, in that order; None if its content
    has a shape no server sends."""
    out: list[tuple[TextKind, str]] = []
    reasoning = delta.get("reasoning_content")
    if not isinstance(reasoning, str) or not reasoning:
        reasoning = delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(("reasoning", reasoning))
    content = delta.get("content")
    if isinstance(content, str):
        if content:
            out.append(("text", content))
    elif isinstance(content, list):  # content parts (Mistral)
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(
                    ("reasoning" if part.get("type") == "thinking" else "text", part["text"])
                )
    elif content is not None:
        return None
    refusal = delta.get("refusal")
    if isinstance(refusal, str) and refusal:
        out.append(("text", refusal))
    return out


class _ToolCalls:
    """The tool calls of one reply as their pieces arrive: ``choices[0].delta.
    tool_calls[]`` (``{index, id, type, function: {name, arguments}}``), or the legacy
    ``function_call`` (``{name, arguments}``) when there is no ``tool_calls``.

    Each call's id and name are announced once: some servers repeat them on every
    delta. A call without an ``index`` is placed by its id (a new id: the next index;
    none: the call before continues)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str | None, str | None]] = {}  # index -> (id, name)

    def parse(self, delta: dict[str, Any]) -> list[StreamEvent]:
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and calls:
            out: list[StreamEvent] = []
            for call in calls:
                if not isinstance(call, dict):
                    continue
                function = call.get("function")
                if not isinstance(function, dict):
                    function = {}
                index = call.get("index")
                if not isinstance(index, int) or isinstance(index, bool):
                    index = self._index_for(_string(call.get("id")))
                out += self._piece(index, call.get("id"), function)
            return out
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            return self._piece(0, None, legacy)
        return []

    def _index_for(self, call_id: str | None) -> int:
        for index, (known, _) in self.seen.items():
            if call_id and known == call_id:
                return index
        if call_id or not self.seen:
            return len(self.seen)
        return max(self.seen)

    def _piece(self, index: int, call_id: Any, function: dict[str, Any]) -> list[StreamEvent]:
        new_id, new_name = _string(call_id), _string(function.get("name"))
        arguments = function.get("arguments")
        if isinstance(arguments, (dict, list)):  # a server that sends the object itself
            arguments = json.dumps(arguments, ensure_ascii=False)
        if not isinstance(arguments, str):
            arguments = ""
        known_id, known_name = self.seen.get(index, (None, None))
        new_id = new_id if known_id is None else None
        new_name = new_name if known_name is None else None
        self.seen[index] = (known_id or new_id, known_name or new_name)
        if new_id is None and new_name is None and not arguments:
            return []
        return [ToolCallDelta(index, new_id, new_name, arguments)]


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class OpenAICompatibleClient(HTTPClient):
    """Chat completions with SSE streaming, for OpenAI and every server that speaks
    its protocol: Ollama (``http://localhost:11434/v1``), vLLM, llama.cpp server,
    LM Studio, OpenRouter, Azure OpenAI (a deployment URL; the key is sent as
    ``api-key``).

    ``read_timeout`` is the longest wait for any byte (including the first: a
    reasoning model or a model being loaded may think for a long time);
    ``total_timeout`` bounds the whole reply. Retries: see the module docstring.
    """

    _endpoint_path = "/chat/completions"
    _lists_models = True

    def __init__(
        self,
        base_url: str = DEFAULT_OPENAI_BASE_URL,
        model: str | None = DEFAULT_OPENAI_MODEL,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, model, api_key, **kwargs)
        self._stream_options = True  # cleared when a server rejects stream_options
        #: Set when the server refused to stream a reply offering tools: such requests
        #: are then sent with ``"stream": false`` and their JSON answer read whole.
        self._whole_with_tools = False

    def _guess_provider(self) -> str:
        parts = urlsplit(self.base_url)
        host = (parts.hostname or "").lower()
        if host == "api.openai.com":
            return "openai"
        if host.endswith("openrouter.ai"):
            return "openrouter"
        if host.endswith(".azure.com") or host.endswith(".azure-api.net"):
            return "azure"
        if parts.port == 11434:
            return "ollama"
        return "openai-compatible"

    def describe(self, model: str | None = None) -> str:
        label = f"{self.model_label(model)} via {netloc(self.base_url)}"
        return label + " (Ollama)" if self.provider == "ollama" else label

    async def resolve_model(self) -> str:
        """With ``model=None``: the server's only model (or the first it lists, noted in
        the label), from ``GET {base_url}/models``; asked once, before the first reply."""
        if self.model:
            return self.model
        url = join_url(self.base_url, "/models")
        headers = {k: v for k, v in self._headers().items() if k != "accept"}
        try:
            response = await self._http().get(url, headers=headers)
        except httpx.TransportError as exc:
            raise self._connection_failed(exc) from None
        if response.status_code in (401, 403):  # a key problem, not a missing model
            raise self.status_error(response, response.content, None)
        ids = model_ids(response) if response.status_code == 200 else []
        if not ids:
            status = f" (HTTP {response.status_code})" if response.status_code != 200 else ""
            raise ModelNotFound(
                f"No model was named and {netloc(self.base_url)} did not list one at "
                f"{safe_url(url)}{status}. Name the model with LIVECHAT_MODEL (or "
                f"livechat --model).",
                status_code=response.status_code,
            )
        self.model = ids[0]
        if len(ids) > 1:
            self.model_note = f"first of {len(ids)} listed"
            log.warning(
                "%s lists %d models; using the first, %r (set LIVECHAT_MODEL to choose)",
                netloc(self.base_url),
                len(ids),
                ids[0],
            )
        return self.model

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "text/event-stream"}
        if self._api_key:
            if self.provider == "azure":
                headers["api-key"] = self._api_key
            else:
                headers["authorization"] = f"Bearer {self._api_key}"
        headers.update(self.extra_headers)
        return headers

    def _payload(self, messages: list[ModelMessage], options: ReplyOptions) -> dict[str, Any]:
        streamed = self._streams(options)
        payload: dict[str, Any] = {
            "model": options.model or self.model,
            # a system prompt first
            "messages": wire_messages(messages, type(self).__name__),
            "stream": streamed,
        }
        if options.temperature is not None:
            payload["temperature"] = options.temperature
        if options.max_tokens is not None:
            payload["max_tokens"] = options.max_tokens
        if self._stream_options and streamed:
            payload["stream_options"] = {"include_usage": True}
        if options.tools:
            payload["tools"] = wire_tools(options.tools)  # tool_choice left to "auto"
        payload.update(self.extra_body)
        return payload

    def _streams(self, options: ReplyOptions) -> bool:
        """Whether this request is streamed: not when it offers tools to a server that
        streams no reply offering tools (llama-cpp-python's function calling)."""
        return not (options.tools and self._whole_with_tools)

    def _models_url(self) -> str:
        return join_url(self.base_url, "/models")

    def adjust_request(self, status: int, body: bytes, options: ReplyOptions | None = None) -> bool:
        if (
            self._stream_options
            and status in (400, 422)
            and (b"stream_options" in body or b"include_usage" in body)
        ):
            log.info(
                "%s rejected stream_options; sending requests without it", netloc(self.base_url)
            )
            self._stream_options = False
            return True
        if (
            options is not None
            and options.tools
            and not self._whole_with_tools
            and status in (400, 422, 500)
            and any(words in body.lower() for words in _NO_STREAMED_TOOLS)
        ):
            # The same request, not streamed, works: ask so from now on when tools go.
            log.info(
                "%s streams no reply that offers tools; sending those without streaming",
                netloc(self.base_url),
            )
            self._whole_with_tools = True
            return True
        return False

    def unstream_tools(self, options: ReplyOptions) -> bool:
        if not options.tools:
            return False
        if self._whole_with_tools:
            self._whole_with_tools = False  # not streamed it failed too: not the cause
            return False
        log.info(
            "%s sent an empty stream to a request with tools; asking again without streaming",
            netloc(self.base_url),
        )
        self._whole_with_tools = True
        return True

    def _protocol(self, state: ReplyStream) -> StreamProtocol:
        return _OpenAIProtocol(self, state)

    def _key_hint(self) -> str:
        if self.provider == "openai":
            return "LIVECHAT_API_KEY or OPENAI_API_KEY"
        return "LIVECHAT_API_KEY"

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[StreamEvent]:
        try:
            obj = json.loads(body)
        except ValueError:
            raise ProviderError(
                f"{self.who()} sent an answer that is not valid JSON. Try again."
            ) from None
        if not isinstance(obj, dict):
            raise ProviderError(f"{self.who()} sent an unexpected answer. Try again.")
        if obj.get("error") or obj.get("object") == "error":
            raise self.in_stream_error(
                error_info(obj),
                state.options.model,
                tools=bool(state.options.tools),
                images=state.options.images,
            )
        choices = obj.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = choice.get("message")
        if not isinstance(message, dict):
            message = {}
        usage = obj.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        set_usage(state, usage.get("prompt_tokens"), usage.get("completion_tokens"))
        events: list[StreamEvent] = []
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        content = message.get("content")
        if isinstance(content, str) and content:
            events.append(TextDelta(content))
        events += _ToolCalls().parse(message)
        finish = choice.get("finish_reason")
        if finish is None or not events:
            raise ProviderError(f"{self.who()} sent an answer without text. Try again.")
        if finish == "content_filter":
            raise ContentFiltered(
                f"{self.who()}'s content filter stopped the reply. "
                f"Rephrase the message and try again."
            )
        state.provider_finish_reason = str(finish)
        state.finish_reason = "tool_calls" if finish == "function_call" else str(finish)
        return events
