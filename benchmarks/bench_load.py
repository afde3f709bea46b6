"""Many visitors at once: `livechat --chats per-browser` with N concurrent browser
visitors (default 10), each sending a message and streaming a reply from the local
token server (token_server.py) at the same time, then one visitor more once the
preheated kernel pool is empty. Prints JSON:

- lost tokens (must be 0): every `vK-tN` token of visitor K's reply on K's screen;
- cross-talk (must be 0): a visitor whose page shows another visitor's text or chats;
- CSV rows intact: each visitor's folder holds exactly its chat, its user row and its
  whole reply, readable with `csv`;
- token-to-screen latency p50/p95 under load (all visitors' tokens together): send
  time at the token server vs. the DOM update that shows the token (same wall clock);
- memory per visitor kernel (RSS and USS, MB);
- the extra visitor on an empty pool: time to a usable chat, and its reply complete.

    python3 benchmarks/bench_load.py [--visitors 10] [--tokens 300] [--rate 40]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from bench_capacity import cpu  # noqa: E402
from bench_stream import (  # noqa: E402
    CHROMIUM_ARGS,
    INSTRUMENT,
    free_port,
    log,
    only_local,
    stop,
)
from token_server import TokenServer, token  # noqa: E402

EVENT_ROLES = {"usage"}  # rows a reply writes after itself (README, CSV format)
# conditions, not limits: a loaded 2-core machine is slow
WAIT_MS = int(os.environ.get("BENCH_WAIT_MS", "600000"))


def start_app(port: int, logs: Path, base_url: str, pool: int, out: Path) -> psutil.Popen:
    argv = [
        sys.executable, "-m", "livechat_widget.app",
        "--no-browser", "--port", str(port), "--chat-logs", str(logs),
        "--provider", "openai", "--base-url", base_url, "--model", "bench",
        "--chats", "per-browser", "--pool-size", str(pool),
    ]  # fmt: skip
    return psutil.Popen(
        argv,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        env=dict(os.environ, LIVECHAT_API_KEY="bench-key"),
        start_new_session=True,
    )


def kernels(app: psutil.Process) -> list[psutil.Process]:
    return [p for p in app.children() if "ipykernel" in " ".join(p.cmdline())]


def cpu_seconds(app: psutil.Process) -> dict[str, float]:
    """CPU time so far of the server side (Voila + kernels) and of everything else this
    script started (the browser): where the time goes while all visitors stream."""

    server = [app, *app.children(recursive=True)]
    mine = psutil.Process().children(recursive=True)
    ids = {p.pid for p in server}
    kernel_procs = kernels(app)
    return {
        "kernels": cpu(kernel_procs),
        "voila": cpu([app]),
        "browser": cpu([p for p in mine if p.pid not in ids]),
    }


def wait_for_pool(out: Path, count: int, within: float = 900) -> float:
    """Until Voila says its pool holds ``count`` kernels that ran the app notebook."""
    start = time.monotonic()
    while f"is filled with {count} kernel" not in out.read_text(errors="replace"):
        if time.monotonic() - start > within:
            raise RuntimeError(f"the kernel pool never filled:\n{out.read_text()[-3000:]}")
        time.sleep(0.5)
    return time.monotonic() - start


def open_visitor(browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    context.route("**/*", only_local)
    page = context.new_page()
    page.add_init_script(INSTRUMENT)
    page.goto(url, wait_until="commit", timeout=WAIT_MS)
    return page


def wait_usable(page: Page) -> None:
    page.get_by_role("textbox", name="Message").wait_for(timeout=WAIT_MS)
    # the kernel answered the claim: the chat list is drawn from this browser's folder
    page.wait_for_function(
        "document.querySelector('.lc-chat-list')?.textContent.includes('No chats yet')",
        timeout=WAIT_MS,
    )


def send(page: Page, k: int) -> None:
    page.evaluate(f"Object.assign(window.__bench, {{prefix: 'v{k}-', scan: true}})")
    box = page.get_by_role("textbox", name="Message")
    box.fill(f"Hello from visitor {k}")
    box.press("Enter")


def wait_done(page: Page) -> None:
    page.wait_for_function(
        "!document.querySelector('.lc-streaming') && "
        'document.querySelector(\'.lc-msg[data-role="assistant"][data-id="1"]\')',
        timeout=WAIT_MS,
        polling=200,
    )


def check_page(page: Page, k: int, tokens: int, everyone: list[int]) -> dict:
    # the reply's body alone: the bubble's label runs into its first token otherwise
    text = page.evaluate(
        "[...document.querySelectorAll('.lc-msg[data-role=\"assistant\"] .lc-md')]"
        ".pop().textContent"
    )
    whole = page.locator(".livechat-root").inner_text()
    shown = {int(m) for m in re.findall(rf"\bv{k}-t(\d+)", text)}
    others = [j for j in everyone if j != k and re.search(rf"\b(v{j}-t|visitor {j}\b)", whole)]
    missing = sorted(set(range(tokens)) - shown)
    return {
        "lost": len(missing),
        "missing_sample": missing[:5],
        "cross_talk": others,
        "chats_listed": page.locator(".lc-chat-item").count(),
        "visible": page.evaluate("window.__bench.visible"),
    }


def check_files(logs: Path, visitors: list[int], tokens: int) -> dict:
    """Each visitor folder: one chat, its user row and its whole reply."""
    folders = sorted((logs / "visitors").iterdir())
    bad: list[str] = []
    owners: list[int] = []
    for folder in folders:
        files = list(folder.glob("*.csv"))
        if len(files) != 1:
            bad.append(f"{folder.name[:8]}: {len(files)} chat files")
            continue
        with open(files[0], newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        roles = [r["role"] for r in rows]
        found = re.fullmatch(r"Hello from visitor (\d+)", rows[0]["content"]) if rows else None
        # the reply's event rows (its usage) may follow it
        if roles[:2] != ["user", "assistant"] or set(roles[2:]) - EVENT_ROLES or not found:
            bad.append(f"{folder.name[:8]}: rows {roles}")
            continue
        k = int(found.group(1))
        owners.append(k)
        if rows[1]["content"] != "".join(token(i, f"v{k}-") for i in range(tokens)):
            bad.append(f"visitor {k}: the saved reply differs from what was sent")
    if sorted(owners) != sorted(visitors):
        bad.append(f"folders belong to visitors {sorted(owners)}, expected {sorted(visitors)}")
    if list(logs.glob("*.csv")):
        bad.append("chats in the shared folder")
    return {"visitor_folders": len(folders), "problems": bad, "intact": not bad}


def percentiles(values: list[float]) -> dict:
    values = sorted(values)
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(values[int(0.95 * (len(values) - 1))], 1),
        "max": round(values[-1], 1),
        "tokens_measured": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=300, help="tokens per reply")
    parser.add_argument("--rate", type=float, default=40, help="tokens/s of each reply")
    args = parser.parse_args()
    n = args.visitors
    everyone = list(range(1, n + 2))

    with tempfile.TemporaryDirectory() as tmp, TokenServer() as ts, sync_playwright() as pw:
        ts.tokens, ts.rate = args.tokens, args.rate
        logs = Path(tmp) / "chat_logs"
        port = free_port()
        out = Path(tmp) / "livechat.log"
        app = start_app(port, logs, ts.base_url, pool=n, out=out)
        url = f"http://127.0.0.1:{port}/"
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            log(f"waiting for {n} preheated kernels")
            pool_ready_s = wait_for_pool(out, n)
            log("opening the visitors")
            t0 = time.monotonic()
            pages = {k: open_visitor(browser, url) for k in range(1, n + 1)}
            usable_s = []
            for page in pages.values():
                wait_usable(page)
                usable_s.append(round(time.monotonic() - t0, 1))
            all_usable_s = time.monotonic() - t0
            log("usable after (s):", usable_s)
            log(f"{n} visitors usable after {all_usable_s:.1f} s; all send at once")
            cpu_before = cpu_seconds(app)
            for k, page in pages.items():
                send(page, k)
            # visitor n+1 arrives while the others stream and the pool is refilling
            extra = n + 1
            kernels_before = len(kernels(app))
            t1 = time.monotonic()
            pages[extra] = open_visitor(browser, url)
            wait_usable(pages[extra])
            extra_usable_s = time.monotonic() - t1
            for k in range(1, n + 1):
                wait_done(pages[k])
            stream_cpu = {
                key: round(after - cpu_before[key], 1) for key, after in cpu_seconds(app).items()
            }
            stream_cpu["wall_s"] = round(time.monotonic() - t1, 1)
            log(f"visitor {extra} usable after {extra_usable_s:.1f} s")
            send(pages[extra], extra)
            wait_done(pages[extra])

            results = {k: check_page(page, k, args.tokens, everyone) for k, page in pages.items()}
            latencies = []
            for k in range(1, n + 1):
                sent = ts.sent_by_prefix[f"v{k}-"]
                visible = results[k].pop("visible")
                latencies += [
                    visible[i] - sent[i] * 1000
                    for i in range(args.tokens)
                    if i < len(visible) and visible[i] is not None
                ]
            results[extra].pop("visible")
            memory = []
            for kernel in kernels(app):
                info = kernel.memory_full_info()
                memory.append((info.rss / 2**20, info.uss / 2**20))
            files = check_files(logs, everyone, args.tokens)
        finally:
            browser.close()
            stop(app)

    print(
        json.dumps(
            {
                "visitors": n,
                "tokens_per_reply": args.tokens,
                "rate_tokens_per_s_each": args.rate,
                "lost_tokens": sum(r["lost"] for r in results.values()),
                "lost_token_sample": {
                    k: r["missing_sample"] for k, r in results.items() if r["lost"]
                },
                "cross_talk_visitors": sum(bool(r["cross_talk"]) for r in results.values()),
                "chats_listed_per_visitor": sorted({r["chats_listed"] for r in results.values()}),
                "csv_rows_intact": files["intact"],
                "csv_problems": files["problems"],
                "visitor_folders": files["visitor_folders"],
                "token_to_screen_ms_under_load": percentiles(latencies),
                "kernel_memory_mb": {
                    "kernels": len(memory),
                    "rss_median": round(statistics.median(r for r, _ in memory), 1),
                    "rss_max": round(max(r for r, _ in memory), 1),
                    "uss_median": round(statistics.median(u for _, u in memory), 1),
                },
                "cpu_s_while_streaming": stream_cpu,
                "pool_ready_s": round(pool_ready_s, 1),
                "all_visitors_usable_s": round(all_usable_s, 1),
                "extra_visitor": {
                    "kernels_when_it_arrived": kernels_before,
                    "usable_after_s": round(extra_usable_s, 1),
                    "lost_tokens": results[extra]["lost"],
                    "reply_complete": results[extra]["lost"] == 0,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
