"""ChatWidget model tests: driven through the same custom messages the browser sends."""

from __future__ import annotations

import asyncio
import csv
import json
from typing import Any

import pytest
from widget_doubles import (
    ScriptedClient,
    answer,
    browser,
    csv_rows,
    custom,
    make_widget,
    opened,
    settle,
)

from livechat_widget.chat_registry import ChatInfo, ChatRegistry
from livechat_widget.csv_storage import CsvStore
from livechat_widget.history import model_history
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.errors import ProviderError
from livechat_widget.widget import OPEN_WINDOW, WINDOW, ChatWidget

# -------------------------------------------------------------------- tests


async def test_send_streams_deltas_then_done_and_persists(tmp_path):
    widget = make_widget(tmp_path, ScriptedClient(pieces=["a"] * 50, delay=0.002))
    browser(widget, type="send", text="Hi there")
    chat_id = widget.active_chat_id
    assert widget.busy and chat_id in widget.streams
    assert [m["role"] for m in widget.messages] == ["user"]
    await settle(widget)

    deltas, (done,) = custom(widget, "delta"), custom(widget, "done")
    assert [d["seq"] for d in deltas] == list(range(len(deltas)))
    assert 1 <= len(deltas) < 50, "deltas are coalesced, not one per token"
    assert "".join(d["text"] for d in deltas) == done["text"] == "a" * 50
    assert done["status"] == "complete" and done["seq"] == deltas[-1]["seq"]
    assert widget.wire.index({"method": "custom", "content": done}) > max(
        widget.wire.index({"method": "custom", "content": d}) for d in deltas
    )

    rows = csv_rows(tmp_path, chat_id)
    assert [(r["role"], r["content"], r["user_id"]) for r in rows] == [
        ("user", "Hi there", "ada"),
        ("assistant", "a" * 50, "ada"),
    ]
    usage = json.loads(csv_rows(tmp_path, chat_id, usage=True)[-1]["content"])
    assert usage["model"] == "scripted-1" and usage["estimated"] is True  # no counts sent
    assert not widget.busy and widget.streams == {}
    assert [(m["role"], m["status"]) for m in widget.messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert widget.chats[0].id == chat_id and widget.chats[0].message_count == 2


async def test_user_row_is_on_disk_before_the_model_is_called(tmp_path):
    seen: list[list[dict[str, str]]] = []

    def check_disk(messages):
        (path,) = (tmp_path / "logs").glob("*.csv")
        with open(path, newline="", encoding="utf-8") as f:
            seen.append([(r["role"], r["content"]) for r in csv.DictReader(f)])

    widget = make_widget(tmp_path, ScriptedClient(on_request=check_disk))
    browser(widget, type="send", text="durable first")
    await settle(widget)
    # The prompt, and the mark that a reply to it began (reply_keeper.py).
    assert seen == [[("user", "durable first"), ("partial", "")]]


async def test_stop_keeps_and_persists_the_partial_reply(tmp_path):
    gate = asyncio.Event()
    client = ScriptedClient(pieces=["one ", "two ", "three"], gate=gate)
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="count")
    chat_id = widget.active_chat_id
    for _ in range(100):  # wait for the first delta to be flushed
        if custom(widget, "delta"):
            break
        await asyncio.sleep(0.01)
    browser(widget, type="stop", chat_id=chat_id)
    await settle(widget)

    (done,) = custom(widget, "done")
    assert (done["status"], done["text"]) == ("stopped", "one ")
    assert client.streams[0].closed, "the HTTP stream is closed at once"
    rows = csv_rows(tmp_path, chat_id)
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "count"),
        ("assistant", "one "),
        ("status", "stopped"),
    ]
    assert widget.messages[-1]["status"] == "stopped"
    # A rebuilt registry (new process) reads the same marker.
    assert ChatRegistry(CsvStore(tmp_path / "logs")).messages(chat_id)[-1].status == "stopped"


async def test_provider_error_keeps_partial_text_and_retry_answers_again(tmp_path):
    client = ScriptedClient(pieces=["partial"], fail=ProviderError("The model server failed."))
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="question")
    await settle(widget)
    chat_id = widget.active_chat_id
    last = widget.messages[-1]
    assert (last["content"], last["status"]) == ("partial", "error")
    assert "model server failed" in last["error"]
    assert csv_rows(tmp_path, chat_id)[-1]["content"].startswith("error: ")

    client.fail = None
    client.pieces = ["fixed"]
    browser(widget, type="retry", chat_id=chat_id)
    await settle(widget)
    # The retry is a second version of the reply; it is the one shown.
    assert [(m["content"], m["status"], m["version"], m["versions"]) for m in widget.messages] == [
        ("question", "complete", 1, 1),
        ("fixed", "complete", 2, 2),
    ]
    widget.select_version(widget.messages[-1]["id"], 1)
    assert [(m["content"], m["status"]) for m in widget.messages][-1] == ("partial", "error")
    # The retry asked the same question again; the failed answer is not sent.
    assert client.requests[1] == [{"role": "user", "content": "question"}]


async def test_reply_keeps_streaming_into_its_chat_when_switching(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(pieces=["x", "y", "z"], gate=gate))
    other = widget.new_chat("Other")
    browser(widget, type="send", text="in A", chat_id="")
    # "" means the active chat: the Other chat
    chat_a = widget.active_chat_id
    assert chat_a == other.id
    chat_b = widget.new_chat("B").id
    assert widget.active_chat_id == chat_b and not widget.busy
    assert chat_a in widget.streams
    gate.set()
    await settle(widget)
    assert widget.active_chat_id == chat_b and widget.messages == []
    assert [r["content"] for r in csv_rows(tmp_path, chat_a)][-1] == "xyz"
    browser(widget, type="select_chat", chat_id=chat_a)
    assert [m["content"] for m in widget.messages] == ["in A", "xyz"]


async def test_second_send_in_a_streaming_chat_is_refused(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(gate=gate))
    browser(widget, type="send", text="first")
    browser(widget, type="send", text="second")
    assert "still streaming" in widget.error
    gate.set()
    await settle(widget)
    assert [r["content"] for r in csv_rows(tmp_path, widget.active_chat_id)] == [
        "first",
        "Hello there",
    ]


async def test_python_api(tmp_path):
    widget = make_widget(tmp_path)
    seen: list[tuple[str, str]] = []
    widget.on_message(lambda m: seen.append((m["role"], m["content"])))

    reply = await widget.ask("From a cell")
    assert (reply["role"], reply["content"], reply["status"]) == (
        "assistant",
        "Hello there",
        "complete",
    )
    first = widget.active_chat_id
    assert [m["content"] for m in widget.history()] == ["From a cell", "Hello there"]
    assert seen == [("user", "From a cell"), ("assistant", "Hello there")]

    info = widget.new_chat("Second")
    assert isinstance(info, ChatInfo) and widget.active_chat_id == info.id
    await widget.ask("again")
    widget.rename(first, "Renamed")
    assert [c.title for c in widget.chats] == ["Renamed", "Second"]
    widget.select(first)
    assert widget.messages[0]["content"] == "From a cell"

    archived = widget.clear(info.id)
    assert archived.exists() and archived.parent.name == "archive"
    widget.delete(first)
    assert widget.chats == [] and widget.active_chat_id == ""
    with pytest.raises(KeyError):
        widget.select(first)
    with pytest.raises(ValueError):
        await widget.ask("   ")


async def test_a_failing_callback_is_shown_and_the_chat_goes_on(tmp_path):
    widget = make_widget(tmp_path)

    def broken(message):
        raise RuntimeError("boom")

    widget.on_message(broken)
    reply = await widget.ask("hi")
    assert reply["status"] == "complete"
    assert "boom" in widget.error


async def test_reply_from_python_streams_to_views_like_one_from_the_browser(tmp_path):
    widget = make_widget(tmp_path, ScriptedClient(pieces=["p"] * 10, delay=0.003))
    await widget.ask("from python")
    assert custom(widget, "delta") and custom(widget, "done")[0]["text"] == "p" * 10


FORGED: list[Any] = [
    None,
    [],
    "send",
    42,
    {},
    {"type": 3},
    {"type": "explode"},
    {"type": "__init__"},
    {"type": "send"},
    {"type": "send", "text": 5},
    {"type": "send", "text": "   "},
    {"type": "send", "text": "x" * 100_001},
    {"type": "send", "text": "hi", "chat_id": "../../etc/passwd"},
    {"type": "send", "text": "hi", "chat_id": "00000000-0000-4000-8000-000000000000"},
    {"type": "select_chat", "chat_id": "../x"},
    {"type": "select_chat"},
    {"type": "select_chat", "chat_id": "0ABCDEF0-0000-4000-8000-000000000000"},
    {"type": "rename", "chat_id": "00000000-0000-4000-8000-000000000000", "title": "t"},
    {"type": "rename", "chat_id": None, "title": "t"},
    {"type": "delete", "chat_id": "/tmp"},
    {"type": "clear", "chat_id": ["a"]},
    {"type": "search", "query": {"$gt": ""}},
    {"type": "search", "query": "q" * 501},
    {"type": "load_older", "chat_id": "x", "before": 1},
    {"type": "stop", "chat_id": 7},
]


@pytest.mark.parametrize("msg", FORGED, ids=lambda m: json.dumps(m)[:60])
async def test_malformed_and_forged_messages_change_nothing(tmp_path, msg):
    widget = make_widget(tmp_path)
    await widget.ask("keep me")
    chat_id = widget.active_chat_id
    before_state = json.dumps(widget.get_state(), sort_keys=True, default=str)
    files = sorted(p.name for p in (tmp_path / "logs").rglob("*"))

    browser(widget, **msg) if isinstance(msg, dict) else widget._handle_custom_msg(msg, [])

    assert widget.error, "a rejected message explains itself in the banner"
    widget.error = ""
    assert json.dumps(widget.get_state(), sort_keys=True, default=str) == before_state
    assert sorted(p.name for p in (tmp_path / "logs").rglob("*")) == files
    assert widget.active_chat_id == chat_id and not widget.session.replies


async def test_browser_cannot_write_state(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask("hello")
    messages = widget.messages
    widget.set_state({"messages": [], "active_chat_id": "forged", "busy": True})
    assert widget.messages == messages and widget.active_chat_id != "forged"
    assert not widget.busy
    assert any(m.get("method") == "update" and "messages" in m["state"] for m in widget.wire)


async def test_no_secret_path_or_base_url_in_state(tmp_path, monkeypatch):
    from livechat_widget.providers.openai import OpenAICompatibleClient

    secret = "sk-test-very-secret-key-123"
    client = OpenAICompatibleClient("http://127.0.0.1:9/v1/private", "gpt-test", api_key=secret)
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="hello")  # connection refused -> error bubble
    await settle(widget)
    state = widget.get_state()
    assert widget.messages[-1]["status"] == "error"
    assert "127.0.0.1:9" in widget.messages[-1]["error"], "the error still names the server"
    everything = json.dumps(state, default=str)
    for leak in (secret, str(tmp_path), "/v1/private"):
        assert leak not in everything
    # The bundled front end mentions URLs of its own (SVG namespaces); the data must not.
    data = json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})
    assert "http://" not in data
    await client.aclose()


def long_chat(tmp_path, n: int) -> str:
    """A chat of `n` alternating messages m0..m{n-1} in the widget's folder."""
    registry = ChatRegistry(CsvStore(tmp_path / "logs"))
    chat_id = registry.new("Long").id
    for i in range(n):
        registry.append(chat_id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    return chat_id


async def test_window_and_load_older(tmp_path):
    chat_id = long_chat(tmp_path, 250)
    widget = make_widget(tmp_path)
    assert widget.active_chat_id == chat_id
    # Opening sends the newest few; each request for older ones a page of WINDOW more.
    assert len(widget.messages) == OPEN_WINDOW and widget.has_older
    first = 250 - OPEN_WINDOW
    assert widget.messages[0]["id"] == first and widget.messages[-1]["content"] == "m249"

    browser(widget, type="load_older", chat_id=chat_id, before=first - 1)  # stale: ignored
    assert len(widget.messages) == OPEN_WINDOW
    browser(widget, type="load_older", chat_id=chat_id, before=first)
    assert widget.messages[0]["id"] == first - WINDOW and widget.has_older
    while widget.has_older:
        browser(widget, type="load_older", chat_id=chat_id, before=widget.messages[0]["id"])
    assert [m["id"] for m in widget.messages] == list(range(250))


async def test_a_window_of_the_history_is_the_same_as_slicing_the_whole(tmp_path):
    chat_id = long_chat(tmp_path, 40)
    session = make_widget(tmp_path).session
    whole = session.history(chat_id)
    assert len(whole) == 40
    for start in (0, 1, 25, 39, 40, 41):
        assert session.history(chat_id, start) == whole[start:]
    # A window keeps the newest few at least: it starts earlier when asked too late.
    assert session.history_window(chat_id, 39, 30) == (10, whole[10:])
    assert session.history_window(chat_id, 5, 30) == (5, whole[5:])
    assert session.history_window(chat_id, 5, 100) == (0, whole)
    assert session.history("") == [] and session.history_window("", 0, 30) == (0, [])


async def test_regenerate_sends_history_without_superseded_replies(tmp_path):
    client = ScriptedClient(pieces=["first answer"])
    widget = make_widget(tmp_path, client)
    await widget.ask("q1")
    client.pieces = ["second answer"]
    browser(widget, type="regenerate", chat_id=widget.active_chat_id)
    await settle(widget)
    assert client.requests[1] == [{"role": "user", "content": "q1"}]
    client.pieces = ["third"]
    await widget.ask("q2")
    assert client.requests[2] == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "second answer"},
        {"role": "user", "content": "q2"},
    ]


async def test_delete_while_streaming_discards_the_reply(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(gate=gate))
    browser(widget, type="send", text="doomed")
    chat_id = widget.active_chat_id
    browser(widget, type="delete", chat_id=chat_id)
    gate.set()
    await settle(widget)
    await asyncio.sleep(0.05)
    assert not (tmp_path / "logs" / f"{chat_id}.csv").exists()
    assert widget.chats == [] and widget.streams == {} and not widget.busy


async def test_rename_search_new_chat_and_clear_from_the_browser(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask("I like octopus recipes")
    chat_id = widget.active_chat_id
    browser(widget, type="rename", chat_id=chat_id, title="  Sea   food ")
    assert widget.chats[0].title == "Sea food"
    browser(widget, type="search", query="OCTOPUS", request="v1-1")
    found = answer(widget, "v1-1")
    assert found is not None and found["type"] == "search_results"
    assert found["query"] == "OCTOPUS"
    assert [h["chat_id"] for h in found["hits"]] == [chat_id]
    assert "octopus" in found["hits"][0]["snippet"].lower()
    browser(widget, type="new_chat")
    assert widget.active_chat_id == "" and widget.messages == []
    assert len(list((tmp_path / "logs").glob("*.csv"))) == 1, "no file until a message"
    browser(widget, type="clear", chat_id=chat_id)
    assert widget.chats == [] and len(list((tmp_path / "logs" / "archive").glob("*.csv"))) == 1
    assert widget.error == ""


async def test_demo_client_end_to_end_and_stats(tmp_path):
    widget = make_widget(tmp_path, DemoClient(pace=0))
    reply = await widget.ask("Hello demo")
    assert reply["status"] == "complete" and "```" in reply["content"]
    assert widget.stats["totals"]["replies"] == 1
    assert widget.stats["totals"]["completed"] == 1
    assert widget.stats["recent"][0]["outcome"] == "completed"


def test_unknown_keyword_arguments_are_rejected(tmp_path):
    with pytest.raises(TypeError):
        ChatWidget(ScriptedClient(), store=tmp_path, colour="red")  # type: ignore[call-arg]


def test_model_history_merges_and_supersedes():
    from livechat_widget.csv_storage import Message

    def m(i, role, content, status="complete"):
        return Message(i, role, content, "t", "u", status, "")

    history = model_history(
        [
            m(0, "system", "be brief"),
            m(1, "user", "a"),
            m(2, "assistant", "", "error"),
            m(3, "user", "b"),
            m(4, "assistant", "old"),
            m(5, "assistant", "new"),
        ]
    )
    assert [m.to_dict() for m in history] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "new"},
    ]


def test_stats_count_only_this_widgets_replies_from_the_reply_itself(tmp_path):
    # No process-global bus: another client's telemetry event changes nothing here.
    from livechat_widget import telemetry

    widget = make_widget(tmp_path)
    telemetry.emit(("livechat", "ai", "latency_ms"), {"client": object(), "outcome": "completed"})
    assert widget.stats["totals"]["replies"] == 0


# ------------------------------------------------- against the fake provider server


async def test_with_a_real_server_user_row_first_stop_closes_and_retry(tmp_path):
    from fake_provider import FakeProvider

    from livechat_widget.providers.openai import OpenAICompatibleClient

    on_disk_at_request: list[list[str]] = []

    def reply_text(request) -> str:
        (path,) = (tmp_path / "logs").glob("*.csv")
        with open(path, newline="", encoding="utf-8") as f:
            on_disk_at_request.append([(r["role"], r["content"]) for r in csv.DictReader(f)])
        return " ".join(f"w{i}" for i in range(200))

    with FakeProvider(text=reply_text, tokens_per_s=100) as fp:
        client = OpenAICompatibleClient(fp.base_url, "fake-model", max_retries=0)
        widget = make_widget(tmp_path, client)
        browser(widget, type="send", text="first words")
        chat_id = widget.active_chat_id
        for _ in range(500):
            if custom(widget, "delta"):
                break
            await asyncio.sleep(0.01)
        browser(widget, type="stop", chat_id=chat_id)
        await settle(widget)
        assert on_disk_at_request == [[("user", "first words"), ("partial", "")]]
        assert await fp.async_wait_for_disconnect(0, timeout=10), "stop closed the response"
        stopped = widget.messages[-1]
        assert stopped["status"] == "stopped" and stopped["content"].startswith("w0")
        assert len(stopped["content"]) < len(reply_text(None))

        fp.down()
        await widget.ask("are you there?")
        failed = widget.messages[-1]
        assert failed["status"] == "error" and failed["error"]
        fp.up()
        fp.tokens_per_s = 0
        browser(widget, type="retry", chat_id=chat_id)
        await settle(widget)
        assert widget.messages[-1]["status"] == "complete"
        assert fp.requests[-1].json["messages"] == [
            {"role": "user", "content": "first words"},
            {"role": "assistant", "content": stopped["content"]},
            {"role": "user", "content": "are you there?"},
        ]
        await client.aclose()


def test_snapshot_covers_exactly_the_deltas_sent():
    from livechat_widget.streaming import Reply

    reply = Reply("c", 1)
    assert reply.snapshot()["seq"] == -1 and reply.snapshot()["text"] == ""
    reply.text_parts += ["a", "b"]
    reply.pending_text += ["a", "b"]
    first = reply.take_delta()
    reply.text_parts.append("c")
    reply.pending_text.append("c")  # arrived, not yet sent
    snap = reply.snapshot()
    assert (snap["seq"], snap["text"]) == (first["seq"], "ab")
    assert snap["text"] + reply.take_delta()["text"] == "abc"


# ------------------------------------------------------- robustness (review findings)


class BadPieceClient(ScriptedClient):
    def stream(self, messages):
        stream = super().stream(messages)
        stream.pieces = ["fine ", None]  # a client bug: a piece without text
        return stream


async def test_a_broken_client_piece_releases_the_chat(tmp_path):
    widget = make_widget(tmp_path, BadPieceClient())
    reply = await asyncio.wait_for(widget.ask("hi"), 30)
    assert (reply["status"], reply["content"]) == ("error", "fine ")
    assert not widget.busy and widget.streams == {} and not widget.session.replies
    widget.client.__class__ = ScriptedClient  # the client is fixed: the chat works again
    assert (await widget.ask("again"))["status"] == "complete"


async def test_a_failed_archive_keeps_the_streaming_reply_and_shows_no_path(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(gate=gate))
    browser(widget, type="send", text="keep streaming")
    chat_id = widget.active_chat_id
    (tmp_path / "logs" / "archive").write_text("not a folder")
    browser(widget, type="clear", chat_id=chat_id)
    assert widget.error and str(tmp_path) not in widget.error
    assert chat_id in widget.session.replies and widget.busy
    gate.set()
    await settle(widget)
    assert [r["content"] for r in csv_rows(tmp_path, chat_id)] == ["keep streaming", "Hello there"]
    assert not widget.busy


async def test_two_widgets_on_one_folder_share_chats_and_the_streaming_lock(tmp_path):
    gate = asyncio.Event()
    client = ScriptedClient(gate=gate)
    a, b = make_widget(tmp_path, client), make_widget(tmp_path, client)
    browser(a, type="send", text="from A")
    chat_id = a.active_chat_id
    browser(b, type="send", text="from B", chat_id=chat_id)
    assert "still streaming" in b.error
    browser(b, type="clear", chat_id=chat_id)  # B archives the chat A is answering in
    gate.set()
    await settle(a)
    await asyncio.sleep(0.05)
    assert not (tmp_path / "logs" / f"{chat_id}.csv").exists(), "not brought back"
    assert a.session.registry is b.session.registry
    (archived,) = (tmp_path / "logs" / "archive").glob("*.csv")
    with open(archived, newline="", encoding="utf-8") as f:
        # A's prompt, and the mark that a reply began: the reply itself was discarded.
        assert [(r["role"], r["content"]) for r in csv.DictReader(f)] == [
            ("user", "from A"),
            ("partial", ""),
        ]
    assert b.stats["totals"]["replies"] == 0, "A's reply is not counted by B"


async def test_a_lone_surrogate_from_the_browser_cannot_break_state_sync(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask("hello")
    browser(widget, type="rename", chat_id=widget.active_chat_id, title="x\ud83d")
    browser(widget, type="search", query="\udc00", request="s1")
    assert widget.chats[0].title == "x\ufffd"
    json.dumps(widget.get_state(), ensure_ascii=False).encode("utf-8")  # the kernel's packer


async def test_close_while_streaming_saves_the_reply_as_stopped(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(pieces=["part", "rest"], gate=gate))
    browser(widget, type="send", text="hi")
    chat_id = widget.active_chat_id
    await asyncio.sleep(0.1)
    widget.close()
    await asyncio.sleep(0.1)
    rows = csv_rows(tmp_path, chat_id)
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "hi"),
        ("assistant", "part"),
        ("status", "stopped"),
    ]


async def test_a_chat_that_cannot_be_read_leaves_the_view_where_it_was(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask("in A")
    chat_a = widget.active_chat_id
    chat_b = widget.new_chat("B").id
    widget.select(chat_a)
    # Damaged in the middle (not a torn tail): a row with two fields.
    path_b = tmp_path / "logs" / f"{chat_b}.csv"
    path_b.write_bytes(b"timestamp,user_id,role,content\nx,y\nx,y,user,z\n")
    widget.session.registry._cache.clear()  # as after a restart: B is read from disk
    browser(widget, type="select_chat", chat_id=chat_b)
    await opened(widget)
    assert "Could not access the chat files" in widget.error
    assert str(tmp_path) not in widget.error
    assert widget.active_chat_id == chat_a
    assert [m["content"] for m in widget.messages][0] == "in A"


def test_a_frame_sync_from_the_page_shifts_the_deltas_grid_and_nothing_else(tmp_path):
    widget = make_widget(tmp_path)
    clock = widget.session.frame_clock
    origin = clock.origin
    browser(widget, type="frame_sync", view="page1", shift_ms=4.0)
    assert clock.origin == origin + 0.004 and clock.leader == "page1"
    assert widget.error == ""
    browser(widget, type="frame_sync", view="page1", shift_ms=400)
    assert "-10 to 10 ms" in widget.error and clock.origin == origin + 0.004


async def test_two_widgets_on_one_folder_see_each_others_writes_without_a_reload(tmp_path):
    """Every write goes through a session, and the folder tells every session on it: a
    cell run again (or the sidebar next to an inline chat) never shows a stale list."""
    a, b = make_widget(tmp_path), make_widget(tmp_path)
    titles = lambda w: sorted(c.title for c in w.chats)  # noqa: E731

    info = a.new_chat("Planning")
    assert titles(b) == ["Planning"] and b.active_chat_id == ""  # B's view stays put
    browser(a, type="rename", chat_id=info.id, title="Plans")
    assert titles(b) == ["Plans"]
    b.select(info.id)
    await a.ask("hello", chat_id=info.id)
    assert [m["content"] for m in b.messages] == ["hello", "Hello there"]
    assert b.chats[0].message_count == 2
    other = b.new_chat("Other")
    assert titles(a) == ["Other", "Plans"]
    browser(a, type="delete", chat_id=info.id)
    assert titles(b) == ["Other"]
    assert b.active_chat_id == other.id and a.active_chat_id == other.id


async def test_a_search_in_one_view_does_not_change_what_another_view_shows(tmp_path):
    """Answers go to the view that asked (matched by its request id), never through a
    trait every view of the widget shares."""
    widget = make_widget(tmp_path)
    await widget.ask("I like octopus recipes")
    state = widget.get_state()
    sent_before = len(widget.wire)
    browser(widget, type="search", query="octopus", request="view1-7")
    assert widget.get_state() == state  # no trait changed: a second view sees nothing
    new = widget.wire[sent_before:]
    assert [m["method"] for m in new] == ["custom"]  # no state update went out
    assert new[0]["content"]["request"] == "view1-7" and new[0]["content"]["hits"]


async def test_a_chat_not_in_memory_opens_off_the_event_loop_and_the_page_is_told(tmp_path):
    """Its file is read in a worker thread: meanwhile ``opening`` names it (the page
    shows progress), the view still shows the chat it had, and the loop goes on."""
    widget = make_widget(tmp_path)
    await widget.ask("in A")
    chat_a = widget.active_chat_id
    chat_b = widget.new_chat("B").id
    await widget.ask("in B")
    widget.select(chat_a)
    big = "x" * 200_000
    store = widget.session.registry.store
    for i in range(100):  # 20 MB: parsing takes a while
        store.append(chat_b, "user" if i % 2 == 0 else "assistant", big, user_id="ada")
    widget.session.registry.refresh()
    widget.session.registry._cache.clear()  # as after a restart: B is read from disk
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    running = asyncio.ensure_future(ticker())
    browser(widget, type="select_chat", chat_id=chat_b)
    assert widget.opening == chat_b and widget.active_chat_id == chat_a
    await opened(widget)
    running.cancel()
    assert ticks > 0, "the event loop ran while the file was read"
    assert widget.active_chat_id == chat_b and widget.error == ""
    assert widget.messages[-1]["content"] == big and len(widget.messages) == 30
    widget.select(chat_a)
    browser(widget, type="select_chat", chat_id=chat_b)  # in memory now: at once
    assert widget.opening == "" and widget.active_chat_id == chat_b


async def test_files_that_are_not_chat_logs_are_counted_left_alone_and_never_shown(tmp_path):
    """A file of random bytes, or one with another header, under a chat's name: not an
    empty "New chat" (its bytes were once moved out and the file truncated), not silently
    dropped either: the chat list counts it, and the file stays byte for byte."""
    import os
    import uuid

    logs = tmp_path / "logs"
    logs.mkdir()
    noise = logs / f"{uuid.uuid4()}.csv"
    noise.write_bytes(os.urandom(3000).replace(b"\n", b"x"))  # no line end: all "torn"
    other = logs / f"{uuid.uuid4()}.csv"
    other.write_bytes(b"name,price\nwidget,3\n")
    before = {p.name: p.read_bytes() for p in (noise, other)}
    widget = make_widget(tmp_path)
    assert widget.chats == [] and widget.unreadable == 2
    assert {p.name: p.read_bytes() for p in (noise, other)} == before
    assert not (logs / "quarantine").exists()
    await widget.ask("a real chat")
    assert len(widget.chats) == 1 and widget.unreadable == 2


async def test_titles_drop_bidi_controls_and_control_characters_bodies_keep_them(tmp_path):
    """A title with U+202E would draw "RTL" as "LTR" in the chat list and the topbar (a
    spoofing risk); control characters draw as boxes. Bodies keep every character."""
    spoof = "invoice\u202eLTR.exe\u202c\x07 \u2066x\u2069"
    widget = make_widget(tmp_path)
    reply = await widget.ask(spoof)  # the derived title: from the first message
    chat_id = widget.active_chat_id
    assert widget.chats[0].title == "invoiceLTR.exe x"
    assert widget.history()[0]["content"] == spoof and reply["status"] == "complete"
    browser(widget, type="rename", chat_id=chat_id, title="Q3\u202e report\x1b[31m")
    assert widget.chats[0].title == "Q3 report[31m"
    # A title row written by an earlier version is cleaned as it is read.
    widget.session.registry.store.append(chat_id, "title", "old\u202dtitle\u200f")
    from livechat_widget import folders

    folders._FOLDERS.clear()  # a new kernel: titles from the file
    assert make_widget(tmp_path).chats[0].title == "oldtitle"
