"""The peers' side of the token source: the deltas of one OpenAI-compatible streamed
reply from ``token_server.py``, read with httpx (shared by peer_panel_app.py and
peer_gradio_app.py, so every peer reads the stream the same way)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx


async def tokens(base_url: str, contents: str) -> AsyncIterator[str]:
    body = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": contents}]}
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream(
            "POST",
            f"{base_url}/chat/completions",
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
