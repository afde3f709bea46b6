"""Edit and versions: an edited user message and a regenerated reply are versions of
their turn; the file stays append-only; the branch shown is what the model is sent and
survives a reload."""

from __future__ import annotations

import asyncio

import pytest
from fake_provider import FakeProvider
from widget_doubles import ScriptedClient, browser, csv_rows, make_widget, settle

from livechat_widget import folders as folders_module
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore, messages_from_rows
from livechat_widget.history import model_history
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.versions import model_messages, tree_from_records
from livechat_widget.widget import ChatWidget


def _client(fp: FakeProvider) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(fp.base_url, "fake-model", max_retries=0, backoff_base=0.01)


def _sent(fp: FakeProvider) -> list[tuple[str, str]]:
    """What the fake provider received in its last request: (role, content) pairs."""
    return [(m["role"], m["content"]) for m in fp.requests[-1].json["messages"]]


def _shown(widget: ChatWidget) -> list[tuple[str, str, int, int]]:
    return [(m["role"], m["content"], m["version"], m["versions"]) for m in widget.history()]


async def _two_turns(fp: FakeProvider, widget: ChatWidget) -> None:
    fp.text = "four"
    await widget.ask("What is 2+2?")
    fp.text = "six"
    await widget.ask("And 3+3?")


async def test_an_edit_makes_a_second_version_and_the_next_request_follows_it(fp, tmp_path):
    widget = make_widget(tmp_path, _client(fp))
    await _two_turns(fp, widget)
    chat_id = widget.active_chat_id
    before = (tmp_path / "logs" / f"{chat_id}.csv").read_bytes()

    fp.text = "five"
    reply = await widget.edit(0, "What is 2+3?")
    assert (reply["role"], reply["content"], reply["status"]) == ("assistant", "five", "complete")
    assert _sent(fp) == [("user", "What is 2+3?")], "the edited turn, without what followed it"
    assert _shown(widget) == [("user", "What is 2+3?", 2, 2), ("assistant", "five", 1, 1)]
    assert [m["content"] for m in widget.messages] == ["What is 2+3?", "five"]

    fp.text = "you're welcome"
    await widget.ask("Thanks")
    assert _sent(fp) == [
        ("user", "What is 2+3?"),
        ("assistant", "five"),
        ("user", "Thanks"),
    ]
    # Append-only: the file before the edit is a prefix of the file after it.
    after = (tmp_path / "logs" / f"{chat_id}.csv").read_bytes()
    assert after.startswith(before)
    rows = [(r["role"], r["content"]) for r in csv_rows(tmp_path, chat_id)]
    assert rows[4:7] == [("user", "What is 2+3?"), ("edit", "0"), ("assistant", "five")]


async def test_the_selected_version_survives_a_reload_and_shows_in_a_second_widget(
    fp, tmp_path, monkeypatch
):
    widget = make_widget(tmp_path, _client(fp))
    await _two_turns(fp, widget)
    chat_id = widget.active_chat_id
    fp.text = "five"
    await widget.edit(0, "What is 2+3?")
    other = ChatWidget(_client(fp), store=tmp_path / "logs", user_id="ada")
    assert other.active_chat_id == chat_id and other.messages[0]["content"] == "What is 2+3?"

    # Back to the first version: the whole first branch shows again, in both widgets.
    shown = widget.select_version(0, 1)
    first_branch = [
        ("user", "What is 2+2?", 1, 2),
        ("assistant", "four", 1, 1),
        ("user", "And 3+3?", 1, 1),
        ("assistant", "six", 1, 1),
    ]
    assert [(m["role"], m["content"], m["version"], m["versions"]) for m in shown] == first_branch
    assert [(m["content"], m["version"]) for m in other.messages][0] == ("What is 2+2?", 1)
    assert csv_rows(tmp_path, chat_id)[-1] == {**csv_rows(tmp_path, chat_id)[-1], "role": "select"}

    # A reload (a new process: nothing cached) shows the same branch and sends it.
    monkeypatch.setattr(folders_module, "_FOLDERS", {})
    reloaded = ChatWidget(_client(fp), store=tmp_path / "logs", user_id="ada")
    assert reloaded.active_chat_id == chat_id
    assert _shown(reloaded) == first_branch
    fp.text = "ok"
    await reloaded.ask("And 4+4?", chat_id=chat_id)
    assert _sent(fp) == [
        ("user", "What is 2+2?"),
        ("assistant", "four"),
        ("user", "And 3+3?"),
        ("assistant", "six"),
        ("user", "And 4+4?"),
    ]
    # The second version keeps its own branch: switching back shows its reply.
    assert [m["content"] for m in reloaded.select_version(0, 2)] == ["What is 2+3?", "five"]


async def test_editing_a_message_on_a_branch_not_shown_brings_that_branch_into_view(fp, tmp_path):
    widget = make_widget(tmp_path, _client(fp))
    await _two_turns(fp, widget)  # ids 0..3
    fp.text = "five"
    await widget.edit(0, "What is 2+3?")  # ids 4, 5: message 2 is now on a hidden branch
    rows = len(csv_rows(tmp_path, widget.active_chat_id))
    assert widget.select_version(4, 2) == widget.history()  # shown already: no row
    assert len(csv_rows(tmp_path, widget.active_chat_id)) == rows
    fp.text = "seven"
    await widget.edit(2, "And 3+4?")
    assert _sent(fp) == [
        ("user", "What is 2+2?"),
        ("assistant", "four"),
        ("user", "And 3+4?"),
    ]
    assert _shown(widget) == [
        ("user", "What is 2+2?", 1, 2),
        ("assistant", "four", 1, 1),
        ("user", "And 3+4?", 2, 2),
        ("assistant", "seven", 1, 1),
    ]


async def test_regenerated_replies_are_versions_and_the_model_gets_the_one_shown(fp, tmp_path):
    widget = make_widget(tmp_path, _client(fp))
    fp.text = "first"
    await widget.ask("Name a colour")
    chat_id = widget.active_chat_id
    fp.text = "second"
    browser(widget, type="regenerate", chat_id=chat_id)
    await settle(widget)
    assert _shown(widget) == [("user", "Name a colour", 1, 1), ("assistant", "second", 2, 2)]

    browser(widget, type="select_version", chat_id=chat_id, message_id=2, version=1)
    assert widget.error == ""
    assert [(m["content"], m["version"]) for m in widget.messages] == [
        ("Name a colour", 1),
        ("first", 1),
    ]
    fp.text = "ok"
    await widget.ask("Another")
    assert _sent(fp) == [("user", "Name a colour"), ("assistant", "first"), ("user", "Another")]


async def test_while_a_reply_streams_edit_and_select_are_refused_and_nothing_is_written(tmp_path):
    gate = asyncio.Event()
    client = ScriptedClient(pieces=["a", "b"])
    widget = make_widget(tmp_path, client)
    await widget.ask("one")
    chat_id = widget.active_chat_id
    client.gate = gate
    browser(widget, type="send", text="two")
    rows = csv_rows(tmp_path, chat_id)
    browser(widget, type="edit", chat_id=chat_id, message_id=0, text="uno")
    assert "still streaming" in widget.error
    browser(widget, type="select_version", chat_id=chat_id, message_id=0, version=1)
    assert "still streaming" in widget.error
    with pytest.raises(ValueError, match="still streaming"):
        await widget.edit(0, "uno")
    assert csv_rows(tmp_path, chat_id) == rows
    gate.set()
    await settle(widget)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message_id": 99, "text": "x"}, "not in this chat"),
        ({"message_id": 1, "text": "x"}, "Only user messages"),
        ({"message_id": -1, "text": "x"}, "whole number"),
        ({"message_id": True, "text": "x"}, "whole number"),
        ({"message_id": "0", "text": "x"}, "whole number"),
        ({"message_id": 0, "text": "   "}, "empty"),
        ({"message_id": 0, "text": "x" * 100_001}, "too long"),
        ({"message_id": 0}, "text is missing"),
        ({"message_id": 0, "text": 5}, "must be text"),
    ],
)
async def test_bad_edits_from_the_browser_are_refused_clearly(tmp_path, fields, error):
    widget = make_widget(tmp_path)
    await widget.ask("hello")
    chat_id = widget.active_chat_id
    rows = csv_rows(tmp_path, chat_id)
    browser(widget, type="edit", chat_id=chat_id, **fields)
    assert error in widget.error
    assert csv_rows(tmp_path, chat_id) == rows and not widget.session.replies


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message_id": 0, "version": 2}, "1 version(s), not 2"),
        ({"message_id": 0, "version": 0}, "whole number"),
        ({"message_id": 7, "version": 1}, "not in this chat"),
        ({"message_id": 0}, "whole number"),
    ],
)
async def test_bad_version_selections_are_refused_clearly(tmp_path, fields, error):
    widget = make_widget(tmp_path)
    await widget.ask("hello")
    chat_id = widget.active_chat_id
    rows = csv_rows(tmp_path, chat_id)
    browser(widget, type="select_version", chat_id=chat_id, **fields)
    assert error in widget.error
    assert csv_rows(tmp_path, chat_id) == rows


async def test_an_edit_names_a_message_of_its_own_chat(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask("in A")
    chat_a = widget.active_chat_id
    widget.new_chat("B")
    browser(widget, type="edit", chat_id=widget.active_chat_id, message_id=0, text="x")
    assert "not in this chat" in widget.error
    assert len(csv_rows(tmp_path, chat_a)) == 2


# ---------------------------------------------------------- files from before versions

OLD_FILES = [
    # Regenerate appended a second reply; then the conversation went on.
    [("user", "q"), ("assistant", "A1"), ("assistant", "A2"), ("user", "q2"), ("assistant", "B")],
    # A failed reply, then its retry.
    [("user", "q"), ("assistant", ""), ("status", "error: boom"), ("assistant", "ok")],
    # A retry that failed after a good reply: the good reply is still what is sent.
    [("user", "q"), ("assistant", "good"), ("assistant", ""), ("status", "error: x")],
    # A reply stopped before its first token (prompt withdrawn), then regenerated.
    [("user", "q"), ("assistant", ""), ("status", "stopped"), ("assistant", "A"), ("user", "r")],
    # From before empty stopped replies were saved: two user rows in a row.
    [("user", "cancelled"), ("user", "Say hi."), ("assistant", "Hi!"), ("system", "be brief")],
]


@pytest.mark.parametrize("rows", OLD_FILES)
def test_files_written_before_versions_load_with_the_same_meaning(tmp_path, rows):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    for role, content in rows:
        store.append(chat_id, role, content)
    records = store.load_records(chat_id)
    messages = messages_from_rows(store.load(chat_id))
    tree = tree_from_records(records)
    # The model is sent exactly what it was sent before versions existed ...
    assert model_messages(messages, tree) == messages
    assert model_history(model_messages(messages, tree)) == model_history(messages)
    # ... and what shows is every message, consecutive replies as versions, the last one shown.
    shown = tree.branch()
    hidden = sorted(set(range(len(messages))) - set(shown))
    assert all(messages[i].role == "assistant" for i in hidden)
    assert all(messages[i + 1].role == "assistant" for i in hidden)
    for i in shown:
        if messages[i].role == "assistant":
            version, versions = tree.position(i)
            assert version == versions  # the latest reply shows, as before


def test_old_file_regenerations_show_as_versions_of_one_reply(tmp_path):
    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    for role, content in OLD_FILES[0]:
        store.append(chat_id, role, content)
    widget = make_widget(tmp_path, ScriptedClient())
    widget.select(chat_id)
    assert _shown(widget) == [
        ("user", "q", 1, 1),
        ("assistant", "A2", 2, 2),
        ("user", "q2", 1, 1),
        ("assistant", "B", 1, 1),
    ]


def test_edit_and_select_rows_naming_no_usable_message_are_ignored(tmp_path):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    for role, content in [
        ("user", "a"),
        ("assistant", "A"),
        ("user", "b"),
        ("edit", "1"),  # names an assistant message: a plain user message
        ("assistant", "B"),
        ("user", "c"),
        ("edit", "99"),  # names no message
        ("select", "not a number"),
        ("select", "12345"),
    ]:
        store.append(chat_id, role, content)
    tree = tree_from_records(store.load_records(chat_id))
    assert tree.branch() == [0, 1, 2, 3, 4]


def test_replaying_a_long_chat_is_linear_in_its_rows(monkeypatch):
    """A message after the last one shown extends the branch in one step: no walk up its
    path and no walk down the branch for it (each was a walk over the whole chat, so
    opening 20,400 messages took 11.5 s and 204,800 never finished)."""
    from livechat_widget.versions import VersionTree, tree_from_records

    walks: list[str] = []
    path, branch = VersionTree._show_path, VersionTree._shown_branch

    def show_path(self, message_id):
        walks.append("path")
        return path(self, message_id)

    def shown_branch(self):
        if self._branch is None:
            walks.append("branch")
        return branch(self)

    monkeypatch.setattr(VersionTree, "_show_path", show_path)
    monkeypatch.setattr(VersionTree, "_shown_branch", shown_branch)
    roles = ["user", "assistant"] * 1000
    tree = tree_from_records([["t", "u", role, f"m{i}"] for i, role in enumerate(roles)])
    assert tree.branch() == list(range(2000)) and walks == []
    tree.add("assistant")  # a regenerated reply: a version, so the branch is redone once
    assert tree.branch() == [*range(1999), 2000] and walks == ["path", "branch"]
    assert tree.position(2000) == (2, 2)
