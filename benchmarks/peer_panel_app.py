"""A peer in the streaming benchmark: Panel's ``ChatInterface`` reading the same
OpenAI-compatible stream from ``token_server.py`` (peer_tokens.py, httpx), in one of two
documented idioms (``--idiom``):

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
import sys

import panel as pn
from peer_tokens import tokens

pn.extension()

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--idiom", choices=["generator", "stream"], default="generator")
ARGS = parser.parse_known_args(sys.argv[1:])[0]


async def generator_callback(contents: str, user: str, instance: pn.chat.ChatInterface):
    """Yield the message so far after every token (Panel's docs idiom)."""
    message = ""
    async for delta in tokens(ARGS.base_url, contents):
        message += delta
        yield message


async def stream_callback(contents: str, user: str, instance: pn.chat.ChatInterface) -> None:
    """Append every token to one message with ChatInterface.stream."""
    message = None
    async for delta in tokens(ARGS.base_url, contents):
        message = instance.stream(delta, user="Assistant", message=message)


callback = generator_callback if ARGS.idiom == "generator" else stream_callback
pn.chat.ChatInterface(
    callback=callback, callback_user="Assistant", sizing_mode="stretch_both"
).servable()
