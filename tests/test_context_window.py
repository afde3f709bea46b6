"""The context window: asked of the provider (llama.cpp's /props, model lists that carry
it) over real HTTP on 127.0.0.1, else the chat's setting; the ``context_gauge`` trait
that passes 80 % on a long chat before any request fails; ``trim_history``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fake_provider import FakeProvider, error
from widget_doubles import ScriptedClient, browser, csv_rows, make_widget

from livechat_widget import folders as folders_module
from livechat_widget.context_window import (
    ContextWindows,
    provider_window,
    request_tokens,
    window_from_models,
    window_from_props,
)
from livechat_widget.providers.messages import ModelMessage
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.reply_usage import StepUsage, Usage
from livechat_widget.widget import ChatWidget

WORDS = " ".join(f"word{i}" for i in range(120))  # a long reply: ~170 tokens


@pytest.fixture(autouse=True)
def fresh_folders(monkeypatch):
    monkeypatch.setattr(folders_module, "_FOLDERS", {})


@pytest.fixture
def fp():
    with FakeProvider() as server:
        yield server


def client_of(fp: FakeProvider, **kwargs) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(fp.base_url, "fake-model", "secret-key", **kwargs)


def gets(fp: FakeProvider, path: str) -> list:
    return [r for r in fp.requests if r.method == "GET" and r.path == path]


# ------------------------------------------------------------ what providers say


def test_window_from_llama_cpp_props():
    assert window_from_props({"default_generation_settings": {"n_ctx": 4096}}) == 4096
    assert window_from_props({"n_ctx": 8192, "default_generation_settings": {}}) == 8192
    assert window_from_props({"default_generation_settings": {"n_ctx": 0}}) is None
    assert window_from_props({"n_ctx": "big"}) is None
    assert window_from_props(["n_ctx"]) is None


def test_window_from_model_lists():
    def listed(**fields):
        return {"data": [{"id": "a"}, {"id": "m", **fields}]}

    assert window_from_models(listed(context_length=128000), "m") == 128000  # OpenRouter
    assert window_from_models(listed(max_model_len=32768), "m") == 32768  # vLLM
    assert window_from_models(listed(max_context_length=4096), "m") == 4096  # LM Studio
    assert window_from_models(listed(context_window=131072), "m") == 131072  # Groq
    assert window_from_models(listed(top_provider={"context_length": 2048}), "m") == 2048
    assert window_from_models(listed(), "m") is None
    assert window_from_models(listed(max_model_len=True), "m") is None
    assert window_from_models(listed(max_model_len=32768), "other") is None  # not its entry
    # One model served: its entry, whatever its name (llama.cpp names it by its file).
    assert window_from_models({"data": [{"id": "/x.gguf", "max_model_len": 1024}]}, "m") == 1024
    assert window_from_models({"models": [{"name": "m", "context_length": 99}]}, "m") == 99


async def test_a_llama_cpp_servers_props_over_http(fp):
    fp.props = {"default_generation_settings": {"n_ctx": 2048}, "total_slots": 1}
    assert await provider_window(client_of(fp), "fake-model") == 2048
    (asked,) = gets(fp, "/props")
    assert asked.headers["authorization"] == "Bearer secret-key"  # as the chat's requests


async def test_a_model_list_that_carries_the_window_over_http(fp):
    fp.model_fields = {"max_model_len": 16384}  # vLLM; no /props (404)
    assert await provider_window(client_of(fp), "fake-model") == 16384
    assert [r.path for r in fp.requests] == ["/props", "/v1/models"]
    fp.reset()
    fp.model_fields = {}
    assert await provider_window(client_of(fp), "fake-model") is None


async def test_servers_that_never_say_are_not_asked(fp):
    ollama = OpenAICompatibleClient(fp.base_url, "llama3.2", provider="ollama")
    assert await provider_window(ollama, "llama3.2") is None
    assert await provider_window(ScriptedClient(), "scripted") is None
    assert fp.requests == []
    fp.down()  # a server that is gone: unknown, no error
    assert await provider_window(client_of(fp, max_retries=0), "fake-model") is None


async def test_the_window_is_asked_once_per_model(fp):
    fp.props = {"n_ctx": 512}
    windows = ContextWindows(client_of(fp))
    told: list[int] = []
    assert windows.get("fake-model", lambda: told.append(1)) is None  # asked now
    assert windows.get("fake-model") is None  # still asking: not again
    for _ in range(500):
        if told:
            break
        await asyncio.sleep(0.01)
    assert told == [1] and windows.get("fake-model") == 512
    assert len(gets(fp, "/props")) == 1


def test_request_tokens_estimates_or_takes_the_providers_larger_count():
    history = [ModelMessage.of_text("user", "x" * 400), ModelMessage.of_text("assistant", "y" * 40)]
    assert request_tokens(history, None) == (110, True)
    reported = Usage("m", 300, 50, False, None, None)
    assert request_tokens(history, reported) == (350, False)
    small = Usage("m", 9, 5, False, None, None)
    assert request_tokens(history, small) == (110, True)  # the estimate is larger
    estimated = Usage("m", 900, 50, True, None, None)
    assert request_tokens(history, estimated) == (110, True)
    steps = (StepUsage(100, 10, None, None, None, 0), StepUsage(400, 20, None, None, None, 0))
    tools = Usage("m", 500, 30, False, None, None, steps)
    assert request_tokens(history, tools) == (420, False)  # the last request's count


# ------------------------------------------------------------------------ the gauge


def openai_widget(tmp_path: Path, fp: FakeProvider) -> ChatWidget:
    return make_widget(tmp_path, client_of(fp, max_retries=0))


async def window_known(widget: ChatWidget) -> None:
    for _ in range(500):
        if widget.context_gauge.get("window"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the context window never came")


def refuse_past(fp: FakeProvider, n_ctx: int) -> None:
    """Like llama.cpp: a request whose prompt is past the window is refused (400)."""

    def respond(request):
        if request.method != "POST":
            return fp.default_response(request)
        prompt = sum(len(m.get("content") or "") for m in request.json["messages"])
        if prompt / 4 > n_ctx:
            body = {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size",
                    "type": "exceed_context_size_error",
                }
            }
            return error(400, body)
        return fp.default_response(request)

    fp.set_handler(respond)


async def test_the_gauge_passes_80_percent_before_any_request_fails(tmp_path, fp):
    n_ctx = 2048
    fp.props = {"default_generation_settings": {"n_ctx": n_ctx}}
    fp.text = WORDS
    refuse_past(fp, n_ctx)
    widget = openai_widget(tmp_path, fp)
    assert widget.context_gauge["window"] is None  # a short chat asks nothing
    shares = []
    for turn in range(40):
        reply = await widget.ask(f"Turn {turn}: tell me more. " + "Please be thorough. " * 10)
        assert reply["status"] == "complete", reply["error"]  # no request failed
        if widget.context_gauge["tokens"] >= 1000:
            await window_known(widget)
        gauge = widget.context_gauge
        if gauge["window"]:
            shares.append(gauge["tokens"] / gauge["window"])
            if shares[-1] >= 0.8:
                break
    assert gauge["window"] == n_ctx and shares[-1] >= 0.8, shares
    assert gauge["estimated"] is True  # the fake reports 9 prompt tokens: the estimate is larger
    assert len(gets(fp, "/props")) == 1  # asked once
    # "Continue without oldest turns": nothing is sent, the gauge drops.
    posts = len([r for r in fp.requests if r.method == "POST"])
    browser(widget, type="trim_history", chat_id=widget.active_chat_id)
    assert widget.error == ""
    assert widget.context_gauge["tokens"] / n_ctx < 0.6
    assert len([r for r in fp.requests if r.method == "POST"]) == posts
    rows = csv_rows(tmp_path, widget.active_chat_id)
    assert rows[-1]["role"] == "history_start"
    assert (await widget.ask("Still there?"))["status"] == "complete"


async def test_the_chats_setting_gives_the_window_and_wins(tmp_path, fp):
    fp.props = {"n_ctx": 100_000}
    widget = openai_widget(tmp_path, fp)
    await widget.ask("Hello")
    assert widget.context_gauge["window"] is None
    widget.configure(context_window=64)
    gauge = widget.context_gauge
    assert gauge["window"] == 64 and gauge["tokens"] > 0
    assert gets(fp, "/props") == []  # the setting needs no question
    widget.configure(context_window=None)
    assert widget.context_gauge["window"] is None


def test_the_gauge_counts_the_system_prompt_of_a_new_chat(tmp_path):
    widget = make_widget(tmp_path, system_prompt="s" * 400)
    widget.configure(context_window=1000)
    assert widget.context_gauge == {"tokens": 100, "window": 1000, "estimated": True}


async def test_trim_history_refused_with_one_turn_or_while_streaming(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)
    await widget.ask("Only one turn")
    chat_id = widget.active_chat_id
    browser(widget, type="trim_history", chat_id=chat_id)
    assert "There is only one turn to send" in widget.error
    assert [r["role"] for r in csv_rows(tmp_path, chat_id)] == ["user", "assistant"]
    fp.tokens_per_s = 20
    browser(widget, type="send", text="A second one", chat_id=chat_id)
    browser(widget, type="trim_history", chat_id=chat_id)
    assert "A reply is still streaming in this chat" in widget.error
    browser(widget, type="stop", chat_id=chat_id)
    browser(widget, type="trim_history", chat_id="not-a-chat")
    assert "chat" in widget.error.lower()
    assert json.dumps(widget.context_gauge)  # always JSON for the page
