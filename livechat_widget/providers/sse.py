"""Server-sent events, parsed at the byte level as the WHATWG HTML standard says.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

- Lines end at CR, LF or CRLF, and nowhere else. A CRLF split across two chunks is
  one line end. U+2028, U+2029 and U+0085 are legal inside JSON strings and are
  *not* line ends (``str.splitlines`` and ``httpx.Response.aiter_lines`` split on
  them, which corrupts such a payload), so the split happens on bytes.
- Lines are split before decoding, and line ends are ASCII, so a multi-byte UTF-8
  character split across network chunks is reassembled intact. Bytes that are not
  UTF-8 become U+FFFD. One leading byte-order mark is dropped.
- ``:comment`` lines are ignored; a field without a colon has an empty value; one
  space after the colon is dropped; several ``data`` lines are joined with ``\\n``;
  unknown fields are ignored; an ``id`` containing NUL is ignored; ``retry`` is kept
  only when it is all ASCII digits.
- An event is dispatched at a blank line, and only when it had data. What is pending
  at the end of the stream is not an event: :meth:`SSEParser.close` reports it.
"""

from __future__ import annotations

from itertools import repeat

__all__ = ["SSEParser", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent:
    """One dispatched event. ``event`` is "message" when the stream named none."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self, data: str, event: str = "message", id: str = "", retry: int | None = None
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return (
            f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r}, "
            f"retry={self.retry!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id, self.retry) == (
            other.data,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class SSEParser:
    """Incremental parser: ``feed(bytes)`` returns the events completed by those
    bytes, in order. Chunks may be split anywhere, even inside a UTF-8 character.

    >>> p = SSEParser()
    >>> p.feed(b"data: hel") + p.feed(b"lo\\r\\n\\r\\n")
    [ServerSentEvent(data='hello', event='message', id='', retry=None)]
    """

    __slots__ = (
        "_buf",
        "_skip_lf",
        "_started",
        "_special",
        "_data",
        "_event",
        "last_event_id",
        "retry",
    )

    def __init__(self) -> None:
        self._buf = b""  # the incomplete last line
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF is its pair
        self._started = False  # the byte-order mark check is done
        self._special = True  # either of the two above needs attention
        self._data: list[bytes] = []  # data lines of the event being built
        self._event = b""  # event type of the event being built
        self.last_event_id = ""
        self.retry: int | None = None  # reconnection time (ms) when the stream set one

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._special:  # the start of the stream, or the last chunk ended with CR
            chunk = self._start(chunk)
            if not chunk:
                return []
        elif self._buf:
            chunk = self._buf + chunk
        if b"\r" in chunk:
            lines = chunk.splitlines()  # bytes: splits at CR, LF and CRLF only
            last = chunk[-1]
            if last == 13:
                self._skip_lf = self._special = True
                self._buf = b""
            elif last == 10:
                self._buf = b""
            else:
                self._buf = lines.pop()
        else:
            lines = chunk.split(b"\n")
            self._buf = lines.pop()
        events: list[ServerSentEvent] = []
        data = self._data
        if len(lines) >= 8 and not data and not self._event:
            # Fast path: a run of events that are each one "data: " line and a blank
            # line -- nearly all real traffic -- is cut out in one pass instead of
            # being interpreted line by line. The result is the same.
            end = len(lines) & ~1
            data_lines = lines[0:end:2]
            if not any(lines[1:end:2]) and all(
                map(bytes.startswith, data_lines, repeat(b"data: "))
            ):
                last_id, retry, event = self.last_event_id, self.retry, ServerSentEvent
                events = [
                    event(line[6:].decode("utf-8", "replace"), "message", last_id, retry)
                    for line in data_lines
                ]
                if end == len(lines):
                    return events
                lines = lines[end:]
        for line in lines:
            if not line:  # blank line: dispatch
                if data:
                    raw = data[0] if len(data) == 1 else b"\n".join(data)
                    events.append(
                        ServerSentEvent(
                            raw.decode("utf-8", "replace"),
                            self._event.decode("utf-8", "replace") if self._event else "message",
                            self.last_event_id,
                            self.retry,
                        )
                    )
                    data = self._data = []
                self._event = b""
            elif line.startswith(b"data: "):  # the common case first
                data.append(line[6:])
            elif line[0] == 58:  # ":" comment (keep-alives, OpenRouter's "PROCESSING")
                continue
            else:
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                elif name == b"event":
                    self._event = value
                elif name == b"id":
                    if b"\0" not in value:
                        self.last_event_id = value.decode("utf-8", "replace")
                elif name == b"retry":
                    if value.isdigit():
                        self.retry = int(value)
                # any other field is ignored
        return events

    def _start(self, chunk: bytes) -> bytes:
        """``chunk`` with the buffered bytes before it, minus an LF that completes a
        CRLF and a leading byte-order mark; b"" when there is nothing to parse yet."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
        if self._buf:
            chunk = self._buf + chunk
            self._buf = b""
        if not self._started:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._buf = chunk  # could still be a byte-order mark: wait for more
                return b""
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        self._special = self._skip_lf or not self._started
        return chunk

    def close(self) -> bool:
        """End of stream. Returns True when an incomplete line or an event without
        its closing blank line was pending (and is discarded, as the standard says)."""
        pending = bool(self._buf) or bool(self._data)
        self._buf = b""
        self._data = []
        self._event = b""
        return pending
