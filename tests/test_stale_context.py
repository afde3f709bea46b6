"""Stale-context warnings without a browser: the `context_fingerprint` row, the
`stale_context` trait after cells run, Ignore (`ignore_stale`) and Refresh (a send of
the item again). An in-process IPython shell stands in for the kernel."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pandas as pd
import pytest
from widget_doubles import ScriptedClient, browser, csv_rows, make_widget, settle

from livechat_widget import LAST_ERROR, import_chats, read_chats
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_format import FINGERPRINT_ROLE, messages_from_records
from livechat_widget.csv_storage import CsvStore
from livechat_widget.protocol import ProtocolError, parse_command
from livechat_widget.stale_context import MAX_NAMES, StaleContext, sent_fingerprints

CHAT = "11111111-1111-4111-8111-111111111111"
DROPPED = "1,203 fewer rows, new column `tenure_bucket`"


@pytest.fixture
def shell() -> Iterator[object]:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    saved = getattr(sys, "last_value", None)
    ip.user_ns["df"] = pd.DataFrame({"age": range(2000), "plan": ["a", "b"] * 1000})
    yield ip
    InteractiveShell.clear_instance()
    sys.last_value = saved  # type: ignore[assignment]


def drop_rows(shell: object) -> None:
    shell.run_cell("df = df.iloc[:797].copy()\ndf['tenure_bucket'] = 1")  # type: ignore[attr-defined]


async def sent_df(tmp_path, shell):
    widget = make_widget(tmp_path, ScriptedClient())
    await widget.ask("What is in df?", context=["df"])
    return widget


# -- the rows


async def test_a_send_with_context_writes_its_fingerprints_in_the_same_write(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    rows = csv_rows(tmp_path, widget.active_chat_id)
    assert [r["role"] for r in rows] == ["context", FINGERPRINT_ROLE, "user", "assistant"]
    assert len({r["timestamp"] for r in rows[:3]}) == 1  # one write, one timestamp
    prints = json.loads(rows[1]["content"])
    assert set(prints) == {"df"} and prints["df"]["rows"] == 2000
    (user,) = [m for m in widget.session.sent_messages(widget.active_chat_id) if m.role == "user"]
    assert json.loads(user.fingerprints) == prints
    # read back from the file, the message carries them too
    assert ChatRegistry(CsvStore(tmp_path / "logs")).messages(widget.active_chat_id)[0] == user


async def test_names_that_are_not_variables_get_no_fingerprint(tmp_path, shell):
    shell.run_cell("1/0")
    widget = make_widget(tmp_path)
    await widget.ask("Why?", context=[LAST_ERROR])
    assert FINGERPRINT_ROLE not in [r["role"] for r in csv_rows(tmp_path, widget.active_chat_id)]
    await widget.ask("And df?", context=[LAST_ERROR, "df"])
    (row,) = [r for r in csv_rows(tmp_path, widget.active_chat_id) if r["role"] == FINGERPRINT_ROLE]
    assert set(json.loads(row["content"])) == {"df"}


def test_old_files_and_readers_skip_or_lack_the_row():
    records = [
        ["2026-01-01T00:00:00.000Z", "ada", "context", "CTX"],
        ["2026-01-01T00:00:00.000Z", "ada", "user", "old file: no fingerprints"],
        ["2026-01-01T00:00:01.000Z", "ada", "context", "CTX"],
        ["2026-01-01T00:00:01.000Z", "ada", FINGERPRINT_ROLE, '{"df": {"kind": "list"}}'],
        ["2026-01-01T00:00:01.000Z", "ada", "user", "new"],
        ["2026-01-01T00:00:02.000Z", "ada", FINGERPRINT_ROLE, "not json"],
        ["2026-01-01T00:00:02.000Z", "ada", "user", "hand-edited"],
    ]
    messages = messages_from_records(records)
    assert [m.content for m in messages] == ["old file: no fingerprints", "new", "hand-edited"]
    assert messages[0].fingerprints == "" and messages[0].context == "CTX"
    assert sent_fingerprints(messages[:1]) == {}  # an old file: no warnings
    assert sent_fingerprints(messages) == {"df": {"kind": "list"}}  # bad JSON is skipped


async def test_the_json_export_carries_the_row_through_an_import(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    exported = tmp_path / "chat.json"
    exported.write_text(widget.export(format="json"), encoding="utf-8")
    (new_id,) = import_chats(exported, tmp_path / "other")
    copy = ChatRegistry(CsvStore(tmp_path / "other")).messages(new_id)
    assert (
        copy[0].fingerprints == widget.session.sent_messages(widget.active_chat_id)[0].fingerprints
    )
    assert copy[0].fingerprints


async def test_read_chats_has_a_column_of_them(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    widget.session.registry.store.append(
        widget.active_chat_id, FINGERPRINT_ROLE, "{broken", user_id="ada"
    )
    widget.session.registry.append(widget.active_chat_id, "user", "hand-edited", user_id="ada")
    df = read_chats(tmp_path / "logs")
    assert df["context_fingerprint"][0]["df"]["rows"] == 2000  # the first user message
    assert df["context_fingerprint"][1] is None and df["context_fingerprint"][2] is None


# -- the badge's trait


async def test_a_change_in_a_cell_shows_in_stale_context(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    assert widget.stale_context == []
    drop_rows(shell)  # the post_run_cell hook recomputes
    assert widget.stale_context == [{"name": "df", "change": DROPPED, "gone": False}]
    assert widget.stale_items() == widget.stale_context
    shell.run_cell("del df")
    assert widget.stale_context == [
        {"name": "df", "change": "no longer in the kernel", "gone": True}
    ]


async def test_reopening_the_chat_shows_it_and_another_chat_does_not(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    chat_id = widget.active_chat_id
    shell.user_ns["df"] = shell.user_ns["df"].head(3)  # changed without a cell run
    browser(widget, type="new_chat")
    assert widget.stale_context == []
    browser(widget, type="select_chat", chat_id=chat_id)
    assert widget.stale_context == [{"name": "df", "change": "1,997 fewer rows", "gone": False}]


async def test_ignore_hides_it_until_the_value_changes_again(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    drop_rows(shell)
    browser(widget, type="ignore_stale", chat_id=widget.active_chat_id, names=["df"])
    assert widget.stale_context == [] and widget.error == ""
    shell.run_cell("x = 1")
    assert widget.stale_context == []
    shell.run_cell("df = df.head(10)")  # (the change is from what the model saw)
    change = "1,990 fewer rows, new column `tenure_bucket`"
    assert widget.stale_context == [{"name": "df", "change": change, "gone": False}]
    # and a send without it goes without a context row
    await widget.ask("Go on")
    assert csv_rows(tmp_path, widget.active_chat_id)[-2]["role"] == "user"
    assert csv_rows(tmp_path, widget.active_chat_id)[-3]["role"] == "assistant"


async def test_refresh_sends_a_fresh_context_row_and_clears_the_badge(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    drop_rows(shell)
    assert widget.stale_context
    # the page never asked list_context: the badge offered df
    browser(widget, type="send", text="And now?", context=["df"])
    await settle(widget)
    assert widget.error == ""
    rows = csv_rows(tmp_path, widget.active_chat_id)
    assert [r["role"] for r in rows[-4:]] == ["context", FINGERPRINT_ROLE, "user", "assistant"]
    assert "797 rows" in rows[-4]["content"]
    assert json.loads(rows[-3]["content"])["df"]["rows"] == 797
    assert widget.stale_context == []


async def test_a_second_chat_keeps_its_own_fingerprints(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    first = widget.active_chat_id
    drop_rows(shell)
    widget.new_chat()
    await widget.ask("Fresh", context=["df"], chat_id=widget.active_chat_id)
    assert widget.stale_context == []
    assert [i["name"] for i in widget.stale_items(first)] == ["df"]


# -- refusals


@pytest.mark.parametrize(
    ("msg", "why"),
    [
        ({"chat_id": CHAT}, "needs the names"),
        ({"chat_id": CHAT, "names": "df"}, "list of at most"),
        ({"chat_id": CHAT, "names": []}, "at least one name"),
        ({"chat_id": CHAT, "names": [""]}, "1 to 200 characters"),
        ({"chat_id": CHAT, "names": ["x"] * 21}, "at most 20"),
        ({"chat_id": "../etc", "names": ["df"]}, "chat id is not valid"),
    ],
)
def test_malformed_ignore_stale_messages_are_refused(msg, why):
    with pytest.raises(ProtocolError, match=why):
        parse_command({"type": "ignore_stale", **msg})


async def test_ignore_stale_refuses_what_it_cannot_do(tmp_path, shell):
    widget = await sent_df(tmp_path, shell)
    browser(widget, type="ignore_stale", chat_id=CHAT, names=["df"])
    assert widget.error == "That chat no longer exists."
    browser(widget, type="ignore_stale", chat_id=widget.active_chat_id, names=["nope"])
    assert "'nope' was not sent as context in this chat" in widget.error
    off = make_widget(tmp_path, allow_kernel_context=False)
    browser(off, type="ignore_stale", chat_id=widget.active_chat_id, names=["df"])
    assert off.error == "Kernel context is turned off here."
    drop_rows(shell)
    assert off.stale_context == [] and off.stale_items(widget.active_chat_id) == []
    with pytest.raises(ValueError, match="list of at most"):
        widget.ignore_stale("df")  # type: ignore[arg-type]


async def test_closing_the_widget_stops_watching_cells(tmp_path, shell):
    before = len(shell.events.callbacks["post_run_cell"])
    widget = await sent_df(tmp_path, shell)
    assert len(shell.events.callbacks["post_run_cell"]) == before + 1
    widget.close()
    assert len(shell.events.callbacks["post_run_cell"]) == before
    widget.close()  # twice is fine


def test_only_the_names_sent_last_are_compared(shell):
    from livechat_widget.csv_format import Message

    sent = {f"v{i}": {"kind": "int", "hash": "x"} for i in range(MAX_NAMES + 5)}
    message = Message(0, "user", "hi", "", "ada", context="C", fingerprints=json.dumps(sent))
    assert len(sent_fingerprints([message])) == MAX_NAMES
    shell.user_ns.update({f"v{i}": i for i in range(MAX_NAMES + 5)})
    assert len(StaleContext().items(CHAT, [message])) == MAX_NAMES
