"""Insert as cell: a Python block of a reply becomes a new cell below the active cell
of the notebook, in JupyterLab and Jupyter Notebook 7, through ipylab.

ipylab (optional: ``pip install "livechat-widget[lab]"``) is a widget whose front end
holds JupyterLab's command registry; the kernel runs JupyterLab commands with it.

Where the button shows — never on an assumption:
* the kernel makes ipylab's ``JupyterFrontEnd`` only if JupyterLab's server started it
  for a notebook (``kernel_host.lab_unavailable_reason``: not in Voila, the
  ``livechat`` app, VS Code or Colab), so no other page is asked to load ipylab;
* ``can_insert_cell`` turns true only once ipylab's front end answered: its model sets
  ``version`` (the application's) when it starts, which only a page with ipylab's
  extension does.

How: two commands, sent in order on one comm (JupyterLab handles a kernel's messages
one after the other, the creation of a widget model included):
1. ``notebook:insert-cell-below`` adds an empty cell below the active cell of the
   current notebook and makes it the active cell;
2. ipylab's ``custom-menu:snippet`` waits until the active cell is drawn, then sets
   the code as its text. ``notebook:replace-selection`` would race the drawing (a new
   cell gets its editor a frame or more later) and lose the text.
ipylab registers ``custom-menu:snippet`` for the kernel whose ``CustomMenu`` model the
page made last, and once that model's kernel is gone the command does nothing. A fresh
``CustomMenu`` is made right before each insert (the previous one is closed), so the
command always belongs to a live model of this kernel.

Limits: every page showing this kernel's widgets runs the commands (the same notebook
open in two browser tabs gets the cell in each); a click on another cell in the instant
before the new cell is drawn makes the code replace that cell's text (undo restores it).
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from .code_run import RunRefused
from .kernel_host import lab_unavailable_reason

log = logging.getLogger(__name__)

INSERT_BELOW = "notebook:insert-cell-below"
SET_ACTIVE_CELL = "custom-menu:snippet"  # ipylab's: waits until the cell is drawn


class InsertRefused(RunRefused):
    """An insert that cannot happen. Like a refused run, the banner shows why."""


class CellTarget(Protocol):
    """What the bridge keeps informed (a ChatWidget)."""

    can_insert_cell: bool


class CellBridge:
    """This kernel's ipylab ``JupyterFrontEnd``, shared by its chat widgets."""

    def __init__(self, frontend: Any, new_menu: Callable[[], Any]) -> None:
        self._frontend = frontend
        self._new_menu = new_menu
        self._menu: Any = None
        self._targets: weakref.WeakSet[CellTarget] = weakref.WeakSet()
        frontend.observe(self._on_version, names="version")

    @property
    def connected(self) -> bool:
        """ipylab's front end answered: a JupyterLab or Notebook 7 page drives it."""
        return bool(self._frontend.version)

    def follow(self, target: CellTarget) -> None:
        """Keep ``target.can_insert_cell`` equal to ``connected`` from now on."""
        self._targets.add(target)
        target.can_insert_cell = self.connected

    def _on_version(self, _change: object) -> None:
        for target in list(self._targets):
            target.can_insert_cell = self.connected

    def insert(self, code: str) -> None:
        """A new cell holding ``code`` below the active cell of the current notebook."""
        if not self.connected:
            raise InsertRefused(unavailable())
        session = self._frontend.sessions.current_session or {}
        if session.get("type") != "notebook":
            raise InsertRefused(
                "Insert as cell needs a notebook: click into the notebook the cell "
                "should go to, then try again."
            )
        previous, self._menu = self._menu, self._new_menu()
        commands = self._frontend.commands
        commands.execute(INSERT_BELOW)
        commands.execute(SET_ACTIVE_CELL, code)
        if previous is not None:
            previous.close()


def unavailable() -> str:
    return (
        "Insert as cell works in JupyterLab and Jupyter Notebook 7 with ipylab installed "
        '(pip install "livechat-widget[lab]"), once the page has loaded it.'
    )


@functools.cache
def shared_bridge() -> CellBridge | None:
    """This kernel's bridge, made on first use; None where it cannot work."""
    reason = lab_unavailable_reason()
    if reason is not None:
        log.debug("Insert as cell is off: %s", reason)
        return None
    try:
        from ipylab import JupyterFrontEnd
        from ipylab.menu import CustomMenu
    except ImportError:
        log.debug("Insert as cell is off: ipylab is not installed")
        return None
    return CellBridge(JupyterFrontEnd(), CustomMenu)


def insert_block(bridge: CellBridge | None, code: str) -> None:
    if bridge is None:
        raise InsertRefused(unavailable())
    bridge.insert(code)


def follow_cell_bridge(target: CellTarget) -> CellBridge | None:
    """The kernel's bridge, keeping ``target.can_insert_cell`` up to date; None if none."""
    bridge = shared_bridge()
    if bridge is not None:
        bridge.follow(target)
    return bridge
