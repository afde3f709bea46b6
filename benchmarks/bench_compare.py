"""Compare's streaming figures in the real app, measured from inside the page.

Starts `livechat` (Voila) with four compare servers (`--compare`), each a paced token
source (token_server.py) at 2,000 tokens/s, and drives Debian's Chromium with
Playwright, as bench_stream.py does. Prints JSON:

- lost tokens per pane (goal 0): every `tN` token of each pane must be on screen;
- token-to-screen p95 per pane, and the single-pane p95 of an ordinary reply measured
  in the same run at the same rate (goal: each pane within one frame, 16.7 ms, of it);
- kernel-to-page websocket messages per second while the four panes stream (all
  frames counted; goal <= 60 in total, in any second).

    python3 benchmarks/bench_compare.py [--quick] [--panes 4] [--rate 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from bench_stream import (  # noqa: E402
    CHROMIUM_ARGS,
    INSTRUMENT,
    free_port,
    launch,
    log,
    new_chat,
    run_reply,
    stop,
)
from token_server import TokenServer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


class ChatOnlyTokenServer(TokenServer):
    """Streams only chat completions: the kernel's other requests (the model list, a
    context-window lookup once a chat is long) get a 404, not a stream that would
    overwrite ``sent_at`` of the reply being measured."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"POST") or b"/chat/completions" not in head.split(b"\r\n")[0]:
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            writer.close()
            return
        await super()._serve(_Replay(head, reader), writer)


class _Replay:
    """A reader that gives back the head already read, then the rest."""

    def __init__(self, head: bytes, reader: asyncio.StreamReader) -> None:
        self.head, self.reader = head, reader

    async def readuntil(self, separator: bytes) -> bytes:
        head, self.head = self.head, b""
        return head or await self.reader.readuntil(separator)

    async def readexactly(self, n: int) -> bytes:
        return await self.reader.readexactly(n)


FRAME_MS = 1000 / 60

# Token-to-screen per pane: when each `tN` first shows in each pane's body.
PANES_INSTRUMENT = r"""
(() => {
  const c = window.__compare = { scan: false, visible: [], last: [] };
  const scan = () => {
    if (!c.scan) return;
    const bodies = document.querySelectorAll('.lc-compare-pane .lc-compare-body');
    const now = performance.timeOrigin + performance.now();
    bodies.forEach((el, p) => {
      const found = [...el.textContent.slice(-64).matchAll(/t(\d+)/g)];
      if (!found.length) return;
      const last = Number(found[found.length - 1][1]);
      c.visible[p] ??= []; c.last[p] ??= -1;
      for (let i = c.last[p] + 1; i <= last; i++) c.visible[p][i] = now;
      if (last > c.last[p]) c.last[p] = last;
    });
  };
  const all = { subtree: true, childList: true, characterData: true };
  new MutationObserver(scan).observe(document, all);
})();
"""


def start_app(port: int, logs: Path, main_url: str, panes: list[str]) -> subprocess.Popen:
    """This checkout's `livechat` (not an installed one): PYTHONPATH is the repository."""
    compare = [arg for i, url in enumerate(panes) for arg in ("--compare", f"p{i}={url}#bench")]
    cmd = [
        sys.executable, "-m", "livechat_widget.app", "--no-browser", "--port", str(port),
        "--chat-logs", str(logs), "--chats", "shared", "--provider", "openai",
        "--base-url", main_url, "--model", "bench", *compare,
    ]  # fmt: skip
    return launch(cmd, port, dict(os.environ, LIVECHAT_API_KEY="bench-key", PYTHONPATH=str(REPO)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[int(q * (len(ordered) - 1))], 1)


Frames = list[tuple[float, int]]
PIECE = re.compile(r'"pane":\s*(\d+),\s*"text":\s*"([^"]*)"')


DELTA_TEXT = re.compile(r'"type":\s*"delta"[^{}]*?"text":\s*"([^"]*)"')


def single_arrivals(payloads: list[tuple[float, str]]) -> dict[int, float]:
    """When each token of an ordinary reply reached the page (its `delta` frame)."""
    seen: dict[int, float] = {}
    for t, payload in payloads:
        for text in DELTA_TEXT.findall(payload):
            for token in re.findall(r"t(\d+)", text):
                seen.setdefault(int(token), t)
    return seen


def arrivals(payloads: list[tuple[float, str]], panes: int) -> list[dict[int, float]]:
    """When each pane's tokens reached the page (the websocket frame carrying them)."""
    seen: list[dict[int, float]] = [{} for _ in range(panes)]
    for t, payload in payloads:
        if "compare_delta" not in payload:
            continue
        for pane, text in PIECE.findall(payload):
            for token in re.findall(r"t(\d+)", text):
                seen[int(pane)].setdefault(int(token), t)
    return seen


def run_compare(
    page: Page,
    servers: list[TokenServer],
    frames: Frames,
    payloads: list[tuple[float, str]],
    tokens: int,
    rate: float,
) -> dict:
    """One message to every pane at once; what each pane showed, and when."""
    for ts in servers:
        ts.tokens, ts.rate = tokens, rate
    box = page.get_by_role("textbox", name="Message")
    box.fill("/compare")
    box.press("Enter")
    chooser = page.locator(".lc-compare-chooser")
    for i in range(len(servers)):
        chooser.get_by_role("checkbox", name=f"p{i} (bench)").check()
    page.evaluate("Object.assign(window.__compare, {scan: true, visible: [], last: []})")
    frames.clear()
    payloads.clear()
    box.fill(f"stream {tokens} tokens in every pane")
    box.press("Enter")
    page.wait_for_function(
        "n => { const s = [...document.querySelectorAll('.lc-compare-pane')]"
        ".map(p => p.dataset.status); return s.length === n && s.every(x => x && x !== 'streaming')"
        " && !document.querySelector('.lc-compare-pane .lc-md-pending') }",
        arg=len(servers),
        timeout=600_000,
        polling=100,
    )
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    visible = page.evaluate("window.__compare.visible")
    page.evaluate("window.__compare.scan = false")
    texts = page.evaluate(
        "[...document.querySelectorAll('.lc-compare-pane .lc-compare-body')]"
        ".map(e => e.textContent)"
    )
    first = min(ts.sent_at[0] for ts in servers)
    last = max(ts.sent_at[-1] for ts in servers)
    during = [t for t, _ in frames if first <= t <= last + 0.5]
    per_second = [
        sum(1 for t in during if s <= t < s + 1)
        for s in [first + k for k in range(max(1, int(last - first) + 1))]
    ]
    reached = arrivals(payloads, len(servers))
    panes = []
    for p, ts in enumerate(servers):
        shown = {int(m) for m in re.findall(r"t(\d+)", texts[p])} if p < len(texts) else set()
        seen = visible[p] if p < len(visible) and visible[p] else []
        lat = [seen[i] - ts.sent_at[i] * 1000 for i in range(min(tokens, len(seen))) if seen[i]]
        # the kernel's share: token sent by the server -> its frame received by the page
        kern = [(t - ts.sent_at[i]) * 1000 for i, t in reached[p].items() if i < tokens]
        panes.append(
            {
                "lost_tokens": len(set(range(tokens)) - shown),
                "token_to_screen_ms": {
                    "p50": round(statistics.median(lat), 1) if lat else None,
                    "p95": percentile(lat, 0.95) if lat else None,
                    "tokens_measured": len(lat),
                },
                "token_to_page_ms": {
                    "p50": round(statistics.median(kern), 1) if kern else None,
                    "p95": percentile(kern, 0.95) if kern else None,
                },
            }
        )
    return {
        "panes": panes,
        "tokens_per_pane": tokens,
        "rate_tokens_per_s_per_pane": rate,
        "stream_seconds": round(last - first, 3),
        "ws_messages": len(during),
        # over the window counted: first token to half a second after the last
        "ws_messages_per_s": round(len(during) / (last + 0.5 - first), 1),
        "ws_messages_max_in_1s": max(per_second),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller replies (smoke run)")
    parser.add_argument("--panes", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--rate", type=float, default=2000, help="tokens/s of each pane")
    args = parser.parse_args()
    tokens = 600 if args.quick else 6000
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        main_ts = stack.enter_context(ChatOnlyTokenServer())
        servers = [stack.enter_context(ChatOnlyTokenServer()) for _ in range(args.panes)]
        logs = tmp / "chat_logs"
        logs.mkdir()
        port = free_port()
        app = start_app(port, logs, main_ts.base_url, [ts.base_url for ts in servers])
        stack.callback(stop, app)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(INSTRUMENT)
            page.add_init_script(PANES_INSTRUMENT)
            frames: list[tuple[float, int]] = []
            payloads: list[tuple[float, str]] = []

            def received(payload: str | bytes) -> None:
                now = time.time()
                frames.append((now, len(payload)))
                text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
                if "delta" in text:
                    payloads.append((now, text))

            page.on("websocket", lambda ws: ws.on("framereceived", received))
            page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
            page.get_by_role("textbox", name="Message").wait_for(timeout=120_000)
            results: dict = {"cpu_count": os.cpu_count()}
            new_chat(page)
            log("running single pane")
            payloads.clear()
            single = run_reply(page, main_ts, frames, tokens=tokens, rate=args.rate, scan=True)
            reached = single_arrivals(payloads)
            kern = [(t - main_ts.sent_at[i]) * 1000 for i, t in reached.items() if i < tokens]
            single["token_to_page_ms"] = {
                "p50": round(statistics.median(kern), 1) if kern else None,
                "p95": percentile(kern, 0.95) if kern else None,
            }
            results["single_pane"] = single
            new_chat(page)
            log(f"running {args.panes} panes")
            results["compare"] = run_compare(page, servers, frames, payloads, tokens, args.rate)
            browser.close()
    single_p95 = results["single_pane"].get("token_to_screen_ms", {}).get("p95", 1e9)
    panes = results["compare"]["panes"]
    results["targets"] = {
        "no_token_lost": all(p["lost_tokens"] == 0 for p in panes),
        "each_pane_p95_within_16.7ms_of_single": all(
            (p["token_to_screen_ms"]["p95"] or 1e9) <= single_p95 + FRAME_MS for p in panes
        ),
        "ws_messages_max_in_1s<=60": results["compare"]["ws_messages_max_in_1s"] <= 60,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
