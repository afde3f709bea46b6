"""Streaming A/B: livechat in Voila vs. Panel's ``ChatInterface`` under ``panel serve``.

Both tools stream the same reply from the same local token source (token_server.py,
an OpenAI-compatible server on 127.0.0.1) into the same headless Debian Chromium,
runs alternating A/B (ABAB, then BABA), and the page is measured from inside:

- tokens visible at the end (lost tokens) — every ``tN`` must be on screen;
- time from the first token leaving the token server to the last token visible,
  and visible tokens/s over that time;
- websocket bytes and messages server -> page while streaming (counted in the page);
- CPU seconds of the server side (``livechat``: Voila + its kernels; ``panel serve``)
  and of the browser (every Chromium process this script started), from send to done;
- the longest frame gap (requestAnimationFrame) while streaming;
- token-to-screen latency (p50/p95) on paced replies: send time at the token server
  vs. the DOM update that shows the token (same wall clock).

Cases: 2,000 and 20,000 tokens unpaced, 6,000 tokens paced at 2,000 tokens/s. Panel
re-renders the whole message per token, so its runs are capped (``--cap``, 120 s)
and its 20,000-token case gets fewer runs (``--peer-long-runs``); a capped run
reports the tokens visible at the cap and the rate so far. Prints one JSON object.

    python3 benchmarks/bench_panel.py [--runs 5] [--peer-long-runs 2] [--cap 120] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_stream import (  # noqa: E402
    CHROMIUM_ARGS,
    free_port,
    log,
    new_chat,
    only_local,
    start_app,
    stop,
)
from token_server import TokenServer  # noqa: E402

PEER_APP = HERE / "peer_panel_app.py"

# Runs before the page's own scripts. A frame clock (only while tracking), a long-task
# observer, websocket byte counters, and a DOM observer that notes when each token of
# the reply first enters the DOM. Panel draws inside open shadow roots, so every shadow
# root is observed too; its message text is the ``.markdown.message`` host's root.
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
  b.finalText = () => {
    if (MODE === "ours") {
      const all = document.querySelectorAll('.lc-msg[data-role="assistant"]');
      return all.length ? all[all.length - 1].textContent : "";
    }
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
    if (MODE === "ours") {
      const all = document.querySelectorAll('.lc-msg[data-role="assistant"]');
      if (all.length) note(all[all.length - 1].textContent.slice(-200));
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

CASES = [  # name, tokens, rate (tokens/s, 0 = unpaced)
    ("unpaced_2000", 2000, 0),
    ("paced_6000_at_2000_per_s", 6000, 2000),
    ("unpaced_20000", 20000, 0),
]


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


# ---------------------------------------------------------------- servers


def start_panel(port: int, base_url: str, log_path: Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        str(PEER_APP),
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--allow-websocket-origin",
        f"127.0.0.1:{port}",
        "--args",
        "--base-url",
        base_url,
    ]
    out = open(log_path, "a")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"panel serve exited with {proc.returncode}; see {log_path}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/{PEER_APP.stem}", timeout=5)
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("panel serve did not start")


# ---------------------------------------------------------------- one reply


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
        "cpu_s_server",
        "cpu_s_browser",
        "longest_frame_gap_ms",
        "token_to_screen_p95_ms",
    ]:
        if key in ours and key in peer and peer[key]:
            out[key] = round(ours[key] / peer[key], 4)
    return out


# ---------------------------------------------------------------- main


def run(runs: int, peer_long_runs: int, cap: float, scale: int) -> dict:
    results: dict = {"cpu_count": os.cpu_count(), "cap_s": cap, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="bench-panel-") as tmp, TokenServer() as ts:
        logs = Path(tmp) / "chat_logs"
        logs.mkdir()
        ours_port, peer_port = free_port(), free_port()
        app = start_app(ours_port, logs, ts.base_url)
        peer_log = Path(tmp) / "panel.log"
        peer = start_panel(peer_port, ts.base_url, peer_log)
        peer_url = f"http://127.0.0.1:{peer_port}/{PEER_APP.stem}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                ours_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                ours_ctx.route("**/*", only_local)
                ours_page = ours_ctx.new_page()
                ours_page.add_init_script(INSTRUMENT.replace("__MODE__", "ours"))
                ours_page.goto(f"http://127.0.0.1:{ours_port}/")
                ours_page.get_by_role("textbox", name="Message").wait_for(timeout=120_000)

                def ours_run(tokens: int, rate: float) -> dict:
                    new_chat(ours_page)
                    return stream_once(
                        ours_page,
                        ts,
                        mode="ours",
                        server=psutil.Process(app.pid),
                        tokens=tokens,
                        rate=rate,
                        cap=cap,
                    )

                def peer_run(tokens: int, rate: float) -> dict:
                    nonlocal peer
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    ctx.route("**/*", only_local)
                    page = ctx.new_page()
                    page.add_init_script(INSTRUMENT.replace("__MODE__", "panel"))
                    page.goto(peer_url)
                    page.get_by_role("textbox").first.wait_for(timeout=120_000)
                    time.sleep(0.5)  # let the session settle
                    try:
                        result = stream_once(
                            page,
                            ts,
                            mode="panel",
                            server=psutil.Process(peer.pid),
                            tokens=tokens,
                            rate=rate,
                            cap=cap,
                        )
                    finally:
                        ctx.close()
                    if result["capped"]:  # the callback would keep going: restart the server
                        stop(peer, signal.SIGTERM, wait=30)
                        peer = start_panel(peer_port, ts.base_url, peer_log)
                    return result

                for name, tokens, rate in CASES:
                    tokens //= scale
                    case = {
                        "tokens": tokens,
                        "rate_tokens_per_s": rate or "unpaced",
                        "ours_runs": [],
                        "peer_runs": [],
                    }
                    peer_runs = peer_long_runs if tokens >= 20000 // scale else runs
                    for i in range(runs):
                        order = ["ours", "peer"] if i % 2 == 0 else ["peer", "ours"]
                        for who in order:
                            if who == "peer" and i >= peer_runs:
                                continue
                            r = ours_run(tokens, rate) if who == "ours" else peer_run(tokens, rate)
                            case[f"{who}_runs"].append(r)
                            log(
                                name,
                                who,
                                i,
                                json.dumps(
                                    {
                                        k: r[k]
                                        for k in (
                                            "capped",
                                            "visible_tokens",
                                            "first_token_to_last_visible_s",
                                            "visible_tokens_per_s",
                                            "cpu_s_server",
                                            "cpu_s_browser",
                                            "longest_frame_gap_ms",
                                        )
                                    }
                                ),
                            )
                    case["ours"] = medians(case["ours_runs"])
                    case["peer"] = medians(case["peer_runs"])
                    case["ratio_ours_over_peer"] = ratios(case["ours"], case["peer"])
                    results["cases"][name] = case
                browser.close()
        finally:
            stop(app, wait=30)
            stop(peer, signal.SIGTERM, wait=30)
    results["versions"] = versions()
    return results


def versions() -> dict:
    from importlib.metadata import version

    out = {}
    for pkg in ("livechat-widget", "panel", "bokeh", "voila", "anywidget", "playwright"):
        with contextlib.suppress(Exception):
            out[pkg] = version(pkg)
    with contextlib.suppress(Exception):
        out["chromium"] = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per tool and case (5)")
    parser.add_argument(
        "--peer-long-runs", type=int, default=2, help="Panel runs of the 20,000-token case (2)"
    )
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run at most (120)")
    parser.add_argument("--quick", action="store_true", help="1/10 of the tokens, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.runs = args.peer_long_runs = 1
    print(
        json.dumps(run(args.runs, args.peer_long_runs, args.cap, 10 if args.quick else 1), indent=2)
    )


if __name__ == "__main__":
    main()
