"""Benchmarks of the AI client's streaming path. Prints one JSON object.

1. SSE parser throughput on a ~10 MB recorded OpenAI-style stream, against a bare
   loop that only splits the same bytes into lines, in the same run (target: the
   parser within 3x of the bare loop). Measured with network-sized chunks (64 KiB,
   what a fast local read returns) and with event-sized chunks (~1 event per read,
   what a paced stream delivers).
2. The client's overhead per piece: a fake provider (tests/fake_provider.py, in its
   own process so it does not share the GIL) streams N pieces unpaced; the time of
   ``OpenAICompatibleClient.stream`` minus the time of a raw httpx ``aiter_bytes``
   over the same response, divided by N.

Usage: python3 benchmarks/bench_client.py [--mb 10] [--pieces 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import httpx  # noqa: E402
from fake_provider import openai_chunk, sse, tokens  # noqa: E402

from livechat_widget import telemetry  # noqa: E402
from livechat_widget.providers.openai import OpenAICompatibleClient  # noqa: E402
from livechat_widget.providers.sse import SSEParser  # noqa: E402

WORDS = (
    "The quick brown fox jumps over the lazy dog; caf\u00e9 \u4e16\u754c \U0001f600 "
    'line\u2028separator and `code` with "quotes".'
).split(" ")


def recorded_stream(megabytes: float) -> tuple[bytes, int]:
    """An OpenAI chat completion stream of about ``megabytes`` MB, and its events."""
    target = int(megabytes * 1_000_000)
    parts = [sse(openai_chunk("", role="assistant", model="gpt-4o-mini"))]
    size, i = len(parts[0]), 0
    while size < target:
        part = sse(openai_chunk(" " + WORDS[i % len(WORDS)], model="gpt-4o-mini"))
        parts.append(part)
        size += len(part)
        i += 1
    parts.append(sse(openai_chunk(None, finish_reason="stop", model="gpt-4o-mini"), "[DONE]"))
    return b"".join(parts), i + 3


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def bare_lines(chunks: list[bytes]) -> int:
    """The floor: split bytes into lines and touch each line, nothing else."""
    buf = b""
    n = 0
    for chunk in chunks:
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        for _line in lines:
            n += 1
    return n


def parse_events(chunks: list[bytes]) -> int:
    parser = SSEParser()
    n = 0
    for chunk in chunks:
        for _event in parser.feed(chunk):
            n += 1
    return n


def parse_events_json(chunks: list[bytes]) -> int:
    parser = SSEParser()
    loads = json.loads
    n = 0
    for chunk in chunks:
        for event in parser.feed(chunk):
            if event.data != "[DONE]":
                loads(event.data)
            n += 1
    return n


def bench_parser(megabytes: float, repeat: int) -> dict:
    data, n_events = recorded_stream(megabytes)
    mb = len(data) / 1e6
    out: dict = {"stream_mb": round(mb, 2), "events": n_events}
    event_size = len(data) // n_events
    for label, size in (("64KiB_chunks", 65536), ("event_sized_chunks", event_size)):
        chunks = chunked(data, size)
        best = {"bare": float("inf"), "sse": float("inf"), "json": float("inf")}
        for _ in range(repeat):  # interleaved, so load from other processes hits all alike
            for key, fn in (
                ("bare", bare_lines),
                ("sse", parse_events),
                ("json", parse_events_json),
            ):
                start = time.perf_counter()
                result = fn(chunks)
                best[key] = min(best[key], time.perf_counter() - start)
                if key == "sse":
                    assert result == n_events, result
        out[label] = {
            "chunk_bytes": size,
            "bare_line_split_mb_s": round(mb / best["bare"], 1),
            "sse_parser_mb_s": round(mb / best["sse"], 1),
            "sse_parser_plus_json_mb_s": round(mb / best["json"], 1),
            "parser_vs_bare_ratio": round(best["sse"] / best["bare"], 2),
            "within_3x": best["sse"] <= 3 * best["bare"],
        }
    return out


SERVER = """
import sys, time
sys.path.insert(0, {tests!r})
from fake_provider import FakeProvider
fp = FakeProvider(text=" ".join("w%d" % i for i in range({n}))).start()
print(fp.port, flush=True)
sys.stdin.read()
fp.stop()
"""


async def bench_client(n_pieces: int, repeat: int) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(tests=str(ROOT / "tests"), n=n_pieces)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        base = f"http://127.0.0.1:{port}/v1"
        messages = [{"role": "user", "content": "Go"}]
        payload = {
            "model": "m",
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with httpx.AsyncClient(timeout=60) as http:

            async def raw() -> int:
                size = 0
                async with http.stream("POST", base + "/chat/completions", json=payload) as r:
                    async for chunk in r.aiter_bytes():
                        size += len(chunk)
                return size

            client = OpenAICompatibleClient(base, "m", read_timeout=60)

            async def full() -> int:
                count = 0
                async for event in client.stream(messages):
                    count += event.kind == "text"  # then the usage and finish events
                return count

            await raw()
            await full()  # warm up both connections
            t_raw = t_client = float("inf")
            count = 0
            for _ in range(repeat):
                start = time.perf_counter()
                await raw()
                t_raw = min(t_raw, time.perf_counter() - start)
                start = time.perf_counter()
                count = await full()
                t_client = min(t_client, time.perf_counter() - start)
            await client.aclose()
        assert count == len(tokens(" ".join(f"w{i}" for i in range(n_pieces)))), count
        return {
            "pieces": count,
            "raw_httpx_aiter_bytes_s": round(t_raw, 4),
            "client_stream_s": round(t_client, 4),
            "raw_us_per_piece": round(t_raw / count * 1e6, 2),
            "client_us_per_piece": round(t_client / count * 1e6, 2),
            "client_overhead_us_per_piece": round((t_client - t_raw) / count * 1e6, 2),
        }
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--pieces", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    telemetry.detach(telemetry.log_handler)
    result = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "sse_parser": bench_parser(args.mb, args.repeat),
        "client_overhead": asyncio.run(bench_client(args.pieces, args.repeat)),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
