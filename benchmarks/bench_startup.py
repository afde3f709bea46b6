"""How long a new visitor waits for a usable chat on a ``livechat`` server.

    python benchmarks/bench_startup.py [--visits 5] [--settle 12] [--page app|lab]

For each mode — Voila preheated kernels (the default of ``livechat``) and
``--no-preheat`` — it starts the real command on a free 127.0.0.1 port (demo model,
temporary chat_logs) and measures in headless Debian Chromium:

* ``cold_start_s``: from launching ``livechat`` to the first visitor's usable widget
  (the "Message" textbox visible and enabled);
* ``new_visitor_s``: on the warm server, a fresh browser context per visit, from
  navigation to a usable widget; ``--settle`` seconds between visits let the pool
  refill its preheated kernel (the median is reported, and every visit).

``--page lab`` measures Voila's JupyterLab page (``livechat --page lab``) instead of the
app's own page, for comparison. Prints one JSON object. Each visit's page is closed
with its unload handlers, so Voila shuts that visitor's kernel down.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_stream import CHROMIUM_ARGS, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 300_000


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"livechat exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.02)


def visit(browser, url: str) -> float:
    """Seconds from navigation to a visible, enabled "Message" textbox."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", _only_local)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    box = page.get_by_role("textbox", name="Message")
    box.wait_for(state="visible")
    page.wait_for_function(
        "el => !el.disabled && !el.readOnly", arg=box.element_handle(), polling="raf"
    )
    elapsed = time.perf_counter() - start
    page.close(run_before_unload=True)
    time.sleep(0.5)  # let the unload beacon reach Voila
    context.close()
    return elapsed


def _only_local(route):
    # Voila's lab page (--page lab) links CDN stylesheets; there is no network here.
    if route.request.url.startswith("http://127.0.0.1"):
        route.continue_()
    else:
        route.abort()


def run_mode(browser, preheat: bool, visits: int, settle: float, page: str) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECHAT_", "VOILA_"))}
        env.update(LIVECHAT_PROVIDER="demo", PYTHONUNBUFFERED="1")
        argv = [sys.executable, "-m", "livechat_widget.app", "--no-browser",
                "--port", str(port), "--chat-logs", str(Path(tmp) / "logs"),
                "--page", page]  # fmt: skip
        if not preheat:
            argv.append("--no-preheat")
        log = open(Path(tmp) / "livechat.log", "w")  # noqa: SIM115
        launched = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_listening(port, proc)
            listening = time.perf_counter() - launched
            url = f"http://127.0.0.1:{port}/"
            first = visit(browser, url)
            cold = (time.perf_counter() - launched) - 0.5  # minus visit()'s unload pause
            times = []
            for _ in range(visits):
                time.sleep(settle)
                times.append(visit(browser, url))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    return {
        "listening_s": round(listening, 3),
        "cold_start_s": round(cold, 3),
        "first_visit_s": round(first, 3),
        "new_visitor_s": {
            "median": round(statistics.median(times), 3),
            "min": round(min(times), 3),
            "max": round(max(times), 3),
            "all": [round(t, 3) for t in times],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=5, help="warm visits per mode (default 5)")
    parser.add_argument(
        "--settle", type=float, default=12.0, help="seconds between visits (default 12)"
    )
    parser.add_argument(
        "--page", choices=("app", "lab"), default="app", help="livechat --page (default app)"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            preheated = run_mode(browser, True, args.visits, args.settle, args.page)
            cold = run_mode(browser, False, args.visits, args.settle, args.page)
        finally:
            browser.close()
    result = {
        "benchmark": "livechat new-visitor time to a usable widget",
        "usable": 'the "Message" textbox is visible and enabled',
        "visits": args.visits,
        "settle_s": args.settle,
        "page": args.page,
        "cpus": os.cpu_count(),
        "preheated_kernels": preheated,
        "no_preheat": cold,
        "speedup_median": round(
            cold["new_visitor_s"]["median"] / preheated["new_visitor_s"]["median"], 2
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
