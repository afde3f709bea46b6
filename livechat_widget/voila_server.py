"""The Voila application ``livechat`` runs: Voila with the app page's handler, a kernel
websocket without Nagle's delay, and its visitor kernels counted (kernel_admission.py)."""

from __future__ import annotations

import signal
from typing import Any

from . import __version__
from .kernel_admission import (
    RETRY_AFTER_S,
    STARTING_PRELUDE,
    Admission,
    busy_page,
    current_ticket,
    has_ready_kernel,
    patched_factory,
)


def display_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:  # IPv6 literal
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _page_handler(base: type[Any], admission: Admission) -> type[Any]:
    """Voila's page handler, with the place of each page counted (kernel_admission.py)."""

    class PageHandler(base):  # type: ignore[misc]  # untyped base
        """The app page, with the ``_xsrf`` cookie set: Voila's page sends it back in the
        shutdown request it makes when the page closes, and without it that request is
        refused (403) and the visitor's kernel stays (voila-dashboards/voila#1458)."""

        async def prepare(self) -> None:
            await super().prepare()
            self.xsrf_token  # noqa: B018 -- reading it sets the cookie

        async def get(self, path: str | None = None) -> None:
            if path:  # Voila redirects to the file: no kernel
                await super().get(path)
                return
            ticket = admission.admit()
            if ticket is None:
                self.set_status(503)
                self.set_header("Retry-After", str(RETRY_AFTER_S))
                self.set_header("Cache-Control", "no-store")
                self.finish(busy_page(admission.max_kernels))
                return
            token = current_ticket.set(ticket)
            try:
                if admission.pool_size and not has_ready_kernel(
                    self.kernel_manager, self.notebook_path
                ):
                    self.write(STARTING_PRELUDE)  # the kernel is starting: say so now
                    self.flush()
                await super().get(path)
            finally:
                current_ticket.reset(token)
                admission.served(ticket)

    return PageHandler


def make_voila_class(admission: Admission) -> type[Any]:
    import voila.app
    from tornado.ioloop import IOLoop
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    page_handler = _page_handler(TornadoVoilaHandler, admission)

    class KernelSocket(VoilaKernelWebsocketHandler):  # type: ignore[misc]  # untyped base
        """The kernel's websocket with Nagle's algorithm off. A reply streams as many
        small writes; with Nagle on, each waits for the ACK of the one before (tens of
        ms on loopback, see benchmarks/RESULTS.md)."""

        async def open(self, kernel_id: str) -> None:
            self.set_nodelay(True)
            admission.connect(kernel_id)
            await super().open(kernel_id)

    replaced = {TornadoVoilaHandler: page_handler, VoilaKernelWebsocketHandler: KernelSocket}

    class LivechatVoila(Voila):  # type: ignore[misc]  # untyped base
        """Voila that says, once it listens, where the app is."""

        name = "livechat"

        def init_settings(self) -> dict[str, Any]:
            # Voila builds its kernel manager class here: count and reclaim its kernels.
            factory = voila.app.voila_kernel_manager_factory
            voila.app.voila_kernel_manager_factory = patched_factory(factory, admission)
            try:
                settings: dict[str, Any] = super().init_settings()
            finally:
                voila.app.voila_kernel_manager_factory = factory
            return settings

        def init_handlers(self) -> list[Any]:
            return [
                (handler[0], replaced.get(handler[1], handler[1]), *handler[2:])
                for handler in super().init_handlers()
            ]

        def start(self) -> None:
            # Ctrl+C (SIGINT) stops like SIGTERM: the loop ends, then every kernel is
            # shut down. Installed explicitly, since a parent may have left SIGINT
            # ignored (background jobs of a shell); a second Ctrl+C interrupts at once.
            signal.signal(signal.SIGINT, self._stop_on_sigint)
            IOLoop.current().add_callback(self._announce)
            super().start()

        def _stop_on_sigint(self, sig: int, frame: Any) -> None:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            print("\nlivechat: stopping (shutting down kernels)...", flush=True)
            self._handle_signal_stop(sig, frame)

        def _announce(self) -> None:
            url = display_url(self.ip, self.port)
            print(f"livechat {__version__} is serving the chat at {url}", flush=True)
            print("Press Ctrl+C to stop.", flush=True)

    return LivechatVoila
