"""The "Ask livechat" button under errors (error_hook.py, error_frames.py), with a real
in-process IPython shell standing in for the kernel: the hook keeps IPython's traceback, the error
is kept with its cell, the block holds the innermost user frame's locals (described and
capped as the `@` picker does, secrets withheld), the button drafts into a chat, and a
send with the `error [N]` context writes the `context` row."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from widget_doubles import ScriptedClient, answer, browser, csv_rows, make_widget, settle

import livechat_widget
from livechat_widget import error_frames, error_hook, kernel_context
from livechat_widget.code_run import run_in_kernel

KEY = "sk-live-abcdef1234567890"
FAILING = f"""
import pandas as pd

def f():
    df = pd.DataFrame({{"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 31.2]}})
    n = 3
    api_key = "{KEY}"
    return n / 0

f()
"""


@pytest.fixture
def shell() -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    saved = getattr(sys, "last_value", None)
    yield ip
    InteractiveShell.clear_instance()
    sys.last_value = saved  # type: ignore[assignment]
    error_hook._chats.clear()
    error_hook._factory.clear()


def run_failing(shell: Any, code: str = FAILING) -> str:
    """Run a cell that raises; the name of its error item ("error [N]")."""
    count = shell.execution_count
    result = shell.run_cell(code, store_history=True)
    assert result.error_in_exec is not None
    return f"error [{count}]"


def boxes() -> list[Any]:
    """The "Ask livechat" boxes displayed so far, oldest first."""
    from ipywidgets.widgets.widget import _instances

    found = [w for w in _instances.values() if hasattr(w, "_dom_classes")]
    return [w for w in found if "livechat-error-help-box" in w._dom_classes]


# ------------------------------------------------------------------ the hook


def test_a_chat_turns_the_hook_on_and_the_traceback_stays_as_ipython_prints_it(
    tmp_path, shell, capsys
):
    make_widget(tmp_path)
    assert error_hook.installed() and shell.custom_exceptions == (Exception,)
    before = len(boxes())
    name = run_failing(shell)
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # IPython's colours
    assert "ZeroDivisionError" in out and "Traceback" in out and "n / 0" in out
    assert len(boxes()) == before + 1
    (button,) = boxes()[-1].children
    assert button.description == "Ask livechat"
    entry = error_frames.error_log().latest()
    assert entry.name == name and isinstance(entry.error, ZeroDivisionError)
    assert entry.source.strip() == FAILING.strip()
    assert sys.last_value is entry.error  # IPython's own "last error" as before


def test_install_is_idempotent_and_leaves_a_foreign_handler_alone(tmp_path, shell, caplog):
    make_widget(tmp_path)
    handler = shell.CustomTB
    make_widget(tmp_path)
    livechat_widget.error_help()
    assert shell.CustomTB is handler and shell.custom_exceptions == (Exception,)

    shell.set_custom_exc((ValueError,), lambda *a, **k: None)
    setattr(shell, error_hook._MARK, False)
    with caplog.at_level(logging.WARNING, logger="livechat_widget.error_hook"):
        assert error_hook.install(lambda: None) is False  # type: ignore[arg-type,return-value]
    assert "custom exception handler" in caplog.text
    assert shell.custom_exceptions == (ValueError,)
    with pytest.raises(RuntimeError, match="custom exception handler"):
        livechat_widget.error_help()


def test_no_hook_without_kernel_context_or_outside_ipython(tmp_path, shell):
    make_widget(tmp_path, allow_kernel_context=False)
    assert not error_hook.installed() and shell.custom_exceptions == ()
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    with pytest.raises(RuntimeError, match="IPython kernel"):
        livechat_widget.error_help()


def test_code_the_chat_runs_shows_no_button_and_keeps_no_error(tmp_path, shell):
    make_widget(tmp_path)
    name = run_failing(shell)
    before = len(boxes())
    run = run_in_kernel(1, "def g():\n    raise KeyError('k')\ng()")
    assert run.status == "error" and "KeyError" in run.error and "VBox" not in run.result
    assert len(boxes()) == before
    assert error_frames.error_log().latest().name == name


# ------------------------------------------------------------------ the block


def test_the_block_has_traceback_cell_and_the_innermost_frames_locals(tmp_path, shell):
    widget = make_widget(tmp_path)
    name = run_failing(shell)
    block = error_frames.block_for(name)
    assert block == widget.error_context()
    assert block.startswith("Traceback (most recent call last)")
    assert "ZeroDivisionError: division by zero" in block
    assert "interactiveshell.py" not in block
    assert f"The cell that raised (cell [{name[7:-1]}])" in block and "def f():" in block
    assert "Local variables of f() at line 7, the innermost frame of your code:" in block
    assert "- df: pandas DataFrame, 3 rows × 2 columns" in block
    assert "- city: " in block and "- temp: float64" in block
    assert "- n: int: 3" in block
    assert "- api_key: str (value withheld: the name looks like a secret)" in block
    assert KEY not in block  # nor in the cell's code: `api_key = "<withheld>"`
    assert 'api_key = "<withheld>"' in block
    assert "- pd:" not in block  # only f's own locals


def test_each_local_and_the_block_are_capped(tmp_path, shell):
    make_widget(tmp_path)
    code = (
        "def big():\n"
        + "".join(f"    v{i:02} = 'x' * 5000\n" for i in range(30))
        + "    return 1 / 0\nbig()\n"
    )
    name = run_failing(shell, code)
    block = error_frames.block_for(name)
    assert len(block.encode()) <= kernel_context.ITEM_BYTES
    first = block.split("- v00: ", 1)[1].split("\n- ", 1)[0]
    assert len(first.encode()) <= error_frames.LOCAL_BYTES + 64
    assert "[truncated: " in first
    assert "more not shown" in block


def test_a_cell_level_error_lists_the_names_the_cell_uses(tmp_path, shell):
    make_widget(tmp_path)
    shell.run_cell("unrelated = 'not used'\nwidth = 0\ntoken = 'tok-123456'", store_history=True)
    name = run_failing(shell, "area = 10 / width\nprint(token)")
    block = error_frames.block_for(name)
    assert "Variables the cell uses" in block and "- width: int: 0" in block
    assert "unrelated" not in block and "tok-123456" not in block and "- token: str (value" in block


def test_frames_of_libraries_are_skipped_for_the_callers(tmp_path, shell):
    make_widget(tmp_path)
    name = run_failing(
        shell,
        "import json\ndef load(text):\n    size = len(text)\n"
        "    return json.loads(text)\nload('{bad')",
    )
    block = error_frames.block_for(name)
    assert "json/decoder.py" in block  # the traceback keeps the library's frames ...
    assert "Local variables of load() at line 4" in block  # ... the locals are the caller's
    assert "- size: int: 4" in block and "- text: str, 4 characters: {bad" in block


def test_only_the_last_errors_are_kept(tmp_path, shell):
    make_widget(tmp_path)
    names = [run_failing(shell, f"raise ValueError({i})") for i in range(error_frames.KEPT + 2)]
    log = error_frames.error_log()
    assert [e.name for e in log.errors] == names[-error_frames.KEPT :]
    with pytest.raises(ValueError, match="no longer kept"):
        error_frames.block_for(names[0])
    with pytest.raises(ValueError, match="no longer kept"):
        kernel_context.build_context([names[0]])
    assert "ValueError: 6" in kernel_context.build_context([names[-1]])


def test_error_context_without_an_error_and_without_the_hook(tmp_path, shell):
    sys.last_value = None  # type: ignore[assignment]
    widget = make_widget(tmp_path, allow_kernel_context=False)
    with pytest.raises(ValueError, match="no error"):
        widget.error_context()
    shell.run_cell(FAILING, store_history=True)  # no hook: IPython's last error
    block = widget.error_context()
    assert "- n: int: 3" in block and "withheld" in block and KEY not in block
    assert "def f():" in block

    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    with pytest.raises(ValueError, match="IPython kernel"):
        widget.error_context()


# ------------------------------------------------------------------ the button and the send


async def test_the_button_drafts_into_the_chat_and_the_send_writes_the_context_row(tmp_path, shell):
    client = ScriptedClient()
    widget = make_widget(tmp_path, client)
    name = run_failing(shell)
    (button,) = boxes()[-1].children
    button.click()
    draft = widget.draft
    assert draft["id"] > 0
    assert draft["text"] == "This cell raised ZeroDivisionError. Explain why and how to fix it."
    (chip,) = draft["context"]
    assert chip["name"] == name and chip["kind"] == "error"
    assert "3 rows × 2 columns" in chip["text"] and KEY not in chip["text"]

    # The browser never listed it: the kernel put it in the composer, so it may be sent.
    browser(widget, type="send", text="Why?", chat_id="", context=[name])
    await settle(widget)
    assert not widget.error, widget.error
    rows = csv_rows(tmp_path, widget.active_chat_id)
    assert [r["role"] for r in rows] == ["context", "user", "assistant"]
    (block,) = kernel_context.parse_context(rows[0]["content"])
    assert (block.name, block.kind) == (name, "error") and block.text == chip["text"]
    assert client.requests[-1][-1]["content"].endswith("Why?")
    assert "- n: int: 3" in client.requests[-1][-1]["content"]
    assert widget.draft["text"] == "" and widget.draft["id"] == draft["id"]  # sent: done


KERNEL_OWN = {"error", "cells", "figure"}  # items that are not variables


async def test_the_picker_offers_the_latest_error_and_other_names_stay_refused(tmp_path, shell):
    widget = make_widget(tmp_path)
    name = run_failing(shell)
    browser(widget, type="list_context", request="r1")
    items = answer(widget, "r1")["items"]
    # Before the variables (figures come first when matplotlib holds one).
    kinds = [item["kind"] for item in items]
    first_variable = next((i for i, k in enumerate(kinds) if k not in KERNEL_OWN), len(items))
    offered = {"name": name, "kind": "error", "detail": "ZeroDivisionError"}
    assert offered in items[:first_variable]
    browser(widget, type="send", text="x", chat_id="", context=["error [999]"])
    assert "error [999]" in widget.error


def test_the_newest_chat_is_drafted_and_with_none_a_chat_shows_under_the_button(
    tmp_path, shell, monkeypatch
):
    monkeypatch.setenv("LIVECHAT_CHAT_LOGS", str(tmp_path / "new"))
    livechat_widget.error_help()
    run_failing(shell)
    box = boxes()[-1]
    box.children[0].click()
    button, chat = box.children
    assert isinstance(chat, livechat_widget.ChatWidget) and chat.draft["text"]
    assert error_hook.current_chat() is chat

    older, newer = make_widget(tmp_path), make_widget(tmp_path)
    run_failing(shell)
    boxes()[-1].children[0].click()
    assert newer.draft["text"] and not older.draft["text"]
    older._repr_mimebundle_()  # displayed again: the newest shown
    boxes()[-1].children[0].click()
    assert older.draft["text"]
    older.close()
    newer.close()
    chat.close()
    assert error_hook.current_chat() is None
