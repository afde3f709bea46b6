"""The HTTP layer: send one request, retrying until a response is accepted.

Kept apart from reading the accepted stream (``stream``), as openai-python keeps its
retry loop apart from its stream iteration. Retried, before the first piece only:
connection failures, the statuses in :data:`RETRY_STATUSES` (``Retry-After``
honoured), and -- signalled from the stream layer with :class:`RetryBeforeFirstPiece`
-- a stream that broke before yielding anything. All of them count against one
:class:`Retrying` per reply, so a reply never makes more than ``max_retries`` retries.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from datetime import datetime, timezone
from typing import Protocol, TypeVar

import httpx

from ._format import clock, duration
from .config import RetryPolicy
from .errors import (
    AIError,
    ContextTooLong,
    ImagesUnsupported,
    QuotaExceeded,
    RateLimited,
    StreamInterrupted,
    ToolsUnsupported,
)

__all__ = [
    "ERROR_BODY_LIMIT",
    "JSON_BODY_LIMIT",
    "RETRY_STATUSES",
    "Deadline",
    "RequestHandler",
    "RetryBeforeFirstPiece",
    "Retrying",
    "parse_retry_after",
    "read_capped",
    "send",
    "should_retry",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: HTTP statuses retried (before the first piece only): timeouts, conflicts, rate
#: limits, and server errors including Anthropic's 529 "overloaded".
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
ERROR_BODY_LIMIT = 64 * 1024  # bytes of an error body read for its message
JSON_BODY_LIMIT = 16 * 1024 * 1024  # a non-streamed JSON answer


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait: ``retry-after-ms``, then ``Retry-After`` (seconds or HTTP date).
    A value that is not a usable number is skipped."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            if name == "retry-after":
                return _seconds_until(value)
            continue
        if seconds >= 0 and math.isfinite(seconds):
            return seconds
    return None


def _seconds_until(http_date: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def should_retry(status: int, error: AIError) -> bool:
    """Whether an error response is worth another attempt (out of credit never is)."""
    # Out of credit, a conversation too long for the model, tools or images the server
    # refuses (a 500 from llama.cpp's server): the same request fails again.
    return status in RETRY_STATUSES and not isinstance(
        error, (QuotaExceeded, ContextTooLong, ToolsUnsupported, ImagesUnsupported)
    )


def _retryable_transport_error(exc: Exception) -> bool:
    # A read timeout already waited the longest wait allowed; a bad URL stays bad.
    return not isinstance(exc, (httpx.ReadTimeout, httpx.UnsupportedProtocol, httpx.InvalidURL))


class Deadline:
    """The overall time limit of one reply (``total`` seconds from now, or none)."""

    def __init__(self, total: float | None) -> None:
        self.total = total
        self.at = None if total is None else time.monotonic() + total

    def error(self) -> StreamInterrupted:
        return StreamInterrupted(
            f"The reply did not finish within the overall time limit of "
            f"{duration(self.total or 0)}. Try again, or raise total_timeout."
        )

    def allows(self, wait: float) -> bool:
        """Whether waiting ``wait`` seconds still ends before the deadline."""
        return self.at is None or time.monotonic() + wait <= self.at

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, or raise :meth:`error` when the deadline comes first."""
        if self.at is None:
            return await awaitable
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise self.error()
        try:
            return await asyncio.wait_for(awaitable, remaining)
        except asyncio.TimeoutError:
            raise self.error() from None

    async def chunks(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        """``chunks``, each awaited within the deadline."""
        iterator = chunks.__aiter__()
        while True:
            try:
                chunk = await self.run(iterator.__anext__())
            except StopAsyncIteration:
                return
            yield chunk


class RetryBeforeFirstPiece(Exception):
    """Raised by the stream layer: ``error`` ended the stream before any piece was
    yielded and is worth retrying; the request loop decides whether it may."""

    def __init__(self, error: AIError) -> None:
        super().__init__(error.user_message)
        self.error = error


class Retrying:
    """One reply's retries: the policy, the retries made so far and the deadline."""

    def __init__(self, policy: RetryPolicy, deadline: Deadline, *, who: str) -> None:
        self.policy = policy
        self.deadline = deadline
        self.who = who  # names the provider in a "wait longer" message
        self.retries = 0

    async def backoff(self, error: AIError, retry_after: float | None = None) -> None:
        """Sleep before the next attempt, or raise ``error`` when none is allowed."""
        policy = self.policy
        if retry_after is not None and retry_after > policy.max_retry_wait:
            status = f" (HTTP {error.status_code})" if error.status_code else ""
            wait = duration(retry_after)
            raise RateLimited(
                f"{self.who} is not accepting requests right now{status} and asks to wait "
                f"{wait}. Try again in {wait}{clock(retry_after)}.",
                status_code=error.status_code,
                retry_after=retry_after,
                code=error.code,
                type=error.type,
                request_id=error.request_id,
            )
        if self.retries >= policy.max_retries:
            raise error
        wait_s = retry_after if retry_after is not None else policy.backoff(self.retries)
        if not self.deadline.allows(wait_s):
            raise error
        log.info(
            "%s: retrying in %.2fs (attempt %d of %d): %s",
            self.who,
            wait_s,
            self.retries + 1,
            policy.max_retries,
            error.user_message,
        )
        self.retries += 1
        await asyncio.sleep(wait_s)


class RequestHandler(Protocol):
    """What :func:`send` asks of a client: the request, and the errors to raise."""

    def build_request(self, http: httpx.AsyncClient) -> httpx.Request: ...

    def transport_error(self, exc: Exception) -> AIError: ...

    def status_error(
        self, response: httpx.Response, body: bytes, retry_after: float | None
    ) -> AIError: ...

    def adjust_request(self, status: int, body: bytes) -> bool:
        """Whether the request was changed in answer to this error response (it is
        then sent again, not counted as a retry)."""
        ...


async def read_capped(response: httpx.Response, limit: int, deadline: Deadline) -> bytes:
    """Up to ``limit`` bytes of the body; what arrived when the connection broke."""
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
        await deadline.run(read())
    except httpx.TransportError:
        pass  # what arrived is enough for a message
    return bytes(body[:limit])


async def send(
    http: httpx.AsyncClient, handler: RequestHandler, retrying: Retrying
) -> httpx.Response:
    """Send the handler's request until a 200 response arrives; return it unread
    (streaming). Raises the :class:`AIError` of the last failure."""
    deadline = retrying.deadline
    while True:
        try:
            request = handler.build_request(http)
            response = await deadline.run(http.send(request, stream=True))
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            error = handler.transport_error(exc)
            if not _retryable_transport_error(exc):
                raise error from None
            await retrying.backoff(error)
            continue
        if response.status_code == 200:
            return response
        try:
            body = await read_capped(response, ERROR_BODY_LIMIT, deadline)
        finally:
            await response.aclose()
        status = response.status_code
        if handler.adjust_request(status, body):
            continue
        retry_after = parse_retry_after(response.headers)
        error = handler.status_error(response, body, retry_after)
        if not should_retry(status, error):
            raise error
        await retrying.backoff(error, retry_after)
