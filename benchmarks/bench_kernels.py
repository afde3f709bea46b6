"""How many kernels a ``livechat`` server holds after visitors leave.

    python benchmarks/bench_kernels.py [--views 10] [--within 60] [--pythonpath DIR]

Starts the real command (demo model, pool size 1, temporary chat_logs) on a free
127.0.0.1 port, then makes ``--views`` page views in headless Debian Chromium: each
opens the app, waits for a usable chat, and leaves the page (navigating away, which
fires the page's unload handlers, as closing a tab or reloading does). Kernels are the
server's child processes running ipykernel. Prints one JSON object: the kernels at
start, after each view, and at the end of ``--within`` seconds (or as soon as the count
is back at the pool size), with the seconds that took.

``--pythonpath DIR`` runs the livechat_widget package found in DIR instead of the
installed one (e.g. a worktree of an older commit, to measure before/after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_startup import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, free_port, wait_listening
from bench_stream import only_local, stop

POOL_SIZE = 1


def kernel_count(server_pid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        count += parent == server_pid and b"ipykernel" in cmdline
    return count


def wait_for_count(pid: int, count: int, within: float) -> tuple[int, float]:
    start = time.monotonic()
    while True:
        now, waited = kernel_count(pid), time.monotonic() - start
        if now == count or waited >= within:
            return now, round(waited, 1)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--within", type=float, default=60.0)
    parser.add_argument("--pythonpath", help="run the livechat_widget package in this folder")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECHAT_", "VOILA_"))}
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "livechat_widget.app",
                "--no-browser",
                "--port",
                str(port),
                "--chat-logs",
                str(Path(tmp) / "logs"),
                "--provider",
                "demo",
                "--pool-size",
                str(POOL_SIZE),
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_listening(port, proc)
            at_start, _ = wait_for_count(proc.pid, POOL_SIZE, 120)
            after_each = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context()
                context.route("**/*", only_local)
                for _ in range(args.views):
                    page = context.new_page()
                    page.set_default_timeout(WAIT_MS)
                    page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                    page.get_by_role("textbox", name="Message").wait_for(state="visible")
                    page.goto("about:blank")  # the visitor leaves
                    page.close()
                    after_each.append(kernel_count(proc.pid))
                browser.close()
            at_end, waited = wait_for_count(proc.pid, POOL_SIZE, args.within)
        finally:
            stop(proc)
    print(
        json.dumps(
            {
                "views": args.views,
                "pool_size": POOL_SIZE,
                "kernels_at_start": at_start,
                "kernels_after_each_view": after_each,
                "kernels_at_end": at_end,
                "seconds_waited": waited,
            }
        )
    )


if __name__ == "__main__":
    main()
