"""Latency events of AI replies, and their subscribers.

Every reply stream emits exactly one event when it ends, however it ends::

    name = ("livechat", "ai", "latency_ms")
    data = {
        "ttft_ms": float | None,       # time to the first text, reasoning or tool call
        "total_ms": float,             # from stream() to the end
        "pieces": int,                 # text, reasoning and tool-call events yielded
        "completion_tokens": int | None,  # as reported by the provider
        "tokens_per_s": float | None,  # completion tokens (or pieces) / generation time
        "provider": str, "model": str,
        "outcome": "completed" | "stopped" | "<AIError subclass name>",
        "client": <the client object>, # so a widget can keep only its own client's events
        "stats": ReplyStats,           # the stream's measurement, of which the above
    }                                  # are a copy (the chat's usage row reads it too)

Subscribe with ``attach(handler)``; ``handler(name, data)`` is called synchronously
on the event loop, so keep it quick. A handler that raises is logged and never
breaks a reply. ``log_handler`` (attached by default) logs each event at INFO on
the ``livechat_widget.telemetry`` logger; ``detach(log_handler)`` silences it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["LATENCY_EVENT", "attach", "detach", "emit", "handlers", "log_handler"]

log = logging.getLogger(__name__)

LATENCY_EVENT: tuple[str, str, str] = ("livechat", "ai", "latency_ms")

Handler = Callable[[tuple[str, str, str], dict[str, Any]], None]

_handlers: list[Handler] = []


def attach(handler: Handler) -> None:
    """Subscribe ``handler(name, data)`` to every event. Attaching twice is a no-op."""
    if handler not in _handlers:
        _handlers.append(handler)


def detach(handler: Handler) -> None:
    """Unsubscribe; a handler that is not attached is ignored."""
    try:
        _handlers.remove(handler)
    except ValueError:
        pass


def handlers() -> list[Handler]:
    """The handlers currently attached, in call order (a copy)."""
    return list(_handlers)


def emit(name: tuple[str, str, str], data: dict[str, Any]) -> None:
    """Call every handler; one that raises is logged and the others still run."""
    for handler in list(_handlers):
        try:
            handler(name, data)
        except Exception:
            log.exception("telemetry handler %r failed", handler)


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def log_handler(name: tuple[str, str, str], data: dict[str, Any]) -> None:
    """The default subscriber: one INFO line per reply."""
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "%s: %s/%s %s ttft=%sms total=%sms pieces=%s tokens=%s tokens/s=%s",
        ".".join(name),
        data.get("provider"),
        data.get("model"),
        data.get("outcome"),
        _fmt(data.get("ttft_ms"), ".0f"),
        _fmt(data.get("total_ms"), ".0f"),
        data.get("pieces"),
        _fmt(data.get("completion_tokens"), "d"),
        _fmt(data.get("tokens_per_s"), ".1f"),
    )


attach(log_handler)
