"""Edit and versions in the `livechat` app, in a real browser against the fake provider:
edit a message in place (Enter saves), switch versions on the user message and on the
reply, and check that what the model is sent follows the branch shown."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from test_voila_app import (
    assistant,
    axe_violations,
    last_user_text,
    open_app,
    read_rows,
    send,
    user,
    wait_idle,
)


def _faded_in(page: Page) -> None:
    """Bubbles of the other branch fade in: wait for that before a screenshot."""
    page.wait_for_function(
        "document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)"
    )


def _sent(fake_provider) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake_provider.requests[-1].json["messages"]]


def test_edit_and_the_version_switcher_follow_the_branch_shown(
    start_livechat, fake_provider, new_context, shot
):
    answers = iter(range(1, 100))
    fake_provider.text = lambda request: f"Answer {next(answers)} to {last_user_text(request)}"
    app = start_livechat()
    page = open_app(new_context, app.url)
    send(page, "What is 2+2?")
    expect(assistant(page).last).to_contain_text("Answer 1 to What is 2+2?")
    wait_idle(page)
    send(page, "And 3+3?")
    expect(assistant(page).last).to_contain_text("Answer 2 to And 3+3?")
    wait_idle(page)

    # Edit the first message in place; Enter saves and streams a new reply to it.
    first = user(page).first
    first.hover()
    first.get_by_role("button", name="Edit").click()
    box = first.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    expect(box).to_have_value("What is 2+2?")
    shot(page, "editing")
    assert axe_violations(page) == [], "the editor"
    box.fill("What is 2+3?")
    box.press("Enter")
    expect(user(page)).to_have_count(1)
    expect(user(page).first.locator(".lc-plain")).to_have_text("What is 2+3?")
    expect(assistant(page)).to_have_count(1)
    expect(assistant(page).first).to_contain_text("Answer 3 to What is 2+3?")
    wait_idle(page)
    expect(user(page).first.locator(".lc-versions")).to_contain_text("2/2")
    assert _sent(fake_provider) == [("user", "What is 2+3?")]

    # Regenerate the reply: the reply has versions too.
    page.get_by_role("button", name="Regenerate").click()
    expect(assistant(page).first).to_contain_text("Answer 4 to What is 2+3?")
    wait_idle(page)
    reply_versions = assistant(page).first.locator(".lc-versions")
    expect(reply_versions).to_contain_text("2/2")
    reply_versions.get_by_role("button", name="Previous version").click()
    expect(assistant(page).first).to_contain_text("Answer 3 to What is 2+3?")
    expect(reply_versions).to_contain_text("1/2")

    # Back to the first version of the user message: both bubbles and the rest of that
    # branch switch.
    user(page).first.get_by_role("button", name="Previous version").click()
    expect(user(page).locator(".lc-plain")).to_have_text(["What is 2+2?", "And 3+3?"])
    expect(assistant(page)).to_have_text(
        [re.compile("Answer 1 to What is 2\\+2\\?"), re.compile("Answer 2 to And 3\\+3\\?")]
    )
    expect(user(page).first.locator(".lc-versions")).to_contain_text("1/2")
    _faded_in(page)
    shot(page, "first-version-shown")
    assert axe_violations(page) == [], "the version switchers"

    # A following send follows the branch shown.
    send(page, "And 4+4?")
    expect(assistant(page).last).to_contain_text("Answer 5 to And 4+4?")
    wait_idle(page)
    assert _sent(fake_provider) == [
        ("user", "What is 2+2?"),
        ("assistant", "Answer 1 to What is 2+2?"),
        ("user", "And 3+3?"),
        ("assistant", "Answer 2 to And 3+3?"),
        ("user", "And 4+4?"),
    ]

    # A reload shows the same branch and versions; the file has edit and select rows.
    page.reload(wait_until="domcontentloaded")
    expect(user(page).locator(".lc-plain")).to_have_text(["What is 2+2?", "And 3+3?", "And 4+4?"])
    expect(user(page).first.locator(".lc-versions")).to_contain_text("1/2")
    _faded_in(page)
    shot(page, "after-reload")
    # Narrow (a phone, the JupyterLab sidebar): the switcher and the editor still fit.
    page.set_viewport_size({"width": 360, "height": 740})
    expect(user(page).first.get_by_role("button", name="Next version")).to_be_in_viewport()
    user(page).last.get_by_role("button", name="Edit").click()
    expect(user(page).last.get_by_role("textbox", name="Edit message")).to_be_in_viewport()
    _faded_in(page)
    shot(page, "narrow-editing")
    page.keyboard.press("Escape")
    expect(user(page).last.get_by_role("textbox", name="Edit message")).to_have_count(0)

    (rows,) = read_rows(app.chat_logs).values()
    roles = [r["role"] for r in rows]
    assert roles.count("edit") == 1 and roles.count("select") == 2
    assert page.errors == []
