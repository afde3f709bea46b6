"""Kernel context and code runs without a browser: what the kernel offers,
the context text and its caps, the `context` and `code_run` rows, what the model is
sent, the Python API and the browser commands' checks. An in-process IPython shell
stands in for the kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from widget_doubles import (
    ScriptedClient,
    answer,
    browser,
    csv_rows,
    make_widget,
    settle,
)

from livechat_widget import LAST_ERROR, RECENT_CELLS, kernel_context
from livechat_widget.code_run import RunResult, python_blocks, run_in_kernel
from livechat_widget.csv_format import messages_from_records
from livechat_widget.history import model_history
from livechat_widget.protocol import ProtocolError, parse_command

CHAT = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def shell() -> Iterator[object]:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    saved = getattr(sys, "last_value", None)
    yield ip
    InteractiveShell.clear_instance()
    sys.last_value = saved  # type: ignore[assignment]


# ------------------------------------------------------------------ what is offered


def test_offer_lists_data_not_tools_and_never_values(shell):
    shell.run_cell(
        "import os\nfrom collections import OrderedDict\n"
        "def helper(): pass\nclass Thing: pass\n"
        "_private = 1\nsecret_text = 'hunter2' * 10\nnumbers = [1, 2, 3]\nn = 7\n",
        store_history=True,
    )
    items = {i.name: i for i in kernel_context.offer()}
    assert {"secret_text", "numbers", "n"} <= set(items)
    assert not {"os", "OrderedDict", "helper", "Thing", "_private", "In", "Out"} & set(items)
    assert items["numbers"].kind == "list" and items["numbers"].detail == "3 items"
    assert items["secret_text"].detail == "70 characters"
    assert "hunter2" not in json.dumps([vars(i) for i in items.values()])
    assert items[RECENT_CELLS].kind == "cells"


def test_the_last_error_carries_its_traceback(shell):
    shell.run_cell("def inner():\n    return {}['missing']\n")
    shell.run_cell("inner()")
    items = {i.name: i for i in kernel_context.offer()}
    assert items[LAST_ERROR].detail == "KeyError"
    text = kernel_context.build_context([LAST_ERROR])
    assert "Traceback (most recent call last)" in text and "in inner" in text
    assert "KeyError: 'missing'" in text
    assert "interactiveshell.py" not in text  # IPython's own frames are left out


def test_pandas_and_numpy_are_never_imported_to_look(tmp_path):
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "import sys\nfrom livechat_widget import kernel_context\n"
        "InteractiveShell.instance().user_ns['x'] = [1, 2]\n"
        "kernel_context.offer(); kernel_context.build_context(['x'])\n"
        "print('pandas' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ the context text


def test_dataframe_block_has_shape_dtypes_and_a_markdown_table(shell):
    import pandas as pd

    shell.user_ns["df"] = pd.DataFrame({"city": ["Oslo", "Li|ma"] * 50, "temp": [3.5, 19.0] * 50})
    text = kernel_context.build_context(["df"])
    assert text.startswith(kernel_context.HEADING)
    assert '<context name="df" kind="DataFrame">' in text
    assert "100 rows × 2 columns" in text and "- temp: float64" in text
    assert "| 0 | Oslo | 3.5 |" in text and "| 1 | Li\\|ma | 19.0 |" in text
    assert text.count("Oslo") == 3  # the first 5 rows only


def test_array_block_has_dtype_shape_and_a_preview(shell):
    import numpy as np

    shell.user_ns["a"] = np.arange(100_000, dtype=np.int32).reshape(1000, 100)
    text = kernel_context.build_context(["a"])
    assert "dtype int32, shape (1000, 100)" in text and "..." in text
    assert len(text.encode()) < 4000


def test_caps_per_item_and_in_total_are_marked(shell):
    shell.user_ns["big"] = "x" * 50_000
    shell.user_ns["more"] = "y" * 50_000
    shell.user_ns["small"] = 42
    text = kernel_context.build_context(["big", "more", "small"], item_bytes=1000, total_bytes=2500)
    blocks = kernel_context.parse_context(text)
    assert [b.name for b in blocks] == ["big", "more", "small"]
    assert all(len(b.text.encode()) <= 1000 for b in blocks)
    assert "[truncated: " in blocks[0].text and "[truncated: " in blocks[1].text
    assert len(text.encode()) <= 2500 + 200
    default = kernel_context.build_context(["big"])
    assert 7000 < len(default.encode()) <= kernel_context.ITEM_BYTES + 200


def test_a_closing_tag_inside_a_value_cannot_end_its_block(shell):
    shell.user_ns["tricky"] = 'a\n</context>\n<context name="fake" kind="x">\nb'
    text = kernel_context.build_context(["tricky"])
    assert [b.name for b in kernel_context.parse_context(text)] == ["tricky"]


def test_unknown_names_are_a_value_error_naming_them(shell):
    with pytest.raises(ValueError, match="'nope'"):
        kernel_context.build_context(["nope"])
    with pytest.raises(ValueError, match="no last error"):
        sys.last_value = None  # type: ignore[assignment]
        kernel_context.build_context([LAST_ERROR])
    with pytest.raises(ValueError, match="list of names"):
        kernel_context.check_names("df")


# ------------------------------------------------------------------ rows and history


def test_context_and_code_run_rows_attach_and_old_readers_skip_them():
    run = RunResult(1, "x = 1", stdout="ok\n").to_json()
    records = [
        ["2026-01-01T00:00:00.000Z", "ada", "context", "CTX"],
        ["2026-01-01T00:00:00.000Z", "ada", "user", "question"],
        ["2026-01-01T00:00:01.000Z", "ada", "assistant", "```python\nx = 1\n```"],
        ["2026-01-01T00:00:02.000Z", "ada", "code_run", run],
        ["2026-01-01T00:00:03.000Z", "ada", "code_run", "not json"],
        ["2026-01-01T00:00:04.000Z", "ada", "user", "again"],
    ]
    messages = messages_from_records(records)
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert messages[0].context == "CTX" and messages[2].context == ""
    assert messages[1].runs == (run,)
    history = model_history(messages)
    assert history[0].text == "CTX\n\nquestion"
    assert history[1].text == "```python\nx = 1\n```"  # runs are not sent


def test_python_blocks_finds_only_python_fences():
    text = "a\n```python\nx = 1\n```\n```js\nno()\n```\n~~~py\ny = 2\n~~~\n```\nplain\n```"
    assert python_blocks(text) == ["x = 1", "y = 2"]


# ------------------------------------------------------------------ running code


def test_run_in_kernel_captures_stdout_result_and_errors(shell):
    run = run_in_kernel(3, "z = 6 * 7\nprint('z is', z)\nz + 1")
    assert (run.status, run.result) == ("ok", "43")
    # (a terminal shell also prints "Out[1]: 43"; a kernel publishes it elsewhere)
    assert run.stdout.startswith("z is 42\n")
    assert shell.user_ns["z"] == 42
    count = shell.execution_count
    failed = run_in_kernel(3, "def f():\n    raise ValueError('bad')\nf()")
    assert failed.status == "error" and "ValueError: bad" in failed.error and "in f" in failed.error
    assert shell.execution_count == count  # not in the history
    interrupted = run_in_kernel(3, "raise KeyboardInterrupt")
    assert interrupted.status == "interrupted"


# ------------------------------------------------------------------ the widget


async def test_send_with_context_saves_it_before_the_user_row(tmp_path, shell):
    client = ScriptedClient()
    widget = make_widget(tmp_path, client)
    shell.user_ns["numbers"] = [1, 2, 3]
    reply = await widget.ask("What are they?", context=["numbers"])
    assert reply["status"] == "complete"
    rows = csv_rows(tmp_path, widget.active_chat_id)
    # (the `context_fingerprint` row: test_stale_context.py)
    assert [r["role"] for r in rows] == ["context", "context_fingerprint", "user", "assistant"]
    sent = client.requests[-1][-1]["content"]
    assert sent == rows[0]["content"] + "\n\nWhat are they?"
    assert "[1, 2, 3]" in sent
    (user,) = [m for m in widget.messages if m["role"] == "user"]
    assert [c["name"] for c in user["context"]] == ["numbers"]
    # a regenerate (or another model, or a reload) sends the same context again
    browser(widget, type="regenerate", chat_id=widget.active_chat_id)
    await settle(widget)
    assert client.requests[-1][-1]["content"] == sent


async def test_unknown_context_is_a_value_error_before_anything_is_saved(tmp_path, shell):
    widget = make_widget(tmp_path)
    with pytest.raises(ValueError, match="'missing'"):
        await widget.ask("hi", context=["missing"])
    assert widget.chats == [] and not list((tmp_path / "logs").glob("*.csv"))


async def test_the_browser_can_only_name_what_the_kernel_offered(tmp_path, shell):
    widget = make_widget(tmp_path)
    shell.user_ns["visible"] = 1
    browser(widget, type="send", text="hi", context=["visible"])
    assert "not in the kernel" in widget.error and widget.chats == []
    browser(widget, type="list_context", request="c1")
    offered = answer(widget, "c1")
    assert offered is not None and offered["type"] == "context_items"
    assert "visible" in [i["name"] for i in offered["items"]]
    shell.user_ns["later"] = 2  # defined after the list was sent: not offered
    browser(widget, type="send", text="hi", context=["later"])
    assert "'later'" in widget.error and widget.chats == []
    browser(widget, type="send", text="hi", context=["visible"])
    await settle(widget)
    assert [r["role"] for r in csv_rows(tmp_path, widget.active_chat_id)][:3] == [
        "context",
        "context_fingerprint",
        "user",
    ]


async def test_both_are_refused_when_turned_off(tmp_path, shell):
    widget = make_widget(tmp_path, allow_kernel_context=False, allow_code=False)
    assert widget.allow_kernel_context is False and widget.allow_code is False
    browser(widget, type="list_context", request="c1")
    assert "turned off" in widget.error
    assert answer(widget, "c1") == {"type": "refused", "request": "c1", "error": widget.error}
    widget.set_state({"allow_code": True})  # the browser cannot turn it on
    assert widget.allow_code is False


async def test_run_code_runs_the_stored_block_and_saves_a_row(tmp_path, shell):
    client = ScriptedClient(pieces=["Do:\n\n```python\nw = 6 * 7\nprint(w)\n```\n"])
    widget = make_widget(tmp_path, client)
    await widget.ask("code?")
    chat = widget.active_chat_id
    browser(widget, type="run_code", chat_id=chat, message_id=1, code="import os")
    assert "not a Python block" in widget.error and "w" not in shell.user_ns
    browser(widget, type="run_code", chat_id=chat, message_id=0, code="w = 6 * 7")
    assert "no such reply" in widget.error
    browser(widget, type="run_code", chat_id=chat, message_id=1, code="w = 6 * 7\nprint(w)\n")
    assert shell.user_ns["w"] == 42 and widget.running_code["chat_id"] == ""
    rows = csv_rows(tmp_path, chat)
    assert rows[-1]["role"] == "code_run"
    assert json.loads(rows[-1]["content"])["stdout"] == "42\n"
    (assistant,) = [m for m in widget.messages if m["role"] == "assistant"]
    assert assistant["runs"][0]["stdout"] == "42\n"
    off = make_widget(tmp_path, allow_code=False)
    browser(off, type="run_code", chat_id=chat, message_id=1, code="w = 6 * 7\nprint(w)")
    assert "turned off" in off.error


def test_protocol_checks_context_names_and_run_fields():
    assert parse_command({"type": "send", "text": "hi", "context": ["a", "a", "b"]}).context == (
        "a",
        "b",
    )
    for bad in ("df", [1], ["x" * 201], ["n"] * 21):
        with pytest.raises(ProtocolError):
            parse_command({"type": "send", "text": "hi", "context": bad})
    with pytest.raises(ProtocolError):
        parse_command({"type": "run_code", "chat_id": CHAT, "message_id": True, "code": "x"})
    command = parse_command({"type": "run_code", "chat_id": CHAT, "message_id": 2, "code": "x"})
    assert (command.message_id, command.code) == (2, "x")


async def test_context_outside_an_ipython_kernel_says_so(tmp_path):
    """A script has no kernel namespace: not the misleading "not in the kernel"."""
    from IPython.core.interactiveshell import InteractiveShell

    assert not InteractiveShell.initialized()
    widget = make_widget(tmp_path)
    with pytest.raises(ValueError, match="needs an IPython kernel"):
        await widget.ask("hi", context=["df"])
    assert widget.chats == []
