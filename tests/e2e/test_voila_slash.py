"""The composer's `/` menu in the `livechat` app (kernel context on): the built-in
/explain and a template file of the chat folder whose {{df}} is filled from the kernel.
A real `livechat` subprocess, Playwright + Debian Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_voila_app import assistant, message_box, open_app, read_rows, root, send, wait_idle

MAKE_DF = (
    "Here it is:\n\n```python\nimport pandas as pd\n"
    "df = pd.DataFrame({'region': ['north', 'south'], 'sales': [3, 5]})\n"
    "print(df.shape)\n```\n"
)
TEMPLATE = """---
name: describe
description: Describe a DataFrame and suggest a chart
---
Describe {{df}} in three bullet points, then suggest one chart for {{goal}}.
"""


def test_slash_menu_expands_explain_and_a_template_with_df(
    start_livechat, fake_provider, new_context, tmp_path, shot
):
    logs = tmp_path / "logs"
    (logs / "prompts").mkdir(parents=True)
    (logs / "prompts" / "describe.md").write_text(TEMPLATE, encoding="utf-8")
    fake_provider.text = MAKE_DF
    app = start_livechat(
        "--allow-kernel-context",
        "--allow-code",
        chat_logs=logs,
        env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    page = open_app(new_context, app.url)
    # A df in the app's kernel: run the reply's code block.
    send(page, "Make me a DataFrame")
    wait_idle(page)
    reply = assistant(page).last
    reply.get_by_role("button", name="Run", exact=True).click()
    reply.get_by_role("button", name="Confirm run").click()
    expect(reply.get_by_role("region", name="Run output")).to_contain_text("(2, 2)")

    box = message_box(page)
    box.click()
    page.keyboard.type("/")
    menu = root(page).get_by_role("listbox", name="Commands and prompts")
    expect(menu).to_be_visible()
    for name in ("explain", "fix", "tests", "doc", "describe", "new", "clear", "model", "system"):
        expect(menu.locator(f'[data-name="{name}"]')).to_have_count(1)
    expect(menu.locator('[data-name="describe"]')).to_contain_text("yours")
    shot(page, "slash-menu")

    # /explain: its body fills the composer; nothing is sent.
    page.keyboard.type("expl")
    expect(menu.get_by_role("option")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(box).to_have_value(
        re.compile(r"^Explain the code in my recent cells step by step,[\s\S]*Quote")
    )
    expect(menu).to_be_hidden()
    chips = root(page).get_by_role("group", name="Attached context")
    expect(chips.locator('.lc-chip[data-name="recent cells"]')).to_be_visible()  # its context
    shot(page, "slash-explain")
    requests_before = len(fake_provider.requests)

    # Start again with the person's template: {{df}} -> df and its chip; {{goal}} selected.
    box.fill("")
    root(page).get_by_role("button", name="Remove recent cells").click()
    box.click()
    page.keyboard.type("/desc")
    page.keyboard.press("Enter")
    expect(box).to_have_value(
        "Describe df in three bullet points, then suggest one chart for {{goal}}."
    )
    expect(chips.locator(".lc-chip")).to_have_count(1)
    expect(chips.locator('.lc-chip[data-name="df"]')).to_be_visible()
    expect(root(page).locator(".lc-slash-note")).to_contain_text("Type over {{goal}}")
    shot(page, "slash-template-placeholder")
    page.keyboard.type("a sales review")  # types over the selected placeholder
    expect(box).to_have_value(
        "Describe df in three bullet points, then suggest one chart for a sales review."
    )
    shot(page, "slash-template-filled")
    assert len(fake_provider.requests) == requests_before  # nothing sent before Send

    fake_provider.text = "Two regions, eight sales."
    box.press("Enter")
    expect(assistant(page)).to_have_count(2)
    wait_idle(page)
    request = [r for r in fake_provider.requests if r.path.endswith("/chat/completions")][-1]
    sent = request.json["messages"][-1]["content"]
    assert '<context name="df" kind="DataFrame">' in sent
    assert sent.rstrip().endswith(
        "Describe df in three bullet points, then suggest one chart for a sales review."
    )
    (rows,) = read_rows(app.chat_logs).values()
    users = [r["content"] for r in rows if r["role"] == "user"]
    assert (
        users[-1]
        == "Describe df in three bullet points, then suggest one chart for a sales review."
    )
    assert page.errors == []
