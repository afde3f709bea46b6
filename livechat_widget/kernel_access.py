"""What a widget lets the person reach in its kernel: context to attach, code to run.

The widget asks here before anything touches the kernel's namespace. A browser can
only name context items the kernel offered it (the last list it was sent), and can
only run (or insert as a cell, insert_cell.py) a Python block that is in a reply of the
chat — the code used is the block as stored, never text the browser made up. Context
and runs are switched off where the kernel is not the person's (the ``livechat`` app,
unless its operator turns them on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import figures
from .code_run import RunRefused, python_blocks, same_code
from .kernel_context import ContextUnavailable, build_context, check_names, offer
from .wire import ContextItem


@dataclass
class KernelAccess:
    allow_context: bool = True
    allow_code: bool = True
    item_bytes: int = 8 * 1024
    total_bytes: int = 32 * 1024
    offered: set[str] = field(default_factory=set)
    granted: set[str] = field(default_factory=set)  # put in a draft by the kernel

    def __post_init__(self) -> None:
        if self.item_bytes < 256 or self.total_bytes < self.item_bytes:
            raise ValueError(
                "context limits: item bytes must be at least 256 and the total at least "
                f"one item (got {self.item_bytes} / {self.total_bytes})"
            )

    def offer(self) -> list[ContextItem]:
        """The list the browser may choose from (and remember it)."""
        if not self.allow_context:
            raise ContextUnavailable("Kernel context is turned off here.")
        items = [*figures.offered(), *offer()]
        self.offered = {item.name for item in items}
        return [{"name": i.name, "kind": i.kind, "detail": i.detail} for i in items]

    def grant(self, names: list[str]) -> None:
        """Names the kernel itself put in the composer (a draft): the browser may send them."""
        self.granted.update(names)

    def _known(self, name: str) -> bool:
        return name in self.offered or name in self.granted

    def context(self, names: object, *, from_browser: bool) -> str:
        """The context text for ``names`` ("" for none); ValueError before anything else
        happens if a name is unknown, not offered to the browser, or context is off."""
        checked = [n for n in check_names(names) if not figures.is_figure(n)]
        if not checked:
            return ""
        if from_browser and not self.allow_context:
            raise ContextUnavailable("Kernel context is turned off here.")
        available = self._known if from_browser else None
        return build_context(
            checked,
            item_bytes=self.item_bytes,
            total_bytes=self.total_bytes,
            available=available,
        )

    def figures(self, names: object, *, from_browser: bool) -> list[tuple[str, bytes]]:
        """The figures among ``names`` (the `@` picker's), as PNG files to attach."""
        chosen = [n for n in check_names(names) if figures.is_figure(n)]
        if chosen and from_browser and not self.allow_context:
            raise ContextUnavailable("Kernel context is turned off here.")
        unknown = [n for n in chosen if from_browser and not self._known(n)]
        if unknown:
            raise ContextUnavailable(f"Unknown context: {unknown[0]!r}.")
        try:
            return figures.figure_files(chosen)
        except ValueError as exc:
            raise ContextUnavailable(str(exc)) from None

    def code_to_run(self, reply: str, code: str) -> str:
        """The stored Python block of the reply text ``reply`` that ``code`` names."""
        if not self.allow_code:
            raise RunRefused("Running code is turned off here.")
        return stored_block(reply, code)


def stored_block(reply: str, code: str) -> str:
    """The Python block of the reply text ``reply`` as stored, named by ``code`` (its
    text as the browser shows it); RunRefused if the reply holds no such block."""
    for block in python_blocks(reply):
        if same_code(block, code):
            return block
    raise RunRefused("That code is not a Python block of this reply.")
