"""The byte-level SSE parser against the WHATWG event-stream rules."""

from __future__ import annotations

import json
import random

import pytest

from livechat_widget.providers.sse import ServerSentEvent, SSEParser


def parse(*chunks: bytes) -> tuple[list[ServerSentEvent], bool]:
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events, parser.close()


def datas(*chunks: bytes) -> list[str]:
    return [e.data for e in parse(*chunks)[0]]


def test_simple_event() -> None:
    events, pending = parse(b"data: hello\n\n")
    assert events == [ServerSentEvent("hello")]
    assert events[0].event == "message"
    assert pending is False


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    body = b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    assert datas(body) == ["a\nb", "c"]


def test_mixed_line_endings_and_crlf_split_across_chunks() -> None:
    assert datas(b"data: a\r", b"\n\r", b"\ndata: b\n", b"\r\n") == ["a", "b"]
    # A CR at the end of a chunk followed by a CR is two line ends, not one.
    assert datas(b"data: a\r", b"\rdata: b\r\r") == ["a", "b"]


def test_comments_unknown_fields_and_colon_rules() -> None:
    body = (
        b": keep-alive\n"
        b":OPENROUTER PROCESSING\n"
        b"foo: bar\n"
        b"data:no-space\n"
        b"data:  two spaces\n"
        b"data\n"  # a field without a colon: empty value
        b"\n"
    )
    assert datas(body) == ["no-space\n two spaces\n"]


def test_event_id_and_retry_fields() -> None:
    events, _ = parse(
        b"event: message_start\nid: 7\nretry: 1500\ndata: {}\n\n"
        b"id: bad\x00id\nretry: 12a\ndata: x\n\n"
    )
    assert events[0].event == "message_start" and events[0].id == "7"
    assert events[0].retry == 1500
    assert events[1].event == "message"  # the type resets after each dispatch
    assert events[1].id == "7"  # an id with NUL is ignored; the last one stays
    assert events[1].retry == 1500  # a non-numeric retry is ignored


def test_event_without_data_is_not_dispatched_and_empty_data_is() -> None:
    assert datas(b"event: ping\n\n") == []
    assert datas(b"data:\n\n") == [""]
    assert datas(b"data\n\n") == [""]


def test_byte_order_mark_dropped_only_at_start() -> None:
    assert datas(b"\xef\xbb\xbfdata: a\n\n") == ["a"]
    assert datas(b"\xef", b"\xbb", b"\xbfdata: a\n\n") == ["a"]
    assert datas(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == ["a"]  # later BOM: a bad field


def test_incomplete_event_at_end_is_reported_not_dispatched() -> None:
    events, pending = parse(b'data: a\n\ndata: {"cut')
    assert [e.data for e in events] == ["a"] and pending is True
    events, pending = parse(b"data: a\n\ndata: b\n")  # no blank line after b
    assert [e.data for e in events] == ["a"] and pending is True


def test_unicode_line_separators_are_not_line_ends() -> None:
    text = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"
    payload = json.dumps({"t": text}, ensure_ascii=False).encode()
    events, _ = parse(b"data: " + payload + b"\n\n")
    assert len(events) == 1
    assert json.loads(events[0].data)["t"] == text


def test_multibyte_characters_split_at_every_byte() -> None:
    text = "h\u00e9llo \u4e16\u754c \U0001f600 \u2028 end"
    body = b"data: " + text.encode() + b"\r\n\r\n"
    for i in range(1, len(body)):
        for j in range(i + 1, len(body), 3):
            assert datas(body[:i], body[i:j], body[j:]) == [text], (i, j)


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert datas(b"data: a\xffb\n\n") == ["a\ufffdb"]


def test_random_splits_equal_whole_parse() -> None:
    rng = random.Random(1)
    events = []
    for i in range(60):
        line_end = rng.choice([b"\n", b"\r", b"\r\n"])
        events.append(
            b"data: "
            + json.dumps(
                {"i": i, "t": "\u00fc\u2028\U0001f680" * (i % 4)}, ensure_ascii=False
            ).encode()
            + line_end * 2
        )
        if i % 7 == 0:
            events.append(b": comment" + line_end)
    body = b"".join(events)
    expected = datas(body)
    assert len(expected) == 60
    for seed in range(40):
        rng = random.Random(seed)
        chunks, k = [], 0
        while k < len(body):
            n = rng.randint(1, 9)
            chunks.append(body[k : k + n])
            k += n
        assert datas(*chunks) == expected


def test_empty_chunks_are_harmless() -> None:
    assert datas(b"", b"data: a", b"", b"\n", b"", b"\n") == ["a"]


def test_bulk_chunks_match_byte_by_byte_parsing() -> None:
    """Large chunks take the parser's fast path for runs of one-line events; mixed
    with every other construct, the events must equal a byte-at-a-time parse."""
    rng = random.Random(7)
    parts = []
    for i in range(400):
        kind = rng.random()
        if kind < 0.7:
            parts.append(
                b"data: "
                + json.dumps({"i": i, "t": "\u00e9\U0001f600"}, ensure_ascii=False).encode()
                + b"\n\n"
            )
        elif kind < 0.8:
            parts.append(b"event: delta\ndata: %d\n\n" % i)
        elif kind < 0.85:
            parts.append(b"data: a%d\ndata: b\n\n" % i)
        elif kind < 0.9:
            parts.append(b": ping\n")
        elif kind < 0.95:
            parts.append(b"id: %d\ndata:x\n\n" % i)
        else:
            parts.append(b"\n")  # a stray blank line
    body = b"".join(parts)
    reference = [
        (e.data, e.event, e.id) for e in parse(*[body[i : i + 1] for i in range(len(body))])[0]
    ]
    for size in (64, 333, 4096, len(body)):
        events, _ = parse(*[body[i : i + size] for i in range(0, len(body), size)])
        assert [(e.data, e.event, e.id) for e in events] == reference, size
