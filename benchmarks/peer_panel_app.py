"""The peer in the streaming A/B: Panel's ``ChatInterface`` with the idiomatic streaming
callback (an async generator that yields the growing message), reading the same
OpenAI-compatible stream from ``token_server.py`` over httpx.

    panel serve benchmarks/peer_panel_app.py --address 127.0.0.1 --port P \
        --allow-websocket-origin 127.0.0.1:P --args --base-url http://127.0.0.1:Q/v1

Only the benchmarks use it; Panel is the optional ``bench`` extra, never a runtime
dependency of livechat-widget.
"""

from __future__ import annotations

import argparse
import json
import sys

import httpx
import panel as pn

pn.extension()

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
BASE_URL = parser.parse_known_args(sys.argv[1:])[0].base_url


async def callback(contents: str, user: str, instance: pn.chat.ChatInterface):
    """Stream the reply: yield the message so far after every token (Panel's docs idiom)."""
    body = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": contents}]}
    message = ""
    async with httpx.AsyncClient(timeout=None) as client:  # noqa: SIM117
        async with client.stream(
            "POST",
            f"{BASE_URL}/chat/completions",
            json=body,
            headers={"Authorization": "Bearer bench-key"},
        ) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
                if delta:
                    message += delta
                    yield message


pn.chat.ChatInterface(
    callback=callback, callback_user="Assistant", sizing_mode="stretch_both"
).servable()
