"""Streaming AI clients: OpenAI-compatible servers, Anthropic, and an offline demo.

One interface::

    stream = client.stream([{"role": "user", "content": "Hi"}])
    async for piece in stream:          # Piece(kind="text" | "reasoning", text=...)
        ...
    stream.finish_reason                # "stop", "length", "tool_calls", ... after the end
    stream.usage                        # {"prompt_tokens": .., "completion_tokens": ..} or None
    await stream.aclose()               # closes the HTTP response at once

The iteration ends normally only when the provider said the reply is finished.
Every other end raises a subclass of :class:`AIError` (see ``ai_errors``) whose
``user_message`` a person can act on and whose ``partial_text`` is the text already
yielded. Cancelling the task that iterates closes the HTTP response immediately,
so the server sees the disconnect and stops generating.

Retries (exponential backoff with full jitter, ``Retry-After`` honoured) happen only
before the first piece is yielded: nothing is replayed once a token was shown.
Each stream emits one ``telemetry`` event when it ends, however it ends.

Finish reasons use OpenAI's vocabulary for every client: Anthropic's ``end_turn`` and
``stop_sequence`` become "stop", ``max_tokens`` becomes "length", ``tool_use``
becomes "tool_calls" (the raw value is kept in ``stream.provider_finish_reason``).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from . import telemetry
from .ai_errors import (
    AIError,
    AuthenticationFailed,
    ConnectionFailed,
    ContentFiltered,
    ContextTooLong,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    StreamInterrupted,
)
from .sse import ServerSentEvent, SSEParser

__all__ = [
    "AIError",
    "AnthropicClient",
    "AuthenticationFailed",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextTooLong",
    "DemoClient",
    "ModelNotFound",
    "OpenAICompatibleClient",
    "Piece",
    "ProviderError",
    "QuotaExceeded",
    "RateLimited",
    "ReplyStream",
    "StreamInterrupted",
    "client_from_env",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"
DEFAULT_OLLAMA_BASE_URL = "http://localhost:11434/v1"
DEFAULT_OLLAMA_MODEL = "llama3.2"
ANTHROPIC_VERSION = "2023-06-01"

#: HTTP statuses retried (before the first piece only): timeouts, conflicts, rate
#: limits, and server errors including Anthropic's 529 "overloaded".
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
#: Malformed chunks tolerated (skipped) before the stream fails with ProviderError.
MAX_MALFORMED_CHUNKS = 3
_ERROR_BODY_LIMIT = 64 * 1024  # bytes of an error body read for its message
_JSON_BODY_LIMIT = 16 * 1024 * 1024  # a non-streamed JSON answer
_USER_AGENT = "livechat-widget/0.1 (httpx)"
_CHAT_ROLES = frozenset({"system", "user", "assistant"})


class Piece(NamedTuple):
    """One piece of a reply: ``kind`` is "text" (the answer) or "reasoning"."""

    kind: str
    text: str


# --------------------------------------------------------------------------- stream


class ReplyStream:
    """The object returned by ``client.stream(messages)``: an async iterator of
    :class:`Piece`, with ``finish_reason`` and ``usage`` once it ended normally."""

    def __init__(self, client: Any,
                 generate: Callable[[ReplyStream], AsyncIterator[Piece]]) -> None:
        self.client = client
        self.finish_reason: str | None = None
        self.provider_finish_reason: str | None = None
        self.usage: dict[str, int] | None = None
        self.pieces = 0
        #: "completed", "stopped" or the error class name, once the stream ended.
        self.outcome: str | None = None
        self._text_parts: list[str] = []
        self._start = time.perf_counter()
        self._first: float | None = None
        self._gen = generate(self)

    @property
    def text(self) -> str:
        """The answer text yielded so far (reasoning excluded)."""
        return "".join(self._text_parts)

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
        client = self.client
        telemetry.emit(telemetry.LATENCY_EVENT, {
            "ttft_ms": None if first is None else (first - self._start) * 1000.0,
            "total_ms": (end - self._start) * 1000.0,
            "pieces": self.pieces,
            "completion_tokens": completion,
            "tokens_per_s": tokens_per_s,
            "provider": getattr(client, "provider", "?"),
            "model": getattr(client, "model", "?"),
            "outcome": outcome,
            "client": client,
        })

    def __repr__(self) -> str:
        return (f"<ReplyStream {getattr(self.client, 'provider', '?')} pieces={self.pieces} "
                f"outcome={self.outcome}>")


def _chat_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
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
        out.append({"role": role, "content": content})
    return out


class _BaseClient:
    provider = "?"
    model = "?"

    def stream(self, messages: Iterable[Mapping[str, Any]]) -> ReplyStream:
        """Start a reply to ``messages`` (a list of ``{"role", "content"}``)."""
        chat = _chat_messages(messages)
        return ReplyStream(self, lambda state: self._generate(chat, state))

    def _generate(self, messages: list[dict[str, str]],
                  state: ReplyStream) -> AsyncIterator[Piece]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- demo


class DemoClient(_BaseClient):
    """Offline and deterministic: streams a markdown reply (with a list and a code
    block) that quotes the last user message and explains how to connect a model.
    ``pace`` is pieces per second (0 = as fast as possible)."""

    provider = "demo"

    def __init__(self, pace: float = 40.0, *, model: str = "demo") -> None:
        if pace < 0:
            raise ValueError("pace must be >= 0")
        self.pace = float(pace)
        self.model = model

    def describe(self) -> str:
        return "demo model (offline)"

    def __repr__(self) -> str:
        return f"DemoClient(provider='demo', model={self.model!r}, pace={self.pace})"

    @staticmethod
    def reply_text(messages: Iterable[Mapping[str, Any]]) -> str:
        """The full reply the demo gives to ``messages``."""
        chat = _chat_messages(messages)
        last = next((m["content"] for m in reversed(chat) if m["role"] == "user"), "")
        last = last.strip()
        turn = sum(1 for m in chat if m["role"] == "user")
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
            parts.append(f"{opener}\n\n{quote}\n\n"
                         f"That is {words} word{'s' if words != 1 else ''} and "
                         f"{len(last)} character{'s' if len(last) != 1 else ''}"
                         f" (message {turn} of this chat).")
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

    async def _generate(self, messages: list[dict[str, str]],
                        state: ReplyStream) -> AsyncIterator[Piece]:
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
            yield Piece("text", token)
        prompt = sum(len(m["content"].split()) for m in messages)
        state.usage = {"prompt_tokens": prompt, "completion_tokens": len(tokens)}
        state.finish_reason = state.provider_finish_reason = "stop"


_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def _split_tokens(text: str) -> list[str]:
    """Word-sized pieces, each with its leading whitespace (like most tokenizers)."""
    return _TOKEN_RE.findall(text)


# --------------------------------------------------------------------------- helpers


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class _TextMender:
    """Joins a UTF-16 surrogate pair that a server split across two chunks (JSON
    ``"\\ud83d"`` then ``"\\ude00"``) and turns lone surrogates into U+FFFD, so the
    text can always be encoded as UTF-8 (CSV, comm messages)."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending = {"text": "", "reasoning": ""}

    def mend(self, kind: str, text: str) -> str:
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

    def flush(self) -> list[Piece]:
        out = [Piece(kind, "\ufffd") for kind, held in self.pending.items() if held]
        self.pending = {"text": "", "reasoning": ""}
        return out


def _kept(state: ReplyStream) -> str:
    """How an interrupted reply's message ends: the text so far is kept only if any came."""
    return " The text so far is kept; try again." if state.pieces else " Try again."


def _safe_url(url: str) -> str:
    """The URL without credentials or query (an Azure key can sit in the query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``/path``, keeping a query string (Azure's api-version)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path,
                       parts.query, ""))


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        n = max(1, round(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    if seconds < 3600:
        n = round(seconds / 60)
        return f"{n} minute{'s' if n != 1 else ''}"
    hours = seconds / 3600
    if abs(hours - round(hours)) < 0.05:
        n = round(hours)
        return f"{n} hour{'s' if n != 1 else ''}"
    return f"{hours:.1f} hours"


def _clock(seconds: float) -> str:
    """" (after 14:05 UTC)" for a long wait, so the person knows when to come back."""
    if seconds < 600:
        return ""
    when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return f" (after {when:%H:%M} UTC)"


def _parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            ms = float(value)
            if ms >= 0 and ms == ms and ms != float("inf"):
                return ms / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            seconds = float(value)
            if seconds >= 0 and seconds == seconds and seconds != float("inf"):
                return seconds
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    return None


class _ErrorInfo(NamedTuple):
    message: str
    type: str
    code: str


def _error_info(obj: Any) -> _ErrorInfo:
    """Message, type and code from the error bodies servers send: OpenAI's
    ``{"error": {...}}``, older vLLM's unwrapped ``{"object": "error", ...}``,
    Anthropic's ``{"type": "error", "error": {...}}``, Ollama's ``{"error": "..."}``,
    FastAPI's ``{"detail": ...}``."""
    if isinstance(obj, Mapping):
        inner = obj.get("error")
        if isinstance(inner, Mapping):
            obj = inner
        elif isinstance(inner, str):
            return _ErrorInfo(inner, str(obj.get("type") or ""), str(obj.get("code") or ""))
        message = obj.get("message")
        if message is None:
            detail = obj.get("detail")
            if isinstance(detail, str):
                message = detail
            elif isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
                message = "; ".join(str(d.get("msg", "")) for d in detail[:3])
        code = obj.get("code")
        etype = obj.get("type")
        if etype == "error":
            etype = ""
        return _ErrorInfo("" if message is None else str(message),
                          "" if etype is None else str(etype),
                          "" if code is None else str(code))
    if isinstance(obj, str):
        return _ErrorInfo(obj, "", "")
    return _ErrorInfo("", "", "")


_SECRET_RES = (
    re.compile(r"\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_\-*]{6,}"),
    re.compile(r"(?i)(bearer\s+)\S+"),
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")


class _Decision(NamedTuple):
    error: AIError
    retry: bool
    retry_after: float | None


# --------------------------------------------------------------------------- HTTP base


class _HTTPClient(_BaseClient):
    """Shared by the OpenAI-compatible and Anthropic clients: the request loop with
    timeouts and retries, error classification and messages."""

    _endpoint_path = ""
    _lists_models = False  # model=None asks the server's model list (resolve_model)

    def __init__(
        self,
        base_url: str,
        model: str | None,
        api_key: str | None = None,
        *,
        provider: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        total_timeout: float | None = None,
        max_retries: int = 2,
        headers: Mapping[str, str] | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_wait: float = 60.0,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        if not base_url or "://" not in base_url:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not model and not self._lists_models:
            raise ValueError("model must be a non-empty string")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        #: "" until resolve_model() asked the server (OpenAI-compatible, model=None)
        self.model = model or ""
        self.model_note = ""  # how the model was chosen, when the server chose it
        self._api_key = api_key or None
        self.provider = provider or self._guess_provider()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_wait = max_retry_wait
        self.extra_headers = dict(headers or {})
        self.extra_body = dict(extra_body or {})
        self._http_client: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    # -- identity

    def _guess_provider(self) -> str:
        return "openai-compatible"

    @property
    def safe_base_url(self) -> str:
        return _safe_url(self.base_url)

    @property
    def _is_ollama(self) -> bool:
        return self.provider == "ollama" or urlsplit(self.base_url).port == 11434

    def describe(self) -> str:
        return f"{self._model_label()} via {_netloc(self.base_url)}"

    def _model_label(self) -> str:
        if not self.model:
            return "the server's model"
        return f"{self.model} ({self.model_note})" if self.model_note else self.model

    async def resolve_model(self) -> str:
        """The model to ask for: the one given, else the server's (see subclasses)."""
        return self.model

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(provider={self.provider!r}, "
                f"base_url={self.safe_base_url!r}, model={self.model!r})")

    # -- HTTP plumbing

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._http_client
        if client is None or client.is_closed or self._http_loop is not loop:
            # A pool belongs to one event loop; a new loop (a test, a restarted
            # kernel loop) gets a new pool.
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                follow_redirects=False,
                headers={"user-agent": _USER_AGENT},
            )
            self._http_client, self._http_loop = client, loop
        return client

    async def aclose(self) -> None:
        client, self._http_client = self._http_client, None
        if client is not None:
            try:
                same_loop = self._http_loop is asyncio.get_running_loop()
            except RuntimeError:
                same_loop = False
            if same_loop:
                await client.aclose()

    @property
    def endpoint(self) -> str:
        return _join_url(self.base_url, self._endpoint_path)

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        raise NotImplementedError

    def _protocol(self, state: ReplyStream) -> _StreamProtocol:
        raise NotImplementedError

    async def _within(self, awaitable: Awaitable[T], deadline: float | None) -> T:
        if deadline is None:
            return await awaitable
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise self._total_timeout_error()
        try:
            return await asyncio.wait_for(awaitable, remaining)
        except asyncio.TimeoutError:
            raise self._total_timeout_error() from None

    def _total_timeout_error(self) -> StreamInterrupted:
        return StreamInterrupted(
            f"The reply did not finish within the overall time limit of "
            f"{_duration(self.total_timeout or 0)}. Try again, or raise total_timeout.")

    # -- the request loop

    async def _generate(self, messages: list[dict[str, str]],
                        state: ReplyStream) -> AsyncIterator[Piece]:
        deadline = None if self.total_timeout is None else time.monotonic() + self.total_timeout
        if not self.model:
            await self._within(self.resolve_model(), deadline)
        attempt = 0
        while True:
            http = self._http()
            try:
                request = http.build_request("POST", self.endpoint, headers=self._headers(),
                                             json=self._payload(messages))
                response = await self._within(http.send(request, stream=True), deadline)
            except httpx.ReadTimeout:
                raise StreamInterrupted(
                    f"{_netloc(self.base_url)} accepted the request but sent nothing for "
                    f"{_duration(self.read_timeout)} (the read timeout). The model may be "
                    f"overloaded or still loading; try again, or raise read_timeout."
                ) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise ConnectionFailed(
                    f"The base URL {self.safe_base_url!r} is not a valid http(s) URL ({exc}). "
                    f"Fix LIVECHAT_BASE_URL or the base_url argument.") from None
            except httpx.TransportError as exc:
                error = self._connection_failed(exc)
                await self._backoff(error, attempt, None, deadline)
                attempt += 1
                continue
            try:
                if response.status_code != 200:
                    body = await self._read_capped(response, _ERROR_BODY_LIMIT, deadline)
                    await response.aclose()
                    if self._retry_adjusted(response.status_code, body):
                        continue  # a changed request, not a retry: not counted
                    decision = self._http_error(response, body)
                    if decision.retry:
                        await self._backoff(decision.error, attempt, decision.retry_after,
                                            deadline)
                        attempt += 1
                        continue
                    raise decision.error
                ctype = response.headers.get("content-type", "").lower()
                if "json" in ctype and "event-stream" not in ctype:
                    body = await self._read_capped(response, _JSON_BODY_LIMIT, deadline)
                    for piece in self._whole_answer(body, state):
                        yield piece
                    return
                if "html" in ctype:
                    raise ProviderError(
                        f"{_netloc(self.base_url)} answered with a web page instead of a "
                        f"stream of tokens. Check the base URL ({self.safe_base_url}): "
                        f"a login page or proxy may be in the way.")
                protocol = self._protocol(state)
                parser = SSEParser()
                raw = response.aiter_bytes()
                chunks = raw if deadline is None else self._chunks_until(raw, deadline)
                try:
                    async for chunk in chunks:
                        for event in parser.feed(chunk):
                            protocol.events += 1
                            try:
                                pieces = protocol.on_event(event)
                            except (TypeError, KeyError, IndexError, AttributeError,
                                    ValueError) as exc:  # a chunk of an unexpected shape
                                pieces = protocol.skip_malformed(repr(exc))
                            for piece in pieces:
                                yield piece
                            if protocol.done:
                                break
                        if protocol.done:
                            break
                except httpx.ReadTimeout:
                    if not protocol.finished:
                        raise StreamInterrupted(
                            f"The stream stalled: no data for {_duration(self.read_timeout)}"
                            f" (the read timeout).{_kept(state)}") from None
                except httpx.DecodingError:
                    if not protocol.finished:
                        raise StreamInterrupted(
                            "The stream arrived garbled (its compression could not be "
                            f"decoded).{_kept(state)}") from None
                except httpx.TransportError as exc:
                    if not protocol.finished:
                        dropped = StreamInterrupted(
                            f"The connection dropped in the middle of the reply.{_kept(state)}")
                        if state.pieces == 0 and attempt < self.max_retries:
                            log.info("stream dropped before any piece (%r); retrying", exc)
                            await response.aclose()
                            await self._backoff(dropped, attempt, None, deadline)
                            attempt += 1
                            continue
                        raise dropped from None
                finally:
                    if chunks is not raw:
                        await chunks.aclose()  # type: ignore[attr-defined]
                    await raw.aclose()  # type: ignore[attr-defined]
                if protocol.error is not None:
                    if protocol.retryable and state.pieces == 0 and attempt < self.max_retries:
                        await response.aclose()
                        await self._backoff(protocol.error, attempt, None, deadline)
                        attempt += 1
                        continue
                    raise protocol.error
                for piece in protocol.at_end(parser.close()):
                    yield piece
                return
            finally:
                await response.aclose()

    async def _chunks_until(self, chunks: AsyncIterator[bytes],
                            deadline: float) -> AsyncIterator[bytes]:
        iterator = chunks.__aiter__()
        while True:
            try:
                chunk = await self._within(iterator.__anext__(), deadline)
            except StopAsyncIteration:
                return
            yield chunk

    async def _read_capped(self, response: httpx.Response, limit: int,
                           deadline: float | None) -> bytes:
        body = bytearray()

        async def read() -> None:
            chunks = response.aiter_bytes()
            try:
                async for chunk in chunks:
                    body.extend(chunk)
                    if len(body) >= limit:
                        break
            finally:
                await chunks.aclose()  # type: ignore[attr-defined]

        try:
            await self._within(read(), deadline)
        except httpx.TransportError:
            pass  # what arrived is enough for a message
        return bytes(body[:limit])

    async def _backoff(self, error: AIError, attempt: int, retry_after: float | None,
                       deadline: float | None) -> None:
        """Sleep before the next attempt, or raise ``error`` when none is allowed."""
        if retry_after is not None and retry_after > self.max_retry_wait:
            status = f" (HTTP {error.status_code})" if error.status_code else ""
            raise RateLimited(
                f"{self._who()} is not accepting requests right now{status} and asks to wait "
                f"{_duration(retry_after)}. Try again in {_duration(retry_after)}"
                f"{_clock(retry_after)}.",
                status_code=error.status_code, retry_after=retry_after)
        if attempt >= self.max_retries:
            raise error
        if retry_after is not None:
            wait = retry_after
        else:
            wait = random.uniform(0.0, min(self.backoff_max, self.backoff_base * 2 ** attempt))
        if deadline is not None and time.monotonic() + wait > deadline:
            raise error
        log.info("%s: retrying in %.2fs (attempt %d of %d): %s", self.provider, wait,
                 attempt + 1, self.max_retries, error.user_message)
        await asyncio.sleep(wait)

    def _retry_adjusted(self, status: int, body: bytes) -> bool:
        """Whether the request was changed in response to this error (then it is
        sent again without counting as a retry)."""
        return False

    def _who(self) -> str:
        return {"openai": "OpenAI", "anthropic": "Anthropic", "ollama": "Ollama",
                "openrouter": "OpenRouter", "azure": "Azure OpenAI"}.get(
                    self.provider, _netloc(self.base_url))

    # -- errors

    def _redact(self, text: str) -> str:
        key = self._api_key
        if key and len(key) >= 4:
            text = text.replace(key, "[redacted]")
        for pattern in _SECRET_RES:
            text = pattern.sub(r"\1[redacted]", text)
        return text

    def _detail(self, message: str) -> str:
        """A provider's message, cleaned for display: one short line, no secrets."""
        message = _CONTROL_RE.sub(" ", self._redact(message)).strip()
        message = " ".join(message.split())
        if len(message) > 300:
            message = message[:297].rstrip() + "..."
        return message

    def _connection_failed(self, exc: Exception) -> ConnectionFailed:
        where = self.safe_base_url
        if isinstance(exc, httpx.ConnectTimeout):
            what = f"Connecting to {where} timed out after {_duration(self.connect_timeout)}."
        elif isinstance(exc, httpx.ConnectError):
            what = f"Could not connect to {where}."
        else:
            what = f"The connection to {where} failed before an answer arrived."
        if self._is_ollama:
            hint = (" Is Ollama running? Start it with `ollama serve` (or open the Ollama "
                    "app), then try again.")
        else:
            hint = " Check the base URL and your network connection, then try again."
        return ConnectionFailed(what + hint)

    def _http_error(self, response: httpx.Response, body: bytes) -> _Decision:
        status = response.status_code
        retry_after = _parse_retry_after(response.headers)
        ctype = response.headers.get("content-type", "").lower()
        head = body[:512].lstrip().lower()
        html = "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<head", b"<body"))
        info = _ErrorInfo("", "", "")
        if not html and body:
            try:
                info = _error_info(json.loads(body))
            except ValueError:
                text = body.decode("utf-8", "replace").strip()
                info = _ErrorInfo(text.splitlines()[0] if text else "", "", "")
        error = self._classify(status, info, html=html, reason=response.reason_phrase,
                               retry_after=retry_after)
        retry = status in RETRY_STATUSES and not isinstance(error, QuotaExceeded)
        return _Decision(error, retry, retry_after)

    def _classify(self, status: int | None, info: _ErrorInfo, *, html: bool = False,
                  reason: str = "", retry_after: float | None = None,
                  in_stream: bool = False) -> AIError:
        detail = self._detail(info.message)
        said = f' The provider said: "{detail}"' if detail else ""
        kind = f"{info.type} {info.code}".lower()
        lowered = detail.lower()
        who = self._who()
        status_text = f" (HTTP {status}{' ' + reason if reason else ''})" if status else ""
        kw = {"status_code": status, "retry_after": retry_after}
        if html:
            return ProviderError(
                f"{_netloc(self.base_url)} returned an error page{status_text} instead of an "
                f"API response. A proxy or gateway in front of the model is failing or the "
                f"base URL is wrong ({self.safe_base_url}). Try again in a moment.", **kw)
        if (status == 402 or "insufficient_quota" in kind or "billing" in kind
                or "credit balance" in lowered or "insufficient_quota" in lowered):
            return QuotaExceeded(
                f"{who} says the account has no credit or quota left{status_text}. Add credit "
                f"or raise the spending limit in the provider's billing settings.{said}", **kw)
        if "content_filter" in kind or "content_policy" in kind or "content_filter" in lowered:
            return ContentFiltered(
                f"{who}'s content filter blocked this request{status_text}. Rephrase the "
                f"message and try again.{said}", **kw)
        if status == 401 or "authentication" in kind or "invalid_api_key" in kind:
            return AuthenticationFailed(
                f"{who} rejected the API key{status_text}. Check the key "
                f"({self._key_hint()}) and that it is still active.{said}", **kw)
        if status == 403 or "permission" in kind:
            return AuthenticationFailed(
                f"{who} refused access{status_text}: the API key is not allowed to use "
                f"{self.model!r} or this endpoint. Check the key's permissions and the "
                f"model name.{said}", **kw)
        model_named = "model" in lowered or "model" in kind
        if "model_not_found" in kind or (status == 404 and model_named) or (
                "not_found" in kind and model_named):
            hint = (f" Download it with `ollama pull {self.model}`." if self._is_ollama else
                    " Check the model name (LIVECHAT_MODEL) and that your account can use it.")
            return ModelNotFound(
                f"The model {self.model!r} was not found at {_netloc(self.base_url)}."
                f"{hint}{said}", **kw)
        if status == 404:
            return ProviderError(
                f"{_netloc(self.base_url)} has no endpoint at {_safe_url(self.endpoint)} "
                f"(HTTP 404). Check the base URL: for most servers it ends in /v1.{said}", **kw)
        if status == 429 or "rate_limit" in kind:
            when = (f"Try again in {_duration(retry_after)}{_clock(retry_after)}."
                    if retry_after is not None else "Wait a minute and try again.")
            return RateLimited(f"{who} is rate-limiting requests{status_text}. {when}{said}",
                               **kw)
        if status == 529 or "overloaded" in kind:
            return ProviderError(
                f"{who} is overloaded{status_text}. Try again in a minute.{said}", **kw)
        if ("context_length" in kind or "context length" in lowered
                or "context window" in lowered or "exceed_context" in kind
                or ("too long" in lowered and "prompt" in lowered)):
            return ContextTooLong(
                f"The conversation is too long for {self.model!r}{status_text}: it no longer "
                f"fits the model's context. Continue with the oldest turns left out, or start "
                f"a new chat.{said}", **kw)
        if in_stream:
            return ProviderError(
                f"{who} reported an error while writing the reply. Try again.{said}", **kw)
        if status is not None and status >= 500:
            return ProviderError(
                f"{who} had a server error{status_text}. Try again in a moment.{said}", **kw)
        return ProviderError(f"{who} rejected the request{status_text}.{said}", **kw)

    def _key_hint(self) -> str:
        return "LIVECHAT_API_KEY"

    # -- a non-streamed JSON answer (a server or proxy that ignored stream: true)

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[Piece]:
        raise NotImplementedError


class _StreamProtocol:
    """Turns one response's events into pieces. ``on_event`` returns the pieces of
    that event; ``done`` stops reading; ``finished`` means the provider said the
    reply is finished; ``error`` is raised after the pieces were yielded."""

    def __init__(self, client: _HTTPClient, state: ReplyStream) -> None:
        self.client = client
        self.state = state
        self.done = False
        self.finished = False
        self.error: AIError | None = None
        self.retryable = False
        self.malformed = 0
        self.got_content = False
        self.events = 0  # server-sent events received
        self.mender = _TextMender()

    def on_event(self, event: ServerSentEvent) -> Iterable[Piece]:
        raise NotImplementedError

    def at_end(self, pending: bool) -> list[Piece]:
        raise NotImplementedError

    def fail(self, error: AIError, *, retryable: bool = False) -> None:
        self.error = error
        self.retryable = retryable
        self.done = True

    def skip_malformed(self, why: str) -> tuple[()]:
        self.malformed += 1
        log.warning("%s: skipped a malformed chunk (%s)", self.client.provider, why)
        if self.malformed >= MAX_MALFORMED_CHUNKS:
            self.fail(ProviderError(
                f"{self.client._who()} sent {self.malformed} malformed chunks, so the reply "
                f"cannot be trusted. Try again; if it keeps happening, the server may not be "
                f"fully compatible."))
        return ()

    def interrupted(self, pending: bool) -> StreamInterrupted:
        if self.events == 0 and not pending:
            # Nothing at all: llama.cpp's server (and others) answer a prompt longer than
            # the model's context this way when streaming, though not when not streaming.
            return ContextTooLong(
                f"{self.client._who()} ended the reply without sending anything. Most likely "
                f"the conversation is too long for {self.model_name()}: continue with the "
                f"oldest turns left out, or start a new chat.")
        if self.got_content or self.state.pieces:
            what = "The connection closed before the reply was finished"
        else:
            what = "The connection closed before any reply arrived"
        cut = " (in the middle of a message)" if pending else ""
        return StreamInterrupted(f"{what}{cut}.{_kept(self.state)}")

    def model_name(self) -> str:
        return repr(self.client.model)


# --------------------------------------------------------------------------- OpenAI


class _OpenAIProtocol(_StreamProtocol):
    def __init__(self, client: _HTTPClient, state: ReplyStream) -> None:
        super().__init__(client, state)
        self.saw_done = False
        self.tool_call = False

    def on_event(self, event: ServerSentEvent) -> Iterable[Piece]:
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
                self.fail(self.client._classify(None, _ErrorInfo(data, "", ""), in_stream=True))
                return ()
            return self.skip_malformed("not JSON")
        if not isinstance(obj, dict):
            return self.skip_malformed("not a JSON object")
        if "error" in obj and obj["error"] or obj.get("object") == "error" or (
                event.event == "error"):
            code = _error_info(obj).code
            self.fail(self.client._classify(None, _error_info(obj), in_stream=True),
                      retryable=code in ("429", "500", "502", "503", "529") and not
                      self.got_content)
            return ()
        usage = obj.get("usage")
        if usage:
            _set_usage(self.state, usage.get("prompt_tokens") if isinstance(usage, dict)
                       else None, usage.get("completion_tokens") if isinstance(usage, dict)
                       else None)
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
        pieces: list[Piece] = []
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message")  # a few servers send whole messages
        if isinstance(delta, dict):
            content = delta.get("content")
            if isinstance(content, str):
                if content:
                    pieces.append(Piece("text", content))
            elif content is None:
                if "content" in delta and len(delta) == 1 and choice.get(
                        "finish_reason") is None:
                    return self.skip_malformed("null content")
            elif isinstance(content, list):  # content parts (Mistral)
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        kind = "reasoning" if part.get("type") == "thinking" else "text"
                        pieces.append(Piece(kind, part["text"]))
            else:
                return self.skip_malformed(f"content is {type(content).__name__}")
            reasoning = delta.get("reasoning_content")
            if not isinstance(reasoning, str) or not reasoning:
                reasoning = delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                pieces.insert(0, Piece("reasoning", reasoning))
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                pieces.append(Piece("text", refusal))
            if delta.get("tool_calls") or delta.get("function_call"):
                self.tool_call = True
        elif delta is not None:
            return self.skip_malformed("delta is not an object")
        if pieces:
            self.got_content = True
            mender = self.mender
            if mender.pending["text"] or mender.pending["reasoning"] or "\\u" in data:
                pieces = [Piece(p.kind, mender.mend(p.kind, p.text)) for p in pieces]
                pieces = [p for p in pieces if p.text]
        finish = choice.get("finish_reason")
        if finish is not None:
            self._finish(str(finish))
        return pieces

    def _finish(self, reason: str) -> None:
        state = self.state
        state.finish_reason = state.provider_finish_reason = reason
        if reason == "content_filter":
            self.fail(ContentFiltered(
                f"{self.client._who()}'s content filter stopped the reply. Rephrase the "
                f"message and try again."))
        elif reason == "error":
            self.fail(ProviderError(
                f"{self.client._who()} reported an error while writing the reply and stopped. "
                f"Try again."))
        else:
            self.finished = True

    def at_end(self, pending: bool) -> list[Piece]:
        tail = self.mender.flush()
        if self.finished:
            if self.state.finish_reason in ("tool_calls", "function_call") and not (
                    self.got_content):
                raise ProviderError(
                    f"{self.model_name()} answered with a tool call instead of text; this chat "
                    f"does not offer tools. Try again or rephrase the message.")
            return tail
        if self.saw_done:
            if self.got_content:
                return tail  # [DONE] after text, without a finish reason: still an end
            raise ProviderError(
                f"{self.client._who()} ended the reply without sending any text or a reason. "
                f"Try again.")
        raise self.interrupted(pending)


def _model_ids(response: httpx.Response) -> list[str]:
    """Model ids from an OpenAI-style ``{"data": [{"id": ...}]}`` list (llama.cpp's
    server also sends ``{"models": [{"name"|"model": ...}]}``); [] if it is neither."""
    try:
        obj = response.json()
    except ValueError:
        return []
    if not isinstance(obj, dict):
        return []
    ids = [item.get("id") for item in obj.get("data") or [] if isinstance(item, dict)]
    if not any(ids):
        ids = [item.get("model") or item.get("name")
               for item in obj.get("models") or [] if isinstance(item, dict)]
    return [i for i in ids if isinstance(i, str) and i.strip()]


def _set_usage(state: ReplyStream, prompt: Any, completion: Any) -> None:
    usage = dict(state.usage or {})
    if isinstance(prompt, int) and not isinstance(prompt, bool):
        usage["prompt_tokens"] = prompt
    if isinstance(completion, int) and not isinstance(completion, bool):
        usage["completion_tokens"] = completion
    if usage:
        state.usage = usage


class OpenAICompatibleClient(_HTTPClient):
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

    def __init__(self, base_url: str = DEFAULT_OPENAI_BASE_URL,
                 model: str | None = DEFAULT_OPENAI_MODEL, api_key: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(base_url, model, api_key, **kwargs)
        self._stream_options = True  # cleared when a server rejects stream_options

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

    def describe(self) -> str:
        label = f"{self._model_label()} via {_netloc(self.base_url)}"
        return label + " (Ollama)" if self.provider == "ollama" else label

    async def resolve_model(self) -> str:
        """With ``model=None``: the server's only model (or the first it lists, noted in
        the label), from ``GET {base_url}/models``; asked once, before the first reply."""
        if self.model:
            return self.model
        url = _join_url(self.base_url, "/models")
        headers = {k: v for k, v in self._headers().items() if k != "accept"}
        try:
            response = await self._http().get(url, headers=headers)
        except httpx.TransportError as exc:
            raise self._connection_failed(exc) from None
        ids = _model_ids(response) if response.status_code == 200 else []
        if not ids:
            status = f" (HTTP {response.status_code})" if response.status_code != 200 else ""
            raise ModelNotFound(
                f"No model was named and {_netloc(self.base_url)} did not list one at "
                f"{_safe_url(url)}{status}. Name the model with LIVECHAT_MODEL (or "
                f"livechat --model).", status_code=response.status_code)
        self.model = ids[0]
        if len(ids) > 1:
            self.model_note = f"first of {len(ids)} listed"
            log.warning("%s lists %d models; using the first, %r (set LIVECHAT_MODEL to "
                        "choose)", _netloc(self.base_url), len(ids), ids[0])
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

    def _payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if self._stream_options:
            payload["stream_options"] = {"include_usage": True}
        payload.update(self.extra_body)
        return payload

    def _retry_adjusted(self, status: int, body: bytes) -> bool:
        if self._stream_options and status in (400, 422) and (
                b"stream_options" in body or b"include_usage" in body):
            log.info("%s rejected stream_options; sending requests without it",
                     _netloc(self.base_url))
            self._stream_options = False
            return True
        return False

    def _protocol(self, state: ReplyStream) -> _StreamProtocol:
        return _OpenAIProtocol(self, state)

    def _key_hint(self) -> str:
        if self.provider == "openai":
            return "LIVECHAT_API_KEY or OPENAI_API_KEY"
        return "LIVECHAT_API_KEY"

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[Piece]:
        try:
            obj = json.loads(body)
        except ValueError:
            raise ProviderError(f"{self._who()} sent an answer that is not valid JSON. "
                                f"Try again.") from None
        if not isinstance(obj, dict):
            raise ProviderError(f"{self._who()} sent an unexpected answer. Try again.")
        if obj.get("error") or obj.get("object") == "error":
            raise self._classify(None, _error_info(obj), in_stream=True)
        choices = obj.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
        _set_usage(state, usage.get("prompt_tokens"), usage.get("completion_tokens"))
        pieces = []
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            pieces.append(Piece("reasoning", reasoning))
        content = message.get("content")
        if isinstance(content, str) and content:
            pieces.append(Piece("text", content))
        finish = choice.get("finish_reason")
        if finish is None or not pieces:
            raise ProviderError(f"{self._who()} sent an answer without text. Try again.")
        if finish == "content_filter":
            raise ContentFiltered(f"{self._who()}'s content filter stopped the reply. "
                                  f"Rephrase the message and try again.")
        state.finish_reason = state.provider_finish_reason = str(finish)
        return pieces


# --------------------------------------------------------------------------- Anthropic

_ANTHROPIC_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                   "tool_use": "tool_calls", "pause_turn": "stop",
                   "model_context_window_exceeded": "length"}


class _AnthropicProtocol(_StreamProtocol):
    def on_event(self, event: ServerSentEvent) -> Iterable[Piece]:
        try:
            obj = json.loads(event.data)
        except ValueError:
            return self.skip_malformed("not JSON")
        if not isinstance(obj, dict):
            return self.skip_malformed("not a JSON object")
        kind = obj.get("type") or event.event
        if kind == "content_block_delta":
            delta = obj.get("delta")
            if not isinstance(delta, dict):
                return self.skip_malformed("delta is not an object")
            dtype = delta.get("type")
            if dtype == "text_delta":
                return self._piece("text", delta.get("text"), event)
            if dtype == "thinking_delta":
                return self._piece("reasoning", delta.get("thinking"), event)
            return ()  # signature_delta, input_json_delta, citations_delta, ...
        if kind == "ping" or kind == "content_block_stop":
            return ()
        if kind == "message_start":
            message = obj.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            if isinstance(usage, dict):
                _set_usage(self.state, _input_tokens(usage), usage.get("output_tokens"))
            return ()
        if kind == "content_block_start":
            block = obj.get("content_block")
            if isinstance(block, dict):
                if block.get("type") == "text" and block.get("text"):
                    return self._piece("text", block.get("text"), event)
                if block.get("type") == "thinking" and block.get("thinking"):
                    return self._piece("reasoning", block.get("thinking"), event)
            return ()
        if kind == "message_delta":
            delta = obj.get("delta")
            usage = obj.get("usage")
            if isinstance(usage, dict):
                _set_usage(self.state, _input_tokens(usage), usage.get("output_tokens"))
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
            info = _error_info(obj)
            self.fail(self.client._classify(None, info, in_stream=True),
                      retryable=info.type in ("overloaded_error", "api_error",
                                              "rate_limit_error") and not self.got_content)
            return ()
        return ()  # an event type added after this was written

    def _piece(self, kind: str, text: Any, event: ServerSentEvent) -> Iterable[Piece]:
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
        return (Piece(kind, text),)

    def _stop(self, reason: str) -> None:
        state = self.state
        state.provider_finish_reason = reason
        if reason == "refusal":
            state.finish_reason = reason
            self.fail(ContentFiltered(
                "Claude declined to continue this reply (refusal). Rephrase the message and "
                "try again."))
            return
        state.finish_reason = _ANTHROPIC_STOP.get(reason, reason)
        self.finished = True

    def at_end(self, pending: bool) -> list[Piece]:
        tail = self.mender.flush()
        if self.finished:
            if self.state.finish_reason == "tool_calls" and not self.got_content:
                raise ProviderError("Claude answered with a tool call instead of text; this "
                                    "chat does not offer tools. Try again.")
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


class AnthropicClient(_HTTPClient):
    """Anthropic's Messages API with streaming. System messages become the top-level
    ``system``; consecutive messages of the same role are merged; empty ones dropped.
    Other parameters as :class:`OpenAICompatibleClient`, plus ``max_tokens``."""

    def __init__(self, model: str = DEFAULT_ANTHROPIC_MODEL, api_key: str | None = None, *,
                 base_url: str = DEFAULT_ANTHROPIC_BASE_URL, max_tokens: int = 4096,
                 **kwargs: Any) -> None:
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

    def _payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in messages
                             if m["role"] == "system" and m["content"].strip())
        turns: list[dict[str, str]] = []
        for m in messages:
            if m["role"] == "system" or not m["content"].strip():
                continue
            if turns and turns[-1]["role"] == m["role"]:
                turns[-1] = {"role": m["role"],
                             "content": turns[-1]["content"] + "\n\n" + m["content"]}
            else:
                turns.append({"role": m["role"], "content": m["content"]})
        payload: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens,
                                   "messages": turns, "stream": True}
        if system:
            payload["system"] = system
        payload.update(self.extra_body)
        return payload

    def _protocol(self, state: ReplyStream) -> _StreamProtocol:
        return _AnthropicProtocol(self, state)

    def _key_hint(self) -> str:
        return "LIVECHAT_API_KEY or ANTHROPIC_API_KEY"

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[Piece]:
        try:
            obj = json.loads(body)
        except ValueError:
            raise ProviderError("Anthropic sent an answer that is not valid JSON. "
                                "Try again.") from None
        if not isinstance(obj, dict) or obj.get("type") == "error":
            raise self._classify(None, _error_info(obj), in_stream=True)
        pieces = []
        for block in obj.get("content") or []:
            if isinstance(block, dict):
                if block.get("type") == "text" and isinstance(block.get("text"), str):
                    pieces.append(Piece("text", block["text"]))
                elif block.get("type") == "thinking" and isinstance(block.get("thinking"), str):
                    pieces.append(Piece("reasoning", block["thinking"]))
        usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
        _set_usage(state, _input_tokens(usage), usage.get("output_tokens"))
        stop = obj.get("stop_reason")
        if stop is None or not pieces:
            raise ProviderError("Anthropic sent an answer without text. Try again.")
        state.provider_finish_reason = str(stop)
        state.finish_reason = _ANTHROPIC_STOP.get(str(stop), str(stop))
        return pieces


# --------------------------------------------------------------------------- configuration

PROVIDERS = ("openai", "anthropic", "ollama", "demo")


def _ollama_base_url(host: str) -> str:
    """``OLLAMA_HOST`` ("0.0.0.0:11434", "localhost", "http://box:11434") as a /v1 URL."""
    host = host.strip()
    if "://" not in host:
        host = "http://" + host
    parts = urlsplit(host)
    hostname = parts.hostname or "localhost"
    if hostname in ("0.0.0.0", "::"):
        hostname = "localhost"  # a listen address; connect locally
    if ":" in hostname:
        hostname = f"[{hostname}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{hostname}:{port or 11434}"
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme or "http", netloc, path, "", ""))


def client_from_env(environ: Mapping[str, str] | None = None,
                    **kwargs: Any) -> _BaseClient:
    """The client the environment asks for.

    - ``LIVECHAT_PROVIDER``: ``openai`` | ``anthropic`` | ``ollama`` | ``demo``. When
      unset: ``LIVECHAT_BASE_URL``, ``LIVECHAT_API_KEY`` or ``OPENAI_API_KEY`` select
      an OpenAI-compatible server, else ``ANTHROPIC_API_KEY`` selects Anthropic, else
      the offline :class:`DemoClient`.
    - ``LIVECHAT_BASE_URL`` (else ``OPENAI_BASE_URL`` / ``OLLAMA_HOST`` / the
      provider's default), ``LIVECHAT_MODEL`` (else a default per provider),
      ``LIVECHAT_API_KEY`` (else ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``).

    Extra keyword arguments (timeouts, retries) go to the client's constructor.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    provider = get("LIVECHAT_PROVIDER").lower()
    if provider and provider not in PROVIDERS:
        raise ValueError(f"LIVECHAT_PROVIDER={provider!r} is not one of "
                         f"{', '.join(PROVIDERS)}")
    base_url, model, key = get("LIVECHAT_BASE_URL"), get("LIVECHAT_MODEL"), get("LIVECHAT_API_KEY")
    if not provider:
        if base_url or key or get("OPENAI_API_KEY"):
            provider = "openai"
        elif get("ANTHROPIC_API_KEY"):
            provider = "anthropic"
        else:
            provider = "demo"
    if provider == "demo":
        return DemoClient(**kwargs)
    if provider == "anthropic":
        return AnthropicClient(model or DEFAULT_ANTHROPIC_MODEL,
                               key or get("ANTHROPIC_API_KEY") or None,
                               base_url=base_url or get("ANTHROPIC_BASE_URL")
                               or DEFAULT_ANTHROPIC_BASE_URL, **kwargs)
    if provider == "ollama":
        url = base_url or _ollama_base_url(get("OLLAMA_HOST") or "localhost:11434")
        return OpenAICompatibleClient(url, model or DEFAULT_OLLAMA_MODEL, key or None,
                                      provider="ollama", **kwargs)
    url = base_url or get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
    # No model named for a server of one's own: ask it which model it serves.
    default = DEFAULT_OPENAI_MODEL if url.rstrip("/") == DEFAULT_OPENAI_BASE_URL else None
    return OpenAICompatibleClient(url, model or default,
                                  key or get("OPENAI_API_KEY") or None, **kwargs)
