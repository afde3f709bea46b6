"""Per-chat settings, the Reasoning section and usage in the footer, in the real
`livechat` app (Voila) in Chromium, against the fake provider. Screenshots: ./artifacts/."""

from __future__ import annotations

import csv
import json
import re

from playwright.sync_api import Page, expect

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)

REASONING = "The person greets me in English but wants Spanish, so I answer with Hola."


def open_app(new_context, url: str) -> Page:
    page = new_context().new_page()
    page.errors = []  # uncaught page errors, checked at the end
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Message")).to_be_editable()
    return page


def assistant(page: Page):
    return page.locator(".livechat-root .lc-msg[data-role=assistant]")


def wait_idle(page: Page) -> None:
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_settings_panel_reasoning_and_usage_survive_a_reload(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.models = ["fake-model", "fake-large", "fake-small"]
    fake_provider.reasoning = REASONING
    fake_provider.text = "¡Hola! ¿En qué puedo ayudarte?"
    app = start_livechat()
    page = open_app(new_context, app.url)

    # The panel opens from the topbar and lists the models the provider's /v1/models names.
    page.get_by_role("button", name="Chat settings").click()
    panel = page.get_by_role("region", name="Chat settings")
    expect(panel).to_be_visible()
    model = panel.get_by_role("combobox", name="Model")
    expect(model.locator("option")).to_have_text(
        ["fake-model", "fake-large", "fake-small", re.compile("Other")]
    )
    expect(panel).to_contain_text("3 models listed by the provider.")
    assert any(r.method == "GET" and r.path == "/v1/models" for r in fake_provider.requests)
    model.select_option("fake-large")
    panel.get_by_role("textbox", name="System prompt").fill("Answer in Spanish.\nBe brief.")
    panel.get_by_role("spinbutton", name="Temperature").fill("0.3")
    panel.get_by_role("spinbutton", name="Max tokens").fill("64")
    shot(page, "settings-panel")
    panel.get_by_role("button", name="Save").click()
    expect(panel).to_be_hidden()
    expect(page.locator(".lc-top-model")).to_contain_text("fake-large")

    box = page.get_by_role("textbox", name="Message")
    box.fill("Say hello")
    box.press("Enter")
    reply = assistant(page).last
    expect(reply.locator(".lc-md")).to_contain_text("¡Hola!")
    wait_idle(page)

    # What the model was asked with.
    (body,) = [r.json for r in fake_provider.requests if r.method == "POST"]
    assert body["model"] == "fake-large"
    assert body["messages"][0] == {"role": "system", "content": "Answer in Spanish.\nBe brief."}
    assert body["temperature"] == 0.3 and body["max_tokens"] == 64

    # The reasoning: collapsed above the answer, expandable.
    reasoning = reply.locator("details.lc-reasoning")
    expect(reasoning).to_be_visible()
    expect(reasoning).not_to_have_attribute("open", "")
    expect(reasoning.locator(".lc-reasoning-body")).to_be_hidden()
    shot(page, "reasoning-collapsed")
    reasoning.get_by_text("Reasoning").click()
    expect(reasoning.locator(".lc-reasoning-body")).to_have_text(REASONING)
    shot(page, "reasoning-open")

    # Usage in the footer, shown on hover.
    reply.hover()
    usage = reply.locator(".lc-usage")
    expect(usage).to_be_visible()
    expect(usage).to_contain_text(re.compile(r"fake-large · 9 in · \d+ out · .* to first token"))
    shot(page, "usage-footer")

    # And in the stats panel: this chat and all chats.
    page.get_by_role("button", name="Stats").click()
    expect(page.locator(".lc-usage-totals")).to_contain_text("This chat")
    expect(page.locator(".lc-usage-totals tbody tr").first).to_contain_text("9")
    page.get_by_role("button", name="Stats").click()

    # On disk: the settings row, the reply (with the text it kept while it streamed,
    # `partial` rows), its reasoning and usage rows.
    (path,) = app.csv_files()
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["role"] != "partial"]
    assert [r["role"] for r in rows] == ["settings", "user", "assistant", "reasoning", "usage"]
    assert json.loads(rows[-1]["content"])["model"] == "fake-large"

    # After a reload: the same reasoning, usage and settings.
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Message")).to_be_editable()
    reply = assistant(page).last
    expect(reply.locator("details.lc-reasoning")).to_be_visible()
    reply.locator("details.lc-reasoning").get_by_text("Reasoning").click()
    expect(reply.locator(".lc-reasoning-body")).to_have_text(REASONING)
    reply.hover()
    expect(reply.locator(".lc-usage")).to_contain_text("fake-large")
    page.get_by_role("button", name="Chat settings").click()
    panel = page.get_by_role("region", name="Chat settings")
    expect(panel.get_by_role("combobox", name="Model")).to_have_value("fake-large")
    expect(panel.get_by_role("textbox", name="System prompt")).to_have_value(
        "Answer in Spanish.\nBe brief."
    )
    expect(panel.get_by_role("spinbutton", name="Temperature")).to_have_value("0.3")
    expect(panel.get_by_role("spinbutton", name="Max tokens")).to_have_value("64")
    expect(panel).to_contain_text("3 models listed by the provider.")
    shot(page, "after-reload")
    assert page.errors == []
