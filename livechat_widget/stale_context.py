"""Stale context: variables sent to the model that changed in the kernel since.

Each send with kernel context records what its variables looked like (a
``context_fingerprint`` row beside the ``context`` row: ``fingerprints``). For the chat
shown, ``StaleContext.items`` compares the newest fingerprint of each variable the
shown branch sent with the kernel's value now, and says how it changed; the page shows
them above the composer (``stale_context`` trait) with Refresh (send the item again)
and Ignore (``ignore``: hidden until the value changes again). ``watch_cells`` calls
back after every cell the kernel runs, when the namespace may have changed.

The work is bounded: fingerprints are (context_fingerprint.py), and at most the
``MAX_NAMES`` names sent last are compared.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .context_fingerprint import MISSING, Fingerprint, describe_change, fingerprint
from .csv_format import Message
from .kernel_context import SPECIAL, current_shell
from .refusals import Refused
from .wire import StaleItem

log = logging.getLogger(__name__)

MAX_NAMES = 20  # distinct names compared per chat (the newest sent)


class StaleRefused(Refused):
    """An ``ignore_stale`` the kernel cannot do (the text says why)."""


def _namespace() -> dict[str, Any] | None:
    shell = current_shell()
    ns = getattr(shell, "user_ns", None)
    return ns if isinstance(ns, dict) else None


def variable_fingerprints(names: Iterable[str]) -> str:
    """The fingerprints (JSON ``{name: fingerprint}``) of the names that are variables
    of the kernel — not ``last error``, ``recent cells`` or figures ("" if none)."""
    ns = _namespace()
    if ns is None:
        return ""
    prints = {n: fingerprint(ns[n]) for n in names if n not in SPECIAL and n in ns}
    return json.dumps(prints, ensure_ascii=False, separators=(",", ":")) if prints else ""


def _parse(content: str) -> dict[str, Fingerprint]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}  # a hand-edited row: as if there were none
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, dict)}


def sent_fingerprints(messages: Sequence[Message]) -> dict[str, Fingerprint]:
    """The newest fingerprint of each variable sent in ``messages`` (a branch, oldest
    first), for the ``MAX_NAMES`` names sent last."""
    found: dict[str, Fingerprint] = {}
    for message in reversed(messages):
        if message.role != "user" or not message.fingerprints:
            continue
        for name, sent in _parse(message.fingerprints).items():
            if name not in found and len(found) < MAX_NAMES:
                found[name] = sent
        if len(found) >= MAX_NAMES:
            break
    return found


def _current(ns: dict[str, Any], name: str) -> Fingerprint:
    return fingerprint(ns[name]) if name in ns else dict(MISSING)


@dataclass
class StaleContext:
    """What is stale in a chat, and what the person chose to ignore (per session)."""

    enabled: bool = True  # kernel context is allowed (else nothing is ever stale)
    ignored: dict[tuple[str, str], Fingerprint] = field(default_factory=dict)

    def items(self, chat_id: str, messages: Sequence[Message]) -> list[StaleItem]:
        """The variables the chat sent whose kernel value changed since, and how."""
        ns = _namespace() if self.enabled and chat_id else None
        if ns is None:
            return []
        stale: list[StaleItem] = []
        for name, sent in sent_fingerprints(messages).items():
            now = _current(ns, name)
            if now == sent or self.ignored.get((chat_id, name)) == now:
                continue
            change = describe_change(sent, now) or "changed"
            stale.append({"name": name, "change": change, "gone": now == MISSING})
        return stale

    def ignore(self, chat_id: str, names: Sequence[str], messages: Sequence[Message]) -> None:
        """Hide ``names`` until their values change again; StaleRefused for a name the
        chat never sent as a variable, or when kernel context is off."""
        if not self.enabled:
            raise StaleRefused("Kernel context is turned off here.")
        sent = sent_fingerprints(messages)
        unknown = [n for n in names if n not in sent]
        if unknown:
            raise StaleRefused(
                f"{unknown[0]!r} was not sent as context in this chat: there is nothing to ignore."
            )
        ns = _namespace() or {}
        for name in names:
            self.ignored[(chat_id, name)] = _current(ns, name)


def watch_cells(callback: Callable[[], None]) -> Callable[[], None] | None:
    """Call ``callback`` after every cell the kernel runs (IPython's ``post_run_cell``);
    returns the function that stops it, or None outside IPython."""
    events = getattr(current_shell(), "events", None)
    if events is None:
        return None

    def after_cell(*_result: object) -> None:
        try:
            callback()
        except Exception:  # a failing check must not show up under the person's cell
            log.exception("checking the chat's context after a cell failed")

    events.register("post_run_cell", after_cell)

    def stop() -> None:
        try:
            events.unregister("post_run_cell", after_cell)
        except ValueError:  # already gone
            pass

    return stop
