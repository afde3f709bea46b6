"""Opening long chats in the kernel (no browser): prints JSON.

For chats of 5,100 / 10,200 / 20,400 / 204,800 short messages and one 200 MB chat of
long messages, written as CSV files: the time to show the chat (from a ChatWidget on the
folder, the chat not in memory, as a click in the chat list opens it: read in a worker
thread, then shown), and the longest stall of the kernel's event loop meanwhile (a
ticker every millisecond measures how late it runs). The issue's targets: linear in the
file, a 20,000-message chat well under a second, the loop never blocked for long.

    python3 benchmarks/bench_open_chat.py [--big-mb 200]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from livechat_widget.providers.demo import DemoClient  # noqa: E402
from livechat_widget.widget import ChatWidget  # noqa: E402

COUNTS = (5_100, 10_200, 20_400, 204_800)


def write_chat(folder: Path, count: int, body: str, stamp: str) -> str:
    chat_id = str(uuid.uuid4())
    with open(folder / f"{chat_id}.csv", "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["timestamp", "user_id", "role", "content"])
        for i in range(count):
            role = "user" if i % 2 == 0 else "assistant"
            rows.writerow([stamp, "ada", role, f"{i} {body}"])
    return chat_id


async def open_one(folder: Path, chat_id: str) -> dict[str, float]:
    """Show ``chat_id`` as the page's click does; the loop's longest stall meanwhile."""
    started = time.perf_counter()
    widget = ChatWidget(DemoClient(), store=folder, user_id="ada")  # shows the newest
    constructed = time.perf_counter()
    stalls: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stalls.append(now - last - 0.001)
            last = now

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.01)
    clicked = time.perf_counter()
    widget.controller.handle({"type": "select_chat", "chat_id": chat_id})
    while widget.opening:
        await asyncio.sleep(0.001)
    shown = time.perf_counter()
    ticking.cancel()
    assert widget.active_chat_id == chat_id and widget.messages, widget.error
    widget.close()
    return {
        "widget_s": round(constructed - started, 3),
        "open_s": round(shown - clicked, 3),
        "longest_loop_stall_ms": round(max(stalls, default=0.0) * 1000, 1),
    }


async def main(big_mb: int) -> dict[str, object]:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (*COUNTS, "big"):
            folder = Path(tmp) / str(count)
            folder.mkdir()
            write_chat(folder, 2, "newer", "2026-06-01T00:00:00.000Z")  # shown first
            if count == "big":
                body = ("lorem ipsum dolor sit amet, " * 370)[:10_000]
                n = big_mb * 1_000_000 // 10_050
                chat_id = write_chat(folder, n, body, "2026-01-01T00:00:00.000Z")
                key = f"{big_mb}_mb_{n}_messages"
            else:
                chat_id = write_chat(folder, int(count), "message", "2026-01-01T00:00:00.000Z")
                key = f"{count}_messages"
            size = (folder / f"{chat_id}.csv").stat().st_size
            results[key] = {"file_mb": round(size / 1e6, 1), **await open_one(folder, chat_id)}
            print(key, results[key], file=sys.stderr)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.big_mb)), indent=2))
