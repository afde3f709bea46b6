"""What the peers benchmark measures in the page, the same way for every tool.

A script injected before the page's own (INSTRUMENT) keeps a frame clock, a long-task
observer, websocket byte counters and a DOM observer that notes when each ``tN`` token
of the reply first enters the DOM; ``stream_once`` sends one message and reads it all
back, with the CPU seconds of the server side and of the browser.
"""

from __future__ import annotations

import re
import statistics
import time

import psutil
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from token_server import TokenServer

# Runs before the page's own scripts. A frame clock (only while tracking), a long-task
# observer, websocket byte counters, and a DOM observer that notes when each token of
# the reply first enters the DOM. Panel draws inside open shadow roots, so every shadow
# root is observed too; its message text is the ``.markdown.message`` host's root.
# Gradio draws in the light DOM (the last ``[data-testid=bot]``) and streams over
# server-sent events, not a websocket: its bytes in are counted by stream_once (CDP).
INSTRUMENT = r"""
(() => {
  const MODE = "__MODE__";
  const b = window.__bench = { tracking: false, maxGap: 0, gaps: [], visible: [],
    lastIndex: -1, longtasks: [], wsIn: 0, wsInMsgs: 0, wsOut: 0 };
  let prev = 0, running = false;
  const frame = (t) => {
    if (!b.tracking) { running = false; prev = 0; return; }
    if (prev) { const g = t - prev; b.gaps.push(g); if (g > b.maxGap) b.maxGap = g; }
    prev = t;
    requestAnimationFrame(frame);
  };
  b.start = () => {
    Object.assign(b, { tracking: true, maxGap: 0, gaps: [], visible: [], lastIndex: -1,
                       longtasks: [], wsIn: 0, wsInMsgs: 0, wsOut: 0 });
    if (!running) { running = true; prev = 0; requestAnimationFrame(frame); }
  };
  b.stop = () => { b.tracking = false; };
  const size = (d) => typeof d === "string" ? d.length : (d.byteLength ?? d.size ?? 0);
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (b.tracking) { b.wsIn += size(e.data); b.wsInMsgs++; }
      });
    }
    send(data) { if (b.tracking) b.wsOut += size(data); return super.send(data); }
  };
  const note = (text) => {
    const found = [...text.matchAll(/t(\d+)/g)];
    if (!found.length) return;
    const last = Number(found[found.length - 1][1]);
    if (last <= b.lastIndex) return;
    const now = performance.timeOrigin + performance.now();
    for (let i = b.lastIndex + 1; i <= last; i++) b.visible[i] = now;
    b.lastIndex = last;
  };
  const rootText = (root) => {
    let s = "";
    for (const c of root.children) {
      if (c.tagName !== "STYLE" && c.tagName !== "LINK") s += c.textContent;
    }
    return s;
  };
  const isMessage = (host) => host && host.classList.contains("markdown")
    && host.classList.contains("message");
  const lastOf = (selector) => {
    const all = document.querySelectorAll(selector);
    return all.length ? all[all.length - 1].textContent : "";
  };
  const LIGHT_DOM = { ours: '.lc-msg[data-role="assistant"]', gradio: '[data-testid="bot"]' };
  b.finalText = () => {
    if (LIGHT_DOM[MODE]) return lastOf(LIGHT_DOM[MODE]);
    const hosts = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) { if (isMessage(el)) hosts.push(el); walk(el.shadowRoot); }
      }
    };
    walk(document);
    return hosts.length ? rootText(hosts[hosts.length - 1].shadowRoot) : "";
  };
  const scan = (records) => {
    if (!b.tracking) return;
    if (LIGHT_DOM[MODE]) {
      note(lastOf(LIGHT_DOM[MODE]).slice(-200));
      return;
    }
    const seen = new Set();
    for (const r of records) {
      const root = r.target.getRootNode();
      if (seen.has(root)) continue;
      seen.add(root);
      if (isMessage(root.host)) note(rootText(root).slice(-200));
    }
  };
  const opts = { subtree: true, childList: true, characterData: true };
  const mo = new MutationObserver(scan);
  mo.observe(document, opts);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    mo.observe(root, opts);
    return root;
  };
  try {
    new PerformanceObserver((list) => {
      if (b.tracking) for (const e of list.getEntries()) b.longtasks.push(e.duration);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {}
})();
"""


# ---------------------------------------------------------------- CPU accounting


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def chromium_procs() -> list[psutil.Process]:
    """Every Chromium process started (through Playwright's driver) by this script."""
    return [p for p in psutil.Process().children(recursive=True) if "chrom" in _name(p)]


def _name(p: psutil.Process) -> str:
    try:
        return p.name().lower()
    except psutil.Error:
        return ""


def cpu_snapshot(procs: list[psutil.Process]) -> dict[tuple[int, float], float]:
    """CPU seconds (user + system, plus reaped children) of each live process."""
    snap = {}
    for p in procs:
        try:
            with p.oneshot():
                t = p.cpu_times()
                snap[(p.pid, p.create_time())] = (
                    t.user + t.system + t.children_user + t.children_system
                )
        except psutil.Error:
            pass
    return snap


def cpu_delta(before: dict, after: dict) -> float:
    return sum(v - before.get(k, 0.0) for k, v in after.items())


# ---------------------------------------------------------------- one reply


class BytesIn:
    """Bytes the page receives over HTTP (server-sent events included) and websockets,
    counted by Chromium (CDP): Gradio streams over server-sent events, not a websocket."""

    def __init__(self, page: Page) -> None:
        self.total = 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.dataReceived", self._http)
        self.cdp.on("Network.webSocketFrameReceived", self._ws)
        self.cdp.send("Network.enable")

    def _http(self, event: dict) -> None:
        self.total += event.get("encodedDataLength") or event.get("dataLength", 0)

    def _ws(self, event: dict) -> None:
        self.total += len(event["response"].get("payloadData", ""))

    def stop(self) -> int:
        self.cdp.detach()
        return self.total


def stream_once(
    page: Page,
    ts: TokenServer,
    *,
    mode: str,
    server: psutil.Process,
    tokens: int,
    rate: float,
    cap: float,
) -> dict:
    """Send one message and measure its reply until it is all visible (or the cap)."""
    ts.tokens, ts.rate = tokens, rate
    ts.sent_at = []
    box = (
        page.get_by_role("textbox", name="Message")
        if mode == "ours"
        else page.get_by_role("textbox").first
    )
    box.fill(f"stream {tokens} tokens")
    before = page.evaluate("document.querySelectorAll('.lc-msg[data-role=\"assistant\"]').length")
    page.evaluate("window.__bench.start()")
    bytes_in = BytesIn(page)
    cpu0_server, cpu0_browser = cpu_snapshot(tree(server)), cpu_snapshot(chromium_procs())
    started = time.time()
    box.press("Enter")
    capped = False
    try:
        if mode == "ours":
            page.wait_for_function(
                "n => document.querySelectorAll('.lc-msg[data-role=\"assistant\"]').length > n"
                " && !document.querySelector('.lc-streaming')",
                arg=before,
                timeout=cap * 1000,
                polling=100,
            )
        else:
            page.wait_for_function(
                "n => window.__bench.lastIndex >= n - 1",
                arg=tokens,
                timeout=cap * 1000,
                polling=100,
            )
    except PlaywrightTimeout:
        capped = True
    elapsed = time.time() - started
    cpu_server = cpu_delta(cpu0_server, cpu_snapshot(tree(server)))
    cpu_browser = cpu_delta(cpu0_browser, cpu_snapshot(chromium_procs()))
    all_bytes_in = bytes_in.stop()
    b = page.evaluate(
        "(() => { const b = window.__bench; b.stop(); const g = b.gaps.slice()"
        ".sort((x, y) => x - y); return { maxGap: b.maxGap, visible: b.visible,"
        " lastIndex: b.lastIndex, wsIn: b.wsIn, wsInMsgs: b.wsInMsgs, wsOut:"
        " b.wsOut, frames: g.length, p95Gap: g.length ? g[Math.floor(0.95 *"
        " (g.length - 1))] : 0, longestTask: Math.max(0, ...b.longtasks),"
        " text: b.finalText() }; })()"
    )
    shown = {int(m) for m in re.findall(r"t(\d+)", b.pop("text"))}
    sent = list(ts.sent_at)
    visible = b["visible"]
    first_sent = sent[0] if sent and sent[0] else started
    stamps = [v for v in visible if v]
    last_visible = max(stamps) / 1000 if stamps else time.time()
    span = max(last_visible - first_sent, 1e-3)
    n_visible = len(shown & set(range(tokens)))
    result = {
        "tokens": tokens,
        "rate_tokens_per_s": rate or "unpaced",
        "capped": capped,
        "elapsed_s": round(elapsed, 3),
        "visible_tokens": n_visible,
        "lost_tokens": tokens - n_visible,
        "first_token_to_last_visible_s": round(span, 3),
        "visible_tokens_per_s": round(n_visible / span, 1),
        "ws_bytes_in": b["wsIn"],
        "ws_messages_in": b["wsInMsgs"],
        "ws_bytes_out": b["wsOut"],
        "bytes_in": all_bytes_in,
        "cpu_s_server": round(cpu_server, 3),
        "cpu_s_browser": round(cpu_browser, 3),
        "longest_frame_gap_ms": round(b["maxGap"], 1),
        "p95_frame_gap_ms": round(b["p95Gap"], 1),
        "frames": b["frames"],
        "longest_task_ms": round(b["longestTask"], 1),
    }
    if rate:
        lat = sorted(
            visible[i] - sent[i] * 1000
            for i in range(min(len(visible), len(sent)))
            if visible[i] and sent[i]
        )
        if lat:
            result["token_to_screen_ms"] = {
                "p50": round(statistics.median(lat), 1),
                "p95": round(lat[int(0.95 * (len(lat) - 1))], 1),
                "max": round(lat[-1], 1),
                "tokens_measured": len(lat),
            }
    return result


# ---------------------------------------------------------------- summary

METRICS = [
    "visible_tokens",
    "lost_tokens",
    "first_token_to_last_visible_s",
    "visible_tokens_per_s",
    "ws_bytes_in",
    "ws_messages_in",
    "bytes_in",
    "cpu_s_server",
    "cpu_s_browser",
    "longest_frame_gap_ms",
    "p95_frame_gap_ms",
    "longest_task_ms",
]


def medians(runs: list[dict]) -> dict:
    out: dict = {}
    for key in METRICS:
        values = [r[key] for r in runs if key in r]
        if values:
            out[key] = round(statistics.median(values), 3)
    lat = [r["token_to_screen_ms"]["p95"] for r in runs if "token_to_screen_ms" in r]
    if lat:
        out["token_to_screen_p95_ms"] = round(statistics.median(lat), 1)
        out["token_to_screen_p50_ms"] = round(
            statistics.median(
                r["token_to_screen_ms"]["p50"] for r in runs if "token_to_screen_ms" in r
            ),
            1,
        )
    out["runs"] = len(runs)
    out["capped_runs"] = sum(r["capped"] for r in runs)
    return out


def ratios(ours: dict, peer: dict) -> dict:
    out = {}
    for key in [
        "visible_tokens_per_s",
        "first_token_to_last_visible_s",
        "ws_bytes_in",
        "bytes_in",
        "cpu_s_server",
        "cpu_s_browser",
        "longest_frame_gap_ms",
        "token_to_screen_p95_ms",
    ]:
        if key in ours and key in peer and peer[key]:
            out[key] = round(ours[key] / peer[key], 4)
    return out
