"""A 10 MB image in the conversation, in the `livechat` app with real Chromium: prints
JSON.

- paste to thumbnail: from the paste event (the page's `lc-attach-paste` mark) to the
  sent message's thumbnail drawn (`lc-attach-thumb`, its image's load event), the
  message sent at once — the file read, sent to the kernel as a binary buffer, checked,
  stored under its hash and the message shown — median and p95 over the runs;
- kernel memory added per 10 MB attachment: the visitor kernel's RSS after each send
  minus before it (median), once the reply to it is saved;
- bytes on the wire: what the page's websocket sent for the message, compared with the
  file's size (goal <= 1.05x) and with base64 in JSON (4/3, ~1.33x).

    python3 benchmarks/bench_attachments.py [--runs 7] [--mb 10]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_load import kernels, start_app, wait_for_pool  # noqa: E402
from bench_stream import CHROMIUM_ARGS, free_port, only_local, stop  # noqa: E402
from fake_provider import FakeProvider  # noqa: E402

WAIT_MS = int(os.environ.get("BENCH_WAIT_MS", "600000"))  # conditions, not limits

PASTE = """(box, [b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  performance.clearMarks();
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  box.dispatchEvent(new ClipboardEvent("paste", init));
}"""

ELAPSED = """() => {
  const paste = performance.getEntriesByName("lc-attach-paste").pop();
  const thumb = performance.getEntriesByName("lc-attach-thumb").pop();
  const after = paste && thumb && thumb.startTime > paste.startTime;
  return after ? thumb.startTime - paste.startTime : null;
}"""


def noise_png(megabytes: float) -> bytes:
    """A PNG of random pixels (it does not compress) of about ``megabytes`` MB."""
    from PIL import Image

    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    path = Path(tempfile.mkdtemp()) / "noise.png"
    image.save(path, compress_level=1)
    return path.read_bytes()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--mb", type=float, default=10.0)
    args = parser.parse_args()
    image = noise_png(args.mb)
    b64 = base64.b64encode(image).decode()
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    with FakeProvider(text="Seen.") as fake:
        app = start_app(port, tmp / "logs", fake.base_url, 1, tmp / "app.log")
        try:
            wait_for_pool(tmp / "app.log", 1)
            result = run(args, image, b64, port, app)
        finally:
            stop(app)
    print(json.dumps(result, indent=2))


def run(args: argparse.Namespace, image: bytes, b64: str, port: int, app: psutil.Popen) -> dict:
    # The preheated kernel the visitor will get (the pool refills with another).
    (kernel,) = kernels(psutil.Process(app.pid))
    times: list[float] = []
    memory: list[float] = []
    wire: list[int] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        page.context.route("**/*", only_local)
        sent: list[int] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(_size(f))))
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=WAIT_MS)
        box = page.get_by_role("textbox", name="Message")
        box.wait_for(timeout=WAIT_MS)
        for n in range(args.runs):
            before = kernel.memory_info().rss
            box.fill(f"What is in this picture? ({n})")
            box.evaluate(PASTE, [b64, f"noise-{n}.png"])
            page.locator(".lc-file-chips [role=listitem]").wait_for(timeout=WAIT_MS)
            page.wait_for_function(
                "!document.querySelector('.lc-attach:disabled') && "
                "!document.querySelector('.livechat-root button[aria-label=Send]:disabled')",
                timeout=WAIT_MS,
            )
            sent.clear()
            box.press("Enter")
            page.wait_for_function(f"({ELAPSED})() !== null", timeout=WAIT_MS, polling=20)
            times.append(page.evaluate(ELAPSED))
            page.get_by_role("button", name="Send").wait_for(timeout=WAIT_MS)
            time.sleep(0.5)  # the reply saved: the kernel settled
            memory.append((kernel.memory_info().rss - before) / 1_000_000)
            wire.append(sum(sent))
        browser.close()
    size = len(image)
    on_wire = statistics.median(wire)
    return {
        "image_bytes": size,
        "runs": args.runs,
        "paste_to_thumbnail_ms": {
            "median": round(statistics.median(times), 1),
            "p95": round(percentile(times, 0.95), 1),
        },
        "kernel_mb_added_per_attachment": {
            "median": round(statistics.median(memory), 1),
            "each": [round(m, 1) for m in memory],
        },
        "bytes_on_the_wire": {
            "sent": int(on_wire),
            "ratio_to_file": round(on_wire / size, 3),
            "ratio_base64_json_would_be": round(4 / 3, 3),
            "goal_ratio": 1.05,
        },
    }


def _size(frame: object) -> int:
    payload = frame if isinstance(frame, (str, bytes)) else getattr(frame, "payload", b"")
    return len(payload.encode() if isinstance(payload, str) else payload)


if __name__ == "__main__":
    main()
