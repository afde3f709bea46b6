"""livechat_widget.replay: past turns sent again, exactly as they were sent, to other
clients; the replies kept as forks; the result as a DataFrame (issue 26)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_provider import STALL, FakeProvider, FakeResponse, error
from pngs import png
from provider_clients import openai
from widget_doubles import make_widget

import livechat_widget
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore
from livechat_widget.providers.config import RetryPolicy
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.replay_fork import REPLAY_ROLE
from livechat_widget.replay_frame import COLUMNS, ReplayFrame

CONTEXT = "Variable x: int = 42"


@pytest.fixture
def servers():
    with FakeProvider("Original answer.") as first, FakeProvider("Local answer.") as local:
        with FakeProvider("Hosted answer.") as hosted:
            yield first, local, hosted


def candidate(fp: FakeProvider, model: str, **kw: Any) -> OpenAICompatibleClient:
    retry = RetryPolicy(max_retries=kw.pop("max_retries", 0), backoff_base=0.01)
    return OpenAICompatibleClient(fp.base_url, model, "sk-test", retry=retry, **kw)


async def saved_chat(tmp_path: Path, fp: FakeProvider) -> str:
    """A chat written by a real session: a system prompt and a temperature, a user turn
    with a context row, its reply (with usage), a settings change, a second turn."""
    widget = make_widget(tmp_path, openai(fp), allow_kernel_context=False, allow_code=False)
    widget.configure(system_prompt="Answer in one line.", temperature=0.25)
    chat_id = widget.active_chat_id
    session = widget.session
    await session.wait(session.start_reply(chat_id, "What is x?", context=CONTEXT))
    widget.configure(chat_id, temperature=0.75)
    await session.wait(session.start_reply(chat_id, "And twice x?"))
    widget.close()
    return chat_id


def chat_file(tmp_path: Path, chat_id: str) -> Path:
    return tmp_path / "logs" / f"{chat_id}.csv"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def body(fp: FakeProvider, index: int, model: str = "") -> bytes:
    """A recorded request's body, its model name put back to the original's."""
    data = fp.requests[index].body
    return data.replace(f'"{model}"'.encode(), b'"fake-model"') if model else data


def chat_posts(fp: FakeProvider) -> list[int]:
    return [i for i, r in enumerate(fp.requests) if r.path.endswith("/chat/completions")]


async def test_a_replayed_turn_sends_each_server_what_the_chat_sent_byte_for_byte(
    tmp_path, servers
):
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    path = chat_file(tmp_path, chat_id)
    before = sha256(path)
    clients = {"local": candidate(local, "local-7b"), "hosted": candidate(hosted, "big-model")}

    df = await livechat_widget.replay(
        livechat_widget.read_chats(tmp_path / "logs"), clients, progress=False
    )

    assert sha256(path) == before  # the original chat is never written
    original = body(first, chat_posts(first)[-1])
    sent = json.loads(original)
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one line."}
    assert sent["messages"][1]["content"] == f"{CONTEXT}\n\nWhat is x?"  # the context row
    assert sent["temperature"] == 0.75  # the settings of the chat at that turn
    assert json.loads(local.requests[-1].body)["model"] == "local-7b"
    assert json.loads(hosted.requests[-1].body)["model"] == "big-model"
    assert body(local, -1, "local-7b") == original  # byte for byte, but the model
    assert body(hosted, -1, "big-model") == original
    assert list(df["client"]) == ["local", "hosted"]
    assert list(df["reply"]) == ["Local answer.", "Hosted answer."]
    assert list(df["original_reply"]) == ["Original answer.", "Original answer."]
    assert list(df["finish"]) == ["complete", "complete"]
    assert list(df["turn"]) == [2, 2]  # the second user message (0: user, 1: reply)


async def test_turns_all_sends_each_turn_with_only_what_came_before_it(tmp_path, servers):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    df = await livechat_widget.replay(
        [chat_id],
        {"local": candidate(local, "local-7b")},
        turns="all",
        folder=tmp_path / "logs",
        progress=False,
    )
    assert list(df["turn"]) == [0, 2]
    originals = [body(first, i) for i in chat_posts(first)]
    replayed = [body(local, i, "local-7b") for i in chat_posts(local)]
    assert sorted(replayed) == sorted(originals)  # concurrent: any order
    first_turn = json.loads(next(b for b in replayed if b"twice" not in b))
    assert first_turn["temperature"] == 0.25  # the later settings row does not apply
    assert len(first_turn["messages"]) == 2  # the system prompt and the first turn


async def test_each_reply_is_a_new_forked_chat_with_the_rows_up_to_its_turn(tmp_path, servers):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    df = await livechat_widget.replay(
        [str(chat_file(tmp_path, chat_id))],
        {"local": candidate(local, "local-7b")},
        turns="all",
        progress=False,
    )
    registry = ChatRegistry(CsvStore(tmp_path / "logs"))
    assert len(registry) == 3  # the original and two forks
    original = registry.messages(chat_id)
    for turn, fork_id in zip(df["turn"], df["fork_chat_id"], strict=True):
        assert fork_id and fork_id != chat_id
        messages = registry.messages(fork_id)
        assert [m.content for m in messages[:-1]] == [m.content for m in original[: turn + 1]]
        assert messages[turn].context == original[turn].context
        assert messages[-1].role == "assistant" and messages[-1].content == "Local answer."
        assert messages[-1].usage is not None and messages[-1].usage.model == "local-7b"
        title = registry.get(fork_id).title
        assert title == "What is x? · replay on local"
        rows = CsvStore(tmp_path / "logs").load_records(fork_id)
        marker = [r for r in rows if r[2] == REPLAY_ROLE]
        assert json.loads(marker[0][3]) == {
            "chat_id": chat_id,
            "turn": turn,
            "client": "local",
            "model": "local-7b",
        }


async def test_the_result_has_the_documented_columns_and_dtypes(tmp_path, servers):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    df = await livechat_widget.replay(
        [chat_id],
        {"local": candidate(local, "local-7b")},
        folder=tmp_path / "logs",
        progress=False,
    )
    assert isinstance(df, pd.DataFrame) and isinstance(df, ReplayFrame)
    assert list(df.columns) == list(COLUMNS)
    for name, kind in COLUMNS.items():
        if kind == "str":
            assert pd.api.types.is_string_dtype(df[name]), name
        else:
            assert str(df[name].dtype) == kind, name
    row = df.iloc[0]
    assert row["chat_id"] == chat_id and row["model"] == "local-7b"
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0  # the server's counts
    assert row["ttft_ms"] >= 0 and row["tokens_per_s"] > 0
    assert pd.isna(row["cost"])  # a server on 127.0.0.1 has no list price
    assert row["error"] == "" and row["reply_chars"] == len("Local answer.")
    assert pd.isna(row["code_ok"])  # run_code was not asked for
    assert isinstance(df[df["client"] == "local"], ReplayFrame)  # pandas keeps the type


async def test_the_result_shows_a_summary_per_client_and_prices_from_livechat_prices(
    tmp_path, servers, monkeypatch
):
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    monkeypatch.setenv(
        "LIVECHAT_PRICES",
        json.dumps({"big-model": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}),
    )
    hosted.script(error(429, headers={"retry-after": "0"}))
    clients = {"local": candidate(local, "local-7b"), "hosted": candidate(hosted, "big-model")}
    df = await livechat_widget.replay(
        [chat_id], clients, folder=tmp_path / "logs", turns="all", progress=False
    )
    summary = df.summary()
    assert list(summary["client"]) == ["local", "hosted"]
    assert list(summary["replies"]) == [2, 1] and list(summary["errors"]) == [0, 1]
    assert pd.isna(summary["total_cost"][0]) and summary["total_cost"][1] > 0
    assert livechat_widget.replay_summary(df).equals(summary)
    page = df._repr_html_()
    assert page.index("median_ttft_ms") < page.index("original_reply")  # summary first


async def test_a_failing_client_marks_only_its_own_rows(tmp_path, servers):
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    path = chat_file(tmp_path, chat_id)
    before = sha256(path)
    too_long = {
        "error": {
            "message": "This model's maximum context length is 8 tokens",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    hosted.set_handler(lambda request: error(400, too_long))
    local.script(error(429, headers={"retry-after": "0"}))  # the first request only
    clients = {"local": candidate(local, "local-7b"), "hosted": candidate(hosted, "big-model")}
    df = await livechat_widget.replay(
        [chat_id],
        clients,
        folder=tmp_path / "logs",
        turns="all",
        concurrency=1,
        progress=False,
    )
    hosted_rows = df[df["client"] == "hosted"]
    assert list(hosted_rows["finish"]) == ["error", "error"]
    assert all("context" in e.lower() for e in hosted_rows["error"])
    assert list(hosted_rows["fork_chat_id"]) == ["", ""]  # nothing said: no fork
    local_rows = df[df["client"] == "local"]
    assert list(local_rows["finish"]) == ["error", "complete"]
    assert "rate" in local_rows["error"].iloc[0].lower() or "429" in local_rows["error"].iloc[0]
    assert local_rows["reply"].iloc[1] == "Local answer." and local_rows["error"].iloc[1] == ""
    assert sha256(path) == before


def local_and_stalled_hosted(local, hosted) -> dict:
    """Two candidates: ``local`` answers, ``hosted`` sends its headers and then nothing."""
    hosted.set_handler(
        lambda request: FakeResponse(200, {"content-type": "text/event-stream"}, [STALL])
    )
    return {"local": candidate(local, "local-7b"), "hosted": candidate(hosted, "big-model")}


async def test_stop_ends_it_keeping_the_rows_that_finished(tmp_path, servers):
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    clients = local_and_stalled_hosted(local, hosted)
    job = livechat_widget.replay(
        [chat_id], clients, folder=tmp_path / "logs", turns="all", progress=False
    )
    assert await hosted.async_wait_for_requests(2)
    while len(job._rows) < 2:  # the local replies end; the hosted ones never do
        await asyncio.sleep(0.01)
    assert job.stop() is True
    df = await job
    assert list(df[df["client"] == "local"]["finish"]) == ["complete", "complete"]
    assert list(df[df["client"] == "hosted"]["finish"]) == ["stopped", "stopped"]
    assert await hosted.async_wait_for_disconnect(0) and await hosted.async_wait_for_disconnect(1)
    assert job.stop() is False  # over already
    assert job.result().equals(df)


async def test_cancelling_the_awaiting_task_stops_it_and_returns_what_finished(tmp_path, servers):
    """Ctrl+C in a notebook cancels the task of the cell awaiting the replay."""
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    clients = local_and_stalled_hosted(local, hosted)
    job = livechat_widget.replay(
        [chat_id], clients, folder=tmp_path / "logs", concurrency=2, progress=False
    )
    cell = asyncio.ensure_future(job.wait())
    assert await hosted.async_wait_for_requests(1)
    while not job._rows:
        await asyncio.sleep(0.01)
    cell.cancel()
    df = await cell
    assert list(df["finish"]) == ["complete", "stopped"]
    assert await hosted.async_wait_for_disconnect(0)


async def test_concurrency_caps_the_requests_in_flight(tmp_path, servers):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    local.set_handler(
        lambda request: FakeResponse(200, {"content-type": "text/event-stream"}, [STALL])
    )
    clients = {f"c{i}": candidate(local, f"m{i}") for i in range(3)}
    job = livechat_widget.replay(
        [chat_id],
        clients,
        folder=tmp_path / "logs",
        turns="all",
        concurrency=2,
        progress=False,
    )
    assert await local.async_wait_for_requests(2)
    await asyncio.sleep(0.2)
    assert len(local.requests) == 2  # the other four wait for a free slot
    job.stop()
    df = await job
    assert list(df["finish"]) == ["stopped"] * 6


async def test_run_code_checks_the_python_blocks_in_a_fresh_process(tmp_path, servers):
    first, local, hosted = servers
    chat_id = await saved_chat(tmp_path, first)
    local.text = "Here:\n```python\nimport math\ny = math.sqrt(16)\nassert y == 4\n```\n"
    hosted.text = "Here:\n```python\nimport json\n```\n```python\nprint(x)\n```\n"
    clients = {"local": candidate(local, "a"), "hosted": candidate(hosted, "b")}
    folder = tmp_path / "logs"
    df = await livechat_widget.replay(
        [chat_id], clients, folder=folder, run_code=True, progress=False
    )
    assert list(df["code_ok"]) == [True, False]  # x exists only in the kernel
    df = await livechat_widget.replay([chat_id], clients, folder=folder, progress=False)
    assert list(df["code_ok"].isna()) == [True, True]  # run only when asked
    first.text = "No code here."
    df = await livechat_widget.replay(
        [chat_id],
        {"first": candidate(first, "c")},
        folder=folder,
        run_code=True,
        progress=False,
    )
    assert df["code_ok"].isna().all()  # nothing to run


async def test_the_progress_bar_counts_the_replies(tmp_path, servers, capsys):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    await livechat_widget.replay(
        [chat_id], {"local": candidate(local, "a")}, folder=tmp_path / "logs", turns="all"
    )
    assert "2/2" in capsys.readouterr().err  # tqdm's text bar, outside a notebook


@pytest.mark.parametrize(
    ("kwargs", "kind", "says"),
    [
        ({"chats": ["6f1b2c3d-0000-4000-8000-000000000000"]}, ValueError, "no chat"),
        ({"chats": ["not a chat"]}, ValueError, "neither a chat id"),
        ({"chats": []}, ValueError, "no chats"),
        ({"clients": {}}, ValueError, "clients is empty"),
        ({"clients": [1]}, TypeError, "dict of labels"),
        ({"clients": {"x": object()}}, TypeError, "is not a chat client"),
        ({"clients": {"": None}}, ValueError, "label"),
        ({"concurrency": 0}, ValueError, "between 1 and 16"),
        ({"concurrency": 17}, ValueError, "between 1 and 16"),
        ({"concurrency": 2.5}, TypeError, "whole number"),
        ({"turns": "some"}, ValueError, 'turns must be "last" or "all"'),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    tmp_path, servers, kwargs, kind, says
):
    first, local, _ = servers
    chat_id = await saved_chat(tmp_path, first)
    posts = len(local.requests)
    arguments: dict[str, Any] = {
        "chats": [chat_id],
        "clients": {"local": candidate(local, "a")},
        "folder": tmp_path / "logs",
        **kwargs,
    }
    with pytest.raises(kind, match=says):
        livechat_widget.replay(arguments.pop("chats"), arguments.pop("clients"), **arguments)
    assert len(local.requests) == posts


async def test_a_dataframe_without_chat_ids_is_refused(tmp_path, servers):
    with pytest.raises(ValueError, match="no chat_id column"):
        livechat_widget.replay(pd.DataFrame({"x": [1]}), {"a": candidate(servers[1], "a")})


async def test_a_turn_with_a_file_sends_it_as_it_was_sent_and_the_fork_keeps_it(tmp_path, servers):
    first, local, _ = servers
    widget = make_widget(tmp_path, openai(first), allow_kernel_context=False, allow_code=False)
    picture = png(3, 2)
    reply = widget.session.start_reply("", "What is in it?", files=[("dot.png", picture)])
    await widget.session.wait(reply)
    chat_id = reply.chat_id
    widget.close()
    df = await livechat_widget.replay(
        [chat_id],
        {"local": candidate(local, "local-7b")},
        folder=tmp_path / "logs",
        progress=False,
    )
    original = body(first, chat_posts(first)[-1])
    assert b"image_url" in original  # the file went with the message
    assert body(local, chat_posts(local)[-1], "local-7b") == original
    fork = ChatRegistry(CsvStore(tmp_path / "logs")).messages(df["fork_chat_id"].iloc[0])
    (attachment,) = fork[0].attachments
    files = tmp_path / "logs" / f"{df['fork_chat_id'].iloc[0]}.files"
    assert (files / f"{attachment.sha256}.png").read_bytes() == picture


async def test_an_edited_turn_is_replayed_as_the_version_shown(tmp_path, servers):
    first, local, _ = servers
    first.text = lambda request: "Reply to " + request.json["messages"][-1]["content"]
    widget = make_widget(tmp_path, openai(first), allow_kernel_context=False, allow_code=False)
    session = widget.session
    reply = session.start_reply("", "Draft question")
    await session.wait(reply)
    chat_id = reply.chat_id
    await session.wait(session.start_reply(chat_id, "Next question"))
    await session.wait(session.start_reply(chat_id, "Better question", replaces=0))
    widget.close()
    df = await livechat_widget.replay(
        [chat_id],
        {"local": candidate(local, "local-7b")},
        folder=tmp_path / "logs",
        turns="all",
        progress=False,
    )
    assert list(df["turn"]) == [4]  # the edit, shown; its old branch is not replayed
    assert list(df["original_reply"]) == ["Reply to Better question"]
    assert body(local, chat_posts(local)[-1], "local-7b") == body(first, chat_posts(first)[-1])
    sent = json.loads(local.requests[-1].body)["messages"]
    assert [m["content"] for m in sent] == ["Better question"]


def test_from_a_script_it_starts_when_awaited(tmp_path, servers):
    first, local, _ = servers
    chat_id = asyncio.run(saved_chat(tmp_path, first))
    job = livechat_widget.replay(
        [chat_id], {"local": candidate(local, "a")}, folder=tmp_path / "logs", progress=False
    )
    assert not job.done() and chat_posts(local) == []  # no loop yet: nothing sent
    df = asyncio.run(job.wait())
    assert list(df["finish"]) == ["complete"] and job.done()
