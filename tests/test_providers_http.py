"""The HTTP layer against the fake provider: retries (connection errors, retryable
statuses, Retry-After, a stream that breaks before its first piece), backoff with
jitter, timeouts, and the Timeouts / RetryPolicy config objects."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from fake_provider import (
    CUT,
    SSE_HEADERS,
    STALL,
    FakeProvider,
    FakeResponse,
    error,
    openai_chunk,
    openai_reply,
    sse,
)
from test_providers_openai import body, client, fails, run

from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.config import RetryPolicy, Timeouts
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.errors import (
    ConnectionFailed,
    ProviderError,
    RateLimited,
    StreamInterrupted,
)
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.providers.transport import parse_retry_after


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
async def test_retryable_status_then_success(
    fp: FakeProvider, status: int, max_jitter: list[tuple[float, float]]
) -> None:
    fp.script(error(status))
    text, _, stream = await run(client(fp, random=max_jitter))
    assert text == fp.text and stream.outcome == "completed"
    assert len(fp.requests) == 2
    assert max_jitter == [(0.0, 0.01)]


async def test_exponential_backoff_with_full_jitter(
    fp: FakeProvider, max_jitter: list[tuple[float, float]]
) -> None:
    fp.script(error(500), error(500), error(500))
    start = time.monotonic()
    exc = await fails(client(fp, backoff_base=0.05, random=max_jitter), ProviderError)
    elapsed = time.monotonic() - start
    assert max_jitter == [(0.0, 0.05), (0.0, 0.1)]
    assert elapsed >= 0.15  # both waits happened (their length is the jitter's)
    assert len(fp.requests) == 3  # max_retries=2
    assert exc.status_code == 500 and "server error" in exc.user_message


async def test_rate_limited_after_retries(fp: FakeProvider) -> None:
    fp.script(
        *[
            error(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                headers={"retry-after-ms": "20"},
            )
            for _ in range(3)
        ]
    )
    exc = await fails(client(fp), RateLimited)
    assert "Try again in 1 second" in exc.user_message
    assert len(fp.requests) == 3


async def test_retry_after_ms_is_honoured(fp: FakeProvider) -> None:
    fp.script(error(429, headers={"retry-after-ms": "300", "retry-after": "9"}))
    start = time.monotonic()
    text, _, _ = await run(client(fp, backoff_base=10.0))
    assert text == fp.text
    assert 0.3 <= time.monotonic() - start < 9  # the 300 ms, not the 9 s nor the backoff
    assert len(fp.requests) == 2


async def test_retry_after_seconds_is_honoured(fp: FakeProvider) -> None:
    fp.script(error(503, headers={"retry-after": "1"}))
    start = time.monotonic()
    text, _, _ = await run(client(fp, backoff_base=10.0))
    assert text == fp.text
    assert 1.0 <= time.monotonic() - start < 10  # the server's 1 s, not the 10 s backoff
    assert len(fp.requests) == 2


def test_retry_after_http_date() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=120)
    wait = parse_retry_after(httpx.Headers({"retry-after": format_datetime(when, usegmt=True)}))
    assert wait is not None and 115 <= wait <= 121
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500"})) == 1.5


async def test_long_retry_after_is_not_waited(fp: FakeProvider) -> None:
    fp.script(error(429, headers={"retry-after": "3600"}))
    start = time.monotonic()
    exc = await fails(client(fp, max_retry_wait=60.0), RateLimited)
    assert time.monotonic() - start < 30  # neither the hour asked nor the 60 s allowed
    assert "1 hour" in exc.user_message and exc.retry_after == 3600
    assert len(fp.requests) == 1


async def test_connection_refused(fp: FakeProvider, max_jitter: list[Any]) -> None:
    fp.down()
    exc = await fails(client(fp, random=max_jitter), ConnectionFailed)
    assert fp.base_url in exc.user_message
    assert len(max_jitter) == 2  # retried max_retries times
    assert fp.requests == []


async def test_connection_refused_ollama_hint(fp: FakeProvider) -> None:
    fp.down()
    exc = await fails(client(fp, provider="ollama", max_retries=0), ConnectionFailed)
    assert "ollama serve" in exc.user_message


async def test_connection_refused_then_server_comes_up(
    fp: FakeProvider, max_jitter: list[Any]
) -> None:
    fp.down()
    loop = asyncio.get_running_loop()
    loop.call_later(0.15, fp.up)
    text, _, _ = await run(client(fp, backoff_base=0.1, max_retries=3, random=max_jitter))
    assert text == fp.text
    assert len(fp.requests) == 1


async def test_invalid_base_url_is_a_connection_error() -> None:
    c = OpenAICompatibleClient("ftp://example.org/v1", "m", max_retries=0)
    with pytest.raises(ConnectionFailed) as info:
        await run(c)
    assert "not a valid http(s) URL" in info.value.user_message


async def test_stream_options_rejected_then_remembered(fp: FakeProvider) -> None:
    fp.script(
        error(
            400,
            {
                "error": {
                    "message": "Unrecognized request argument supplied: stream_options",
                    "type": "invalid_request_error",
                }
            },
        )
    )
    c = client(fp)
    text, _, _ = await run(c)
    assert text == fp.text
    await run(c)
    assert [("stream_options" in r.json) for r in fp.requests] == [True, False, False]


async def test_drop_before_the_first_piece_is_retried(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200, dict(SSE_HEADERS), [sse(openai_chunk("", role="assistant")), b'data: {"cho', CUT]
        )
    )
    text, _, stream = await run(client(fp))
    assert text == fp.text and stream.outcome == "completed"
    assert len(fp.requests) == 2


async def test_in_band_error_as_the_only_content_is_never_an_empty_success(
    fp: FakeProvider,
) -> None:
    fp.script(
        body({"error": {"message": "Rate limit reached", "code": 429}}, "[DONE]"),
        body({"error": {"message": "still bad", "code": 400}}, "[DONE]"),
    )
    exc = await fails(client(fp, max_retries=1), ProviderError)
    assert exc.partial_text == "" and "still bad" in exc.user_message
    assert len(fp.requests) == 2  # a retryable in-band error before any text is retried


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_cut_in_the_middle_of_a_json_line(fp: FakeProvider, framing: str) -> None:
    line = sse(openai_chunk(" three"))
    fp.script(
        FakeResponse(
            200,
            dict(SSE_HEADERS),
            [sse(openai_chunk("one")), sse(openai_chunk(" two")), line[:25], CUT],
            framing,
        )
    )
    exc = await fails(client(fp), StreamInterrupted)
    assert exc.partial_text == "one two"
    assert len(fp.requests) == 1  # never replayed after a token was shown


async def test_stall_after_three_chunks(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200,
            dict(SSE_HEADERS),
            [
                sse(openai_chunk("", role="assistant")),
                sse(openai_chunk("a")),
                sse(openai_chunk("b")),
                STALL,
            ],
        )
    )
    start = time.monotonic()
    exc = await fails(client(fp, read_timeout=0.3), StreamInterrupted)
    elapsed = time.monotonic() - start
    assert 0.3 <= elapsed < 30  # the read timeout, not the server giving up the stall
    assert exc.partial_text == "ab"
    assert "stalled" in exc.user_message
    assert fp.wait_for_disconnect(0, timeout=2)
    assert len(fp.requests) == 1


def test_default_timeouts_let_a_slow_first_byte_through() -> None:
    c = OpenAICompatibleClient("http://127.0.0.1:9/v1", "m")
    assert c.read_timeout >= 30 and c.connect_timeout == 10.0 and c.total_timeout is None

    async def pool_timeout() -> httpx.Timeout:
        try:
            return c._http().timeout
        finally:
            await c.aclose()

    timeout = asyncio.run(pool_timeout())
    assert timeout.read is not None and timeout.read >= 30
    assert timeout.connect == 10.0


async def test_slow_first_byte_within_read_timeout_succeeds(fp: FakeProvider) -> None:
    reply = openai_reply("slow start")
    reply.head_delay = 0.5  # the 30 s first byte, scaled down with the timeout
    fp.script(reply)
    start = time.monotonic()
    text, _, _ = await run(client(fp, read_timeout=1.0))
    assert text == "slow start"
    assert time.monotonic() - start >= 0.5


async def test_first_byte_later_than_read_timeout(fp: FakeProvider) -> None:
    reply = openai_reply("too late")
    reply.head_delay = 20.0
    fp.script(reply)
    start = time.monotonic()
    exc = await fails(client(fp, read_timeout=0.25), StreamInterrupted)
    assert 0.25 <= time.monotonic() - start < 20  # gave up before the first byte came
    assert "sent nothing" in exc.user_message
    assert len(fp.requests) == 1  # a timeout is not multiplied by retries


async def test_total_timeout(fp: FakeProvider) -> None:
    # A token at once, then one every 0.2 s for a minute: never stalled, never done.
    trickle: list[object] = [sse(openai_chunk("", role="assistant")), sse(openai_chunk("one"))]
    for _ in range(300):
        trickle += [0.2, sse(openai_chunk(" more"))]
    fp.script(FakeResponse(200, dict(SSE_HEADERS), trickle))
    start = time.monotonic()
    exc = await fails(client(fp, total_timeout=2.0), StreamInterrupted)
    assert time.monotonic() - start >= 2.0  # not before the limit
    assert exc.partial_text.startswith("one")
    assert "overall time limit" in exc.user_message


# ------------------------------------------------------------------ the config objects


def test_timeouts_are_a_checked_value_object() -> None:
    assert Timeouts() == Timeouts(connect=10.0, read=120.0, total=None)
    timeouts = Timeouts(connect=5, read=30, total=90)
    with pytest.raises(dataclasses.FrozenInstanceError):
        timeouts.read = 1  # type: ignore[misc]
    for bad, words in [
        ({"connect": -1}, "connect timeout must be > 0"),
        ({"read": -0.5}, "read timeout must be > 0"),
        ({"total": -3}, "total timeout must be > 0"),
        ({"read": 0}, "read timeout must be > 0"),
        ({"read": float("nan")}, "read timeout"),
    ]:
        with pytest.raises(ValueError, match=words):
            Timeouts(**bad)
    with pytest.raises(TypeError, match="number of seconds"):
        Timeouts(read="30")  # type: ignore[arg-type]


def test_retry_policy_is_a_checked_value_object() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_retries=2, backoff_base=0.5, backoff_max=8.0, max_retry_wait=60.0
    )
    for bad, words in [
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"backoff_base": -0.1}, "backoff_base must be >= 0"),
        ({"backoff_max": -1}, "backoff_max must be >= 0"),
        ({"max_retry_wait": -5}, "max_retry_wait must be >= 0"),
    ]:
        with pytest.raises(ValueError, match=words):
            RetryPolicy(**bad)
    with pytest.raises(TypeError):
        RetryPolicy(max_retries=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RetryPolicy(random=0.5)  # type: ignore[arg-type]


def test_backoff_is_exponential_capped_and_drawn_from_the_injected_random(
    max_jitter: list[tuple[float, float]],
) -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0, random=max_jitter)  # type: ignore[arg-type]
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert max_jitter == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]
    seeded = [RetryPolicy(random=random.Random(7).uniform) for _ in range(2)]
    assert [seeded[0].backoff(n) for n in range(4)] == [seeded[1].backoff(n) for n in range(4)]


def test_config_objects_or_the_separate_keyword_arguments() -> None:
    url = "http://127.0.0.1:9/v1"
    c = OpenAICompatibleClient(
        url,
        "m",
        connect_timeout=3,
        read_timeout=40,
        total_timeout=90,
        max_retries=4,
        backoff_base=0.2,
        backoff_max=5,
        max_retry_wait=30,
    )
    assert c.timeouts == Timeouts(connect=3, read=40, total=90)
    assert c.retry == RetryPolicy(max_retries=4, backoff_base=0.2, backoff_max=5, max_retry_wait=30)
    assert (c.connect_timeout, c.read_timeout, c.total_timeout, c.max_retries) == (3, 40, 90, 4)
    assert (c.backoff_base, c.backoff_max, c.max_retry_wait) == (0.2, 5, 30)
    timeouts, retry = Timeouts(read=7), RetryPolicy(max_retries=0)
    a = AnthropicClient("m", timeouts=timeouts, retry=retry)
    assert (a.timeouts, a.retry, a.read_timeout) == (timeouts, retry, 7)
    assert client_from_env({"OPENAI_API_KEY": "k"}, timeouts=timeouts).timeouts is timeouts
    with pytest.raises(TypeError, match="either timeouts= or read_timeout"):
        OpenAICompatibleClient(url, "m", timeouts=timeouts, read_timeout=3)
    with pytest.raises(TypeError, match="either retry= or max_retries"):
        OpenAICompatibleClient(url, "m", retry=retry, max_retries=3)
    with pytest.raises(TypeError, match="must be a RetryPolicy"):
        OpenAICompatibleClient(url, "m", retry={"max_retries": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'read_timout'"):
        OpenAICompatibleClient(url, "m", read_timout=3)
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        OpenAICompatibleClient(url, "m", max_retries=-1)
    with pytest.raises(ValueError, match="read timeout must be > 0"):
        OpenAICompatibleClient(url, "m", read_timeout=-1)


async def test_retry_after_is_waited_instead_of_a_jittered_backoff(
    fp: FakeProvider, max_jitter: list[tuple[float, float]]
) -> None:
    fp.script(error(503, headers={"retry-after-ms": "30"}))
    text, _, _ = await run(client(fp, random=max_jitter))
    assert text == fp.text and len(fp.requests) == 2
    assert max_jitter == []  # no jitter drawn: the provider said how long


async def test_the_retries_of_a_reply_are_counted_together(
    fp: FakeProvider, max_jitter: list[tuple[float, float]]
) -> None:
    # A refused status, then a stream that drops before its first piece, then a 500:
    # the request loop and the stream layer share one budget of max_retries=2.
    fp.script(
        error(503),
        FakeResponse(
            200, dict(SSE_HEADERS), [sse(openai_chunk("", role="assistant")), b'data: {"cho', CUT]
        ),
        error(500),
    )
    exc = await fails(client(fp, random=max_jitter), ProviderError)
    assert "server error" in exc.user_message and exc.status_code == 500
    assert len(fp.requests) == 3
    assert max_jitter == [(0.0, 0.01), (0.0, 0.02)]


async def test_a_drop_before_the_first_piece_with_no_retry_left(fp: FakeProvider) -> None:
    fp.script(
        FakeResponse(
            200, dict(SSE_HEADERS), [sse(openai_chunk("", role="assistant")), b'data: {"cho', CUT]
        )
    )
    exc = await fails(client(fp, max_retries=0), StreamInterrupted)
    assert "dropped" in exc.user_message and "so far is kept" not in exc.user_message
    assert len(fp.requests) == 1


def test_the_user_agent_names_the_package_version():
    from livechat_widget import __version__
    from livechat_widget.providers import http_client

    assert http_client._USER_AGENT == f"livechat-widget/{__version__} (httpx)"
