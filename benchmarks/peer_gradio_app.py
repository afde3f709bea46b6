"""A peer in the streaming benchmark: Gradio's ``ChatInterface`` with a streaming
generator (Gradio's documented way to stream: yield the message so far), reading the
same OpenAI-compatible stream from ``token_server.py`` over httpx.

    python benchmarks/peer_gradio_app.py --port P --base-url http://127.0.0.1:Q/v1

Only the benchmarks use it; Gradio is in the optional ``bench`` extra, never a runtime
dependency of livechat-widget.
"""

from __future__ import annotations

import argparse
import json

import gradio as gr
import httpx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args()

    async def reply(message: str, history: list):
        body = {
            "model": "bench",
            "stream": True,
            "messages": [{"role": "user", "content": message}],
        }
        text = ""
        async with (
            httpx.AsyncClient(timeout=None) as client,
            client.stream(
                "POST",
                f"{args.base_url}/chat/completions",
                json=body,
                headers={"Authorization": "Bearer bench-key"},
            ) as response,
        ):
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
                if delta:
                    text += delta
                    yield text

    demo = gr.ChatInterface(reply)
    demo.queue(default_concurrency_limit=None)
    demo.launch(server_name="127.0.0.1", server_port=args.port, share=False, show_error=True)


if __name__ == "__main__":
    main()
