"""`bench_stream.py --base-url URL [--model NAME]`: the app against a real model server.

A real model's tokens are not numbered, so token-to-screen cannot be matched token by
token. What is compared instead, alternating on the same prompt:

- time to first token at the server: a streaming request made directly with httpx,
  from sending it to the first chunk that carries text;
- time to first token on screen: in the page, from pressing Enter to the first text in
  the new reply's bubble (what a person waits for through the whole app: browser,
  websocket, kernel, provider client, server).

The difference is what the app adds to the server's own latency.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PROMPT = "Say hello in Spanish."

# Resolves with ms from pressing Enter to the first text of a new reply (and to its end).
TIME_REPLY = r"""
(prompt) => new Promise((resolve) => {
  const replies = () => document.querySelectorAll('.lc-msg[data-role="assistant"]');
  const before = replies().length;
  const box = document.querySelector('textarea[aria-label="Message"]');
  box.value = prompt;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  const t0 = performance.now();
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  let first = null;
  const check = () => {
    const all = replies();
    const body = all.length > before ? all[all.length - 1].querySelector('.lc-md') : null;
    if (first === null && body && body.textContent.trim()) first = performance.now() - t0;
    if (first !== null && !document.querySelector('.lc-streaming')) {
      resolve({ first_text_ms: first, reply_ms: performance.now() - t0 });
    } else if (performance.now() - t0 > 300000) {
      resolve({ error: 'no complete reply within 300 s' });
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})
"""


def server_ttft(base_url: str, model: str | None, api_key: str) -> dict[str, float]:
    """One streaming request straight to the server: ms to the first text chunk."""
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
    }
    if model:
        body["model"] = model
    headers = {"Authorization": f"Bearer {api_key}"}
    t0 = time.perf_counter()
    first = None
    with (
        httpx.Client(timeout=300) as client,
        client.stream(
            "POST", base_url.rstrip("/") + "/chat/completions", json=body, headers=headers
        ) as response,
    ):
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and line.startswith("data:") and line[5:].strip() != "[DONE]":
                choices = json.loads(line[5:]).get("choices") or [{}]
                if (choices[0].get("delta") or {}).get("content"):
                    first = (time.perf_counter() - t0) * 1000
    if first is None:
        raise RuntimeError("the server streamed no text")
    return {"first_text_ms": first, "reply_ms": (time.perf_counter() - t0) * 1000}


def run(base_url: str, model: str | None, runs: int) -> dict[str, Any]:
    # Imported here: bench_stream imports this module from its main().
    from bench_stream import (
        CHROMIUM_ARGS,
        free_port,
        log,
        new_chat,
        only_local,
        start_app,
        stop,
    )
    from playwright.sync_api import sync_playwright

    api_key = "bench-key"
    at_server: list[dict[str, float]] = []
    on_screen: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "chat_logs"
        logs.mkdir()
        port = free_port()
        app = start_app(port, logs, base_url, model)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.route("**/*", only_local)
                page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                page.get_by_role("textbox", name="Message").wait_for(timeout=120_000)
                server_ttft(base_url, model, api_key)  # warm the server's prompt cache alike
                for i in range(runs):
                    at_server.append(server_ttft(base_url, model, api_key))
                    new_chat(page)
                    shown = page.evaluate(TIME_REPLY, PROMPT)
                    if "error" in shown:
                        raise RuntimeError(shown["error"])
                    on_screen.append(shown)
                    log(f"run {i + 1}/{runs}: server {at_server[-1]}, screen {shown}")
                browser.close()
        finally:
            stop(app)

    def median(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 1)

    server, screen = median(at_server, "first_text_ms"), median(on_screen, "first_text_ms")
    return {
        "base_url": base_url,
        "model": model,
        "runs": runs,
        "prompt": PROMPT,
        "ttft_at_server_ms_median": server,
        "ttft_on_screen_ms_median": screen,
        "app_adds_ms_median": round(screen - server, 1),
    }
