"""Kernel context and code runs in a real JupyterLab, driven with Playwright
+ Debian Chromium: a notebook defines a DataFrame and fails a cell; the widget's `@`
picker offers both, the model receives the context text, the chat file keeps it and a
new view redraws the chips; Run on a reply's Python block changes the notebook's
namespace after a confirm."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from notebook_files import write_notebook as notebook_file
from playwright.sync_api import Page, expect
from test_jupyterlab import cells, chat_in, open_notebook, run_cell

NOTEBOOK = [
    "import pandas as pd\n"
    'df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 31.2]})',
    "import os\nfrom livechat_widget import ChatWidget\n"
    'chat = ChatWidget(store=os.environ["LIVECHAT_CHAT_LOGS"])\nchat',
    "def fails():\n    return 1 / 0\n\nfails()",
    "print(x)",
]


def write_notebook(root: Path, name: str = "kernel.ipynb") -> str:
    return notebook_file(root, name, NOTEBOOK)


def rows(chat_logs: Path) -> list[dict[str, str]]:
    files = sorted(chat_logs.glob("*.csv"))
    assert len(files) == 1, files
    with open(files[0], newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def completions(fake_provider) -> list:
    return [r for r in fake_provider.requests if r.path.endswith("/chat/completions")]


def widget(page: Page):
    return chat_in(cells(page).nth(1).locator(".jp-OutputArea"))


def test_at_picker_sends_a_dataframe_and_the_last_error_as_context(
    start_lab, fake_provider, new_context, shot
):
    fake_provider.text = "Oslo is the coldest."
    lab = start_lab()
    page = open_notebook(new_context, lab, write_notebook(lab.root))
    run_cell(page, 0)
    run_cell(page, 1)
    run_cell(page, 2)  # ZeroDivisionError: the kernel's last error
    expect(cells(page).nth(2).locator(".jp-OutputArea")).to_contain_text("ZeroDivisionError")
    root, box = widget(page)
    expect(box).to_be_editable()

    box.click()
    page.keyboard.type("@")
    picker = root.get_by_role("listbox", name="Kernel context")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("option").filter(has_text="df")).to_contain_text("3 rows × 2 columns")
    expect(picker.get_by_role("option").filter(has_text="last error")).to_contain_text(
        "ZeroDivisionError"
    )
    # modules, functions, classes, widgets and _-names are not offered
    names = picker.locator("[data-name]").evaluate_all("els => els.map(e => e.dataset.name)")
    assert "df" in names and "pd" not in names and "fails" not in names
    assert "ChatWidget" not in names and "chat" not in names
    assert not [n for n in names if n.startswith("_")], names
    shot(page, "picker")

    page.keyboard.type("d")  # filters; Enter takes the highlighted item
    expect(picker.get_by_role("option").first).to_have_attribute("data-name", "df")
    page.keyboard.press("Enter")
    chips = root.locator(".lc-context-chips .lc-chip")
    expect(chips).to_have_count(1)
    page.keyboard.type("@last")
    picker.get_by_role("option").filter(has_text="last error").click()  # the mouse
    expect(chips).to_have_count(2)
    expect(box).to_have_value("")  # the @words became chips
    page.keyboard.type("Which city is the coldest?")
    shot(page, "chips-in-composer")
    box.press("Enter")

    reply = root.locator(".lc-msg[data-role=assistant]").last
    expect(reply).to_contain_text("Oslo is the coldest.")
    sent = completions(fake_provider)[-1].json["messages"][-1]["content"]
    assert '<context name="df" kind="DataFrame">' in sent
    assert "3 rows × 2 columns" in sent and "| Oslo | 3.5 |" in sent
    assert '<context name="last error" kind="error">' in sent
    assert "Traceback (most recent call last)" in sent and "in fails" in sent
    assert "ZeroDivisionError: division by zero" in sent
    assert sent.endswith("Which city is the coldest?")

    # the chat file: the context row, exactly what the model received, then what df looked
    # like (`context_fingerprint`), right before the user row
    chat_rows = rows(lab.chat_logs)
    roles = [r["role"] for r in chat_rows]
    at = roles.index("context")
    assert roles[at + 1 : at + 3] == ["context_fingerprint", "user"]
    assert chat_rows[at]["content"] + "\n\n" + chat_rows[at + 2]["content"] == sent

    user = root.locator(".lc-msg[data-role=user]").last
    expect(user.locator(".lc-sent-chip")).to_have_count(2)
    user.locator(".lc-sent-chip summary").filter(has_text="@df").click()
    expect(user.locator(".lc-sent-text").first).to_contain_text("| Oslo | 3.5 |")
    shot(page, "chips-on-message")

    # after a reload, a new widget reads the chat from its file: the chips are still there
    page.reload(wait_until="domcontentloaded")
    expect(page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle")).to_have_count(1)
    run_cell(page, 1)
    root, box = widget(page)
    user = root.locator(".lc-msg[data-role=user]").last
    expect(user).to_contain_text("Which city is the coldest?")
    expect(user.locator(".lc-sent-chip")).to_have_count(2)
    expect(user.locator(".lc-sent-chip").first).to_have_attribute("data-name", "df")
    assert page.errors == []


RUN_REPLY = (
    "Set it like this:\n\n```python\nx = 6 * 7\nprint('x is', x)\n```\n\n"
    "And wait:\n\n```python\nimport time\nprint('waiting')\ntime.sleep(600)\n```\n"
)


def test_run_executes_a_reply_block_in_the_notebook_namespace(
    start_lab, fake_provider, new_context, shot
):
    fake_provider.text = RUN_REPLY
    lab = start_lab()
    page = open_notebook(new_context, lab, write_notebook(lab.root))
    run_cell(page, 1)
    root, box = widget(page)
    box.click()
    page.keyboard.type("Give me x")
    box.press("Enter")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    expect(reply).to_contain_text("x = 6 * 7")

    first, slow = reply.locator(".lc-codeblock").nth(0), reply.locator(".lc-codeblock").nth(1)
    run = first.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible()
    run.click()
    reply.get_by_role("button", name="Confirm run").click()
    output = reply.get_by_role("region", name="Run output").first
    expect(output).to_contain_text("x is 42")
    expect(output).to_have_attribute("data-status", "ok")
    shot(page, "run-output")

    run_cell(page, 3)  # print(x) in the notebook
    expect(cells(page).nth(3).locator(".jp-OutputArea")).to_have_text(re.compile(r"^\s*42\s*$"))
    # the run did not add to the kernel's history (no execution count was taken)
    expect(cells(page).nth(3).locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[2\]"))

    chat_rows = rows(lab.chat_logs)
    runs = [json.loads(r["content"]) for r in chat_rows if r["role"] == "code_run"]
    assert len(runs) == 1
    assert runs[0]["code"] == "x = 6 * 7\nprint('x is', x)"
    assert runs[0]["stdout"] == "x is 42\n" and runs[0]["status"] == "ok"
    assert runs[0]["message_id"] == 1

    # a long run: any other Run waits, and Stop interrupts the kernel
    slow.get_by_role("button", name="Run", exact=True).click()
    reply.get_by_role("button", name="Confirm run").click()
    stop = slow.get_by_role("button", name="Stop run")
    expect(stop).to_be_visible()
    expect(first.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    stop.click()
    interrupted = reply.get_by_role("region", name="Run output").nth(1)
    expect(interrupted).to_have_attribute("data-status", "interrupted")
    expect(interrupted).to_contain_text("waiting")
    expect(interrupted).to_contain_text("KeyboardInterrupt")
    expect(first.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    statuses = [
        json.loads(r["content"])["status"] for r in rows(lab.chat_logs) if r["role"] == "code_run"
    ]
    assert statuses == ["ok", "interrupted"]
    assert page.errors == []
