"""Replies stopped before their first token, conversations too long for the model, and
the model a server serves when none is named (found against a real llama.cpp server)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from fake_provider import FakeProvider, FakeResponse, error, openai_reply
from widget_doubles import ScriptedClient, browser, csv_rows, custom, make_widget, settle

from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore, messages_from_rows
from livechat_widget.history import model_history, shorter_history_start
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.errors import (
    AuthenticationFailed,
    ContextTooLong,
    ModelNotFound,
    ProviderError,
    StreamInterrupted,
)
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.widget import ChatWidget

# ------------------------------------------------------- Stop before the first token


async def test_a_reply_stopped_before_its_first_token_is_saved_and_its_prompt_withdrawn(tmp_path):
    client = ScriptedClient(pieces=["never shown"], delay=30)
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="A very long prompt the server chews on")
    await asyncio.sleep(0.05)
    chat_id = widget.active_chat_id
    browser(widget, type="stop", chat_id=chat_id)
    await settle(widget)

    roles = [(m["id"], m["role"], m["content"], m["status"]) for m in widget.messages]
    assert roles == [
        (0, "user", "A very long prompt the server chews on", "complete"),
        (1, "assistant", "", "stopped"),
    ]
    done = custom(widget, "done")[-1]
    assert (done["message_id"], done["status"], done["text"]) == (1, "stopped", "")
    # The README's promise: a status row follows any reply that did not complete.
    assert [(r["role"], r["content"]) for r in csv_rows(tmp_path, chat_id)] == [
        ("user", "A very long prompt the server chews on"),
        ("assistant", ""),
        ("status", "stopped"),
    ]

    client.delay = 0
    browser(widget, type="send", text="Say hi.", chat_id=chat_id)
    await settle(widget)
    # The cancelled prompt is not sent again, not even merged into the new one.
    assert client.requests[-1] == [{"role": "user", "content": "Say hi."}]
    assert [(m["id"], m["role"]) for m in widget.messages] == [
        (0, "user"),
        (1, "assistant"),
        (2, "user"),
        (3, "assistant"),
    ]


async def test_send_returns_the_id_the_stopped_reply_really_has(tmp_path):
    client = ScriptedClient(pieces=["x"], delay=30)
    widget = make_widget(tmp_path, client)
    pending = asyncio.ensure_future(widget.ask("Long prompt"))
    await asyncio.sleep(0.05)
    assert widget.stop()
    reply = await asyncio.wait_for(pending, 10)
    assert (reply["id"], reply["status"], reply["content"]) == (1, "stopped", "")
    assert widget.history()[reply["id"]]["role"] == "assistant"
    client.delay = 0
    later = await widget.ask("Next")
    assert later["id"] == 3 and widget.history()[3]["role"] == "assistant"


async def test_regenerate_on_a_stopped_empty_reply_answers_its_prompt_again(tmp_path):
    client = ScriptedClient(pieces=["x"], delay=30)
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="First question")
    await asyncio.sleep(0.05)
    widget.stop()
    await settle(widget)
    client.delay = 0
    browser(widget, type="regenerate", chat_id=widget.active_chat_id)
    await settle(widget)
    assert client.requests[-1] == [{"role": "user", "content": "First question"}]
    browser(widget, type="send", text="Second")
    await settle(widget)
    assert [m["role"] for m in client.requests[-1]] == ["user", "assistant", "user"]
    assert client.requests[-1][0]["content"] == "First question"


def _messages(tmp_path: Path, rows: list[tuple[str, str]]):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    for role, content in rows:
        store.append(chat_id, role, content)
    return messages_from_rows(store.load(chat_id))


def test_files_written_before_the_fix_keep_their_history(tmp_path):
    # Before the fix a reply stopped before any text left no row: user, user, assistant.
    old = _messages(
        tmp_path,
        [("user", "cancelled"), ("user", "Say hi."), ("assistant", "Hi!"), ("user", "Thanks")],
    )
    assert [m.to_dict() for m in model_history(old)] == [
        {"role": "user", "content": "cancelled\n\nSay hi."},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "Thanks"},
    ]


def test_model_history_withdraws_stopped_empty_turns_only(tmp_path):
    messages = _messages(
        tmp_path,
        [
            ("user", "a"),
            ("assistant", "A"),
            ("user", "b"),
            ("assistant", ""),
            ("status", "stopped"),
            ("user", "c"),
            ("assistant", "half"),
            ("status", "stopped"),
            ("user", "d"),
        ],
    )
    assert [m.to_dict() for m in model_history(messages)] == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "c"},
        {"role": "assistant", "content": "half"},
        {"role": "user", "content": "d"},
    ]
    # The last turn stopped empty: nothing is left to answer.
    assert model_history(messages[:4]) == model_history(messages[:2])


# ------------------------------------------------- a conversation too long for the model


class ContextLimitedClient(ScriptedClient):
    """Fails with ContextTooLong while more than `limit` messages are sent."""

    def __init__(self, limit: int) -> None:
        super().__init__(pieces=["ok"])
        self.limit = limit

    def stream(self, messages):
        self.fail = (
            ContextTooLong("The conversation is too long for 'tiny'.")
            if len(messages) > self.limit
            else None
        )
        return super().stream(messages)


async def test_too_long_offers_retry_with_the_oldest_turns_left_out(tmp_path):
    client = ContextLimitedClient(limit=100)
    widget = make_widget(tmp_path, client)
    for i in range(6):
        browser(widget, type="send", text=f"question {i}")
        await settle(widget)
    chat_id = widget.active_chat_id
    client.limit = 5
    browser(widget, type="send", text="question 6")
    await settle(widget)
    failed = widget.messages[-1]
    assert (failed["status"], failed["error_kind"]) == ("error", "context_length")
    assert custom(widget, "done")[-1]["error_kind"] == "context_length"
    assert [r["role"] for r in csv_rows(tmp_path, chat_id)][-3:] == [
        "assistant",
        "status",
        "error_kind",
    ]

    browser(widget, type="retry_shorter", chat_id=chat_id)  # 7 turns -> the newest 4
    await settle(widget)
    assert widget.error == ""
    assert [m["content"] for m in client.requests[-1] if m["role"] == "user"] == [
        "question 3",
        "question 4",
        "question 5",
        "question 6",
    ]
    assert widget.messages[-1]["status"] == "error"  # 7 messages: still too many
    browser(widget, type="retry_shorter", chat_id=chat_id)  # 4 turns -> the newest 2
    await settle(widget)
    assert widget.messages[-1]["status"] == "complete"
    assert client.requests[-1][0] == {"role": "user", "content": "question 5"}
    browser(widget, type="send", text="question 7")  # later turns keep the shorter start
    await settle(widget)
    assert client.requests[-1][0] == {"role": "user", "content": "question 5"}

    # All of it survives a restart: the error kind and where the history starts.
    widget.close()
    again = ChatWidget(client, store=tmp_path / "logs", user_id="ada")
    # The failed replies are earlier versions of the last reply (Retry adds a version).
    assert again.history(chat_id)[-3]["versions"] == 3
    messages = again.session.registry.messages(chat_id)
    assert any(m.error_kind == "context_length" for m in messages)
    assert again.session.registry.history_start(chat_id) == 10


async def test_retry_shorter_with_one_turn_left_says_why(tmp_path):
    client = ContextLimitedClient(limit=0)
    widget = make_widget(tmp_path, client)
    browser(widget, type="send", text="x" * 1000)
    await settle(widget)
    browser(widget, type="retry_shorter", chat_id=widget.active_chat_id)
    assert "last message alone is too long" in widget.error
    assert len(client.requests) == 1


def test_shorter_history_start_halves_the_turns():
    store_rows = [
        ("user", "a"),
        ("assistant", "A"),
        ("user", "b"),
        ("user", "b2"),
        ("assistant", "B"),
        ("user", "c"),
    ]

    class M:
        def __init__(self, i, role):
            self.id, self.role = i, role

    messages = [M(i, role) for i, (role, _) in enumerate(store_rows)]
    assert shorter_history_start(messages, 0) == 2  # 3 turns (a, b+b2, c) -> from b
    assert shorter_history_start(messages, 2) == 5  # 2 turns -> the last one
    assert shorter_history_start(messages, 5) is None


def _client(fp: FakeProvider, model: str | None = "fake-model") -> OpenAICompatibleClient:
    return OpenAICompatibleClient(fp.base_url, model, max_retries=0, backoff_base=0.01)


async def test_an_empty_stream_is_reported_as_too_long_not_as_text_kept(fp):
    # llama.cpp's server answers a streamed prompt longer than its context with 200 and
    # an empty body.
    fp.script(FakeResponse(200, {"content-type": "text/event-stream"}, [], "close"))
    with pytest.raises(ContextTooLong) as info:
        await _client(fp).stream([{"role": "user", "content": "hi"}]).collect()
    assert "too long" in info.value.user_message
    assert "so far is kept" not in info.value.user_message


async def test_a_context_length_error_is_its_own_class(fp):
    fp.script(
        error(
            400,
            {
                "error": {
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "code": 400,
                }
            },
        ),
        error(
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
        ),
    )
    for _ in range(2):
        with pytest.raises(ContextTooLong) as info:
            await _client(fp).stream([{"role": "user", "content": "hi"}]).collect()
        assert isinstance(info.value, ProviderError)  # it was one before
        assert "oldest turns" in info.value.user_message


async def test_a_cut_before_any_text_does_not_claim_text_was_kept(fp):
    fp.script(
        FakeResponse(
            200,
            {"content-type": "text/event-stream"},
            [b'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'],
            "close",
        )
    )
    with pytest.raises(StreamInterrupted) as info:
        await _client(fp).stream([{"role": "user", "content": "hi"}]).collect()
    assert "so far is kept" not in info.value.user_message


# ------------------------------------------------------ the model the server serves


def test_a_base_url_without_a_model_asks_the_server(fp):
    client = client_from_env({"LIVECHAT_BASE_URL": fp.base_url})
    assert client.model == ""
    assert client.describe() == f"the server's model via 127.0.0.1:{fp.port}"
    openai = client_from_env({"OPENAI_API_KEY": "sk-x"})
    assert openai.model == "gpt-4o-mini"  # OpenAI itself keeps its default


async def test_the_only_listed_model_is_used_and_named(fp):
    client = _client(fp, None)
    assert await client.stream([{"role": "user", "content": "hi"}]).collect()
    posts = [r for r in fp.requests if r.method == "POST"]
    assert posts[0].json["model"] == "fake-model"
    assert client.describe() == f"fake-model via 127.0.0.1:{fp.port}"


async def test_the_first_of_several_models_is_used_with_a_note(fp):
    listing = json.dumps({"object": "list", "data": [{"id": "big"}, {"id": "small"}]})
    fp.script(
        FakeResponse(200, {"content-type": "application/json"}, [listing], "length"),
        openai_reply("hi"),
    )
    client = _client(fp, None)
    await client.stream([{"role": "user", "content": "hi"}]).collect()
    assert client.model == "big"
    assert client.describe() == f"big (first of 2 listed) via 127.0.0.1:{fp.port}"


async def test_a_server_that_lists_no_model_says_to_name_one(fp):
    fp.script(error(404, {"error": {"message": "not found"}}))
    with pytest.raises(ModelNotFound) as info:
        await _client(fp, None).stream([{"role": "user", "content": "hi"}]).collect()
    assert "LIVECHAT_MODEL" in info.value.user_message


async def test_the_widget_label_names_the_servers_model_before_the_first_reply(fp, tmp_path):
    widget = ChatWidget(_client(fp, None), store=tmp_path / "logs")
    assert widget.model_label.startswith("the server's model")
    for _ in range(500):
        if widget.model_label.startswith("fake-model"):
            break
        await asyncio.sleep(0.01)
    assert widget.model_label == f"fake-model via 127.0.0.1:{fp.port}"
    widget.close()


def test_status_rows_of_every_kind_load_in_a_plain_csv_reader(tmp_path):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    store.append(chat_id, "user", "q")
    store.append(
        chat_id, "assistant", "", status="error", error="Too long.", error_kind="context_length"
    )
    with open(store.path(chat_id), newline="", encoding="utf-8") as f:
        rows = [(r["role"], r["content"]) for r in csv.DictReader(f)]
    assert rows == [
        ("user", "q"),
        ("assistant", ""),
        ("status", "error: Too long."),
        ("error_kind", "context_length"),
    ]


async def test_a_model_named_by_its_file_on_the_server_is_labelled_by_the_file_name(fp):
    # llama-cpp-python's server lists its model as the path of the file it loaded.
    listing = json.dumps({"object": "list", "data": [{"id": "/models/SmolLM2-135M.gguf"}]})
    fp.script(FakeResponse(200, {"content-type": "application/json"}, [listing], "length"))
    client = _client(fp, None)
    await client.resolve_model()
    assert client.model == "/models/SmolLM2-135M.gguf"  # what the server is asked for
    assert client.describe() == f"SmolLM2-135M.gguf via 127.0.0.1:{fp.port}"


# ----------------------------------------------- found in review: more than one view


async def test_a_second_widget_on_the_folder_sees_a_reply_end(tmp_path):
    # Running the cell again while a reply streams makes a second widget on the folder.
    gate = asyncio.Event()
    client = ScriptedClient(gate=gate)
    a = make_widget(tmp_path, client)
    browser(a, type="send", text="from A")
    await asyncio.sleep(0.05)
    b = make_widget(tmp_path, client)
    assert b.active_chat_id == a.active_chat_id and b.busy
    gate.set()
    await settle(a)
    assert not b.busy, "B learns that the reply ended"
    assert [m["role"] for m in b.messages] == ["user", "assistant"]


async def test_deleting_a_chat_in_one_widget_moves_the_other_off_it(tmp_path):
    client = ScriptedClient(gate=asyncio.Event())
    a = make_widget(tmp_path, client)
    browser(a, type="send", text="streaming here")
    await asyncio.sleep(0.05)
    chat_id = a.active_chat_id
    b = make_widget(tmp_path, client)
    browser(b, type="delete", chat_id=chat_id)
    await settle(a)
    assert a.active_chat_id == "" and chat_id not in a.streams and not a.busy
    assert a.error == ""


def test_model_history_a_withdrawn_prompt_stays_withdrawn_past_a_system_row(tmp_path):
    messages = _messages(
        tmp_path,
        [
            ("user", "cancelled"),
            ("assistant", ""),
            ("status", "stopped"),
            ("system", "Be brief."),
            ("user", "B"),
        ],
    )
    assert [m.to_dict() for m in model_history(messages)] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "B"},
    ]


@pytest.mark.parametrize("value", ["²", "999", "-1", "x"])
def test_a_malformed_history_start_sends_the_whole_chat(tmp_path, value):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    store.append(chat_id, "user", "q")
    store.append(chat_id, "assistant", "a")
    store.append(chat_id, "history_start", value)  # a hand-edited file
    registry = ChatRegistry(store)  # must still load
    assert registry.history_start(chat_id) == 0


async def test_llama_cpp_context_size_errors_are_too_long_and_not_retried(fp):
    body = {
        "error": {
            "code": 500,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "server_error",
        }
    }
    fp.script(error(500, body), error(500, body), error(500, body))
    client = OpenAICompatibleClient(fp.base_url, "fake-model", max_retries=2, backoff_base=0.01)
    with pytest.raises(ContextTooLong):
        await client.stream([{"role": "user", "content": "hi"}]).collect()
    assert len(fp.requests) == 1  # a 500 is retried, but the same prompt would fail again


async def test_a_rejected_key_when_listing_models_says_so(fp):
    fp.script(error(401, {"error": {"message": "Invalid API key", "type": "invalid_api_key"}}))
    with pytest.raises(AuthenticationFailed):
        await _client(fp, None).resolve_model()
