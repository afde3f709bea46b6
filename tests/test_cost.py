"""What replies cost: prices (genai-prices' table, LIVECHAT_PRICES, a chat's own),
the ``cost`` of each reply's usage row and in ``history()``, the sums per chat and
overall, and the budget (``max_cost``) that refuses a send before anything is saved.
Replies come from the fake provider, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import genai_prices  # the `prices` extra (the `test` extra installs it)
import pytest
from fake_provider import FakeProvider
from widget_doubles import browser, csv_rows, make_widget, settle

from livechat_widget import folders as folders_module
from livechat_widget.chat_settings import SettingsError
from livechat_widget.prices import (
    Prices,
    PricesError,
    PriceTable,
    list_price,
    parse_price_table,
    prices_from_env,
    reply_cost,
)
from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.reply_usage import Usage, merge_totals, usage_totals
from livechat_widget.session_budget import BudgetExceeded
from livechat_widget.widget import ChatWidget


@dataclass
class Client:
    provider: str = "openai-compatible"
    base_url: str = ""


@pytest.fixture(autouse=True)
def fresh_folders(monkeypatch):
    monkeypatch.setattr(folders_module, "_FOLDERS", {})
    monkeypatch.delenv("LIVECHAT_PRICES", raising=False)


@pytest.fixture
def fp():
    with FakeProvider() as server:
        yield server


def openai_widget(tmp_path: Path, fp: FakeProvider, **kwargs) -> ChatWidget:
    return make_widget(tmp_path, OpenAICompatibleClient(fp.base_url, "fake-model", "k"), **kwargs)


def usage(prompt: int, completion: int, *, model: str = "m", cost: float | None = None) -> Usage:
    return Usage(model, prompt, completion, False, None, None, (), cost)


# ------------------------------------------------------------------- the price table


def test_list_prices_of_real_models_come_from_genai_prices():
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1_000_000, output_tokens=1_000_000),
        "gpt-4o-mini",
        provider_id="openai",
    ).total_price
    openai = OpenAICompatibleClient("https://api.openai.com/v1", "gpt-4o-mini", "k")
    assert list_price("gpt-4o-mini", openai, 1_000_000, 1_000_000) == float(expected) > 0
    claude = AnthropicClient("claude-haiku-4-5", "k")
    haiku = list_price("claude-haiku-4-5", claude, 1_000_000, 0)
    assert haiku is not None and haiku > 0
    # A gateway the table does not know: the model name alone.
    proxy = Client(base_url="https://llm-gateway.example.com/v1")
    assert list_price("gpt-4o-mini", proxy, 1_000_000, 1_000_000) == float(expected)


def test_no_list_price_for_local_servers_the_demo_or_unknown_models():
    for client in (
        Client(base_url="http://127.0.0.1:8080/v1"),
        Client(base_url="http://localhost:11434/v1"),
        Client(base_url="http://192.168.1.20:8000/v1"),
        Client(base_url="http://gpu-box:8000/v1"),
        Client(provider="ollama", base_url="http://ollama.example.com/v1"),
        Client(provider="demo"),
    ):
        assert list_price("gpt-4o-mini", client, 1000, 1000) is None, client
    cloud = Client(provider="openai", base_url="https://api.openai.com/v1")
    assert list_price("no-such-model-anywhere", cloud, 1000, 1000) is None


def test_without_the_package_there_is_no_list_price(monkeypatch):
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # import fails
    cloud = Client(provider="openai", base_url="https://api.openai.com/v1")
    assert list_price("gpt-4o-mini", cloud, 1000, 1000) is None
    assert reply_cost(usage(1000, 1000, model="gpt-4o-mini"), cloud) is None
    assert reply_cost(usage(1000, 1000), cloud, Prices(1.0, 2.0)) == pytest.approx(0.003)


def test_an_override_prices_any_model_per_million_tokens():
    local = Client(base_url="http://127.0.0.1:8080/v1")
    assert reply_cost(usage(2_000_000, 500_000), local, Prices(1.0, 2.0)) == pytest.approx(3.0)
    assert reply_cost(usage(0, 0), local, Prices(1.0, 2.0)) == 0.0
    assert reply_cost(Usage("m", None, None, True, None, None), local, Prices(1, 2)) is None


def test_livechat_prices_for_every_model_or_per_model():
    every = prices_from_env({"LIVECHAT_PRICES": '{"input_per_mtok": 1, "output_per_mtok": 2.5}'})
    assert every.for_model("anything") == Prices(1.0, 2.5)
    per = prices_from_env(
        {"LIVECHAT_PRICES": json.dumps({"llama": {"input_per_mtok": 0, "output_per_mtok": 0}})}
    )
    assert per.for_model("llama") == Prices(0.0, 0.0) and per.for_model("other") is None
    star = parse_price_table(
        {"big": {"input_per_mtok": 5, "output_per_mtok": 15}, "*": Prices(1, 1).as_dict()}
    )
    assert star.for_model("big") == Prices(5, 15) and star.for_model("small") == Prices(1, 1)
    assert (
        prices_from_env({}) == PriceTable()
        and prices_from_env({"LIVECHAT_PRICES": " "}).models == {}
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{not json", "LIVECHAT_PRICES is not valid JSON"),
        ('["a"]', "LIVECHAT_PRICES must be a JSON object"),
        ('{"input_per_mtok": "one", "output_per_mtok": 2}', "input_per_mtok must be a number"),
        ('{"input_per_mtok": 1, "output_per_mtok": -2}', "output_per_mtok must not be negative"),
        ('{"input_per_mtok": 1}', "output_per_mtok is missing"),
        ('{"m": {"input_per_mtok": 1, "output_per_mtok": true}}', "['m'].output_per_mtok must be"),
        ('{"m": {"input": 1}}', "unknown field 'input'"),
        ('{"m": 3}', "LIVECHAT_PRICES['m'] must be an object"),
    ],
)
def test_a_malformed_livechat_prices_is_a_clear_error(value, says):
    with pytest.raises(PricesError, match=None) as info:
        prices_from_env({"LIVECHAT_PRICES": value})
    assert says in str(info.value)


def test_a_malformed_livechat_prices_stops_the_widget_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVECHAT_PRICES", '{"input_per_mtok": "cheap", "output_per_mtok": 1}')
    with pytest.raises(ValueError, match="input_per_mtok must be a number"):
        make_widget(tmp_path)


def test_a_malformed_livechat_prices_stops_the_livechat_command(tmp_path, monkeypatch, capsys):
    from livechat_widget import app

    monkeypatch.setenv("LIVECHAT_PRICES", '{"input_per_mtok": 1, "output_per_mtok": -1}')
    assert app.main(["--no-browser", "--chat-logs", str(tmp_path / "logs")]) == 2
    err = capsys.readouterr().err
    assert "livechat: error: LIVECHAT_PRICES.output_per_mtok must not be negative." in err


# ------------------------------------------------------------ usage rows and totals


def test_cost_in_the_usage_row_and_old_rows_without_it():
    priced = usage(10, 20, cost=0.5)
    assert json.loads(priced.to_json())["cost"] == 0.5
    assert Usage.from_json(priced.to_json()) == priced
    unpriced = usage(10, 20)
    assert "cost" not in json.loads(unpriced.to_json())  # as the rows always were
    old = '{"model": "m", "prompt_tokens": 1, "completion_tokens": 2, "estimated": false}'
    assert Usage.from_json(old).cost is None
    assert Usage.from_json(old.replace("}", ', "cost": "lots"}')).cost is None
    assert Usage.from_json(old.replace("}", ', "cost": -1}')).cost is None


def test_totals_sum_the_known_costs_and_say_none_when_no_reply_had_one():
    assert usage_totals([usage(1, 1), usage(1, 1)])["cost"] is None
    totals = usage_totals([usage(1, 1, cost=0.25), usage(1, 1), usage(1, 1, cost=0.5)])
    assert totals["cost"] == 0.75 and totals["replies"] == 3
    merge_totals(totals, usage_totals([usage(1, 1)]))
    assert totals["cost"] == 0.75 and totals["replies"] == 4
    merge_totals(totals, usage_totals([usage(1, 1, cost=1.0)]))
    assert totals["cost"] == 1.75


async def test_a_replys_cost_with_livechat_prices_in_history_the_row_and_the_sums(
    tmp_path, fp, monkeypatch
):
    monkeypatch.setenv(
        "LIVECHAT_PRICES", '{"fake-model": {"input_per_mtok": 1, "output_per_mtok": 2}}'
    )
    widget = openai_widget(tmp_path, fp)
    reply = await widget.ask("How much?")
    counted = reply["usage"]
    assert counted["estimated"] is False and counted["prompt_tokens"] == 9
    expected = (9 * 1 + counted["completion_tokens"] * 2) / 1e6
    assert counted["cost"] == pytest.approx(expected)
    assert widget.history()[-1]["usage"]["cost"] == pytest.approx(expected)
    row = csv_rows(tmp_path, widget.active_chat_id, usage=True)[-1]
    assert json.loads(row["content"])["cost"] == pytest.approx(expected)
    first = widget.active_chat_id
    widget.new_chat()
    await widget.ask("And again?")
    assert widget.stats["chat"]["cost"] == pytest.approx(expected)
    assert widget.stats["overall"]["cost"] == pytest.approx(2 * expected)
    widget.select(first)
    assert widget.stats["chat"]["cost"] == pytest.approx(expected)
    # Read from the files by a new widget: the same sums.
    folders_module._FOLDERS.clear()
    again = openai_widget(tmp_path, fp)
    assert again.stats["overall"]["cost"] == pytest.approx(2 * expected)


async def test_a_request_refused_before_any_answer_costs_nothing(tmp_path, fp, monkeypatch):
    monkeypatch.setenv("LIVECHAT_PRICES", '{"input_per_mtok": 1, "output_per_mtok": 2}')
    widget = openai_widget(tmp_path, fp)
    paid = await widget.ask("First.")
    assert paid["usage"]["cost"] > 0
    too_long = {"error": {"message": "This model's maximum context length is 2048 tokens"}}
    fp.script(FakeProvider.error(400, too_long))
    refused = await widget.ask("Second, too long.")
    assert refused["status"] == "error" and refused["error_kind"] == "context_length"
    assert refused["usage"]["prompt_tokens"] > 0 and refused["usage"]["cost"] is None
    assert widget.stats["chat"]["cost"] == pytest.approx(paid["usage"]["cost"])


async def test_without_a_price_the_cost_is_none_and_nothing_sums(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)  # a server on 127.0.0.1: no list price
    reply = await widget.ask("Free?")
    assert reply["usage"]["cost"] is None
    assert widget.stats["chat"]["cost"] is None and widget.stats["overall"]["cost"] is None


async def test_a_chats_own_prices_win_and_go_back_to_the_default(tmp_path, fp, monkeypatch):
    monkeypatch.setenv("LIVECHAT_PRICES", '{"input_per_mtok": 1, "output_per_mtok": 1}')
    widget = openai_widget(tmp_path, fp)
    settings = widget.configure(prices={"input_per_mtok": 1000, "output_per_mtok": 1000})
    assert settings["prices"] == {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}
    dear = (await widget.ask("Dear?"))["usage"]
    assert dear["cost"] == pytest.approx((dear["prompt_tokens"] + dear["completion_tokens"]) / 1000)
    assert widget.configure(prices=None)["prices"] is None
    cheap = (await widget.ask("Cheap?"))["usage"]
    assert cheap["cost"] == pytest.approx(
        (cheap["prompt_tokens"] + cheap["completion_tokens"]) / 1e6
    )


# ------------------------------------------------------------------- bad settings


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"prices": {"input_per_mtok": "1", "output_per_mtok": 2}},
            "input_per_mtok must be a number",
        ),
        ({"prices": {"input_per_mtok": float("nan"), "output_per_mtok": 2}}, "must be a number"),
        ({"prices": {"input_per_mtok": 1}}, "output_per_mtok is missing"),
        ({"prices": 3}, "prices must be an object"),
        ({"max_cost": -0.01}, "The budget (max_cost) must not be below zero."),
        ({"max_cost": "1"}, "The budget (max_cost) must be a number of dollars."),
        ({"context_window": 0}, "The context window must be between 1 and"),
        ({"context_window": 1.5}, "The context window must be a whole number of tokens."),
    ],
)
def test_bad_cost_settings_are_refused_from_python_and_from_the_browser(tmp_path, changes, says):
    widget = make_widget(tmp_path)
    with pytest.raises(SettingsError) as info:
        widget.configure(**changes)
    assert says in str(info.value)
    assert widget.chats == []  # nothing was created or written
    browser(widget, type="configure", model="demo", system_prompt="", **changes)
    assert says in widget.error
    assert widget.chats == []


def test_cost_settings_from_the_browser_are_kept(tmp_path):
    widget = make_widget(tmp_path)
    prices = {"input_per_mtok": 0.5, "output_per_mtok": 1.5}
    browser(
        widget,
        type="configure",
        model="demo",
        system_prompt="",
        prices=prices,
        max_cost=2,
        context_window=8192,
    )
    assert widget.error == ""
    assert widget.chat_settings["prices"] == prices
    assert widget.chat_settings["max_cost"] == 2.0
    assert widget.chat_settings["context_window"] == 8192
    rows = csv_rows(tmp_path, widget.active_chat_id)
    assert [r["role"] for r in rows] == ["settings"]
    assert json.loads(rows[0]["content"])["max_cost"] == 2.0


# ----------------------------------------------------------------------- the budget


async def test_a_send_past_the_budget_is_refused_before_anything_is_saved(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)
    widget.configure(prices={"input_per_mtok": 1000, "output_per_mtok": 1000})
    first = await widget.ask("Spend a little.")
    spent = first["usage"]["cost"]
    widget.configure(max_cost=round(spent + 0.001, 6))
    chat_id = widget.active_chat_id
    before = csv_rows(tmp_path, chat_id, usage=True)
    posts = len([r for r in fp.requests if r.method == "POST"])
    with pytest.raises(BudgetExceeded) as info:
        await widget.ask("One more, please.")
    text = str(info.value)
    assert text.startswith(
        f"This chat's budget is ${spent + 0.001:.4f} and it has cost ${spent:.4f};"
    )
    assert "the next request would cost about $0.0" in text
    assert "chat.configure(max_cost=…) or in Settings" in text
    browser(widget, type="send", text="From the page, then.", chat_id=chat_id)
    assert widget.error == text  # the same note in the banner
    assert csv_rows(tmp_path, chat_id, usage=True) == before  # nothing saved
    assert len([r for r in fp.requests if r.method == "POST"]) == posts  # nothing sent
    # Raised: the send goes through.
    widget.configure(max_cost=1.0)
    assert (await widget.ask("Now?"))["status"] == "complete"


async def test_a_budget_without_a_price_says_so_once_and_does_not_block(tmp_path, fp):
    widget = openai_widget(tmp_path, fp)
    widget.configure(max_cost=0.0)
    await widget.ask("Is this priced?")
    assert "budget ($0.0000) cannot be checked: no price is known for fake-model" in widget.error
    widget.error = ""
    reply = await widget.ask("Still not?")
    assert reply["status"] == "complete" and widget.error == ""  # said once
    await settle(widget)
