"""A peer in the streaming benchmark: Gradio's ``ChatInterface`` with a streaming
generator (Gradio's documented way to stream: yield the message so far), reading the
same OpenAI-compatible stream from ``token_server.py`` (peer_tokens.py, httpx).

    python benchmarks/peer_gradio_app.py --port P --base-url http://127.0.0.1:Q/v1

Only the benchmarks use it; Gradio is in the optional ``bench`` extra, never a runtime
dependency of livechat-widget.
"""

from __future__ import annotations

import argparse

import gradio as gr
from peer_tokens import tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()

    async def reply(message: str, history: list):
        text = ""
        async for delta in tokens(args.base_url, message):
            text += delta
            yield text

    demo = gr.ChatInterface(reply)
    demo.queue(default_concurrency_limit=None)
    demo.launch(server_name="127.0.0.1", server_port=args.port, share=False, show_error=True)


if __name__ == "__main__":
    main()
