"""Compare (compare.py): one message to 2-4 models at once, their replies side by side,
each saved as a version of the turn's reply; Keep selects one and records the vote.
The candidates are real HTTP servers on 127.0.0.1 (tests/fake_provider.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_provider import FakeProvider
from widget_doubles import browser, csv_rows, custom, make_widget, settle

from livechat_widget import folders as folders_module
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.widget import ChatWidget

CHAT = "11111111-1111-4111-8111-111111111111"


@pytest.fixture(autouse=True)
def fresh_folders(monkeypatch):
    monkeypatch.setattr(folders_module, "_FOLDERS", {})
    monkeypatch.delenv("LIVECHAT_PRICES", raising=False)


@pytest.fixture
def servers():
    with (
        FakeProvider(text="Fast answer from local.", tokens_per_s=400) as fast,
        FakeProvider(text="A slower answer from the hosted model.", tokens_per_s=60) as slow,
    ):
        yield fast, slow


def compare_widget(tmp_path, servers, **kwargs):
    fast, slow = servers
    clients = {
        "local": OpenAICompatibleClient(fast.base_url, "local-model", "k"),
        "hosted": OpenAICompatibleClient(slow.base_url, "hosted-model", "k"),
    }
    main = OpenAICompatibleClient(fast.base_url, "fake-model", "k")
    return make_widget(tmp_path, main, compare_clients=clients, **kwargs)


async def finished(widget):
    await settle(widget)
    for _ in range(100):
        await asyncio.sleep(0)


async def test_a_compare_turn_saves_each_reply_as_a_version_and_keep_selects_one(tmp_path, servers):
    widget = compare_widget(tmp_path, servers)
    assert widget.compare_choices == [
        {"label": "local", "model": "local-model"},
        {"label": "hosted", "model": "hosted-model"},
    ]
    browser(widget, type="compare", text="Which is best?", candidates=["hosted", "local"])
    chat = widget.active_chat_id
    assert widget.busy and chat in widget.compares
    await finished(widget)
    state = widget.compares[chat]
    assert not state["streaming"]
    hosted, local = state["panes"]
    assert (hosted["label"], hosted["model"]) == ("hosted", "hosted-model")
    assert hosted["text"] == "A slower answer from the hosted model."
    assert local["text"] == "Fast answer from local."
    assert local["finished"] == 1 and hosted["finished"] == 2  # the faster ended first
    assert local["ttft_ms"] is not None and local["tokens"] and local["tokens_per_s"]
    # Deltas reached the page as compare_delta messages that add up to each text.
    texts = ["", ""]
    for delta in custom(widget, "compare_delta"):
        for piece in delta["panes"]:
            texts[piece["pane"]] += piece["text"]
    # (the pieces still pending when a pane ends come with its state, not as a delta)
    finals = [hosted["text"], local["text"]]
    assert all(text and full.startswith(text) for text, full in zip(texts, finals, strict=True))
    assert [d["seq"] for d in custom(widget, "compare_delta")] == sorted(
        {d["seq"] for d in custom(widget, "compare_delta")}
    )
    # While the comparison is open, the turn's reply is not shown twice.
    assert [m["role"] for m in widget.messages] == ["user"]
    # Each server was asked with its own model, the same message.
    fast, slow = servers
    assert slow.requests[-1].json["model"] == "hosted-model"
    assert slow.requests[-1].json["messages"][-1]["content"] == "Which is best?"
    # Keep the faster one, saved first: the later saved one is shown until Keep.
    registry = widget.session.registry
    assert registry.messages(chat)[registry.tree(chat).branch()[-1]].content.startswith("A slower")
    browser(widget, type="compare_keep", chat_id=chat, pane=1)  # local, saved first
    assert chat not in widget.compares and not widget.error
    shown = widget.history()
    assert shown[-1]["content"] == "Fast answer from local."
    assert (shown[-1]["version"], shown[-1]["versions"]) == (1, 2)
    vote = [r for r in csv_rows(tmp_path, chat) if r["role"] == "compare_vote"]
    assert len(vote) == 1
    assert json.loads(vote[0]["content"]) == {
        "candidates": ["hosted", "local"],
        "models": ["hosted-model", "local-model"],
        "message_ids": [local["message_id"] + 1, local["message_id"]],
        "kept": "local",
        "kept_message_id": local["message_id"],
        "blind": False,
    }
    # Read again from the file (a reload): the kept one selected, the other a version.
    folders_module._FOLDERS.clear()
    again = compare_widget(tmp_path, servers)
    again.select(chat)
    shown = again.history()
    assert [m["role"] for m in shown] == ["user", "assistant"]
    assert shown[-1]["content"] == "Fast answer from local."
    assert (shown[-1]["version"], shown[-1]["versions"]) == (1, 2)
    # What the model is sent next follows the kept reply.
    await again.ask("And then?")
    sent = servers[0].requests[-1].json["messages"]
    assert [m["content"] for m in sent[-3:]] == [
        "Which is best?",
        "Fast answer from local.",
        "And then?",
    ]


async def test_keeping_the_last_saved_one_is_still_recorded(tmp_path, servers):
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=["local", "hosted"])
    await finished(widget)
    chat = widget.active_chat_id
    browser(widget, type="compare_keep", chat_id=chat, pane=1)  # hosted, saved last
    rows = csv_rows(tmp_path, chat)
    assert [r["role"] for r in rows][-2:] == ["select", "compare_vote"]
    assert widget.history()[-1]["content"] == "A slower answer from the hosted model."


async def test_models_of_the_providers_list_are_candidates_too(tmp_path, servers):
    fast, _ = servers
    fast.models = ["fake-model", "other-model"]
    widget = make_widget(tmp_path, OpenAICompatibleClient(fast.base_url, "fake-model", "k"))
    await widget.session.model_list.refresh()
    browser(widget, type="compare", text="Hi", candidates=["fake-model", "other-model"])
    await finished(widget)
    models = sorted(r.json["model"] for r in fast.requests if r.path.endswith("/completions"))
    assert models == ["fake-model", "other-model"]
    panes = widget.compares[widget.active_chat_id]["panes"]
    assert [p["status"] for p in panes] == ["complete", "complete"]


def slow_comparison(tmp_path, servers, text: str) -> tuple[ChatWidget, str]:
    """A comparison of both servers, each streaming 20 tokens a second: (widget, chat)."""
    for server in servers:
        server.tokens_per_s = 20
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text=text, candidates=["local", "hosted"])
    return widget, widget.active_chat_id


async def test_stop_stops_every_pane_and_saves_each_as_stopped(tmp_path, servers):
    widget, chat = slow_comparison(tmp_path, servers, "Tell me a long story")
    for _ in range(200):
        await asyncio.sleep(0.01)
        panes = widget.session.compares[chat].panes
        if all(p.reply.text_parts for p in panes):
            break
    browser(widget, type="stop", chat_id=chat)
    await finished(widget)
    panes = widget.compares[chat]["panes"]
    assert [p["status"] for p in panes] == ["stopped", "stopped"]
    assert all(p["message_id"] is not None and p["text"] for p in panes)
    assert not widget.busy
    rows = [r for r in csv_rows(tmp_path, chat) if r["role"] in ("assistant", "status")]
    assert [r["role"] for r in rows] == ["assistant", "status", "assistant", "status"]
    assert all(servers[i].wait_for_disconnect(-1, 5) for i in (0, 1))


async def test_blind_mode_hides_the_names_until_one_is_kept(tmp_path, servers):
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=["local", "hosted"], blind=True)
    chat = widget.active_chat_id
    await finished(widget)
    state = widget.compares[chat]
    assert state["blind"]
    assert [(p["label"], p["model"]) for p in state["panes"]] == [("Model A", ""), ("Model B", "")]
    names = json.dumps([{k: v for k, v in p.items() if k != "text"} for p in state["panes"]])
    assert "local" not in names and "hosted" not in names
    browser(widget, type="compare_keep", chat_id=chat, pane=0)
    rows = csv_rows(tmp_path, chat)
    vote = json.loads([r for r in rows if r["role"] == "compare_vote"][0]["content"])
    assert vote["blind"] is True and vote["kept"] == "local"


async def test_one_candidate_failing_does_not_stop_the_other(tmp_path, servers):
    fast, slow = servers
    slow.script(FakeProvider.error(500, {"error": {"message": "boom", "type": "server_error"}}))
    slow.script(*[FakeProvider.error(500, {"error": {"message": "boom"}})] * 5)
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=["local", "hosted"])
    await finished(widget)
    local, hosted = widget.compares[widget.active_chat_id]["panes"]
    assert local["status"] == "complete" and local["text"] == "Fast answer from local."
    assert hosted["status"] == "error" and hosted["error"]
    assert hosted["message_id"] is not None  # saved as a failed version, like any reply


@pytest.mark.parametrize(
    ("candidates", "says"),
    [
        (["local"], "2 to 4"),
        (["local", "hosted", "a", "b", "c"], "2 to 4"),
        (["local", "local"], "twice"),
        (["local", "nobody"], "no model 'nobody'"),
        ("local", "2 to 4"),
        (["local", ""], "1 to 200"),
    ],
)
def test_bad_compare_commands_are_refused_clearly(tmp_path, servers, candidates, says):
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=candidates)
    assert says in widget.error
    assert widget.session.chats() == [] or not widget.session.replies


async def test_compare_is_refused_while_a_reply_streams_and_keep_while_panes_stream(
    tmp_path, servers
):
    widget, chat = slow_comparison(tmp_path, servers, "Hi")
    await asyncio.sleep(0.05)
    browser(widget, type="compare", chat_id=chat, text="Again", candidates=["local", "hosted"])
    assert "still streaming" in widget.error
    browser(widget, type="compare_keep", chat_id=chat, pane=0)
    assert "still streaming" in widget.error
    browser(widget, type="send", chat_id=chat, text="And?")
    assert "still streaming" in widget.error
    browser(widget, type="stop", chat_id=chat)
    await finished(widget)
    browser(widget, type="compare_keep", chat_id=chat, pane=7)
    assert "cannot be kept" in widget.error


async def test_a_new_message_closes_an_open_comparison_without_a_vote(tmp_path, servers):
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=["local", "hosted"])
    chat = widget.active_chat_id
    await finished(widget)
    await widget.ask("Next")
    assert widget.compares == {}
    roles = [m["role"] for m in widget.history()]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert not [r for r in csv_rows(tmp_path, chat) if r["role"] == "compare_vote"]


async def test_deleting_the_chat_mid_comparison_saves_nothing(tmp_path, servers):
    widget, chat = slow_comparison(tmp_path, servers, "Hi")
    await asyncio.sleep(0.05)
    browser(widget, type="delete", chat_id=chat)
    await finished(widget)
    assert not widget.session.has_chat(chat) and widget.compares == {}
    assert not widget.session.replies


def test_livechat_compare_names_the_other_servers_and_never_the_main_key(monkeypatch):
    from livechat_widget.app import UsageError, build_env, parse_args
    from livechat_widget.providers.compare_env import compare_clients_from_env, parse_compare

    assert parse_compare("local=http://127.0.0.1:8000/v1#llama hosted=https://x.example/v1") == [
        ("local", "http://127.0.0.1:8000/v1", "llama"),
        ("hosted", "https://x.example/v1", ""),
    ]
    for bad, says in [
        ("local", "NAME=BASE_URL"),
        ("lo cal=http://x", "NAME=BASE_URL"),
        ("a=ftp://x", "http://"),
        ("a=http://x a=http://y", "twice"),
    ]:
        with pytest.raises(ValueError, match=says):
            parse_compare(bad)
    args = parse_args(["--compare", "a=http://127.0.0.1:1/v1#m1", "--compare", "b=http://h/v1"])
    env = build_env(args, {"LIVECHAT_API_KEY": "main-secret"})
    assert env["LIVECHAT_COMPARE"] == "a=http://127.0.0.1:1/v1#m1 b=http://h/v1"
    with pytest.raises(UsageError, match="NAME=BASE_URL"):
        build_env(parse_args(["--compare", "nonsense"]), {})
    clients = compare_clients_from_env({**env, "LIVECHAT_COMPARE_API_KEY": "other"})
    assert list(clients) == ["a", "b"]
    assert clients["a"].model == "m1" and clients["a"].base_url == "http://127.0.0.1:1/v1"
    assert clients["a"]._api_key == "other"
    assert compare_clients_from_env({"LIVECHAT_API_KEY": "main-secret"}) == {}
    only_main = compare_clients_from_env({**env, "LIVECHAT_API_KEY": "main-secret"})
    assert only_main["a"]._api_key is None  # the main key never goes to another server


def test_compare_view_opens_a_replay_result_in_the_panes(tmp_path, servers):
    import pandas as pd

    from livechat_widget import compare_view

    result = pd.DataFrame(
        [
            {"chat_id": CHAT, "turn": 1, "client": "local", "model": "llama", "reply": "L1",
             "original_reply": "O1", "fork_chat_id": "f1"},
            {"chat_id": CHAT, "turn": 1, "client": "hosted", "model": "gpt", "reply": "H1",
             "original_reply": "O1", "fork_chat_id": "f2"},
            {"chat_id": CHAT, "turn": 3, "client": "local", "model": "llama", "reply": "L3",
             "original_reply": "O3", "fork_chat_id": "f1"},
        ]
    )  # fmt: skip
    widget = compare_widget(tmp_path, servers)
    assert compare_view(result, widget) is widget
    assert len(widget.chats) == 2 and len(widget.compares) == 2
    first = widget.compares[widget.active_chat_id]
    assert not first["streaming"]
    assert [(p["label"], p["model"], p["text"]) for p in first["panes"]] == [
        ("original", "", "O1"),
        ("local", "llama", "L1"),
        ("hosted", "gpt", "H1"),
    ]
    assert [m["content"] for m in widget.messages] == [f"Replay of chat {CHAT[:8]}…, turn 1"]
    # Keep works as after a live comparison.
    browser(widget, type="compare_keep", chat_id=widget.active_chat_id, pane=2)
    assert widget.history()[-1]["content"] == "H1"
    assert (widget.history()[-1]["version"], widget.history()[-1]["versions"]) == (3, 3)
    with pytest.raises(ValueError, match="missing: original_reply"):
        compare_view(result.drop(columns=["original_reply"]), widget)
    # Without a widget: a new one on a scratch folder.
    scratch = compare_view(result)
    assert len(scratch.chats) == 2 and scratch.title == "Replay"


async def test_closing_the_widget_mid_comparison_saves_both_as_stopped(tmp_path, servers):
    widget, chat = slow_comparison(tmp_path, servers, "Hi")
    session = widget.session
    await asyncio.sleep(0.2)
    widget.close()
    for _ in range(300):
        if not session.replies:
            break
        await asyncio.sleep(0.01)
    assert not session.replies
    rows = csv_rows(tmp_path, chat)
    assert [r["content"] for r in rows if r["role"] == "status"] == ["stopped", "stopped"]


async def test_stop_at_once_saves_both_as_stopped(tmp_path, servers):
    widget = compare_widget(tmp_path, servers)
    browser(widget, type="compare", text="Hi", candidates=["local", "hosted"])
    chat = widget.active_chat_id
    browser(widget, type="stop", chat_id=chat)  # before any task ran
    await finished(widget)
    for _ in range(300):
        panes = widget.compares[chat]["panes"]
        if all(p["message_id"] is not None for p in panes):
            break
        await asyncio.sleep(0.01)
    assert [p["status"] for p in panes] == ["stopped", "stopped"]
    rows = csv_rows(tmp_path, chat)
    assert [r["content"] for r in rows if r["role"] == "status"] == ["stopped", "stopped"]
    browser(widget, type="compare_keep", chat_id=chat, pane=0)
    assert not widget.error and widget.history()[-1]["status"] == "stopped"
