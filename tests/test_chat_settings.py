"""Per-chat settings, reasoning and usage kept: against the fake provider (a real HTTP
server speaking the providers' formats), through the widget as the browser and a
notebook drive it, and on disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fake_provider import FakeProvider, openai_reply
from widget_doubles import (
    ScriptedClient,
    answer,
    answered,
    browser,
    csv_rows,
    make_widget,
    settle,
)

from livechat_widget import folders as folders_module
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.chat_settings import (
    ChatSettings,
    SettingsError,
    defaults_from_env,
    overrides_from_records,
)
from livechat_widget.csv_storage import CsvStore
from livechat_widget.protocol import ProtocolError, parse_command
from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.errors import AuthenticationFailed
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.widget import ChatWidget

CHAT = "11111111-1111-4111-8111-111111111111"


def openai_widget(tmp_path: Path, fp: FakeProvider, **kwargs) -> ChatWidget:
    return make_widget(tmp_path, OpenAICompatibleClient(fp.base_url, "fake-model", "k"), **kwargs)


def anthropic_widget(tmp_path: Path, fp: FakeProvider, **kwargs) -> ChatWidget:
    return make_widget(tmp_path, AnthropicClient("claude-fake", "k", base_url=fp.url), **kwargs)


def posts(fp: FakeProvider) -> list[dict]:
    return [r.json for r in fp.requests if r.method == "POST"]


@pytest.fixture(autouse=True)
def fresh_folders(monkeypatch):
    """Each test reads its folder from disk (no registry kept from another test)."""
    monkeypatch.setattr(folders_module, "_FOLDERS", {})


# ------------------------------------------------------------- the request body


async def test_openai_request_carries_the_chats_model_prompt_temperature_and_max_tokens(
    tmp_path, fp
):
    fp.models = ["fake-model", "fake-large"]
    widget = openai_widget(tmp_path, fp)
    assert widget.models() == ["fake-model", "fake-large"]
    settings = widget.configure(
        model="fake-large",
        system_prompt="Answer briefly.\nIn French.",
        temperature=0.2,
        max_tokens=50,
    )
    assert settings == {
        "model": "fake-large",
        "system_prompt": "Answer briefly.\nIn French.",
        "temperature": 0.2,
        "max_tokens": 50,
        "tools": True,
        "tool_steps": 10,
        "prices": None,
        "max_cost": None,
        "context_window": None,
    }
    assert widget.chat_settings == settings and widget.active_chat_id
    assert widget.model_label == f"fake-large via 127.0.0.1:{fp.port}"
    reply = await widget.ask("Hello")
    assert reply["status"] == "complete"
    (body,) = posts(fp)
    assert body["model"] == "fake-large"
    assert body["messages"][0] == {"role": "system", "content": "Answer briefly.\nIn French."}
    assert body["messages"][1:] == [{"role": "user", "content": "Hello"}]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert reply["usage"]["model"] == "fake-large"  # the model that wrote the reply


async def test_anthropic_request_carries_system_temperature_and_max_tokens(tmp_path, fp):
    widget = anthropic_widget(tmp_path, fp)
    widget.configure(system_prompt="Be terse.", temperature=0.7, max_tokens=33)
    await widget.ask("Hi")
    (body,) = posts(fp)
    assert body["model"] == "claude-fake"
    assert body["system"] == "Be terse."
    assert body["temperature"] == 0.7 and body["max_tokens"] == 33
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    with pytest.raises(SettingsError, match="between 0 and 1"):  # Anthropic's range
        widget.configure(temperature=1.5)


async def test_a_chat_without_settings_sends_what_it_always_sent(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)
    await widget.ask("Hi")
    (body,) = posts(fp)
    assert body["model"] == "fake-model" and body["messages"] == [{"role": "user", "content": "Hi"}]
    assert "temperature" not in body and "max_tokens" not in body
    assert widget.chat_settings == {
        "model": "fake-model",
        "system_prompt": "",
        "temperature": None,
        "max_tokens": None,
        "tools": True,
        "tool_steps": 10,
        "prices": None,
        "max_cost": None,
        "context_window": None,
    }


async def test_defaults_for_new_chats_come_from_the_constructor_then_the_environment(
    tmp_path, fp, monkeypatch
):
    monkeypatch.setenv("LIVECHAT_SYSTEM_PROMPT", "From the environment.")
    monkeypatch.setenv("LIVECHAT_MAX_TOKENS", "77")
    widget = openai_widget(tmp_path, fp, temperature=0.5)
    await widget.ask("Hi")
    body = posts(fp)[-1]
    assert body["messages"][0] == {"role": "system", "content": "From the environment."}
    assert body["max_tokens"] == 77 and body["temperature"] == 0.5
    # A chat's own settings beat the defaults; the other chats keep following them.
    first = widget.active_chat_id
    widget.configure(first, system_prompt="Mine.")
    widget.new_chat()
    await widget.ask("Again")
    assert posts(fp)[-1]["messages"][0]["content"] == "From the environment."
    widget.select(first)
    assert widget.chat_settings["system_prompt"] == "Mine."
    widget2 = openai_widget(tmp_path, fp, model="fake-other", system_prompt="Constructor.")
    widget2.new_chat()
    assert widget2.chat_settings["model"] == "fake-other"
    assert widget2.chat_settings["system_prompt"] == "Constructor."


def test_a_bad_environment_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("LIVECHAT_MAX_TOKENS", "lots")
    with pytest.raises(SettingsError, match="LIVECHAT_MAX_TOKENS='lots' is not a number"):
        defaults_from_env()
    with pytest.raises(SettingsError, match="LIVECHAT_TEMPERATURE: The temperature must be"):
        defaults_from_env({"LIVECHAT_TEMPERATURE": "9"})
    assert defaults_from_env({}) == ChatSettings()


# ------------------------------------------------------------- kept on disk


async def test_a_new_widget_on_the_folder_shows_and_uses_the_same_settings(tmp_path, fp):
    fp.models = ["fake-model", "fake-large"]
    widget = openai_widget(tmp_path, fp)
    browser(widget, type="list_models", request="m1")
    browser(widget, type="list_models", request="m2")  # a second view, while it loads
    assert answer(widget, "m1") is None  # answered when the provider has
    for request in ("m1", "m2"):
        assert await answered(widget, request) == {
            "type": "model_list",
            "request": request,
            "names": ["fake-model", "fake-large"],
            "error": "",
        }
    assert len([p for p in fp.requests if p.path.endswith("/models")]) == 1
    browser(
        widget,
        type="configure",
        chat_id="",
        model="fake-large",
        system_prompt="Speak like a sailor.",
        temperature=1.1,
        max_tokens=200,
    )
    assert widget.error == ""
    chat_id = widget.active_chat_id
    rows = csv_rows(tmp_path, chat_id)
    assert [r["role"] for r in rows] == ["settings"]
    assert json.loads(rows[0]["content"]) == {
        "model": "fake-large",
        "system_prompt": "Speak like a sailor.",
        "temperature": 1.1,
        "max_tokens": 200,
    }
    widget.close()

    folders_module._FOLDERS.clear()  # a new process: everything from the file
    again = openai_widget(tmp_path, fp)
    assert again.active_chat_id == chat_id
    assert again.chat_settings == {
        "model": "fake-large",
        "system_prompt": "Speak like a sailor.",
        "temperature": 1.1,
        "max_tokens": 200,
        "tools": True,
        "tool_steps": 10,
        "prices": None,
        "max_cost": None,
        "context_window": None,
    }
    await again.ask("Ahoy?")
    body = posts(fp)[-1]
    assert body["model"] == "fake-large" and body["temperature"] == 1.1
    assert body["max_tokens"] == 200 and body["messages"][0]["content"] == "Speak like a sailor."


async def test_only_what_changed_is_written_and_null_goes_back_to_the_default(tmp_path):
    widget = make_widget(tmp_path, ScriptedClient(), temperature=0.4)
    widget.configure(temperature=0.9)
    chat_id = widget.active_chat_id
    widget.configure(chat_id, model="scripted-1", temperature=0.9)  # nothing new: no row
    browser(
        widget,
        type="configure",
        chat_id=chat_id,
        model="scripted-1",
        system_prompt="",
        temperature=None,
        max_tokens=12,
    )
    rows = [json.loads(r["content"]) for r in csv_rows(tmp_path, chat_id)]
    assert rows == [{"temperature": 0.9}, {"max_tokens": 12, "temperature": None}]
    assert widget.chat_settings["temperature"] == 0.4  # the default again
    await widget.ask("Hi")  # a client of one's own gets the settings as keyword arguments
    assert widget.client.options == [{"temperature": 0.4, "max_tokens": 12}]
    records = [["", "", "settings", json.dumps(r)] for r in rows]
    assert overrides_from_records(records) == {"max_tokens": 12}


async def test_reasoning_and_usage_are_in_the_csv_and_in_history(tmp_path, fp):
    fp.reasoning = "First think, then answer."
    fp.text = "The answer is 42."
    widget = openai_widget(tmp_path, fp)
    reply = await widget.ask("What is the answer?")
    assert reply["reasoning"] == "First think, then answer."
    rows = csv_rows(tmp_path, widget.active_chat_id, usage=True)
    assert [r["role"] for r in rows] == ["user", "assistant", "reasoning", "usage"]
    assert rows[2]["content"] == "First think, then answer."
    usage = json.loads(rows[3]["content"])
    assert usage["model"] == "fake-model" and usage["estimated"] is False
    assert usage["prompt_tokens"] == 9  # what the provider reported
    assert usage["completion_tokens"] > 0 and usage["ttft_ms"] >= 0
    assert usage["tokens_per_s"] is None or usage["tokens_per_s"] > 0

    folders_module._FOLDERS.clear()
    (user, assistant) = openai_widget(tmp_path, fp).history()
    assert user["reasoning"] == "" and user["usage"] is None
    assert assistant["content"] == "The answer is 42."
    assert assistant["reasoning"] == "First think, then answer."
    assert assistant["usage"] == {**usage, "cost": None}  # no price: no cost in the row
    # The reasoning is kept, not sent back to the model.
    assert assistant["content"] not in json.dumps(posts(fp)[0])


async def test_anthropic_thinking_and_usage_are_kept(tmp_path, fp):
    fp.reasoning = "Consider the question."
    widget = anthropic_widget(tmp_path, fp)
    reply = await widget.ask("Hm?")
    assert reply["reasoning"] == "Consider the question."
    assert reply["usage"]["prompt_tokens"] == 12 and reply["usage"]["estimated"] is False
    assert reply["usage"]["model"] == "claude-fake"


async def test_usage_is_estimated_and_marked_when_the_provider_sends_none(tmp_path, fp):
    fp.script(openai_reply("one two three four", usage=False))
    widget = openai_widget(tmp_path, fp)
    reply = await widget.ask("Count to four")
    usage = reply["usage"]
    assert usage["estimated"] is True
    assert usage["completion_tokens"] == 5  # 18 characters, about four a token
    assert usage["prompt_tokens"] == 4  # "Count to four"


async def test_the_stats_sum_tokens_per_chat_and_over_all_chats(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)
    await widget.ask("one")
    first = widget.active_chat_id
    per_reply = widget.stats["chat"]
    assert per_reply["replies"] == 1 and per_reply["prompt_tokens"] == 9
    widget.new_chat()
    await widget.ask("two")
    await widget.ask("three")
    assert widget.stats["chat"]["replies"] == 2
    assert widget.stats["chat"]["prompt_tokens"] == 18
    assert widget.stats["overall"]["replies"] == 3
    assert widget.stats["overall"]["prompt_tokens"] == 27
    widget.select(first)
    assert widget.stats["chat"]["replies"] == 1
    folders_module._FOLDERS.clear()  # summed from the files in a new process
    assert (
        openai_widget(tmp_path, fp).stats["overall"]["completion_tokens"]
        == (widget.stats["overall"]["completion_tokens"])
    )


def test_files_written_before_load_unchanged(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [
        ("2026-01-01T10:00:00.000Z", "ada", "user", "Hi"),
        ("2026-01-01T10:00:01.000Z", "ada", "assistant", "Hello"),
        ("2026-01-01T10:00:02.000Z", "ada", "title", "Greeting"),
        ("2026-01-01T10:00:03.000Z", "ada", "user", "More?"),
        ("2026-01-01T10:00:04.000Z", "ada", "assistant", "Sorry"),
        ("2026-01-01T10:00:04.000Z", "ada", "status", "error: boom"),
        ("2026-01-01T10:00:04.000Z", "ada", "error_kind", "context_length"),
    ]
    with open(logs / f"{CHAT}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "user_id", "role", "content"])
        writer.writerows(rows)
    before = (logs / f"{CHAT}.csv").read_bytes()
    widget = make_widget(tmp_path, ScriptedClient())
    assert widget.active_chat_id == CHAT
    assert [
        (m["role"], m["content"], m["status"], m["reasoning"], m["usage"]) for m in widget.history()
    ] == [
        ("user", "Hi", "complete", "", None),
        ("assistant", "Hello", "complete", "", None),
        ("user", "More?", "complete", "", None),
        ("assistant", "Sorry", "error", "", None),
    ]
    assert widget.history()[-1]["error_kind"] == "context_length"
    assert widget.chat_settings == {
        "model": "scripted-1",
        "system_prompt": "",
        "temperature": None,
        "max_tokens": None,
        "tools": True,
        "tool_steps": 10,
        "prices": None,
        "max_cost": None,
        "context_window": None,
    }
    assert widget.stats["chat"] == {
        "replies": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "estimated": 0,
        "cost": None,
    }
    assert (logs / f"{CHAT}.csv").read_bytes() == before  # reading wrote nothing


def test_malformed_settings_and_usage_rows_are_skipped(tmp_path):
    store = CsvStore(tmp_path / "logs")
    store.append(CHAT, "settings", '{"model": "ok-model", "temperature": 0.5}')
    store.append(CHAT, "settings", "not json")
    store.append(CHAT, "settings", '{"temperature": 99}')
    store.append(CHAT, "settings", '{"model": "http://evil.example/v1"}')
    store.append(CHAT, "user", "Hi")
    store.append(CHAT, "assistant", "Hello", events=[("usage", "[1, 2]")])
    registry = ChatRegistry(store)
    assert registry.settings(CHAT) == {"model": "ok-model", "temperature": 0.5}
    assert registry.messages(CHAT)[-1].usage is None
    assert registry.usage(CHAT)["replies"] == 0


# ------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model": "http://127.0.0.1:9/v1"}, "not a URL"),
        ({"model": "//evil"}, "not a URL"),
        ({"model": "x" * 201}, "too long"),
        ({"model": ""}, "empty"),
        ({"model": 5}, "must be text"),
        ({"temperature": 2.5}, "between 0 and 2"),
        ({"temperature": float("nan")}, "must be a number"),
        ({"temperature": True}, "must be a number"),
        ({"max_tokens": 0}, "between 1 and"),
        ({"max_tokens": 1.5}, "whole number"),
        ({"system_prompt": None}, "must be text"),
        ({"system_prompt": "x" * 100_001}, "too long"),
    ],
)
def test_browser_values_are_checked(fields, message):
    msg = {
        "type": "configure",
        "chat_id": CHAT,
        "model": "m",
        "system_prompt": "",
        "temperature": None,
        "max_tokens": None,
        **fields,
    }
    with pytest.raises(ProtocolError, match=message):
        parse_command(msg)


def test_a_refused_setting_shows_in_the_banner_and_changes_nothing(tmp_path):
    widget = make_widget(tmp_path, ScriptedClient())
    widget.configure(system_prompt="Keep me.")
    chat_id = widget.active_chat_id
    rows = csv_rows(tmp_path, chat_id)
    # A URL never; a typed name with characters no model name has only if the provider
    # lists it.
    for model, problem in (
        ("https://evil.example/v1", "not a URL"),
        ("rm -rf ~", "characters model names do not use"),
    ):
        fields = {"model": model, "system_prompt": "", "temperature": None, "max_tokens": None}
        browser(widget, type="configure", chat_id=chat_id, **fields)
        assert problem in widget.error
    assert csv_rows(tmp_path, chat_id) == rows
    assert widget.chat_settings["system_prompt"] == "Keep me."


async def test_a_listed_name_may_be_any_name_the_provider_uses(tmp_path, fp):
    fp.models = ["/models/llama 3.gguf"]
    widget = openai_widget(tmp_path, fp)
    widget.models()
    assert widget.configure(model="/models/llama 3.gguf")["model"] == "/models/llama 3.gguf"
    assert widget.model_label.startswith("llama 3.gguf via")  # no server-side path


async def test_the_model_list_of_anthropic_and_the_demo(tmp_path, fp):
    fp.models = ["claude-fake", "claude-fake-2"]
    assert anthropic_widget(tmp_path, fp).models() == ["claude-fake", "claude-fake-2"]
    (request,) = [r for r in fp.requests if r.method == "GET"]
    assert request.path.startswith("/v1/models") and request.headers["x-api-key"] == "k"
    assert "anthropic-version" in request.headers
    from livechat_widget.providers.demo import DemoClient

    assert make_widget(tmp_path / "demo", DemoClient()).models() == ["demo"]


async def test_a_refused_key_when_listing_is_a_clear_error_and_the_panel_says_so(tmp_path, fp):
    fp.set_handler(lambda r: FakeProvider.error(401))
    widget = openai_widget(tmp_path, fp)
    with pytest.raises(AuthenticationFailed):
        widget.models()
    browser(widget, type="list_models", request="m1")
    listed = await answered(widget, "m1")
    assert listed["names"] == [] and listed["error"]
    assert fp.base_url not in listed["error"]  # no URL reaches the browser
    fp.set_handler(lambda r: FakeProvider.error(404))
    assert widget.models() == []  # a server without a list: type a name


async def test_streaming_reasoning_reaches_the_view_and_the_saved_message(tmp_path, fp):
    fp.reasoning = "step one step two"
    widget = openai_widget(tmp_path, fp)
    browser(widget, type="send", text="think")
    await settle(widget)
    done = [m["content"] for m in widget.wire if m.get("method") == "custom"][-1]
    assert done["type"] == "done" and done["reasoning"] == "step one step two"
    assert widget.messages[-1]["reasoning"] == "step one step two"
    assert widget.messages[-1]["usage"]["model"] == "fake-model"
