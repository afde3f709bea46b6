"""A peer in the streaming benchmark: Panel's ``ChatInterface`` reading the same
OpenAI-compatible stream from ``token_server.py`` over httpx, in one of two documented
idioms (``--idiom``):

- ``generator`` (Panel's default): an async generator callback that yields the message
  so far after every token;
- ``stream``: a callback that appends each token with ``ChatInterface.stream(token,
  message=message)``, the documented way for outputs that are not generators.

Both end in the same ``ChatMessage`` whose Markdown pane Panel (>= 1.5) updates with
``enable_streaming``, sending only the new text.

    panel serve benchmarks/peer_panel_app.py --address 127.0.0.1 --port P \
        --allow-websocket-origin 127.0.0.1:P --args --base-url http://127.0.0.1:Q/v1 \
        --idiom generator

Only the benchmarks use it; Panel is the optional ``bench`` extra, never a runtime
dependency of livechat-widget.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator

import httpx
import panel as pn

pn.extension()

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--idiom", choices=["generator", "stream"], default="generator")
ARGS = parser.parse_known_args(sys.argv[1:])[0]


async def tokens(contents: str) -> AsyncIterator[str]:
    body = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": contents}]}
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream(
            "POST",
            f"{ARGS.base_url}/chat/completions",
            json=body,
            headers={"Authorization": "Bearer bench-key"},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
            if delta:
                yield delta


async def generator_callback(contents: str, user: str, instance: pn.chat.ChatInterface):
    """Yield the message so far after every token (Panel's docs idiom)."""
    message = ""
    async for delta in tokens(contents):
        message += delta
        yield message


async def stream_callback(contents: str, user: str, instance: pn.chat.ChatInterface) -> None:
    """Append every token to one message with ChatInterface.stream."""
    message = None
    async for delta in tokens(contents):
        message = instance.stream(delta, user="Assistant", message=message)


callback = generator_callback if ARGS.idiom == "generator" else stream_callback
pn.chat.ChatInterface(
    callback=callback, callback_user="Assistant", sizing_mode="stretch_both"
).servable()
