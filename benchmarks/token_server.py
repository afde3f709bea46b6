"""A paced token source for the browser benchmarks: an OpenAI-compatible streaming
server on 127.0.0.1 that records when each token left it.

Tokens are ``t0 t1 t2 ...`` so a page can tell exactly which ones it shows; send
times (``time.time()``, the same clock the page's ``performance.timeOrigin`` uses)
let a benchmark compute token-to-screen latency. Pacing follows an absolute
schedule (token i is due at start + i/rate), so sleep overshoot does not drift.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time

# A message naming "visitor K" gets tokens "vK-t0 vK-t1 ...": concurrent visitors
# (bench_load.py) can each tell their own tokens from anybody else's.
VISITOR = re.compile(rb"visitor (\d+)")


def token(i: int, prefix: str = "") -> str:
    return f"{prefix}t{i}" if i == 0 else f" {prefix}t{i}"


class TokenServer:
    """`with TokenServer() as ts:` then set `ts.tokens` / `ts.rate` before each request."""

    def __init__(self) -> None:
        self.tokens = 100
        self.rate = 0.0  # tokens per second; 0 = as fast as the socket takes them
        self.sent_at: list[float] = []  # time.time() of each token of the last reply
        self.sent_by_prefix: dict[str, list[float]] = {}  # the same, per visitor prefix
        self.finished = threading.Event()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> TokenServer:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
            )
            # the last "visitor K" in the request: the newest user message's
            found = VISITOR.findall(body)
            await self._stream(writer, f"v{int(found[-1])}-" if found else "")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _stream(self, writer: asyncio.StreamWriter, prefix: str = "") -> None:
        n, rate = self.tokens, self.rate
        self.sent_at = sent = [0.0] * n
        self.sent_by_prefix[prefix] = sent
        self.finished.clear()

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            body = {
                "id": "bench",
                "object": "chat.completion.chunk",
                "model": "bench",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(body).encode() + b"\n\n"

        writer.write(chunk({"role": "assistant", "content": ""}))
        start = time.monotonic()
        i = 0
        while i < n:
            due = n if rate <= 0 else min(n, int((time.monotonic() - start) * rate) + 1)
            batch = min(due, i + 512)  # unpaced: hand the socket work in slices
            writer.write(b"".join(chunk({"content": token(j, prefix)}) for j in range(i, batch)))
            await writer.drain()
            now = time.time()
            for j in range(i, batch):
                sent[j] = now
            i = batch
            if rate > 0 and i < n:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        writer.write(chunk({}, "stop") + b"data: [DONE]\n\n")
        await writer.drain()
        self.finished.set()
