"""Figures the `@` picker offers: the current matplotlib figure, and the images the
notebook's cells displayed lately, by cell number ("figure [12]"). Chosen ones are
sent as image files with the message (attachments), not as context text.

Cells' images are recorded as the kernel publishes them (IPython's display publisher,
wrapped once per kernel by the first widget): the last few, in memory.
"""

from __future__ import annotations

import base64
import binascii
import io
import sys
from collections import deque
from typing import Any

from .kernel_context import Item, current_shell

__all__ = ["CURRENT", "figure_files", "install", "is_figure", "offered"]

CURRENT = "current figure"  # names with a space: no variable has them
PREFIX = "figure ["
KEPT = 8  # images of cells remembered


class _Log:
    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.images: deque[tuple[str, str]] = deque(maxlen=KEPT)  # (name, base64 PNG)

    def record(self, data: Any) -> None:
        try:
            png = data.get("image/png") if isinstance(data, dict) else None
            if isinstance(png, str):
                cell = getattr(self.shell, "execution_count", 0)
                taken = {name for name, _ in self.images}
                name, n = f"{PREFIX}{cell}]", 2
                while name in taken:
                    name, n = f"{PREFIX}{cell}] {n}", n + 1
                self.images.append((name, png))
        except Exception:  # never in the way of a cell's output
            pass


def install() -> None:
    """Record the images cells display from now on (once per kernel)."""
    shell = current_shell()
    publisher = getattr(shell, "display_pub", None)
    if publisher is None or getattr(shell, "_livechat_figures", None) is not None:
        return
    log = _Log(shell)
    publish = publisher.publish

    def publish_and_record(data: Any, *args: Any, **kwargs: Any) -> Any:
        log.record(data)
        return publish(data, *args, **kwargs)

    publisher.publish = publish_and_record
    shell._livechat_figures = log


def _log() -> _Log | None:
    return getattr(current_shell(), "_livechat_figures", None)


def _current_png() -> bytes | None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not pyplot.get_fignums():
        return None
    buffer = io.BytesIO()
    pyplot.gcf().savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def is_figure(name: str) -> bool:
    return name == CURRENT or name.startswith(PREFIX)


def offered() -> list[Item]:
    """The figures to offer, the newest first (names, never the images)."""
    items = []
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and pyplot.get_fignums():
        items.append(Item(CURRENT, "figure", "matplotlib"))
    log = _log()
    for name, _png in reversed(log.images if log is not None else ()):
        items.append(Item(name, "figure", "a cell's image"))
    return items


def figure_files(names: list[str]) -> list[tuple[str, bytes]]:
    """The chosen figures as PNG files; ValueError naming one that is gone."""
    files = []
    log = _log()
    kept = dict(log.images) if log is not None else {}
    for name in names:
        if name == CURRENT:
            png = _current_png()
            if png is None:
                raise ValueError("There is no current matplotlib figure any more.")
            files.append(("current-figure.png", png))
        elif name in kept:
            try:
                data = base64.b64decode(kept[name], validate=False)
            except (binascii.Error, ValueError):
                raise ValueError(f"The image of {name} cannot be read.") from None
            label = name.removeprefix(PREFIX).replace("]", "").replace(" ", "-")
            files.append((f"figure-{label}.png", data))
        else:
            raise ValueError(f"{name!r} is no longer kept: pick it again from @.")
    return files
