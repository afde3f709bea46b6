"""Insert as cell without a browser: the browser command's checks, the stored-block
lookup, and what the kernel sends through ipylab. The ipylab widgets are the real
ones (Python side); what their front end would do is played by ``set_state`` (the
update a front end sends) and their comms are captured."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from widget_doubles import ScriptedClient, browser, make_widget

from livechat_widget import insert_cell
from livechat_widget.insert_cell import CellBridge, InsertRefused, shared_bridge
from livechat_widget.protocol import ProtocolError, parse_command

CHAT = "11111111-1111-4111-8111-111111111111"
REPLY = "Try:\n\n```python\ndef f(x):\n    return x * 2\n```\n\nor\n\n```js\nf(1)\n```\n"
BLOCK = "def f(x):\n    return x * 2"
# JupyterLab's command, then ipylab's (it waits until the new cell is drawn)
INSERT_BELOW, SET_ACTIVE_CELL = "notebook:insert-cell-below", "custom-menu:snippet"
NOTEBOOK_SESSION = {"type": "notebook", "path": "work.ipynb", "kernel": {"name": "python3"}}


class Bridge:
    """A real ipylab JupyterFrontEnd (and CustomMenus) whose comms are recorded."""

    def __init__(self) -> None:
        from ipylab import JupyterFrontEnd
        from ipylab.menu import CustomMenu

        self.frontend = JupyterFrontEnd()
        self.sent: list[dict[str, Any]] = []
        self.frontend.commands.comm.send = self._record
        self.menus: list[Any] = []

        def new_menu() -> Any:
            menu = CustomMenu()
            self.menus.append(menu)
            return menu

        self.bridge = CellBridge(self.frontend, new_menu)

    def _record(self, data=None, metadata=None, buffers=None) -> None:
        self.sent.append(data["content"])

    def answer(self, version: str = "4.6.6", session: dict[str, Any] | None = None) -> None:
        """What ipylab's front end does when a JupyterLab page starts its models."""
        self.frontend.set_state({"version": version})
        self.frontend.sessions.set_state({"current_session": session or NOTEBOOK_SESSION})

    def executed(self) -> list[tuple[str, Any]]:
        return [(m["payload"]["id"], m["payload"]["args"]) for m in self.sent]


@pytest.fixture(autouse=True)
def fresh_bridge_cache() -> Iterator[None]:
    """Each test decides anew whether this process gets a bridge (another test module
    may have made one while it played a kernel JupyterLab started)."""
    shared_bridge.cache_clear()
    yield
    shared_bridge.cache_clear()


@pytest.fixture
def bridge(monkeypatch) -> Bridge:
    made = Bridge()
    monkeypatch.setattr(insert_cell, "shared_bridge", lambda: made.bridge)
    return made


async def widget_with_reply(tmp_path, **kwargs: Any):
    widget = make_widget(tmp_path, ScriptedClient(pieces=[REPLY]), **kwargs)
    await widget.ask("a function?")
    return widget


# ------------------------------------------------------------------ the command


def test_the_command_names_a_reply_and_its_block():
    command = parse_command(
        {"type": "insert_cell", "chat_id": CHAT, "message_id": 3, "code": "x = 1"}
    )
    assert (command.type, command.chat_id, command.message_id, command.code) == (
        "insert_cell",
        CHAT,
        3,
        "x = 1",
    )
    bad = [
        {"chat_id": CHAT, "message_id": True, "code": "x"},
        {"chat_id": CHAT, "message_id": -1, "code": "x"},
        {"chat_id": CHAT, "message_id": "1", "code": "x"},
        {"chat_id": CHAT, "message_id": 1, "code": ""},
        {"chat_id": CHAT, "message_id": 1, "code": 5},
        {"chat_id": CHAT, "message_id": 1, "code": "x" * 100_001},
        {"chat_id": "../etc", "message_id": 1, "code": "x"},
        {"message_id": 1, "code": "x"},
    ]
    for fields in bad:
        with pytest.raises(ProtocolError):
            parse_command({"type": "insert_cell", **fields})


# ------------------------------------------------------------------ where it is offered


def test_no_bridge_outside_a_kernel_jupyterlab_started(monkeypatch):
    assert shared_bridge() is None  # pytest is not an IPython kernel
    shared_bridge.cache_clear()
    monkeypatch.setattr(insert_cell, "lab_unavailable_reason", lambda: None)
    monkeypatch.setitem(sys.modules, "ipylab", None)  # not installed
    assert shared_bridge() is None


def test_a_kernel_jupyterlab_started_gets_the_bridge_with_ipylab(monkeypatch):
    monkeypatch.setattr(insert_cell, "lab_unavailable_reason", lambda: None)
    made = shared_bridge()
    assert isinstance(made, CellBridge) and shared_bridge() is made  # one per kernel
    assert made.connected is False  # no front end has answered yet


async def test_without_a_bridge_there_is_no_button_and_a_clear_refusal(tmp_path):
    widget = await widget_with_reply(tmp_path)
    assert widget.controller.cell_bridge is None and widget.can_insert_cell is False
    browser(widget, type="insert_cell", chat_id=widget.active_chat_id, message_id=1, code=BLOCK)
    assert "JupyterLab and Jupyter Notebook 7 with ipylab" in widget.error


async def test_the_button_follows_ipylab_answering(tmp_path, bridge):
    widget = await widget_with_reply(tmp_path)
    assert widget.can_insert_cell is False  # made, not yet answered by a page
    browser(widget, type="insert_cell", chat_id=widget.active_chat_id, message_id=1, code=BLOCK)
    assert "with ipylab installed" in widget.error and bridge.sent == []
    bridge.answer()
    assert widget.can_insert_cell is True
    later = make_widget(tmp_path)  # a widget made after the answer starts with it
    assert later.can_insert_cell is True
    widget.set_state({"can_insert_cell": False})  # the browser cannot change it
    assert widget.can_insert_cell is True


# ------------------------------------------------------------------ inserting


async def test_insert_sends_the_stored_block_below_the_active_cell(tmp_path, bridge):
    widget = await widget_with_reply(tmp_path)
    bridge.answer()
    # the text as the page shows it (a trailing newline more): the stored block goes in
    browser(
        widget,
        type="insert_cell",
        chat_id=widget.active_chat_id,
        message_id=1,
        code=BLOCK + "\n",
    )
    assert widget.error == ""
    assert bridge.executed() == [(INSERT_BELOW, {}), (SET_ACTIVE_CELL, BLOCK)]
    # the snippet command belongs to a CustomMenu made for this insert
    assert len(bridge.menus) == 1 and bridge.menus[0].comm is not None
    browser(widget, type="insert_cell", chat_id=widget.active_chat_id, message_id=1, code=BLOCK)
    assert len(bridge.menus) == 2
    assert bridge.menus[0].comm is None and bridge.menus[1].comm is not None  # one kept open
    assert bridge.executed()[2:] == [(INSERT_BELOW, {}), (SET_ACTIVE_CELL, BLOCK)]


async def test_only_a_python_block_of_a_reply_is_inserted(tmp_path, bridge):
    widget = await widget_with_reply(tmp_path)
    bridge.answer()
    chat = widget.active_chat_id
    cases = [
        (1, "import os", "not a Python block"),  # text the reply does not hold
        (1, "f(1)", "not a Python block"),  # the js block
        (0, "a function?", "no such reply"),  # the user's message
        (7, BLOCK, "no such reply"),
    ]
    for message_id, code, why in cases:
        widget.error = ""
        browser(widget, type="insert_cell", chat_id=chat, message_id=message_id, code=code)
        assert why in widget.error
    assert bridge.sent == [] and bridge.menus == []


async def test_no_notebook_in_front_is_a_clear_refusal(tmp_path, bridge):
    widget = await widget_with_reply(tmp_path)
    bridge.answer(session={"type": "console", "path": "console-1"})
    browser(widget, type="insert_cell", chat_id=widget.active_chat_id, message_id=1, code=BLOCK)
    assert "needs a notebook" in widget.error and bridge.sent == []
    bridge.frontend.sessions.set_state({"current_session": {}})  # a launcher, a text file
    browser(widget, type="insert_cell", chat_id=widget.active_chat_id, message_id=1, code=BLOCK)
    assert "needs a notebook" in widget.error and bridge.sent == []


def test_the_bridge_refuses_before_any_front_end_answered():
    made = Bridge()
    with pytest.raises(InsertRefused, match="ipylab"):
        made.bridge.insert("x = 1")
    assert made.sent == [] and made.menus == []
