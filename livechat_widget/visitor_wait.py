"""The app notebook's wait for its visitor, without importing Voila in the kernel.

With preheated kernels (``livechat``'s default) the app notebook runs before anyone
asked for it and stops at :func:`wait_for_request` until Voila hands the kernel to a
visitor. Voila offers the same function in ``voila.utils``, but importing that module
loads Voila's server side — jupyter_server, jupyterlab_server, nbconvert, jsonschema,
requests... — into every visitor kernel: about 43 MB of each kernel's 121 MB
(benchmarks/bench_capacity.py). This one speaks the same small protocol with tornado,
which the kernel has loaded already.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading

CONNECT_TIMEOUT_S = 5.0  # as Voila's own: the server is on this machine


def query_url(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """Where Voila answers this kernel's question; None outside a preheated kernel."""
    if environ.get("VOILA_PREHEAT", "False") == "False":
        return None
    protocol = environ.get("VOILA_WS_PROTOCOL", "ws")
    ip = environ.get("VOILA_APP_IP", "127.0.0.1")
    port = environ.get("VOILA_APP_PORT", "8866")
    base = environ.get("VOILA_WS_BASE_URL", environ.get("VOILA_SERVER_URL", "/"))
    return f"{protocol}://{ip}:{port}{base}voila/query/{environ.get('VOILA_KERNEL_ID')}"


async def _receive(url: str) -> str | None:
    from tornado.websocket import websocket_connect

    try:
        connection = await websocket_connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        message = await connection.read_message()
    finally:
        connection.close()
    return message if isinstance(message, str) else None


def wait_for_request() -> None:
    """Block until Voila gives this kernel to a visitor, then put the visitor's request
    information (``SCRIPT_NAME``, ``QUERY_STRING``, ...) into ``os.environ``, as
    ``voila.utils.wait_for_request`` does. Returns at once outside a preheated kernel
    (a kernel started for its visitor, a notebook, nbval)."""
    url = query_url()
    if url is None:
        return
    received: list[str | None] = [None]

    def run() -> None:  # the kernel's own loop is busy running this cell
        received[0] = asyncio.run(_receive(url))

    thread = threading.Thread(target=run, name="livechat-wait-for-visitor", daemon=True)
    thread.start()
    thread.join()
    if received[0] is not None:
        for key, value in json.loads(received[0]).items():
            os.environ[key] = str(value)
