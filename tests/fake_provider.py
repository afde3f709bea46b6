"""A fake model provider: a real HTTP/1.1 server on 127.0.0.1 for tests.

It speaks the providers' wire formats (OpenAI-compatible chat completions with SSE,
Anthropic Messages streaming), so the HTTP, SSE, timeout and retry code of the
clients runs for real. It runs an asyncio loop in a background thread, so it works
the same from sync tests, async tests and browser tests.

Quick start::

    from fake_provider import FakeProvider   # tests/ is on sys.path under pytest

    with FakeProvider(text="Hello from the fake model.", tokens_per_s=50) as fp:
        client = OpenAICompatibleClient(fp.base_url, "fake-model")   # streams the text
        ...
        fp.requests[0].json["messages"]        # what the client sent

API
---
``FakeProvider(text=DEFAULT_TEXT, tokens_per_s=0.0, *, port=0)``
    ``start()`` / ``stop()`` or use it as a context manager.
    ``base_url``        "http://127.0.0.1:PORT/v1" (OpenAI-compatible base URL)
    ``url``             "http://127.0.0.1:PORT" (root; Anthropic clients use this)
    ``port``
    ``text``            the default reply; a string, or ``callable(request) -> str``
                        (e.g. ``lambda r: "You said " + r.json["messages"][-1]["content"]``)
    ``tokens_per_s``    pace of the default reply (0 = as fast as possible); both are
                        plain attributes you can change at any time
    ``reasoning``       reasoning streamed before the default reply's text ("" = none)
    ``models``          the model ids GET ``.../models`` lists (default ["fake-model"])
    ``model_fields``    extra fields of every entry of that list (e.g. ``{"max_model_len":
                        4096}`` as vLLM sends, ``{"context_length": ...}`` as OpenRouter)
    ``props``           the body of GET ``/props`` as a llama.cpp server sends it (e.g.
                        ``{"default_generation_settings": {"n_ctx": 2048}}``); None: 404
    ``requests``        list of :class:`Recorded`: ``method``, ``path``, ``headers``
                        (lower-case keys), ``body`` (bytes), ``json`` (parsed or None),
                        ``disconnected`` / ``finished`` (threading.Event: the client went
                        away before / after the whole response was sent), ``time``
    ``script(*responses)``  queue responses, consumed one per request in order; each is
                        a :class:`FakeResponse` or ``callable(request) -> FakeResponse``.
                        When the queue is empty the default handler answers.
    ``set_handler(fn)`` replace the default handler (``None`` restores it).
    ``down()`` / ``up()``   stop listening (connections are refused, open ones are
                        dropped) / listen again on the same port.
    ``reset()``         forget requests and scripted responses.
    ``wait_for_requests(n, timeout)`` / ``await async_wait_for_requests(...)``
    ``wait_for_disconnect(index=-1, timeout)`` / ``await async_wait_for_disconnect(...)``
                        True once the client closed that request's connection early.

Default handler: POST ``.../chat/completions`` streams ``openai_reply(text,
tokens_per_s)``; POST ``.../messages`` streams ``anthropic_reply(...)``; GET
``.../models`` lists ``models``; anything else is a JSON 404.

``FakeResponse(status=200, headers=None, parts=(), framing="chunked", head_delay=0.0)``
    ``parts``: ``bytes``/``str`` (one write each), a number (sleep that many seconds),
    ``STALL`` (send nothing until the client disconnects), ``CUT`` (close the
    connection right now, mid-body). ``framing``: "chunked" (HTTP/1.1 chunked, like
    real SSE servers; a CUT is then a protocol error for the client), "close" (no
    length; the end of the body is the connection closing, so a CUT looks like a
    clean end of stream), or "length" (Content-Length). ``head_delay``: seconds
    before the status line is sent (a slow first byte).
    ``.split(seed=0, max_size=7, delay=0.0)`` re-splits the bytes at random byte
    boundaries (inside UTF-8 characters and CRLFs too), optionally pausing between.

Builders (static methods of FakeProvider, also module functions):
    ``openai_reply(text, tokens_per_s=0.0, *, model, finish_reason="stop", usage=True,
    done=True, reasoning="", role_chunk=True)``,
    ``anthropic_reply(text, tokens_per_s=0.0, *, model, stop_reason="end_turn",
    thinking="")``,
    ``openai_tool_calls(calls, text_before="", tokens_per_s=0.0, *, split_arguments=3,
    model, usage=True, done=True)``: ``calls`` is a list of ``(id, name,
    arguments_json)``; each call's first delta names its index, id and name, then its
    arguments stream in ``split_arguments`` pieces; finish_reason "tool_calls",
    ``anthropic_tool_use(calls, text_before="", tokens_per_s=0.0, *,
    split_arguments=3, model)``: a ``tool_use`` block per call, its input in
    ``input_json_delta`` pieces, stop_reason "tool_use",
    ``openai_completion(text=None, calls=(), *, model, finish_reason=None)``: a whole,
    not streamed, JSON answer (what a server sends for ``"stream": false``),
    ``error(status, body, headers=None, content_type=None)`` (dict body -> JSON),
    ``sse_response(*events, **kw)`` from ``sse(...)`` items,
    ``openai_chunk(...)``, ``anthropic_event(name, data)`` -> bytes,
    ``sse(*events)`` -> bytes (dict -> ``data: <json>``, str -> ``data: <str>``, each
    followed by a blank line; bytes are sent as they are), ``split_random(bytes,
    seed, max_size)``, ``tokens(text)`` (how replies are cut into pieces),
    ``split_pieces(text, n)`` (how tool arguments are).

Scripting tool calls::

    fp.script(
        openai_tool_calls([("call_1", "list_variables", "{}")], "Let me look."),
        openai_reply("You have a DataFrame, df."),      # the answer after the result
    )

From the command line: ``python tests/fake_provider.py --port 8765 --tokens-per-s 30
--text "Hi"`` prints the base URL and serves until stdin closes or Ctrl-C.

Import it as ``from fake_provider import FakeProvider``: pytest puts ``tests/`` on
``sys.path`` (rootdir-relative "prepend" import mode, no ``tests/__init__.py``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = [
    "CUT",
    "DEFAULT_TEXT",
    "SSE_HEADERS",
    "STALL",
    "FakeProvider",
    "FakeResponse",
    "Recorded",
    "anthropic_event",
    "anthropic_reply",
    "anthropic_tool_use",
    "error",
    "openai_chunk",
    "openai_completion",
    "openai_reply",
    "openai_tool_calls",
    "split_pieces",
    "split_random",
    "sse",
    "sse_response",
    "tokens",
]

DEFAULT_TEXT = "Hello! I am the fake provider. This reply streams one token at a time."


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


STALL = _Marker("STALL")
CUT = _Marker("CUT")

Part = bytes | str | float | int | _Marker


@dataclass
class FakeResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    parts: Sequence[Part] = ()
    framing: str = "chunked"
    head_delay: float = 0.0  # seconds before the status line (a slow first byte)

    def split(self, seed: int = 0, max_size: int = 7, delay: float = 0.0) -> FakeResponse:
        """The same response with its bytes re-split at random boundaries."""
        rng = random.Random(seed)
        out: list[Part] = []
        pending = bytearray()

        def flush() -> None:
            for i, piece in enumerate(split_random(bytes(pending), rng, max_size)):
                if i and delay:
                    out.append(delay)
                out.append(piece)
            pending.clear()

        for part in self.parts:
            if isinstance(part, str):
                part = part.encode()
            if isinstance(part, bytes):
                pending.extend(part)
            else:
                flush()
                out.append(part)
        flush()
        return FakeResponse(self.status, dict(self.headers), out, self.framing, self.head_delay)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    time: float = field(default_factory=time.monotonic)
    disconnected: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


# ---------------------------------------------------------------- wire-format builders

_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def tokens(text: str) -> list[str]:
    """Word-sized tokens, each with its leading whitespace."""
    return _TOKEN_RE.findall(text)


def split_random(data: bytes, rng: random.Random | int = 0, max_size: int = 7) -> list[bytes]:
    """``data`` cut into pieces of 1..max_size bytes at random boundaries."""
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, max_size)
        out.append(data[i : i + n])
        i += n
    return out


def sse(*events: Any) -> bytes:
    """SSE bytes: a dict becomes ``data: <json>``, a str ``data: <str>``, bytes are
    sent as given; each is followed by a blank line (bytes excepted)."""
    out = []
    for event in events:
        if isinstance(event, bytes):
            out.append(event)
        elif isinstance(event, str):
            out.append(f"data: {event}\n\n".encode())
        else:
            out.append(b"data: " + json.dumps(event).encode() + b"\n\n")
    return b"".join(out)


def anthropic_event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def openai_chunk(
    content: str | None = None,
    *,
    role: str | None = None,
    finish_reason: str | None = None,
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    model: str = "fake-model",
    usage: dict[str, int] | None = None,
    empty_choices: bool = False,
    id: str = "chatcmpl-fake",
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` object as OpenAI documents it."""
    chunk: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "system_fingerprint": "fp_fake",
    }
    if empty_choices:
        chunk["choices"] = []
    else:
        delta: dict[str, Any] = {}
        if role is not None:
            delta["role"] = role
        if content is not None:
            delta["content"] = content
        if reasoning is not None:
            delta[reasoning_field] = reasoning
        chunk["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
    if usage is not None or empty_choices:
        chunk["usage"] = usage
    return chunk


def _paced(items: Iterable[bytes], tokens_per_s: float) -> list[Part]:
    delay = 1.0 / tokens_per_s if tokens_per_s and tokens_per_s > 0 else 0.0
    out: list[Part] = []
    for i, item in enumerate(items):
        if i and delay:
            out.append(delay)
        out.append(item)
    return out


SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


def sse_response(
    *events: Any, status: int = 200, headers: dict[str, str] | None = None, framing: str = "chunked"
) -> FakeResponse:
    """A response whose body is ``sse(*events)``, one write per event."""
    return FakeResponse(
        status, {**SSE_HEADERS, **(headers or {})}, [sse(e) for e in events], framing
    )


def openai_reply(
    text: str,
    tokens_per_s: float = 0.0,
    *,
    model: str = "fake-model",
    finish_reason: str | None = "stop",
    usage: bool = True,
    done: bool = True,
    reasoning: str = "",
    role_chunk: bool = True,
) -> FakeResponse:
    """A streamed chat completion of ``text``, one token per chunk, at a pace."""
    words = tokens(text)
    events: list[bytes] = []
    if role_chunk:
        events.append(sse(openai_chunk("", role="assistant", model=model)))
    for token in tokens(reasoning):
        events.append(sse(openai_chunk(None, reasoning=token, model=model)))
    for token in words:
        events.append(sse(openai_chunk(token, model=model)))
    if finish_reason is not None:
        events.append(sse(openai_chunk(None, finish_reason=finish_reason, model=model)))
    if usage:
        events.append(
            sse(
                openai_chunk(
                    empty_choices=True,
                    model=model,
                    usage={
                        "prompt_tokens": 9,
                        "completion_tokens": len(words) + len(tokens(reasoning)),
                        "total_tokens": 9 + len(words) + len(tokens(reasoning)),
                    },
                )
            )
        )
    if done:
        events.append(sse("[DONE]"))
    return FakeResponse(200, dict(SSE_HEADERS), _paced(events, tokens_per_s))


def _message_start(model: str) -> bytes:
    """The ``message_start`` event every fake Messages API reply begins with."""
    message = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 1},
    }
    return anthropic_event("message_start", {"type": "message_start", "message": message})


def anthropic_reply(
    text: str,
    tokens_per_s: float = 0.0,
    *,
    model: str = "claude-fake",
    stop_reason: str | None = "end_turn",
    thinking: str = "",
    message_stop: bool = True,
) -> FakeResponse:
    """A streamed Messages API reply, as Anthropic documents the events."""
    words = tokens(text)
    events = [_message_start(model)]
    index = 0
    if thinking:
        events.append(
            anthropic_event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
        )
        for token in tokens(thinking):
            events.append(
                anthropic_event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": token},
                    },
                )
            )
        events.append(
            anthropic_event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM"},
                },
            )
        )
        events.append(
            anthropic_event("content_block_stop", {"type": "content_block_stop", "index": index})
        )
        index += 1
    events.append(
        anthropic_event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
        )
    )
    events.append(anthropic_event("ping", {"type": "ping"}))
    for token in words:
        events.append(
            anthropic_event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": token},
                },
            )
        )
    events.append(
        anthropic_event("content_block_stop", {"type": "content_block_stop", "index": index})
    )
    if stop_reason is not None:
        events.append(
            anthropic_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": len(words)},
                },
            )
        )
    if message_stop:
        events.append(anthropic_event("message_stop", {"type": "message_stop"}))
    return FakeResponse(200, dict(SSE_HEADERS), _paced(events, tokens_per_s))


def split_pieces(text: str, n: int) -> list[str]:
    """``text`` in ``n`` pieces of nearly equal length (fewer when it is shorter;
    none when it is empty), as servers stream a tool call's arguments."""
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    out, i = [], 0
    for k in range(n):
        j = i + size + (1 if k < extra else 0)
        out.append(text[i:j])
        i = j
    return [piece for piece in out if piece]


ToolCall = tuple[str, str, str]  # (id, name, arguments as JSON text)


def openai_tool_calls(
    calls: Sequence[ToolCall],
    text_before: str = "",
    tokens_per_s: float = 0.0,
    *,
    split_arguments: int = 3,
    model: str = "fake-model",
    usage: bool = True,
    done: bool = True,
) -> FakeResponse:
    """A streamed chat completion that says ``text_before`` (if any), then makes the
    ``calls``: for each, a delta with its index, id, type and name (arguments ""),
    then its arguments in ``split_arguments`` pieces; ends with finish_reason
    "tool_calls", the usage chunk and ``[DONE]``, as OpenAI streams them."""
    events: list[bytes] = [sse(openai_chunk(None, role="assistant", model=model))]
    for token in tokens(text_before):
        events.append(sse(openai_chunk(token, model=model)))

    def chunk(call: dict[str, Any]) -> bytes:
        data = openai_chunk(None, model=model)
        data["choices"][0]["delta"] = {"tool_calls": [call]}
        return sse(data)

    for index, (call_id, name, arguments) in enumerate(calls):
        function = {"name": name, "arguments": ""}
        events.append(
            chunk({"index": index, "id": call_id, "type": "function", "function": function})
        )
        for piece in split_pieces(arguments, split_arguments):
            events.append(chunk({"index": index, "function": {"arguments": piece}}))
    events.append(sse(openai_chunk(None, finish_reason="tool_calls", model=model)))
    if usage:
        count = len(tokens(text_before)) + sum(
            len(split_pieces(c[2], split_arguments)) for c in calls
        )
        events.append(
            sse(
                openai_chunk(
                    empty_choices=True,
                    model=model,
                    usage={
                        "prompt_tokens": 9,
                        "completion_tokens": count,
                        "total_tokens": 9 + count,
                    },
                )
            )
        )
    if done:
        events.append(sse("[DONE]"))
    return FakeResponse(200, dict(SSE_HEADERS), _paced(events, tokens_per_s))


def openai_completion(
    text: str | None = None,
    calls: Sequence[ToolCall] = (),
    *,
    model: str = "fake-model",
    finish_reason: str | None = None,
) -> FakeResponse:
    """A whole (not streamed) ``chat.completion`` JSON answer: ``text`` and ``calls``,
    finish_reason "tool_calls" when there are calls, else "stop"."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
            for i, n, a in calls
        ]
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if calls else "stop"),
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
    }
    return FakeResponse(200, {"content-type": "application/json"}, [json.dumps(body)], "length")


def anthropic_tool_use(
    calls: Sequence[ToolCall],
    text_before: str = "",
    tokens_per_s: float = 0.0,
    *,
    split_arguments: int = 3,
    model: str = "claude-fake",
) -> FakeResponse:
    """A streamed Messages API reply that says ``text_before`` (if any) in a text
    block, then makes the ``calls``: for each, a ``tool_use`` content_block_start
    (``input: {}``), its input in ``split_arguments`` ``input_json_delta`` pieces, a
    content_block_stop; ends with stop_reason "tool_use" and message_stop."""
    events = [_message_start(model)]

    def block(kind: str, index: int, **data: Any) -> bytes:
        return anthropic_event(kind, {"type": kind, "index": index, **data})

    index = 0
    if text_before:
        events.append(block("content_block_start", 0, content_block={"type": "text", "text": ""}))
        for token in tokens(text_before):
            delta = {"type": "text_delta", "text": token}
            events.append(block("content_block_delta", 0, delta=delta))
        events.append(block("content_block_stop", 0))
        index = 1
    for call_id, name, arguments in calls:
        tool = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        events.append(block("content_block_start", index, content_block=tool))
        for piece in split_pieces(arguments, split_arguments):
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append(block("content_block_delta", index, delta=delta))
        events.append(block("content_block_stop", index))
        index += 1
    events.append(
        anthropic_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 20},
            },
        )
    )
    events.append(anthropic_event("message_stop", {"type": "message_stop"}))
    return FakeResponse(200, dict(SSE_HEADERS), _paced(events, tokens_per_s))


def error(
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> FakeResponse:
    """An error response; a dict/list body is sent as JSON."""
    if body is None:
        phrase = (
            HTTPStatus(status).phrase
            if status in HTTPStatus._value2member_map_
            else ("Overloaded" if status == 529 else "Error")
        )
        body = {"error": {"message": phrase, "type": "error", "code": status}}
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        ctype = content_type or "application/json"
    else:
        data = body.encode() if isinstance(body, str) else body
        ctype = content_type or "text/plain; charset=utf-8"
    return FakeResponse(status, {"content-type": ctype, **(headers or {})}, [data], "length")


# ---------------------------------------------------------------- the server


class FakeProvider:
    openai_reply = staticmethod(openai_reply)
    anthropic_reply = staticmethod(anthropic_reply)
    openai_tool_calls = staticmethod(openai_tool_calls)
    openai_completion = staticmethod(openai_completion)
    anthropic_tool_use = staticmethod(anthropic_tool_use)
    error = staticmethod(error)
    sse_response = staticmethod(sse_response)

    def __init__(
        self,
        text: str | Callable[[Recorded], str] = DEFAULT_TEXT,
        tokens_per_s: float = 0.0,
        *,
        port: int = 0,
        stall_limit: float = 60.0,
    ) -> None:
        self.text = text
        self.tokens_per_s = tokens_per_s
        self.reasoning = ""  # streamed before the default reply's text (thinking, reasoning)
        self.models = ["fake-model"]  # what GET .../models lists
        self.model_fields: dict[str, Any] = {}  # extra fields of each listed model
        self.props: dict[str, Any] | None = None  # GET /props (llama.cpp); None: 404
        self.requests: list[Recorded] = []
        self.stall_limit = stall_limit
        self._queue: collections.deque[Any] = collections.deque()
        self._handler: Callable[[Recorded], FakeResponse] | None = None
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._stop_event: asyncio.Event | None = None

    # -- lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> FakeProvider:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._main(ready))
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-provider", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _main(self, ready: threading.Event) -> None:
        self._stop_event = asyncio.Event()
        await self._listen()
        ready.set()
        await self._stop_event.wait()
        await self._close_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock)

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def _call(self, make_coro: Callable[[], Any], timeout: float = 10.0) -> Any:
        assert self._loop is not None, "FakeProvider is not started"
        return asyncio.run_coroutine_threadsafe(make_coro(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop_event is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(10)
        self._thread = None

    def down(self) -> None:
        """Stop listening: new connections are refused, open ones are dropped."""
        self._call(self._close_all)

    def up(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            self._call(self._listen)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting

    def script(self, *responses: FakeResponse | Callable[[Recorded], FakeResponse]) -> None:
        self._queue.extend(responses)

    def set_handler(self, handler: Callable[[Recorded], FakeResponse] | None) -> None:
        self._handler = handler

    def reset(self) -> None:
        self._queue.clear()
        self.requests.clear()

    def default_response(self, request: Recorded) -> FakeResponse:
        body = request.json if isinstance(request.json, dict) else {}
        model = str(body.get("model") or "fake-model")
        text = self.text(request) if callable(self.text) else self.text
        path = request.path.split("?", 1)[0]
        if request.method == "POST" and path.endswith("/chat/completions"):
            return openai_reply(text, self.tokens_per_s, model=model, reasoning=self.reasoning)
        if request.method == "POST" and path.endswith("/messages"):
            return anthropic_reply(text, self.tokens_per_s, model=model, thinking=self.reasoning)
        if request.method == "GET" and path.endswith("/models"):
            # OpenAI's list shape; Anthropic's has the same data[].id plus paging fields.
            data = [
                {"id": m, "object": "model", "type": "model", **self.model_fields}
                for m in self.models
            ]
            body = {"object": "list", "data": data, "has_more": False}
            return FakeResponse(
                200, {"content-type": "application/json"}, [json.dumps(body)], "length"
            )
        if request.method == "GET" and path == "/props" and self.props is not None:
            return FakeResponse(
                200, {"content-type": "application/json"}, [json.dumps(self.props)], "length"
            )
        return error(
            404,
            {
                "error": {
                    "message": f"Unknown path {path}",
                    "type": "invalid_request_error",
                    "code": None,
                }
            },
        )

    def _respond(self, request: Recorded) -> FakeResponse:
        item = self._queue.popleft() if self._queue else (self._handler or self.default_response)
        return item(request) if callable(item) else item

    # -- waiting (sync for threads, async for tests running on an event loop)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while len(self.requests) < n:
            if time.monotonic() > end:
                return False
            time.sleep(0.005)
        return True

    async def async_wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while len(self.requests) < n:
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.005)
        return True

    def wait_for_disconnect(self, index: int = -1, timeout: float = 5.0) -> bool:
        return self.requests[index].disconnected.wait(timeout)

    async def async_wait_for_disconnect(self, index: int = -1, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        event = self.requests[index].disconnected
        while not event.is_set():
            if time.monotonic() > end:
                return False
            await asyncio.sleep(0.005)
        return True

    # -- HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        try:
            while True:
                request = await self._read_request(reader, buf)
                if request is None:
                    break
                self.requests.append(request)
                response = self._respond(request)
                if not await self._send(response, request, reader, writer, buf):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader, buf: bytearray) -> Recorded | None:
        while b"\r\n\r\n" not in buf:
            data = await reader.read(65536)
            if not data:
                return None
            buf.extend(data)
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        body = bytearray(rest)
        while len(body) < length:
            data = await reader.read(65536)
            if not data:
                return None
            body.extend(data)
        buf[:] = body[length:]
        body_bytes = bytes(body[:length])
        try:
            parsed = json.loads(body_bytes) if body_bytes else None
        except ValueError:
            parsed = None
        return Recorded(method, path, headers, body_bytes, parsed)

    async def _send(
        self,
        response: FakeResponse,
        request: Recorded,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        buf: bytearray,
    ) -> bool:
        """Send one response; returns whether the connection can serve another."""
        framing = response.framing
        parts = [p.encode() if isinstance(p, str) else p for p in response.parts]
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Overloaded" if response.status == 529 else "Unknown"
        head = [f"HTTP/1.1 {response.status} {reason}"]
        headers = {k.lower(): v for k, v in response.headers.items()}
        if framing == "chunked":
            headers["transfer-encoding"] = "chunked"
        elif framing == "length":
            size = sum(len(p) for p in parts if isinstance(p, bytes))
            headers["content-length"] = str(size)
        else:
            headers["connection"] = "close"
        head += [f"{k}: {v}" for k, v in headers.items()]
        watcher = asyncio.ensure_future(reader.read(65536))

        def gone() -> bool:
            if watcher.done() and not watcher.cancelled():
                if watcher.exception() is not None or not watcher.result():
                    return True
            return False

        try:
            if response.head_delay:
                await asyncio.wait({watcher}, timeout=response.head_delay)
                if gone():
                    request.disconnected.set()
                    return False
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            for part in parts:
                if gone():
                    request.disconnected.set()
                    return False
                if isinstance(part, bytes):
                    if not part:
                        continue
                    if framing == "chunked":
                        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                    else:
                        writer.write(part)
                    await writer.drain()
                elif part is CUT:
                    await writer.drain()
                    writer.close()
                    return False
                elif part is STALL or isinstance(part, (int, float)):
                    wait = self.stall_limit if part is STALL else float(part)  # type: ignore
                    await asyncio.wait({watcher}, timeout=wait)
                    if gone():
                        request.disconnected.set()
                        return False
            if framing == "chunked":
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            request.finished.set()
            return framing != "close"
        except (ConnectionError, OSError):
            request.disconnected.set()
            return False
        finally:
            if not watcher.done():
                watcher.cancel()
                await asyncio.wait({watcher})  # the reader is free only once it ended
            if not watcher.cancelled() and watcher.exception() is None:
                buf.extend(watcher.result())  # the start of a pipelined request


def main(argv: Sequence[str] | None = None) -> None:
    """Serve from the command line (for browser tests and manual runs)::

        python tests/fake_provider.py --port 8765 --tokens-per-s 30 --text "Hi there"

    prints the base URL, then serves until interrupted or stdin closes.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible/Anthropic server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--tokens-per-s", type=float, default=0.0)
    parser.add_argument("--n-ctx", type=int, default=0, help="answer GET /props with this n_ctx")
    args = parser.parse_args(argv)
    with FakeProvider(args.text, args.tokens_per_s, port=args.port) as fp:
        if args.n_ctx:
            fp.props = {"default_generation_settings": {"n_ctx": args.n_ctx}}
        print(fp.base_url, flush=True)
        try:
            sys.stdin.read()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
