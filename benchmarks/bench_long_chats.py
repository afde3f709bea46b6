"""Long chats and the notebook cell, measured from inside headless Debian Chromium.

1. Opening chats of 200, 2,000 and 20,000 messages from their CSV files in the real
   ``livechat`` app (Voila): time from the click in the chat list to the frame after
   the newest message is in the DOM (first paint of the chat), and the longest
   main-thread task meanwhile (PerformanceObserver ``longtask``). Each size is opened
   ``--repeats`` times from an empty "New chat"; the first open of each is reported
   apart (cold: the kernel reads the file), the median over all.
2. Scrolling back through 1,000 older messages of the 20,000-message chat: the log is
   scrolled up by ``--step`` px per animation frame (a brisk fling) until message
   N-1000 is on screen; the widget fetches older pages (``load_older``) as the top
   nears. Frame gaps (longest, p95, count over 50 ms), long tasks, seconds taken.
3. JupyterLab (temporary config, token, no browser): a notebook whose one cell is
   ``ChatWidget(...)``; from Shift+Enter to the "Message" textbox visible — first run
   in a fresh kernel (imports included) and the median of re-runs.

    python3 benchmarks/bench_long_chats.py [--repeats 5] [--step 200] [--no-lab]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_stream import (  # noqa: E402
    CHROMIUM_ARGS,
    INSTRUMENT,
    free_port,
    log,
    new_chat,
    only_local,
    open_chat,
    start_app,
    stop,
    write_chat,
)
from token_server import TokenServer  # noqa: E402

SIZES = (200, 2000, 20000)

SCROLL = r"""
([target, step, limitMs]) => new Promise((resolve) => {
  const sc = document.querySelector('.lc-log');
  const b = window.__bench;
  Object.assign(b, { tracking: true, maxGap: 0, gaps: [], longtasks: [] });
  const t0 = performance.now();
  let requests = 0, lastFirst = Infinity;
  const done = (reached) => {
    b.tracking = false;
    const g = b.gaps.slice().sort((x, y) => x - y);
    resolve({
      reached, seconds: Math.round(performance.now() - t0) / 1000, frames: g.length,
      longest_frame_gap_ms: Math.round(b.maxGap * 10) / 10,
      p95_frame_gap_ms: g.length ? Math.round(g[Math.floor(0.95 * (g.length - 1))] * 10) / 10 : 0,
      frame_gaps_over_50ms: g.filter((x) => x > 50).length,
      longest_task_ms: Math.max(0, ...b.longtasks),
      older_pages_loaded: requests,
      bubbles_in_dom: document.querySelectorAll('.lc-msg').length,
    });
  };
  const tick = () => {
    const first = document.querySelector('.lc-msg');
    const firstId = first ? Number(first.dataset.id) : Infinity;
    if (firstId < lastFirst) { if (lastFirst !== Infinity) requests++; lastFirst = firstId; }
    const el = document.querySelector(`.lc-msg[data-id="${target}"]`);
    if (el && el.getBoundingClientRect().top >= sc.getBoundingClientRect().top) return done(true);
    if (performance.now() - t0 > limitMs) return done(false);
    sc.scrollTop -= step;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""


def long_chats(browser, repeats: int, step: int) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp, TokenServer() as ts:
        logs = Path(tmp) / "chat_logs"
        logs.mkdir()
        for n in SIZES:
            write_chat(logs, f"Chat of {n}", n)
        port = free_port()
        app = start_app(port, logs, ts.base_url)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.route("**/*", only_local)
            page = ctx.new_page()
            page.add_init_script(INSTRUMENT)
            # the first visit may wait for the kernel pool (a busy shared machine)
            page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
            page.get_by_role("textbox", name="Message").wait_for(timeout=120_000)
            opens: dict[int, list[dict]] = {n: [] for n in SIZES}
            for i in range(repeats):
                for n in SIZES:
                    new_chat(page)
                    r = open_chat(page, f"Chat of {n}", n - 1)
                    log("open", n, i, r)
                    opens[n].append(r)
            for n in SIZES:
                ok = [r for r in opens[n] if "paint_ms" in r]
                out[f"open_chat_{n}"] = {
                    "messages": n,
                    "paint_ms_median": statistics.median(r["paint_ms"] for r in ok) if ok else None,
                    "longest_task_ms_median": statistics.median(r["longest_task_ms"] for r in ok)
                    if ok
                    else None,
                    "longest_task_ms_max": max(r["longest_task_ms"] for r in ok) if ok else None,
                    "first_open": opens[n][0],
                    "runs": opens[n],
                }
            # Scroll back through 1,000 older messages of the longest chat.
            n = max(SIZES)
            scrolls = []
            for i in range(max(1, repeats // 2)):
                new_chat(page)
                open_chat(page, f"Chat of {n}", n - 1)
                page.wait_for_timeout(500)
                r = page.evaluate(SCROLL, [n - 1 - 1000, step, 60_000])
                log("scroll", i, r)
                scrolls.append(r)
            out["scroll_back_1000"] = {
                "chat_messages": n,
                "step_px_per_frame": step,
                "longest_frame_gap_ms_median": statistics.median(
                    r["longest_frame_gap_ms"] for r in scrolls
                ),
                "p95_frame_gap_ms_median": statistics.median(
                    r["p95_frame_gap_ms"] for r in scrolls
                ),
                "seconds_median": statistics.median(r["seconds"] for r in scrolls),
                "runs": scrolls,
            }
            ctx.close()
        finally:
            stop(app)
    return out


def lab_cell(browser, repeats: int) -> dict:
    """Shift+Enter on a `ChatWidget(...)` cell to the "Message" textbox visible."""
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as tmp:
        home = Path(tmp)
        root = home / "root"
        root.mkdir()
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": "c1",
                    "metadata": {},
                    "outputs": [],
                    "source": "from livechat_widget import ChatWidget\n"
                    f"ChatWidget(store={str(home / 'chat_logs')!r})",
                }
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (root / "bench.ipynb").write_text(json.dumps(nb))
        settings = home / "settings"
        note = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
        note.parent.mkdir(parents=True)
        note.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        port, token = free_port(), secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECHAT_", "JUPYTER"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
            LIVECHAT_PROVIDER="demo",
        )
        argv = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            "--ServerApp.terminals_enabled=False",
        ]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        out = open(home / "lab.log", "w")  # noqa: SIM115
        lab = subprocess.Popen(
            argv, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            base = f"http://127.0.0.1:{port}/"
            for _ in range(600):
                if lab.poll() is not None:
                    raise RuntimeError("jupyterlab exited; see its log")
                try:
                    urllib.request.urlopen(f"{base}api/status?token={token}", timeout=5)
                    break
                except OSError:
                    time.sleep(0.2)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.route("**/*", only_local)
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{base}lab/tree/bench.ipynb?token={token}", wait_until="domcontentloaded")
            page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle").wait_for()
            times = []
            for i in range(repeats + 1):
                times.append(run_cell(page))
                log("lab cell", i, times[-1])
            ctx.close()
        finally:
            stop(lab, signal.SIGTERM)
            out.close()
    return {
        "first_run_s": times[0],
        "rerun_s_median": statistics.median(times[1:]),
        "runs_s": times,
    }


def run_cell(page: Page) -> float:
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first
    page.evaluate(
        "document.querySelectorAll('.livechat-root textarea, .livechat-root input')"
        ".forEach(e => e.dataset.benchOld = '1')"
    )
    cell.locator(".jp-InputPrompt").click()
    page.wait_for_function(
        "el => el.classList.contains('jp-mod-active')", arg=cell.element_handle()
    )
    start = time.perf_counter()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea [aria-label=\"Message\"]')]"
        ".some(e => !e.dataset.benchOld && e.offsetParent !== null)",
        polling="raf",
    )
    elapsed = time.perf_counter() - start
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(600):  # wait for the cell to finish before the next run
        if re.match(r"^\[\d+\]", prompt.inner_text().strip()):
            break
        time.sleep(0.1)
    return round(elapsed, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--step", type=int, default=200, help="px scrolled per frame (200)")
    parser.add_argument("--no-lab", action="store_true", help="skip the JupyterLab cell")
    args = parser.parse_args()
    result: dict = {"cpu_count": os.cpu_count()}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            result.update(long_chats(browser, args.repeats, args.step))
            if not args.no_lab:
                result["jupyterlab_cell_to_widget"] = lab_cell(browser, args.repeats)
        finally:
            browser.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
