"""Reading an accepted streaming response: bytes -> server-sent events -> stream
events.

The loop is the same for every provider; a :class:`~.protocol.StreamProtocol` says
what each event means. Nothing here retries: a failure before the first piece that
is worth retrying is raised as :class:`~.transport.RetryBeforeFirstPiece` for the
request loop to decide."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import httpx

from ._format import duration
from .errors import StreamInterrupted
from .events import StreamEvent
from .protocol import StreamProtocol, kept
from .sse import SSEParser
from .transport import Deadline, RetryBeforeFirstPiece

__all__ = ["read_events"]

log = logging.getLogger(__name__)

# A chunk of an unexpected shape raises one of these in a protocol's on_event.
_SHAPE_ERRORS = (TypeError, KeyError, IndexError, AttributeError, ValueError)


async def read_events(
    response: httpx.Response,
    protocol: StreamProtocol,
    *,
    deadline: Deadline,
    read_timeout: float,
) -> AsyncGenerator[StreamEvent, None]:
    """The stream events of an accepted SSE ``response``, until the protocol is done
    or the body ends; then the protocol's verdict (its error, or its last events)."""
    state = protocol.state
    parser = SSEParser()
    raw = response.aiter_bytes()
    timed = None if deadline.at is None else deadline.chunks(raw)
    chunks = raw if timed is None else timed
    try:
        async for chunk in chunks:
            for event in parser.feed(chunk):
                protocol.events += 1
                try:
                    events = protocol.on_event(event)
                except _SHAPE_ERRORS as exc:
                    events = protocol.skip_malformed(repr(exc))
                for item in events:
                    yield item
                if protocol.done:
                    break
            if protocol.done:
                break
    except httpx.ReadTimeout:
        if not protocol.finished:
            raise StreamInterrupted(
                f"The stream stalled: no data for {duration(read_timeout)} (the read "
                f"timeout).{kept(state)}"
            ) from None
    except httpx.DecodingError:
        if not protocol.finished:
            raise StreamInterrupted(
                f"The stream arrived garbled (its compression could not be decoded).{kept(state)}"
            ) from None
    except httpx.TransportError as exc:
        if not protocol.finished:
            dropped = StreamInterrupted(
                f"The connection dropped in the middle of the reply.{kept(state)}"
            )
            if state.deltas == 0:
                log.info("stream dropped before any piece (%r)", exc)
                raise RetryBeforeFirstPiece(dropped) from None
            raise dropped from None
    finally:
        if timed is not None:
            await timed.aclose()
        await raw.aclose()  # type: ignore[attr-defined]
    if protocol.error is not None:
        if protocol.retryable and state.deltas == 0:
            raise RetryBeforeFirstPiece(protocol.error)
        raise protocol.error
    for item in protocol.at_end(parser.close()):
        yield item
