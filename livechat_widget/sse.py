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

__all__ = ["SSEParser", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent:
    """One dispatched event. ``event`` is "message" when the stream named none."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, data: str, event: str = "message", id: str = "",
                 retry: int | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id, self.retry) == (
            other.data, other.event, other.id, other.retry)

    __hash__ = None  # type: ignore[assignment]


class SSEParser:
    """Incremental parser: ``feed(bytes)`` returns the events completed by those
    bytes, in order. Chunks may be split anywhere, even inside a UTF-8 character.

    >>> p = SSEParser()
    >>> p.feed(b"data: hel") + p.feed(b"lo\\r\\n\\r\\n")
    [ServerSentEvent(event='message', data='hello', id='')]
    """

    __slots__ = ("_buf", "_skip_lf", "_started", "_data", "_event", "last_event_id",
                 "retry")

    def __init__(self) -> None:
        self._buf = b""  # the incomplete last line
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF is its pair
        self._started = False  # the byte-order mark check is done
        self._data: list[bytes] = []  # data lines of the event being built
        self._event = b""  # event type of the event being built
        self.last_event_id = ""
        self.retry: int | None = None  # reconnection time (ms) when the stream set one

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._buf:
            chunk = self._buf + chunk
        if not self._started:
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._buf = chunk  # could still be a byte-order mark: wait for more
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
                if not chunk:
                    self._buf = b""
                    return []
        if b"\r" in chunk:
            lines = chunk.splitlines()  # bytes: splits at CR, LF and CRLF only
            last = chunk[-1]
            if last == 13:
                self._skip_lf = True
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
        for line in lines:
            if not line:  # blank line: dispatch
                if data:
                    events.append(self._dispatch(data))
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

    def _dispatch(self, data: list[bytes]) -> ServerSentEvent:
        raw = data[0] if len(data) == 1 else b"\n".join(data)
        event = self._event.decode("utf-8", "replace") if self._event else "message"
        return ServerSentEvent(raw.decode("utf-8", "replace"), event, self.last_event_id,
                               self.retry)

    def close(self) -> bool:
        """End of stream. Returns True when an incomplete line or an event without
        its closing blank line was pending (and is discarded, as the standard says)."""
        pending = bool(self._buf) or bool(self._data)
        self._buf = b""
        self._data = []
        self._event = b""
        return pending
