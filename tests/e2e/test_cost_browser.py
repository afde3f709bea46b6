"""Cost and the context window in the real `livechat` app (Voila) in Chromium, against
the fake provider: with LIVECHAT_PRICES set, each reply's footer shows its cost and the
stats panel sums it per chat and overall; against a server whose /props reports a small
n_ctx (and that refuses a prompt past it, as llama.cpp does), the composer's gauge
passes 80 % on a long chat and offers "Continue without oldest turns" before any
request fails. Screenshots: ./artifacts/."""

from __future__ import annotations

import json
import re

from fake_provider import error
from playwright.sync_api import Page, expect
from test_voila_app import axe_violations

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)

N_CTX = 2048
PRICES = {"input_per_mtok": 1000, "output_per_mtok": 2000}  # dollars a million tokens
WORDS = " ".join(f"word{i}" for i in range(120))  # a long reply


def open_app(new_context, url: str) -> Page:
    page = new_context().new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_role("textbox", name="Message")).to_be_editable()
    return page


def ask(page: Page, text: str):
    """Send ``text`` and wait for its reply to be saved (its footer shows its usage)."""
    replies = page.locator(".livechat-root .lc-msg[data-role=assistant]")
    before = replies.count()
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(replies).to_have_count(before + 1)
    reply = replies.last
    expect(reply.locator(".lc-usage")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    return reply


def dollars(text: str) -> float:
    return float(re.search(r"\$([0-9,.]+)", text).group(1).replace(",", ""))


def refuse_past_the_window(fake_provider) -> None:
    """Like llama.cpp: a prompt past n_ctx is refused (400), so a failure would show."""

    def respond(request):
        if request.method == "POST":
            chars = sum(len(m.get("content") or "") for m in request.json["messages"])
            if chars / 4 > N_CTX:
                body = {
                    "error": {
                        "code": 400,
                        "message": "the request exceeds the available context size",
                    }
                }
                return error(400, body)
        return fake_provider.default_response(request)

    fake_provider.set_handler(respond)


def test_costs_in_the_footer_and_stats_and_the_gauge_warns_before_a_request_fails(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.props = {"default_generation_settings": {"n_ctx": N_CTX}}
    fake_provider.text = WORDS
    refuse_past_the_window(fake_provider)
    app = start_livechat(env={"LIVECHAT_PRICES": json.dumps(PRICES)})
    page = open_app(new_context, app.url)
    gauge = page.locator(".livechat-root .lc-gauge")

    # A reply's cost in its footer: its tokens at the configured prices.
    first = ask(page, "A first question.")
    footer = first.locator(".lc-usage").inner_text()
    first_cost = dollars(footer)
    tokens = [int(n.replace(",", "")) for n in re.findall(r"([0-9,]+) (?:in|out)", footer)]
    assert first_cost == round((tokens[0] * 1000 + tokens[1] * 2000) / 1e6, 4), footer

    # A second chat: the stats panel sums the cost per chat and over both.
    page.get_by_role("button", name="New chat").first.click()
    expect(page.locator(".livechat-root .lc-msg")).to_have_count(0)
    second = ask(page, "Another chat, another question. " * 8)
    second_cost = dollars(second.locator(".lc-usage").inner_text())
    page.get_by_role("button", name="Stats").click()
    stats = page.get_by_role("region", name="Reply statistics")
    expect(stats.locator(".lc-cost")).to_have_count(2)
    chat_cost, overall_cost = (dollars(t) for t in stats.locator(".lc-cost").all_inner_texts())
    assert chat_cost == second_cost
    assert abs(overall_cost - (first_cost + second_cost)) <= 0.0002
    shot(page, "cost-footer-and-stats")
    page.get_by_role("button", name="Stats").click()

    # A long chat: the gauge shows once the server said its window, and passes 80 %
    # while every request still succeeds.
    level = ""
    for turn in range(30):
        reply = ask(page, f"Turn {turn}: go on, in detail. " + "Please be thorough. " * 10)
        expect(reply).to_have_attribute("data-status", "complete")  # no request failed
        level = gauge.get_attribute("data-level") or ""
        if level in ("warn", "full"):
            break
    assert level == "warn", f"the gauge never warned (level {level!r})"
    meter = gauge.get_by_role("meter", name="Context window")
    now, most = int(meter.get_attribute("aria-valuenow")), int(meter.get_attribute("aria-valuemax"))
    assert most == N_CTX and now / most >= 0.8
    expect(gauge).to_contain_text("/ 2.05k tokens")  # 2,048
    trim = page.get_by_role("button", name="Continue without oldest turns")
    expect(trim).to_be_visible()
    shot(page, "gauge-warns")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: the warning still shows
    expect(trim).to_be_visible()
    expect(gauge.get_by_role("status")).to_contain_text("% of the context window.")
    shot(page, "gauge-warns-narrow")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 800})

    # Keyboard: the button is reachable and leaves the oldest turns out, sending nothing.
    posts = len([r for r in fake_provider.requests if r.method == "POST"])
    trim.focus()
    page.keyboard.press("Enter")
    expect(gauge).to_have_attribute("data-level", "ok")
    expect(trim).to_be_hidden()
    assert len([r for r in fake_provider.requests if r.method == "POST"]) == posts
    shot(page, "gauge-after-trim")
    ask(page, "And now?")
    assert page.errors == []
