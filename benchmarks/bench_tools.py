"""The agent loop's own overhead, and tokens across a loop of tool steps: prints JSON.

A scripted OpenAI-compatible server on 127.0.0.1 answers each request of a reply with a
tool call (its arguments in three pieces, ``finish_reason: tool_calls``) until the
reply's last step, which streams text. It records when it wrote the last byte of each
response and when the next request arrived. A ChatWidget (the real session, HTTP client,
CSV rows and view messages; no browser) runs the replies with one no-op Python tool.

- overhead: from the last byte of a tool-call response to the follow-up request
  arriving, minus the tool's own run time (as the loop measured it) — median and p95
  over 100 calls (20 replies of 5 tool steps each). The issue's goal: p95 <= 20 ms.
- lost tokens: a 5-step loop whose steps each stream 200 tokens of text before their
  call; every token the server sent must be in the saved reply and in the deltas the
  views received (goal: 0 lost).

    python3 benchmarks/bench_tools.py [--calls 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from livechat_widget.providers.openai import OpenAICompatibleClient  # noqa: E402
from livechat_widget.tools.toolbox import Tool, ToolOutput  # noqa: E402
from livechat_widget.widget import ChatWidget  # noqa: E402

STEPS = 5  # tool steps per reply (the reply's last request answers in text)


def sse(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return sse({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


class LoopServer:
    """Answers request n of a reply: a tool call while the messages hold fewer than
    ``STEPS`` tool results, else text. ``text_tokens`` tokens of text come first in
    every response (``s<step>t<i>``)."""

    def __init__(self, text_tokens: int = 0) -> None:
        self.text_tokens = text_tokens
        self.arrived: list[float] = []  # perf_counter() of each request's arrival
        self.last_byte: dict[int, float] = {}  # ... and of its response's last byte
        self.sent_tokens: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.perf_counter()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = json.loads(await reader.readexactly(length))
                self.arrived.append(arrived)
                await self._answer(body, writer, len(self.arrived) - 1)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def _answer(self, body: dict[str, Any], writer: asyncio.StreamWriter, n: int) -> None:
        messages = body["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        step = sum(1 for m in messages[last_user:] if m["role"] == "tool")
        parts = [chunk({"role": "assistant", "content": ""})]
        for i in range(self.text_tokens):
            token = f" s{step}t{i}"
            self.sent_tokens.append(token)
            parts.append(chunk({"content": token}))
        if step < STEPS:
            call = {"index": 0, "id": f"call_{step}", "type": "function"}
            parts.append(chunk({"tool_calls": [{**call, "function": {"name": "noop"}}]}))
            for piece in ('{"n": ', str(step), "}"):
                parts.append(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                )
            parts.append(chunk({}, "tool_calls"))
        else:
            parts.append(chunk({"content": " done."}))
            parts.append(chunk({}, "stop"))
        parts.append(b"data: [DONE]\n\n")
        payload = b"".join(parts)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            + f"content-length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        self.last_byte[n] = time.perf_counter()


async def noop(arguments: dict[str, Any]) -> ToolOutput:
    return ToolOutput(f"noted {arguments.get('n')}")


def widget_on(server: LoopServer, folder: Path) -> ChatWidget:
    client = OpenAICompatibleClient(f"http://127.0.0.1:{server.port}/v1", "bench", max_retries=0)
    widget = ChatWidget(client, store=folder, user_id="bench")
    widget.deltas: list[str] = []  # type: ignore[attr-defined]

    def sent(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        content = (data or {}).get("content") or {}
        if data and data.get("method") == "custom" and content.get("type") == "delta":
            widget.deltas.append(content["text"])  # type: ignore[attr-defined]

    widget.comm.send = sent  # no browser: keep what the views would receive
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    widget.session.toolbox.add(Tool("noop", "Does nothing.", schema, noop))
    return widget


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def overhead(calls: int, folder: Path) -> dict[str, Any]:
    server = LoopServer()
    widget = widget_on(server, folder)
    gaps: list[float] = []
    try:
        for _ in range(max(1, calls // STEPS)):
            first = len(server.arrived)
            reply = await widget.ask("go")
            assert reply["status"] == "complete", reply["error"]
            tool_ms = [c["ms"] or 0.0 for c in reply["tools"]]
            for k in range(STEPS):
                after = server.arrived[first + k + 1] - server.last_byte[first + k]
                gaps.append(after * 1000 - tool_ms[k])
    finally:
        widget.close()
        server.stop()
    return {
        "calls": len(gaps),
        "median_ms": round(statistics.median(gaps), 2),
        "p95_ms": round(percentile(gaps, 0.95), 2),
        "max_ms": round(max(gaps), 2),
        "goal_p95_ms": 20,
    }


async def lost_tokens(folder: Path) -> dict[str, Any]:
    server = LoopServer(text_tokens=200)
    widget = widget_on(server, folder)
    try:
        reply = await widget.ask("go")
    finally:
        widget.close()
        server.stop()
    expected = "".join(server.sent_tokens) + " done."
    streamed = "".join(widget.deltas)  # type: ignore[attr-defined]
    return {
        "steps": STEPS + 1,
        "tokens_sent": len(server.sent_tokens) + 1,
        "lost_in_saved_reply": 0
        if reply["content"] == expected
        else _missing(expected, reply["content"]),
        "lost_in_deltas": 0 if streamed == expected else _missing(expected, streamed),
        "goal_lost": 0,
    }


def _missing(expected: str, got: str) -> int:
    have = set(got.split())
    return sum(1 for token in expected.split() if token not in have) or 1


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "loop_overhead": await overhead(args.calls, Path(tmp) / "a"),
            "five_step_loop": await lost_tokens(Path(tmp) / "b"),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
