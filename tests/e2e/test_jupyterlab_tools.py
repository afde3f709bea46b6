"""The model working in the kernel, in a real JupyterLab (Playwright + Debian Chromium,
the fake provider streaming OpenAI tool calls): it lists the variables and describes
`df` without asking, proposes `df.groupby(...).mean()`, runs it once allowed and
answers; in another chat it is denied and told so; Stop interrupts a tool running
`time.sleep(30)`. After a reload the cards are redrawn from the chat's file, whose rows
are in order."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

from fake_provider import FakeResponse, openai_reply, openai_tool_calls
from playwright.sync_api import Page, expect
from test_jupyterlab import cells, chat_in, open_notebook, run_cell
from test_jupyterlab_kernel_access import write_notebook
from test_voila_app import axe_violations

GROUPBY = 'df.groupby("city").mean()'


def script(request) -> FakeResponse:
    """The fake model: what it does next depends on the tool results since the
    person's last message (OpenAI messages, as the client sends them)."""
    messages = request.json["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    asked = messages[last_user]["content"]
    results = [m for m in messages[last_user:] if m["role"] == "tool"]
    if "sleep" in asked:
        if not results:
            return openai_tool_calls([("sleepy", "run_python", json.dumps({"code": SLEEP}))])
        return openai_reply("It was stopped.")
    steps = [
        ("call_list", "list_variables", "{}", "Let me look at your kernel."),
        ("call_describe", "describe_variable", '{"name": "df"}', ""),
        ("call_mean", "run_python", json.dumps({"code": GROUPBY}), "I will compute the means."),
    ]
    if len(results) < len(steps):
        call_id, name, arguments, text = steps[len(results)]
        return openai_tool_calls([(call_id, name, arguments)], text, tokens_per_s=200)
    if "did not allow" in results[-1]["content"]:
        return openai_reply("Understood: I did not run it. df has 3 cities.", tokens_per_s=200)
    return openai_reply("The mean temperatures are in the table above.", tokens_per_s=200)


SLEEP = "import time\ntime.sleep(30)"


def widget(page: Page):
    return chat_in(cells(page).nth(1).locator(".jp-OutputArea"))


def rows(chat_logs: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(chat_logs.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            out[path.stem] = [r for r in csv.DictReader(f) if r["role"] != "partial"]
    return out


def send(page: Page, text: str) -> None:
    root, box = widget(page)
    box.fill(text)
    box.press("Enter")


def test_the_model_reads_asks_runs_is_denied_and_is_stopped(
    start_lab, fake_provider, new_context, shot
):
    fake_provider.set_handler(script)
    lab = start_lab()
    page = open_notebook(new_context, lab, write_notebook(lab.root))
    run_cell(page, 0)  # df
    run_cell(page, 1)  # the chat
    root, box = widget(page)
    expect(box).to_be_editable()

    send(page, "What is the mean temperature per city in df?")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    cards = reply.locator(".lc-tool")
    # The reading tools ran without asking; the run waits for the person.
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("list_variables")
    expect(cards.nth(0).locator(".lc-tool-badge")).to_contain_text("Done")
    expect(cards.nth(1).locator(".lc-tool-badge")).to_contain_text("Done")
    run = cards.nth(2)
    expect(run.locator(".lc-tool-badge")).to_have_text("Waiting for you")
    expect(run.locator(".lc-tool-args")).to_contain_text(GROUPBY)
    expect(run.get_by_role("button", name="Allow once")).to_be_visible()
    expect(reply).to_contain_text("Let me look at your kernel.")
    shot(page, "waiting-for-consent")
    assert axe_violations(page) == []
    run.get_by_role("button", name="Allow once").click()
    expect(run.locator(".lc-tool-badge")).to_contain_text("Done")
    expect(reply).to_contain_text("The mean temperatures are in the table above.")
    run.locator(".lc-tool-summary").click()
    expect(run.locator(".lc-tool-result pre")).to_contain_text("19.0")  # Lima's mean
    expect(root.get_by_role("button", name="Send")).to_be_visible()
    shot(page, "allowed-and-answered")
    assert axe_violations(page) == []

    # What the model was sent: the list, then df's description, then the run's table.
    tool_results = [
        m["content"] for m in fake_provider.requests[-1].json["messages"] if m["role"] == "tool"
    ]
    assert "df: DataFrame, 3 rows × 2 columns" in tool_results[0]
    assert "| Oslo | 3.5 |" in tool_results[1]
    assert re.search(r"Lima\s+19\.0", tool_results[2])

    # A second chat: Deny tells the model, which answers without the run.
    root.get_by_role("button", name="New chat").first.click()
    send(page, "Same question, df means per city?")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    run = reply.locator(".lc-tool").nth(2)
    expect(run.locator(".lc-tool-badge")).to_have_text("Waiting for you")
    run.get_by_role("button", name="Deny").click()
    expect(run.locator(".lc-tool-badge")).to_have_text("Denied")
    expect(reply).to_contain_text("Understood: I did not run it.")
    assert "did not allow" in fake_provider.requests[-1].json["messages"][-1]["content"]

    # A third: Stop while the allowed tool sleeps interrupts the kernel.
    root.get_by_role("button", name="New chat").first.click()
    send(page, "Please sleep for a while")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    card = reply.locator(".lc-tool")
    card.get_by_role("button", name="Allow once").click()
    expect(card.locator(".lc-tool-badge")).to_have_text("Running…")
    time.sleep(1)  # it is in time.sleep(30) now
    began = time.monotonic()
    root.get_by_role("button", name="Stop").click()
    expect(card.locator(".lc-tool-badge")).to_have_text("Stopped")
    stopped_after = time.monotonic() - began
    expect(root.get_by_role("button", name="Send")).to_be_visible()
    print(f"Stop to a stopped tool card: {stopped_after:.2f} s")  # figure for the notes
    expect(page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle")).to_have_count(1)

    # The chat files hold every step, in order.
    chats = rows(lab.chat_logs)
    assert len(chats) == 3
    by_first = {r[0]["content"]: r for r in chats.values() if r and r[0]["role"] == "user"}
    first = by_first["What is the mean temperature per city in df?"]
    assert [r["role"] for r in first if r["role"] not in ("usage", "settings")] == [
        "user",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "assistant",
    ]
    assert json.loads(first[5]["content"])["name"] == "run_python"
    assert json.loads(first[6]["content"])["status"] == "ok"
    denied = by_first["Same question, df means per city?"]
    assert (
        json.loads([r for r in denied if r["role"] == "tool_result"][-1]["content"])["status"]
        == "denied"
    )
    slept = by_first["Please sleep for a while"]
    result = json.loads([r for r in slept if r["role"] == "tool_result"][0]["content"])
    assert result["status"] == "stopped"

    # After a reload the first chat's cards come back from its file.
    page.reload(wait_until="domcontentloaded")
    expect(page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle")).to_have_count(1)
    run_cell(page, 1)
    root, box = widget(page)
    root.locator(".lc-chat-item").filter(has_text="What is the mean temperature").first.click()
    reply = root.locator(".lc-msg[data-role=assistant]").last
    expect(reply.locator(".lc-tool")).to_have_count(3)
    expect(reply.locator(".lc-tool").nth(2).locator(".lc-tool-badge")).to_contain_text("Done")
    expect(reply).to_contain_text("The mean temperatures are in the table above.")
    shot(page, "after-reload")
    assert page.errors == []
