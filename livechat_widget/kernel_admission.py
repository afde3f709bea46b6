"""How many visitor kernels the ``livechat`` app runs, and what a page nobody opens costs.

Every page Voila serves takes a kernel: a preheated one from the pool (which Voila then
refills) or one started for the request. A client that fetches the page and never opens
the kernel's websocket — a crawler, a link preview, ``curl`` — used to leave that kernel
running (about 100 MB) until the idle cull, ten minutes later, with no limit on how
many. Here:

- a kernel handed to a page that has not connected within :data:`CONNECT_WITHIN_S` is
  shut down (the page's script connects within a second or two of the page arriving);
- at most ``max_kernels`` kernels run at once, the preheated pool included: the pool
  shrinks as visitors take the places, and a visitor beyond them gets a "busy, try
  again" page (HTTP 503 with ``Retry-After``) instead of a kernel;
- a visitor who arrives while no preheated kernel is ready sees "Starting the chat…"
  at once, while their kernel starts, not a blank page.

:class:`Admission` is the bookkeeping, free of Voila; :func:`admitting` wraps Voila's
kernel manager class with it. ``app.py`` wires both into its Voila application.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# A page's script opens the kernel's websocket as soon as it has loaded (543 KiB); a
# kernel whose page has not done so by then is shut down.
CONNECT_WITHIN_S = 20.0
RETRY_AFTER_S = 30
# RSS of one visitor kernel (MB) that the start-up estimate and the default
# --max-kernels count on: 74 MB measured after a reply (benchmarks/RESULTS.md), plus
# room for long chats.
KERNEL_MB = 90
SHARE_OF_AVAILABLE_MEMORY = 0.5
# Preheated kernels start this many at a time (each busy for a second or two of CPU
# until its notebook waits for a visitor), leaving the other cores to the visitors.
STARTING_AT_ONCE = max(1, (os.cpu_count() or 2) // 2)
PARK_WITHIN_S = 120.0  # the default --max-kernels leaves the rest to the rest


@dataclass(eq=False)
class Ticket:
    """One page being served: a place taken before its kernel is known."""

    kernel_id: str | None = None


# The ticket of the page being served by the current request (set by the page handler,
# read by the kernel manager when it hands a kernel out within that request).
current_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "livechat_ticket", default=None
)


@dataclass
class Admission:
    """Places for visitor kernels: ``max_kernels`` in all, the preheated pool included."""

    max_kernels: int
    pool_size: int
    connect_within_s: float = CONNECT_WITHIN_S
    waiting: set[Ticket] = field(default_factory=set)  # pages admitted, no kernel yet
    visitors: dict[str, Ticket] = field(default_factory=dict)  # kernel id -> its page
    connected: set[str] = field(default_factory=set)  # kernels a page's websocket reached
    stopping: bool = False

    def in_use(self) -> int:
        return len(self.waiting) + len(self.visitors)

    def admit(self) -> Ticket | None:
        """A place for a new page, or None when every place is taken."""
        if self.in_use() >= self.max_kernels:
            return None
        ticket = Ticket()
        self.waiting.add(ticket)
        return ticket

    def served(self, ticket: Ticket) -> None:
        """The page's request ended; a ticket that got no kernel frees its place."""
        self.waiting.discard(ticket)

    def hand_out(self, kernel_id: str) -> None:
        """The request being served got ``kernel_id``."""
        ticket = current_ticket.get() or Ticket()  # a kernel outside a page: count it too
        self.waiting.discard(ticket)
        ticket.kernel_id = kernel_id
        self.visitors[kernel_id] = ticket

    def connect(self, kernel_id: str) -> None:
        self.connected.add(kernel_id)

    def unconnected(self, kernel_id: str) -> bool:
        """A visitor's kernel that no page has connected to."""
        return kernel_id in self.visitors and kernel_id not in self.connected

    def forget(self, kernel_id: str) -> None:
        self.visitors.pop(kernel_id, None)
        self.connected.discard(kernel_id)

    def pool_target(self) -> int:
        """How many preheated kernels to keep now: the pool, within the places left."""
        return max(0, min(self.pool_size, self.max_kernels - self.in_use()))


def available_memory_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable of this machine (Linux), or None where it cannot be read."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_max_kernels(pool_size: int, available_mb: int | None) -> int:
    """Half the available memory in visitor kernels, never fewer than the pool (+1)."""
    if available_mb is None:
        return max(pool_size + 1, 20)
    return max(pool_size + 1, int(available_mb * SHARE_OF_AVAILABLE_MEMORY) // KERNEL_MB)


def memory_notice(pool_size: int, max_kernels: int, available_mb: int | None) -> str:
    """The start-up line that says what the pool and the cap cost in memory."""
    text = (
        f"livechat: {pool_size} preheated kernel{'s' if pool_size != 1 else ''} (--pool) "
        f"hold about {pool_size * KERNEL_MB:,} MB; at most {max_kernels} kernels at once "
        f"(--max-kernels), about {max_kernels * KERNEL_MB:,} MB ({KERNEL_MB} MB each)"
    )
    if available_mb is not None:
        text += f"; {available_mb:,} MB of memory available now"
        if max_kernels * KERNEL_MB > available_mb:
            text += ". WARNING: more than is available"
    return text


# ------------------------------------------------------------------ pages


def busy_page(max_kernels: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_S}">
<title>The chat is busy</title>
<style>body{{font-family:system-ui,sans-serif;color-scheme:light dark;display:flex;
align-items:center;justify-content:center;height:90vh;margin:0;text-align:center}}
button{{font:inherit;padding:.3rem 1rem;margin-top:1rem;cursor:pointer}}</style></head>
<body><main role="alert"><h1>The chat is busy</h1>
<p>All {html.escape(str(max_kernels))} places are taken right now. Please try again in
a minute; this page tries again by itself every {RETRY_AFTER_S} seconds.</p>
<button type="button" onclick="location.reload()">Try again</button></main></body></html>
"""


# Written before the app page when the visitor's kernel is still starting: the page
# itself follows in the same response (its repeated <html>/<head> are folded into this
# document by the HTML parser) and hides this notice with its own "Starting the chat…".
STARTING_PRELUDE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>#livechat-waiting{position:fixed;inset:0;display:flex;align-items:center;
justify-content:center;font-family:system-ui,sans-serif;color-scheme:light dark}</style>
</head><body><div id="livechat-waiting" role="status">Starting the chat…
<span id="livechat-waited"></span></div>
<script>(() => { const t = Date.now(), s = document.getElementById("livechat-waited");
const i = setInterval(() => { if (!s.isConnected) return clearInterval(i);
s.textContent = "(" + Math.round((Date.now() - t) / 1000) + " s)"; }, 1000); })();</script>
"""


# ------------------------------------------------------------------ Voila's kernel manager


def _ready(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def has_ready_kernel(kernel_manager: Any, notebook: str | None) -> bool:
    """True when a preheated kernel is waiting (a new page gets it at once)."""
    pools = getattr(kernel_manager, "_pools", None)
    return pools is not None and any(_ready(t) for t in pools.get(notebook, ()))


def admitting(base: type[Any], admission: Admission) -> type[Any]:
    """Voila's kernel manager class, with its kernels counted and reclaimed."""
    preheating = hasattr(base, "get_rendered_notebook")
    reclaims: set[asyncio.Task[None]] = set()

    class AdmittingKernelManager(base):  # type: ignore[misc]  # Voila's, untyped
        async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
            kernel_id: str = await super().start_kernel(*args, **kwargs)
            # A pool kernel (VOILA_PREHEAT=True) waits for a page; any other has one.
            if kwargs.get("env", {}).get("VOILA_PREHEAT") != "True":
                self._handed(kernel_id)
            return kernel_id

        async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
            try:
                await super().shutdown_kernel(kernel_id, *args, **kwargs)
            finally:
                was_visitor = kernel_id in admission.visitors
                admission.forget(kernel_id)
                if was_visitor and preheating and not admission.stopping:
                    self.fill_if_needed(delay=0, notebook_name=self.notebook_path)

        async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:
            admission.stopping = True
            await super().shutdown_all(*args, **kwargs)

        def _handed(self, kernel_id: str) -> None:
            admission.hand_out(kernel_id)
            loop = asyncio.get_running_loop()
            loop.call_later(admission.connect_within_s, self._check_connected, kernel_id)

        def _check_connected(self, kernel_id: str) -> None:
            if not admission.unconnected(kernel_id) or admission.stopping:
                return
            log.warning(
                "livechat: no page connected to kernel %s within %.0f s; shutting it down",
                kernel_id,
                admission.connect_within_s,
            )
            task = asyncio.ensure_future(self.shutdown_kernel(kernel_id))
            reclaims.add(task)
            task.add_done_callback(reclaims.discard)

    if not preheating:
        return AdmittingKernelManager
    starting = asyncio.Semaphore(STARTING_AT_ONCE)

    class AdmittingPool(AdmittingKernelManager):
        def fill_if_needed(self, *args: Any, **kwargs: Any) -> None:
            if admission.stopping:
                return
            # Voila fills each pool up to its configured size: the places left decide.
            self.kernel_pools_config.setdefault("default", {})["pool_size"] = (
                admission.pool_target()
            )
            super().fill_if_needed(*args, **kwargs)

        async def _initialize(self, notebook_path: str, kernel_id: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
            if kernel_id is not None:  # a restart
                return await super()._initialize(notebook_path, kernel_id, **kw)
            # A burst of visitors empties the pool: its refill must not take every core
            # from them. A kernel counts as started once its notebook waits for a visitor.
            async with starting:
                content = await super()._initialize(notebook_path, None, **kw)
                await _parked(content["kernel_id"], content["task"])
            return content

        async def get_rendered_notebook(self, notebook_name: str, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
            # Voila takes the oldest pool entry, which may still be starting while a
            # younger one is ready: move a ready one to the front.
            pool = self._pools.get(notebook_name, [])
            ready = next((i for i, task in enumerate(pool) if _ready(task)), 0)
            if pool:
                pool.insert(0, pool.pop(ready))
            found = await super().get_rendered_notebook(notebook_name, *args, **kwargs)
            self._handed(found[2])
            return found

    return AdmittingPool


async def _parked(kernel_id: str, render: asyncio.Future[Any]) -> None:
    """Until the kernel's notebook waits for its visitor (it has asked Voila, through
    visitor_wait.py, who it is), ends, or PARK_WITHIN_S passes."""
    from voila.request_info_handler import RequestInfoSocketHandler

    waiting = RequestInfoSocketHandler._waiters  # noqa: SLF001 -- Voila's registry
    deadline = asyncio.get_running_loop().time() + PARK_WITHIN_S
    while kernel_id not in waiting and not render.done():
        if asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.1)


def patched_factory(factory: Callable[..., type[Any]], admission: Admission) -> Callable[..., Any]:
    """``voila_kernel_manager_factory`` whose classes are wrapped by :func:`admitting`."""

    def make(*args: Any, **kwargs: Any) -> type[Any]:
        return admitting(factory(*args, **kwargs), admission)

    return make
