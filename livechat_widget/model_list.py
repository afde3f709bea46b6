"""The models a client's provider offers, asked on request and kept for the session.

The browser asks through a task on the kernel's loop (handlers never block); Python's
``chat.models()`` asks in a worker thread with a loop of its own, so it can be called
from a notebook cell whose loop is running. ``list_models`` of the HTTP clients uses
a connection of its own, never the pool a streaming reply may be using.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from .providers.base import ChatClient
from .providers.errors import AIError

log = logging.getLogger(__name__)

LIST_TIMEOUT_S = 60.0  # a bound on the worker thread; the client's own timeouts come first


class ModelList:
    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.names: list[str] = []
        self.error = ""  # why the last attempt failed, fit to show
        self.loading = False
        self._tasks: set[asyncio.Task[Any]] = set()  # referenced until they end

    def refresh(self) -> Coroutine[Any, Any, list[str]]:
        """Ask the provider; on failure keep the previous names and set ``error``.
        ``loading`` is set at once, so a view can say so before the answer."""
        self.loading = True
        return self._refresh()

    async def _refresh(self) -> list[str]:
        try:
            names = await self._ask()
        except AIError as exc:
            self.error = exc.user_message
            raise
        finally:
            self.loading = False
        self.names, self.error = names, ""
        return list(names)

    async def _ask(self) -> list[str]:
        names = await self.client.list_models()
        return [str(n) for n in dict.fromkeys(names)]  # unique, in the provider's order

    def fetch(self) -> list[str]:
        """``refresh`` for synchronous callers, whether or not a loop runs here."""
        with concurrent.futures.ThreadPoolExecutor(1, "livechat-models") as pool:
            return pool.submit(asyncio.run, self.refresh()).result(LIST_TIMEOUT_S)

    def ask_model_name(self, then: Callable[[], None]) -> None:
        """A client told to use the server's model asks which one it is now, so a label
        can name the model that will answer before the first reply; ``then`` runs after."""
        if self.client.model != "":
            return
        try:
            task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(
                self.client.resolve_model()
            )
        except RuntimeError:
            return  # no running loop: the first reply asks instead
        self._tasks.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.info("could not ask the server for its model: %s", task.exception())
            then()

        task.add_done_callback(done)
