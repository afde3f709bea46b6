"""Kernel context and Run in the `livechat` Voila app: the kernel is the
server's, so both are off by default; `--allow-kernel-context` / `--allow-code` turn
them on. Insert as cell is never offered (there is no notebook). Real `livechat`
subprocesses, Playwright + Debian Chromium."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from test_voila_app import assistant, message_box, open_app, read_rows, root, send, wait_idle

REPLY = "Try this:\n\n```python\ny = 6 * 7\nprint('y is', y)\n```\n"


def test_no_picker_and_no_run_by_default(start_livechat, fake_provider, new_context):
    fake_provider.text = REPLY
    app = start_livechat()
    page = open_app(new_context, app.url)
    send(page, "Some code please")
    wait_idle(page)
    reply = assistant(page).last
    expect(reply).to_contain_text("y = 6 * 7")
    expect(reply.locator(".lc-codeblock")).to_have_count(1)
    expect(reply.locator(".lc-codeblock").get_by_role("button", name="Copy")).to_be_visible()
    expect(reply.get_by_role("button", name="Run", exact=True)).to_have_count(0)
    # no notebook to insert into: the app's kernel never makes ipylab's bridge
    expect(reply.get_by_role("button", name="Insert as cell")).to_have_count(0)

    box = message_box(page)
    box.click()
    page.keyboard.type("@")
    page.wait_for_timeout(1000)  # give a (wrongly) enabled picker the time to appear
    expect(root(page).get_by_role("listbox", name="Kernel context")).to_have_count(0)
    expect(root(page).locator(".lc-context-picker")).to_be_hidden()
    assert page.errors == []


def test_flags_turn_on_run_and_the_picker(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = REPLY
    app = start_livechat("--allow-kernel-context", "--allow-code")
    page = open_app(new_context, app.url)
    send(page, "Some code please")
    wait_idle(page)
    reply = assistant(page).last
    reply.get_by_role("button", name="Run", exact=True).click()
    reply.get_by_role("button", name="Confirm run").click()
    output = reply.get_by_role("region", name="Run output")
    expect(output).to_contain_text("y is 42")
    expect(reply.get_by_role("button", name="Insert as cell")).to_have_count(0)  # never here

    # the run defined y in the visitor's kernel: the picker offers it
    box = message_box(page)
    box.click()
    page.keyboard.type("@y")
    picker = root(page).get_by_role("listbox", name="Kernel context")
    expect(picker.get_by_role("option").filter(has_text="int")).to_have_attribute("data-name", "y")
    page.keyboard.press("Enter")
    page.keyboard.type("What is y?")
    shot(page, "voila-flags")
    box.press("Enter")
    expect(assistant(page)).to_have_count(2)  # the answer to the second message
    wait_idle(page)
    request = [r for r in fake_provider.requests if r.path.endswith("/chat/completions")][-1]
    assert '<context name="y" kind="int">' in request.json["messages"][-1]["content"]
    (chat_rows,) = read_rows(app.chat_logs).values()
    roles = [r["role"] for r in chat_rows]
    # the context row, then what y looked like (`context_fingerprint`), then the user row
    at = roles.index("context")
    assert roles[at : at + 3] == ["context", "context_fingerprint", "user"]
    (run,) = [json.loads(r["content"]) for r in chat_rows if r["role"] == "code_run"]
    assert run["stdout"] == "y is 42\n"
    assert page.errors == []
