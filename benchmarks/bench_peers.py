"""Streaming peers: livechat in Voila vs. Panel's ``ChatInterface`` (two idioms) and
Gradio's ``ChatInterface``, each at its documented best.

Every tool streams the same reply from the same local token source (token_server.py,
an OpenAI-compatible server on 127.0.0.1) into the same headless Debian Chromium;
runs alternate (the order rotates each run) and the page is measured from inside (see
peer_measure.py): lost tokens, first token to last visible and visible tokens/s, bytes
server -> page, CPU seconds of the server side and of the browser, the longest frame
gap, and token-to-screen latency (p50/p95) on paced replies.

Peers (``--peers``):
- ``panel_generator``: Panel's default idiom, an async generator yielding the message
  so far (peer_panel_app.py --idiom generator);
- ``panel_stream``: ``ChatInterface.stream(token, message=...)`` per token, Panel's
  documented way to append (--idiom stream); both use Panel's ``enable_streaming``
  Markdown updates, which send only the new text;
- ``gradio``: Gradio's ``ChatInterface`` with a streaming generator (peer_gradio_app.py;
  ``--gradio-python`` names a Python that has Gradio, default this one).

Cases: 2,000 and 20,000 tokens unpaced, 6,000 tokens paced at 2,000 tokens/s. A peer
that re-renders per token is capped (``--cap``, 120 s) and runs the 20,000-token case
fewer times (``--peer-long-runs``); a capped run reports what was visible at the cap.
For figures that stay comparable with earlier runs, each case also keeps ``peer`` and
``ratio_ours_over_peer`` for Panel's default idiom. Prints one JSON object.

    python3 benchmarks/bench_peers.py [--runs 5] [--peer-long-runs 2] [--cap 120] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

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
from peer_measure import INSTRUMENT, medians, ratios, stream_once  # noqa: E402
from token_server import TokenServer  # noqa: E402

PANEL_APP = HERE / "peer_panel_app.py"
GRADIO_APP = HERE / "peer_gradio_app.py"
PEERS = ["panel_generator", "panel_stream", "gradio"]
BASELINE_PEER = "panel_generator"  # what `peer` / `ratio_ours_over_peer` always meant

CASES = [  # name, tokens, rate (tokens/s, 0 = unpaced)
    ("unpaced_2000", 2000, 0),
    ("paced_6000_at_2000_per_s", 6000, 2000),
    ("unpaced_20000", 20000, 0),
]


# ---------------------------------------------------------------- servers


def wait_for(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}; see {log_path}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start; see {log_path}")


def start_panel(port: int, base_url: str, idiom: str, log_path: Path) -> subprocess.Popen:
    cmd = [
        *(sys.executable, "-m", "panel", "serve", str(PANEL_APP)),
        *("--address", "127.0.0.1", "--port", str(port)),
        *("--allow-websocket-origin", f"127.0.0.1:{port}"),
        *("--args", "--base-url", base_url, "--idiom", idiom),
    ]
    out = open(log_path, "a")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(proc, f"http://127.0.0.1:{port}/{PANEL_APP.stem}", log_path)
    return proc


def start_gradio(port: int, base_url: str, python: str, log_path: Path) -> subprocess.Popen:
    cmd = [python, str(GRADIO_APP), "--port", str(port), "--base-url", base_url]
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    out = open(log_path, "a")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    wait_for(proc, f"http://127.0.0.1:{port}/", log_path)
    return proc


class Peer:
    """One peer's server: started on demand, restarted after a capped run (its callback
    would keep streaming into the next run)."""

    def __init__(self, name: str, start: Callable[[int], subprocess.Popen], path: str) -> None:
        self.name, self._start, self.port = name, start, free_port()
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.proc = start(self.port)

    def restart(self) -> None:
        stop(self.proc, signal.SIGTERM, wait=30)
        self.proc = self._start(self.port)

    def close(self) -> None:
        stop(self.proc, signal.SIGTERM, wait=30)


def gradio_missing(python: str) -> str | None:
    """Why Gradio cannot run (None: it can)."""
    if python == sys.executable:
        return None if importlib.util.find_spec("gradio") else "gradio is not installed"
    probe = subprocess.run([python, "-c", "import gradio"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"{python} cannot import gradio"


# ---------------------------------------------------------------- main


def run(
    runs: int, peer_long_runs: int, cap: float, scale: int, peers: list[str], gradio_python: str
) -> dict:
    results: dict = {"cpu_count": os.cpu_count(), "cap_s": cap, "cases": {}, "skipped": {}}
    if "gradio" in peers and (why := gradio_missing(gradio_python)):
        log(f"skipping gradio: {why} (pip install gradio, or --gradio-python PATH)")
        results["skipped"]["gradio"] = why
        peers = [p for p in peers if p != "gradio"]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp, TokenServer() as ts:
        logs = Path(tmp) / "chat_logs"
        logs.mkdir()
        ours_port = free_port()
        app = start_app(ours_port, logs, ts.base_url)
        servers: dict[str, Peer] = {}
        try:
            for name in peers:
                log_path = Path(tmp) / f"{name}.log"
                if name == "gradio":
                    servers[name] = Peer(
                        name,
                        lambda p, lp=log_path: start_gradio(p, ts.base_url, gradio_python, lp),
                        "/",
                    )
                else:
                    idiom = name.removeprefix("panel_")
                    servers[name] = Peer(
                        name,
                        lambda p, i=idiom, lp=log_path: start_panel(p, ts.base_url, i, lp),
                        f"/{PANEL_APP.stem}",
                    )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                ours_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                ours_ctx.route("**/*", only_local)
                ours_page = ours_ctx.new_page()
                ours_page.add_init_script(INSTRUMENT.replace("__MODE__", "ours"))
                ours_page.goto(f"http://127.0.0.1:{ours_port}/", timeout=180_000)
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

                def peer_run(peer: Peer, tokens: int, rate: float) -> dict:
                    mode = "gradio" if peer.name == "gradio" else "panel"
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    ctx.route("**/*", only_local)
                    page = ctx.new_page()
                    page.add_init_script(INSTRUMENT.replace("__MODE__", mode))
                    page.goto(peer.url, timeout=180_000)
                    page.get_by_role("textbox").first.wait_for(timeout=120_000)
                    time.sleep(0.5)  # let the session settle
                    try:
                        result = stream_once(
                            page,
                            ts,
                            mode=mode,
                            server=psutil.Process(peer.proc.pid),
                            tokens=tokens,
                            rate=rate,
                            cap=cap,
                        )
                    finally:
                        ctx.close()
                    if result["capped"]:
                        peer.restart()
                    return result

                tools = ["ours", *peers]
                for name, tokens, rate in CASES:
                    tokens //= scale
                    case: dict = {"tokens": tokens, "rate_tokens_per_s": rate or "unpaced"}
                    done: dict[str, list[dict]] = {tool: [] for tool in tools}
                    long_case = tokens >= 20000 // scale
                    for i in range(runs):
                        shift = i % len(tools)
                        for tool in tools[shift:] + tools[:shift]:  # a rotating order
                            if tool != "ours" and long_case and i >= peer_long_runs:
                                continue
                            r = (
                                ours_run(tokens, rate)
                                if tool == "ours"
                                else peer_run(servers[tool], tokens, rate)
                            )
                            done[tool].append(r)
                            log(name, tool, i, json.dumps(summary(r)))
                    case["ours_runs"] = done["ours"]
                    case["ours"] = medians(done["ours"])
                    case["peers"] = {}
                    for tool in peers:
                        m = medians(done[tool])
                        case["peers"][tool] = {
                            "runs": done[tool],
                            "medians": m,
                            "ratio_ours_over_peer": ratios(case["ours"], m),
                        }
                    if BASELINE_PEER in case["peers"]:  # the names earlier runs used
                        base = case["peers"][BASELINE_PEER]
                        case["peer_runs"] = base["runs"]
                        case["peer"] = base["medians"]
                        case["ratio_ours_over_peer"] = base["ratio_ours_over_peer"]
                    results["cases"][name] = case
                browser.close()
        finally:
            stop(app, wait=30)
            for server in servers.values():
                server.close()
    results["versions"] = versions(gradio_python if "gradio" in peers else None)
    return results


def summary(r: dict) -> dict:
    keys = (
        "capped",
        "visible_tokens",
        "first_token_to_last_visible_s",
        "visible_tokens_per_s",
        "cpu_s_server",
        "cpu_s_browser",
        "longest_frame_gap_ms",
    )
    return {k: r[k] for k in keys}


def versions(gradio_python: str | None) -> dict:
    from importlib.metadata import version

    out = {}
    for pkg in ("livechat-widget", "panel", "bokeh", "voila", "anywidget", "playwright"):
        with contextlib.suppress(Exception):
            out[pkg] = version(pkg)
    if gradio_python:
        with contextlib.suppress(Exception):
            out["gradio"] = subprocess.run(
                [gradio_python, "-c", "import gradio; print(gradio.__version__)"],
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.strip()
    with contextlib.suppress(Exception):
        out["chromium"] = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per tool and case (5)")
    parser.add_argument(
        "--peer-long-runs", type=int, default=2, help="peer runs of the 20,000-token case (2)"
    )
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run at most (120)")
    parser.add_argument("--quick", action="store_true", help="1/10 of the tokens, 1 run")
    parser.add_argument(
        "--peers", default=",".join(PEERS), help=f"comma-separated, of {', '.join(PEERS)}"
    )
    parser.add_argument(
        "--gradio-python", default=sys.executable, help="a Python that can import gradio"
    )
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    if unknown := set(peers) - set(PEERS):
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    if args.quick:
        args.runs = args.peer_long_runs = 1
    scale = 10 if args.quick else 1
    result = run(args.runs, args.peer_long_runs, args.cap, scale, peers, args.gradio_python)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
