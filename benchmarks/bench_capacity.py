"""How many visitors one `livechat` server takes: arrivals of 10, 25 and 50 visitors
within 5 s, each then streaming a 300-token reply at 40 tokens/s from the local token
server, driven by a light client instead of a browser. Prints JSON, per arrival size:

- time until each visitor is usable (p50/p95/max, s after their arrival): the page
  fetched, the kernel's websocket open, the widget's state loaded and its claim
  answered by the kernel (a state update after the claim);
- token-to-client latency p95 while all stream (send time at the token server vs.
  arrival at the client, same clock), and lost tokens (not in the finished reply);
- CPU seconds per visitor-reply, kernels and Voila, while they stream;
- RSS and USS per visitor kernel (psutil), once every reply is done;
- one real Chromium visitor alongside (Playwright, /usr/bin/chromium): its token-to-
  screen p50/p95 next to the light clients', to show the light client's figures are a
  page's (the issue asks for agreement within 20 %).

The light client does what the app page does (js/app_page/, js/visitor.ts), with the
real protocols: it GETs the page and reads the kernel id from it, opens
/api/kernels/<id>/channels with the v1 kernel websocket protocol
(v1.kernel.websocket.jupyter.org, as @jupyterlab/services does), sends
kernel_info_request, loads the widgets' state through a `jupyter.widget.control` comm
(`request_states`, as @jupyter-widgets/base-manager does), then sends the chat widget
`claim` (its browser secret) and `send` as anywidget custom messages, and reads `delta`
/ `done` custom messages and `streams` snapshots (docs/protocol.md).

    python3 benchmarks/bench_capacity.py [--arrivals 10 25 50] [--pool 25] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).parent))
from bench_stream import CHROMIUM_ARGS, INSTRUMENT, free_port, log, stop  # noqa: E402
from token_server import TokenServer  # noqa: E402

WS_PROTOCOL = "v1.kernel.websocket.jupyter.org"
CONFIG = re.compile(r'<script id="livechat-page-config" type="application/json">\s*(\{.*?\})')
WAIT_S = float(os.environ.get("BENCH_WAIT_S", "600"))
# A page applies what arrived at its next animation frame (60 Hz); token-to-frame adds
# that wait to token-to-client, to compare with a real page's token-to-screen.
FRAME_S = 1 / 60


# ------------------------------------------------------------------ the kernel protocol


def pack(
    channel: str, msg_type: str, content: dict, session: str, metadata: dict | None = None
) -> bytes:
    """A client message in the v1 kernel websocket protocol (jupyter_server's layout)."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "bench",
        "session": session,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "version": "5.3",
    }
    parts = [json.dumps(p).encode() for p in (header, {}, metadata or {}, content)]
    chan = channel.encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(chan))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + chan + b"".join(parts)


def unpack(data: bytes) -> tuple[str, dict, dict]:
    """(channel, header, content) of a kernel message in the v1 protocol."""
    n = int.from_bytes(data[:8], "little")
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(n)]
    channel = data[offsets[0] : offsets[1]].decode()
    header = json.loads(data[offsets[1] : offsets[2]])
    content = json.loads(data[offsets[4] : offsets[5]])
    return channel, header, content


class LightVisitor:
    """One visitor, as the app page behaves, without a browser."""

    def __init__(self, k: int, base: str, tokens: int) -> None:
        self.k, self.base, self.tokens = k, base, tokens
        self.session = uuid.uuid4().hex
        self.secret = secrets.token_hex(16)
        self.arrived = self.usable = self.done = 0.0
        self.kernel_id = ""
        self.received: dict[int, float] = {}  # token index -> time.time() first seen
        self._frame_phase = secrets.randbelow(1000) / 1000 * FRAME_S  # the page's clock
        self.text = ""
        self.final = ""
        self.error = ""
        self._seq = -1
        self._widget_comm = ""
        self._claimed = asyncio.Event()
        self._finished = asyncio.Event()
        self._states = asyncio.get_running_loop().create_future()

    async def visit(self, send_at: asyncio.Event) -> None:
        try:
            await self._visit(send_at)
        except Exception as exc:  # a visitor that failed is reported, not fatal
            self.error = f"{type(exc).__name__}: {exc}"

    async def _visit(self, send_at: asyncio.Event) -> None:
        self.arrived = time.time()
        found: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        page = bytearray()

        def chunk(data: bytes) -> None:
            page.extend(data)
            match = CONFIG.search(page.decode(errors="replace"))
            if match and not found.done():
                found.set_result(json.loads(match.group(1))["kernelId"])

        fetch = asyncio.ensure_future(
            AsyncHTTPClient().fetch(
                HTTPRequest(self.base, streaming_callback=chunk, request_timeout=WAIT_S)
            )
        )
        self.kernel_id = await asyncio.wait_for(found, WAIT_S)  # the page connects early
        ws = await websocket_connect(
            f"{self.base.replace('http', 'ws')}api/kernels/{self.kernel_id}/channels"
            f"?session_id={self.session}",
            subprotocols=[WS_PROTOCOL],
            max_message_size=64 * 2**20,
        )
        reader = asyncio.ensure_future(self._read(ws))
        ws.write_message(pack("shell", "kernel_info_request", {}, self.session), binary=True)
        await fetch  # the whole page: every cell has run (the page waits for domReady)
        control = uuid.uuid4().hex
        # ipywidgets' control comm (protocol 1.0.0): all widget states in one answer
        self._comm(ws, "comm_open", control, {}, "jupyter.widget.control")
        self._comm(ws, "comm_msg", control, {"method": "request_states"})
        states = await asyncio.wait_for(self._states, WAIT_S)
        self._comm(ws, "comm_close", control, {})
        self._widget_comm = next(
            mid for mid, s in states.items() if "per_browser" in s.get("state", {})
        )
        self._custom(ws, {"type": "claim", "secret": self.secret})
        await asyncio.wait_for(self._claimed.wait(), WAIT_S)
        self.usable = time.time()
        await send_at.wait()
        self._custom(ws, {"type": "send", "text": f"Hello from visitor {self.k}", "chat_id": ""})
        await asyncio.wait_for(self._finished.wait(), WAIT_S)
        self.done = time.time()
        ws.close()
        await reader

    def _comm(self, ws: Any, kind: str, comm_id: str, data: dict, target: str = "") -> None:
        content: dict[str, Any] = {"comm_id": comm_id, "data": data}
        metadata = {}
        if kind == "comm_open":
            content["target_name"] = target
            metadata = {"version": "1.0.0"}
        ws.write_message(pack("shell", kind, content, self.session, metadata), binary=True)

    def _custom(self, ws: Any, message: dict) -> None:
        self._comm(ws, "comm_msg", self._widget_comm, {"method": "custom", "content": message})

    async def _read(self, ws: Any) -> None:
        while True:
            raw = await ws.read_message()
            if raw is None:
                return
            now = time.time()
            channel, header, content = unpack(raw if isinstance(raw, bytes) else raw.encode())
            if channel != "iopub" or header["msg_type"] != "comm_msg":
                continue
            data = content.get("data", {})
            method = data.get("method")
            if method == "update_states" and not self._states.done():
                self._states.set_result(data["states"])
            elif content.get("comm_id") != self._widget_comm:
                continue
            elif method == "update":
                self._update(data.get("state", {}), now)
            elif method == "custom":
                self._message(data.get("content", {}), now)

    def _update(self, state: dict, now: float) -> None:
        if self._widget_comm and ("chat_settings" in state or "chats" in state):
            self._claimed.set()  # the kernel answered the claim: the chat list is drawn
        for stream in (state.get("streams") or {}).values():
            if stream.get("seq", -1) > self._seq:  # a snapshot ahead of the deltas
                self._seq, self.text = stream["seq"], stream.get("text", "")
                self._saw(now)

    def _message(self, msg: dict, now: float) -> None:
        if msg.get("type") == "delta" and msg.get("seq") == self._seq + 1:
            self._seq = msg["seq"]
            self.text += msg.get("text", "")
            self._saw(now)
        elif msg.get("type") == "done":
            self.text = self.final = msg.get("text", "")
            self._saw(now)
            self._finished.set()

    def _saw(self, now: float) -> None:
        for m in re.finditer(rf"\bv{self.k}-t(\d+)", self.text[-64:]):
            last = int(m.group(1))
            for i in range(last + 1):
                self.received.setdefault(i, now)

    def frame_after(self, t: float) -> float:
        """The first frame of a 60 Hz page clock (random phase) at or after ``t``."""
        ticks = -(-(t - self._frame_phase) // FRAME_S)
        return self._frame_phase + ticks * FRAME_S

    def lost(self) -> int:
        shown = {int(m) for m in re.findall(rf"\bv{self.k}-t(\d+)", self.final)}
        return len(set(range(self.tokens)) - shown)


# ------------------------------------------------------------------ the server side


def start_app(port: int, logs: Path, base_url: str, pool: int, out: Path) -> psutil.Popen:
    argv = [
        sys.executable, "-m", "livechat_widget.app",
        "--no-browser", "--port", str(port), "--chat-logs", str(logs),
        "--provider", "openai", "--base-url", base_url, "--model", "bench",
        "--chats", "per-browser", "--pool", str(pool), "--max-kernels", "200",
    ]  # fmt: skip
    return psutil.Popen(
        argv,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ, LIVECHAT_API_KEY="bench-key"),
        start_new_session=True,
    )


def kernel_processes(app: psutil.Process) -> dict[str, psutil.Process]:
    """Kernel id -> process (the id is in the connection file's name)."""
    found = {}
    for proc in app.children():
        match = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(proc.cmdline()))
        if match:
            found[match.group(1)] = proc
    return found


def cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


async def wait_for_pool(out: Path, count: int, within: float = 1800) -> float:
    start = time.monotonic()
    while f"is filled with {count} kernel" not in out.read_text(errors="replace"):
        if time.monotonic() - start > within:
            raise RuntimeError(f"the kernel pool never filled:\n{out.read_text()[-3000:]}")
        await asyncio.sleep(0.5)
    return time.monotonic() - start


def spread(values: list[float], digits: int = 2) -> dict:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    values = sorted(values)
    return {
        "p50": round(statistics.median(values), digits),
        "p95": round(values[int(0.95 * (len(values) - 1))], digits),
        "max": round(values[-1], digits),
        "n": len(values),
    }


# ------------------------------------------------------------------ the browser visitor


async def only_local(route: Any) -> None:
    """Playwright route (async API): nothing but this machine."""
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")):
        await route.continue_()
    else:
        await route.abort()


async def browser_visitor(
    pw: Any, url: str, k: int, usable: asyncio.Event, send_at: asyncio.Event
) -> dict:
    """One real page among the light clients: token-to-screen as bench_load measures it."""
    browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    try:
        context = await browser.new_context(viewport={"width": 1100, "height": 700})
        await context.route("**/*", only_local)
        page = await context.new_page()
        await page.add_init_script(INSTRUMENT)
        arrived = time.time()
        await page.goto(url, wait_until="commit", timeout=WAIT_S * 1000)
        await page.get_by_role("textbox", name="Message").wait_for(timeout=WAIT_S * 1000)
        await page.wait_for_function(
            "document.querySelector('.lc-chat-list')?.textContent.includes('No chats yet')",
            timeout=WAIT_S * 1000,
        )
        usable_s = time.time() - arrived
        usable.set()
        await send_at.wait()
        await page.evaluate(f"Object.assign(window.__bench, {{prefix: 'v{k}-', scan: true}})")
        box = page.get_by_role("textbox", name="Message")
        await box.fill(f"Hello from visitor {k}")
        await box.press("Enter")
        await page.wait_for_function(
            "!document.querySelector('.lc-streaming') && "
            'document.querySelector(\'.lc-msg[data-role="assistant"][data-id="1"]\')',
            timeout=WAIT_S * 1000,
            polling=200,
        )
        visible = await page.evaluate("window.__bench.visible")
        return {"usable_s": usable_s, "visible": visible}
    finally:
        await browser.close()


# ------------------------------------------------------------------ one arrival size


async def run_size(n: int, pool: int, tokens: int, rate: float, pw: Any | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp, TokenServer() as ts:
        ts.tokens, ts.rate = tokens, rate
        port = free_port()
        out = Path(tmp) / "livechat.log"
        app = start_app(port, Path(tmp) / "chat_logs", ts.base_url, pool, out)
        url = f"http://127.0.0.1:{port}/"
        try:
            log(f"{n} arrivals: waiting for {pool} preheated kernels")
            pool_s = await wait_for_pool(out, pool)
            await asyncio.sleep(3)  # the pool's last notebooks reach their wait
            return await arrivals(app, url, n, pool, tokens, pw, ts) | {
                "pool_ready_s": round(pool_s, 1)
            }
        finally:
            stop(app)


async def arrivals(
    app: psutil.Process, url: str, n: int, pool: int, tokens: int, pw: Any, ts: TokenServer
) -> dict:
    """n visitors arriving evenly within 5 s (one of them a real page); once all are
    usable, all send at once and stream their replies together."""
    send_at, page_usable = asyncio.Event(), asyncio.Event()
    browser_k = n // 2 + 1 if pw else 0
    light = {k: LightVisitor(k, url, tokens) for k in range(1, n + 1) if k != browser_k}
    tasks: list[asyncio.Future[Any]] = []
    page_task = None
    t0 = time.monotonic()
    for k in range(1, n + 1):
        await asyncio.sleep(max(0.0, t0 + (k - 1) * 5.0 / n - time.monotonic()))
        if k == browser_k:
            page_task = asyncio.ensure_future(browser_visitor(pw, url, k, page_usable, send_at))
        else:
            tasks.append(asyncio.ensure_future(light[k].visit(send_at)))
    while not all(v.usable or v.error for v in light.values()):
        await asyncio.sleep(0.05)
    if page_task:
        await asyncio.wait(
            [page_task, asyncio.ensure_future(page_usable.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
    log(f"{n} arrivals: every visitor usable; all send at once")
    me = psutil.Process()
    procs = kernel_processes(app)
    mine = [procs[v.kernel_id] for v in light.values() if v.kernel_id in procs]
    before = (cpu(mine), cpu([app]), cpu([me]))
    t1 = time.monotonic()
    send_at.set()
    await asyncio.gather(*tasks)
    page = await page_task if page_task else None
    wall = time.monotonic() - t1
    after = (cpu(mine), cpu([app]), cpu([me]))
    memory = []
    for proc in mine:
        info = proc.memory_full_info()
        memory.append((info.rss / 2**20, info.uss / 2**20))
    ok = [v for v in light.values() if not v.error]
    latencies = [
        (v.received[i] - sent[i]) * 1000
        for v in ok
        for sent in [ts.sent_by_prefix.get(f"v{v.k}-", [])]
        for i in range(min(len(sent), tokens))
        if i in v.received and sent[i]
    ]
    framed = [
        (v.frame_after(v.received[i]) - sent[i]) * 1000
        for v in ok
        for sent in [ts.sent_by_prefix.get(f"v{v.k}-", [])]
        for i in range(min(len(sent), tokens))
        if i in v.received and sent[i]
    ]
    result: dict[str, Any] = {
        "arrivals": n,
        "pool": pool,
        "light_visitors": len(light),
        "errors": [f"visitor {v.k}: {v.error}" for v in light.values() if v.error],
        "usable_after_arrival_s": spread([v.usable - v.arrived for v in ok]),
        "token_to_client_ms": spread(latencies, 1),
        "token_to_frame_ms": spread(framed, 1),  # + the wait for a page's next frame
        "lost_tokens": sum(v.lost() for v in ok),
        "streaming_wall_s": round(wall, 1),
        "cpu_s_per_visitor_reply": {
            "kernel": round((after[0] - before[0]) / max(1, len(mine)), 2),
            "voila": round((after[1] - before[1]) / n, 2),
            "light_clients": round((after[2] - before[2]) / max(1, len(light)), 2),
        },
        "visitor_kernel_mb": {
            "kernels": len(memory),
            "rss_median": round(statistics.median(r for r, _ in memory), 1),
            "rss_max": round(max(r for r, _ in memory), 1),
            "uss_median": round(statistics.median(u for _, u in memory), 1),
        }
        if memory
        else {},
    }
    if page:
        sent = ts.sent_by_prefix.get(f"v{browser_k}-", [])
        seen = page["visible"]
        screen = [seen[i] - sent[i] * 1000 for i in range(min(len(sent), len(seen))) if seen[i]]
        result["chromium_visitor"] = {
            "usable_after_arrival_s": round(page["usable_s"], 2),
            "token_to_screen_ms": spread(screen, 1),
        }
        page_p95 = spread(screen, 1)["p95"]
        for key in ("token_to_client_ms", "token_to_frame_ms"):
            light_p95 = result[key]["p95"]
            if light_p95 and page_p95:
                ratio = round(light_p95 / page_p95, 2)
                result["chromium_visitor"][f"{key[:-3]}_p95_over_page_p95"] = ratio
    return result


async def run(args: argparse.Namespace) -> dict:
    figures: dict[str, Any] = {
        "tokens_per_reply": args.tokens,
        "rate_tokens_per_s_each": args.rate,
        "arrival_window_s": 5,
        "cpu_count": os.cpu_count(),
        "sizes": {},
    }
    pw_cm = None
    pw = None
    if not args.no_browser:
        from playwright.async_api import async_playwright

        pw_cm = async_playwright()
        pw = await pw_cm.__aenter__()
    try:
        for n in args.arrivals:
            pool = args.pool or min(n, 25)
            figures["sizes"][str(n)] = await run_size(n, pool, args.tokens, args.rate, pw)
            log(json.dumps(figures["sizes"][str(n)]))
    finally:
        if pw_cm:
            await pw_cm.__aexit__(None, None, None)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--pool", type=int, default=0, help="default: arrivals, at most 25")
    parser.add_argument("--tokens", type=int, default=300, help="tokens per reply")
    parser.add_argument("--rate", type=float, default=40, help="tokens/s of each reply")
    parser.add_argument("--no-browser", action="store_true", help="no Chromium visitor")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
