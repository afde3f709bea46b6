"""Compare in the `livechat` app, in a real browser: two fake servers (`livechat
--compare`) answering at different speeds stream side by side, the faster finishes
first, Keep makes its reply the turn's selected version and the other stays a version
after a reload; axe finds nothing; in a 250 px wide page the panes are stacked."""

from __future__ import annotations

import json

import pytest
from fake_provider import FakeProvider
from playwright.sync_api import Page, expect
from test_voila_app import (
    assistant,
    axe_violations,
    message_box,
    open_app,
    read_rows,
    send,
    wait_idle,
)

FAST = "The fast model answers: " + " ".join(f"f{i}" for i in range(40)) + "."
SLOW = "The slow model answers: " + " ".join(f"s{i}" for i in range(40)) + "."


@pytest.fixture
def servers():
    with (
        FakeProvider(text=FAST, tokens_per_s=150) as fast,
        FakeProvider(text=SLOW, tokens_per_s=20) as slow,
    ):
        yield fast, slow


def panes(page: Page):
    return page.locator(".livechat-root .lc-compare-pane")


def compare(page: Page, text: str, names: list[str]) -> None:
    send(page, "/compare")
    chooser = page.locator(".lc-compare-chooser")
    expect(chooser).to_be_visible()
    for name in names:
        chooser.get_by_role("checkbox", name=name).check()
    message_box(page).fill(text)
    message_box(page).press("Enter")


def test_compare_two_servers_side_by_side_keep_and_reload(
    start_livechat, servers, new_context, shot
):
    fast, slow = servers
    app = start_livechat(
        "--compare", f"fast={fast.base_url}#fast-model",
        "--compare", f"slow={slow.base_url}#slow-model",
    )  # fmt: skip
    page = open_app(new_context, app.url, viewport={"width": 1200, "height": 800})
    send(page, "/compare")
    chooser = page.locator(".lc-compare-chooser")
    expect(chooser.get_by_role("checkbox", name="fast (fast-model)")).to_be_visible()
    chooser.get_by_role("checkbox", name="fast (fast-model)").check()
    chooser.get_by_role("checkbox", name="slow (slow-model)").check()
    shot(page, "compare-chooser")
    assert axe_violations(page) == [], "the chooser"
    message_box(page).fill("Which of you is faster?")
    message_box(page).press("Enter")

    # Both stream: the slow pane shows part of its text while the fast one has ended.
    expect(panes(page)).to_have_count(2)
    fast_pane, slow_pane = panes(page).nth(0), panes(page).nth(1)
    expect(fast_pane).to_have_attribute("aria-label", "fast (fast-model)")
    expect(fast_pane.locator(".lc-compare-status")).to_have_text("Finished first")
    expect(slow_pane.locator(".lc-compare-status")).to_have_text("Streaming…")
    expect(slow_pane.locator(".lc-compare-body")).to_contain_text("The slow model")
    partial = slow_pane.locator(".lc-compare-body").inner_text()
    assert "s39" not in partial, "the slow pane should still be streaming"
    expect(fast_pane.locator(".lc-compare-body")).to_have_text(FAST)
    # Side by side in a wide page.
    a, b = fast_pane.bounding_box(), slow_pane.bounding_box()
    assert a and b and abs(a["y"] - b["y"]) < 2 and b["x"] >= a["x"] + a["width"] - 1
    shot(page, "compare-streaming")
    expect(slow_pane.locator(".lc-compare-status")).to_have_text("Finished", timeout=20_000)
    expect(slow_pane.locator(".lc-compare-body")).to_have_text(SLOW)
    wait_idle(page)
    expect(fast_pane.locator(".lc-compare-figures")).to_contain_text("TTFT")
    expect(fast_pane.locator(".lc-compare-figures")).to_contain_text("tokens")
    assert axe_violations(page) == [], "the panes"
    shot(page, "compare-done")
    # Each server was asked with its own model, once.
    assert [r.json["model"] for r in fast.requests if r.method == "POST"] == ["fast-model"]
    assert [r.json["model"] for r in slow.requests if r.method == "POST"] == ["slow-model"]

    # Keep the faster one: the panes close and the turn shows it, version 1 of 2.
    fast_pane.get_by_role("button", name="Keep this (fast)").click()
    expect(panes(page)).to_have_count(0)
    expect(assistant(page)).to_have_count(1)
    expect(assistant(page).first).to_contain_text("The fast model answers")
    expect(assistant(page).first.locator(".lc-versions")).to_contain_text("1/2")
    shot(page, "compare-kept")
    rows = next(iter(read_rows(app.chat_logs).values()))
    votes = [json.loads(r["content"]) for r in rows if r["role"] == "compare_vote"]
    assert votes and votes[0]["kept"] == "fast" and votes[0]["candidates"] == ["fast", "slow"]

    # After a reload (a new kernel): the kept one selected, the other its second version.
    page.reload(wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    expect(assistant(page)).to_have_count(1)
    expect(assistant(page).first).to_contain_text("The fast model answers")
    versions = assistant(page).first.locator(".lc-versions")
    expect(versions).to_contain_text("1/2")
    versions.get_by_role("button", name="Next version").click()
    expect(assistant(page).first).to_contain_text("The slow model answers")
    expect(versions).to_contain_text("2/2")
    assert page.errors == []


def test_in_a_250px_sidebar_the_panes_are_stacked(start_livechat, servers, new_context, shot):
    fast, slow = servers
    fast.tokens_per_s = slow.tokens_per_s = 0  # at once: the layout is the point here
    app = start_livechat(
        "--compare", f"fast={fast.base_url}#fast-model",
        "--compare", f"slow={slow.base_url}#slow-model",
    )  # fmt: skip
    page = open_app(new_context, app.url, viewport={"width": 250, "height": 700})
    compare(page, "Stack us", ["fast (fast-model)", "slow (slow-model)"])
    expect(panes(page)).to_have_count(2)
    expect(panes(page).nth(1).locator(".lc-compare-status")).to_contain_text("Finished")
    wait_idle(page)
    a, b = panes(page).nth(0).bounding_box(), panes(page).nth(1).bounding_box()
    assert a and b
    assert abs(a["x"] - b["x"]) < 2, "stacked panes share their left edge"
    assert b["y"] >= a["y"] + a["height"] - 1, "the second pane is below the first"
    assert a["width"] <= 250
    panes(page).nth(1).scroll_into_view_if_needed()
    shot(page, "compare-250px")
    assert axe_violations(page) == [], "the stacked panes"
    assert page.errors == []
