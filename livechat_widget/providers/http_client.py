"""What the OpenAI-compatible and Anthropic clients share: configuration, the
connection pool, error messages, and one reply's course -- send (with retries, in
``transport``), then read the accepted response (``stream`` or a whole JSON answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._version import __version__
from ._format import duration, join_url, netloc, safe_url
from .base import BaseClient, ReplyOptions, ReplyStream
from .classify import (
    ErrorContext,
    ErrorInfo,
    Problem,
    classify,
    problem_from_response,
    problem_in_stream,
)
from .config import RetryPolicy, Timeouts
from .errors import AIError, ConnectionFailed, ContextTooLong, ProviderError, StreamInterrupted
from .events import StreamEvent
from .messages import ModelMessage
from .protocol import StreamProtocol
from .stream import read_events
from .transport import (
    JSON_BODY_LIMIT,
    Deadline,
    RetryBeforeFirstPiece,
    Retrying,
    read_capped,
    send,
)

__all__ = ["HTTPClient", "model_ids"]

_USER_AGENT = f"livechat-widget/{__version__} (httpx)"
_WHO = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "ollama": "Ollama",
    "openrouter": "OpenRouter",
    "azure": "Azure OpenAI",
}
_TIMEOUT_ARGS = {"connect_timeout": "connect", "read_timeout": "read", "total_timeout": "total"}
_RETRY_ARGS = ("max_retries", "backoff_base", "backoff_max", "max_retry_wait")


def _config(
    given: Any, cls: type[Any], fields: Mapping[str, str], kwargs: dict[str, Any], name: str
) -> Any:
    """``given`` (a config object), or one made of the separate keyword arguments."""
    loose = {fields[k]: kwargs.pop(k) for k in list(kwargs) if k in fields}
    if given is None:
        return cls(**loose)
    if not isinstance(given, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, not {type(given).__name__}")
    if loose:
        names = ", ".join(k for k, v in fields.items() if v in loose)
        raise TypeError(f"pass either {name}= or {names}, not both")
    return given


def model_ids(response: httpx.Response) -> list[str]:
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
        ids = [
            item.get("model") or item.get("name")
            for item in obj.get("models") or []
            if isinstance(item, dict)
        ]
    return [i for i in ids if isinstance(i, str) and i.strip()]


class HTTPClient(BaseClient):
    """An HTTP chat client. ``timeouts`` (:class:`Timeouts`) and ``retry``
    (:class:`RetryPolicy`) may also be given as their separate keyword arguments
    ``connect_timeout``, ``read_timeout``, ``total_timeout``, ``max_retries``,
    ``backoff_base``, ``backoff_max``, ``max_retry_wait``."""

    _endpoint_path = ""
    _lists_models = False  # model=None asks the server's model list (resolve_model)
    _models_params: dict[str, str] = {}  # query parameters of the model list
    takes_images = True  # the server may still refuse them: ImagesUnsupported
    takes_files = True

    def __init__(
        self,
        base_url: str,
        model: str | None,
        api_key: str | None = None,
        *,
        provider: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **config: Any,
    ) -> None:
        self.timeouts: Timeouts = _config(timeouts, Timeouts, _TIMEOUT_ARGS, config, "timeouts")
        retry_fields = {k: k for k in _RETRY_ARGS}
        self.retry: RetryPolicy = _config(retry, RetryPolicy, retry_fields, config, "retry")
        if config:
            raise TypeError(f"unexpected keyword argument {next(iter(config))!r}")
        if not base_url or "://" not in base_url:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not model and not self._lists_models:
            raise ValueError("model must be a non-empty string")
        self.base_url = base_url.rstrip("/")
        #: "" until resolve_model() asked the server (OpenAI-compatible, model=None)
        self.model = model or ""
        self.model_note = ""  # how the model was chosen, when the server chose it
        self._api_key = api_key or None
        self.provider = provider or self._guess_provider()
        self.extra_headers = dict(headers or {})
        self.extra_body = dict(extra_body or {})
        self._http_client: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    # -- the separate settings, read from the config objects

    @property
    def connect_timeout(self) -> float:
        return self.timeouts.connect

    @property
    def read_timeout(self) -> float:
        return self.timeouts.read

    @property
    def total_timeout(self) -> float | None:
        return self.timeouts.total

    @property
    def max_retries(self) -> int:
        return self.retry.max_retries

    @property
    def backoff_base(self) -> float:
        return self.retry.backoff_base

    @property
    def backoff_max(self) -> float:
        return self.retry.backoff_max

    @property
    def max_retry_wait(self) -> float:
        return self.retry.max_retry_wait

    # -- identity

    def _guess_provider(self) -> str:
        return "openai-compatible"

    @property
    def _is_ollama(self) -> bool:
        return self.provider == "ollama" or urlsplit(self.base_url).port == 11434

    def describe(self, model: str | None = None) -> str:
        return f"{self.model_label(model)} via {netloc(self.base_url)}"

    def model_label(self, model: str | None = None) -> str:
        """The model (``model``, else the client's) as a label names it (without a
        server-side path)."""
        chosen = model or self.model
        if not chosen:
            return "the server's model"
        # A local server may name its model by the file it loaded (llama.cpp's server:
        # "/models/x.gguf"): the label shows the file name, not a path on that machine.
        name = chosen.rsplit("/", 1)[-1] if chosen.startswith("/") else chosen
        note = self.model_note if chosen == self.model else ""
        return f"{name} ({note})" if note else name

    async def resolve_model(self) -> str:
        """The model to ask for: the one given, else the server's (see subclasses)."""
        return self.model

    def who(self) -> str:
        """The provider's name in messages, else the server's host."""
        return _WHO.get(self.provider, netloc(self.base_url))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, "
            f"base_url={self.safe_base_url!r}, model={self.model!r})"
        )

    # -- the connection pool

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._http_client
        if client is None or client.is_closed or self._http_loop is not loop:
            # A pool belongs to one event loop; a new loop (a test, a restarted
            # kernel loop) gets a new pool.
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect),
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

    # -- what subclasses define

    @property
    def endpoint(self) -> str:
        return join_url(self.base_url, self._endpoint_path)

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def _payload(self, messages: list[ModelMessage], options: ReplyOptions) -> dict[str, Any]:
        raise NotImplementedError

    def _models_url(self) -> str:
        """Where the provider lists its models."""
        raise NotImplementedError

    async def list_models(self) -> list[str]:
        """The ids the provider lists (``GET .../models``); [] when the server has no
        list (an error status or an unknown body). A connection problem or a rejected
        key raises its AIError."""
        headers = {k: v for k, v in self._headers().items() if k != "accept"}
        timeout = httpx.Timeout(self.timeouts.read, connect=self.timeouts.connect)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            try:
                response = await http.get(
                    self._models_url(), headers=headers, params=self._models_params
                )
            except httpx.TransportError as exc:
                raise self._connection_failed(exc) from None
        if response.status_code in (401, 403):
            raise self.status_error(response, response.content, None)
        return model_ids(response) if response.status_code == 200 else []

    def _protocol(self, state: ReplyStream) -> StreamProtocol:
        raise NotImplementedError

    def _whole_answer(self, body: bytes, state: ReplyStream) -> list[StreamEvent]:
        """The events of a non-streamed JSON answer (a server or proxy that ignored
        ``stream: true``)."""
        raise NotImplementedError

    def adjust_request(self, status: int, body: bytes, options: ReplyOptions | None = None) -> bool:
        """Whether the request (for a reply with these ``options``) was changed in
        answer to this error response (it is then sent again without counting as a
        retry)."""
        return False

    def _key_hint(self) -> str:
        return "LIVECHAT_API_KEY"

    def unstream_tools(self, options: ReplyOptions) -> bool:
        """A streamed request with tools got an empty stream: True to send it again
        without streaming (a client whose server may do that says so)."""
        return False

    # -- one reply

    async def _generate(
        self, messages: list[ModelMessage], state: ReplyStream
    ) -> AsyncGenerator[StreamEvent, None]:
        deadline = Deadline(self.timeouts.total)
        if not (state.options.model or self.model):
            await deadline.run(self.resolve_model())
        retrying = Retrying(self.retry, deadline, who=self.who())
        call = _Call(self, messages, state.options)
        while True:
            response = await send(self._http(), call, retrying)
            got_any = False
            try:
                async with aclosing(self._read(response, state, deadline)) as events:
                    async for event in events:
                        got_any = True
                        yield event
                return
            except RetryBeforeFirstPiece as signal:
                await response.aclose()
                await retrying.backoff(signal.error)
            except ContextTooLong:
                # An empty stream: too long a prompt, or a server that streams nothing
                # when tools are offered (llama-cpp-python with tool_choice "auto").
                if got_any or not self.unstream_tools(state.options):
                    raise
            finally:
                await response.aclose()

    async def _read(
        self, response: httpx.Response, state: ReplyStream, deadline: Deadline
    ) -> AsyncGenerator[StreamEvent, None]:
        """The events of an accepted response, whatever its content type."""
        ctype = response.headers.get("content-type", "").lower()
        if "json" in ctype and "event-stream" not in ctype:
            body = await read_capped(response, JSON_BODY_LIMIT, deadline)
            for event in self._whole_answer(body, state):
                yield event
            return
        if "html" in ctype:
            raise ProviderError(
                f"{netloc(self.base_url)} answered with a web page instead of a stream of "
                f"tokens. Check the base URL ({self.safe_base_url}): a login page or proxy "
                f"may be in the way."
            )
        events = read_events(
            response, self._protocol(state), deadline=deadline, read_timeout=self.read_timeout
        )
        async with aclosing(events):
            async for event in events:
                yield event

    # -- errors

    def _error_context(self, model: str | None = None) -> ErrorContext:
        return ErrorContext(
            who=self.who(),
            model=model or self.model,
            netloc=netloc(self.base_url),
            base_url=self.safe_base_url,
            endpoint=safe_url(self.endpoint),
            ollama=self._is_ollama,
            key_hint=self._key_hint(),
        )

    def _classify(self, problem: Problem, model: str | None = None) -> AIError:
        return classify(problem, self._error_context(model))

    def in_stream_error(
        self,
        info: ErrorInfo,
        model: str | None = None,
        *,
        tools: bool = False,
        images: bool = False,
    ) -> AIError:
        """The error for an error object sent inside a stream (or a JSON answer);
        ``tools``: the request offered tools; ``images``: it carried images."""
        problem = problem_in_stream(info, self._api_key, tools=tools, images=images)
        return self._classify(problem, model)

    def transport_error(self, exc: Exception) -> AIError:
        """The error for a request that got no response."""
        where = self.safe_base_url
        if isinstance(exc, httpx.ReadTimeout):
            return StreamInterrupted(
                f"{netloc(self.base_url)} accepted the request but sent nothing for "
                f"{duration(self.read_timeout)} (the read timeout). The model may be "
                f"overloaded or still loading; try again, or raise read_timeout."
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return ConnectionFailed(
                f"The base URL {where!r} is not a valid http(s) URL ({exc}). "
                f"Fix LIVECHAT_BASE_URL or the base_url argument."
            )
        return self._connection_failed(exc)

    def _connection_failed(self, exc: Exception) -> ConnectionFailed:
        where = self.safe_base_url
        if isinstance(exc, httpx.ConnectTimeout):
            what = f"Connecting to {where} timed out after {duration(self.connect_timeout)}."
        elif isinstance(exc, httpx.ConnectError):
            what = f"Could not connect to {where}."
        else:
            what = f"The connection to {where} failed before an answer arrived."
        if self._is_ollama:
            hint = (
                " Is Ollama running? Start it with `ollama serve` (or open the Ollama "
                "app), then try again."
            )
        else:
            hint = " Check the base URL and your network connection, then try again."
        return ConnectionFailed(what + hint)

    def status_error(
        self,
        response: httpx.Response,
        body: bytes,
        retry_after: float | None,
        model: str | None = None,
        *,
        tools: bool = False,
        images: bool = False,
    ) -> AIError:
        """The error for a response other than 200 (to a request for ``model``, which
        offered tools if ``tools`` and carried images if ``images``)."""
        problem = problem_from_response(
            response.status_code,
            response.headers,
            body,
            reason=response.reason_phrase,
            retry_after=retry_after,
            api_key=self._api_key,
            tools=tools,
            images=images,
        )
        return self._classify(problem, model)


class _Call:
    """One reply's request, as :func:`transport.send` asks for it (a client may
    stream several replies at once, so this is not the client itself)."""

    def __init__(
        self, client: HTTPClient, messages: list[ModelMessage], options: ReplyOptions
    ) -> None:
        self.client = client
        self.messages = messages
        self.options = options

    def build_request(self, http: httpx.AsyncClient) -> httpx.Request:
        client = self.client
        payload = client._payload(self.messages, self.options)
        return http.build_request("POST", client.endpoint, headers=client._headers(), json=payload)

    def transport_error(self, exc: Exception) -> AIError:
        return self.client.transport_error(exc)

    def status_error(
        self, response: httpx.Response, body: bytes, retry_after: float | None
    ) -> AIError:
        options = self.options
        return self.client.status_error(
            response,
            body,
            retry_after,
            options.model,
            tools=bool(options.tools),
            images=options.images,
        )

    def adjust_request(self, status: int, body: bytes) -> bool:
        return self.client.adjust_request(status, body, self.options)
