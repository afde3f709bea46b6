"""What survives, in the `livechat` app in a real browser: a reply whose kernel is
killed mid-stream keeps its text and offers Retry after a reload, and a chat too big to
read in an instant opens with progress shown while the page stays usable.
Screenshots: artifacts/test_*-{interrupted,opening}.png."""

from __future__ import annotations

import csv
import os
import signal
import uuid

from playwright.sync_api import expect
from test_voila_app import STORY, assistant, chat_items, message_box, open_app, send, user
from test_voila_app_page import kernel_id, visitor_kernel_pid

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits


def test_a_kernel_killed_mid_reply_keeps_the_text_and_offers_retry(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = STORY
    fake_provider.tokens_per_s = 15
    app = start_livechat()
    page = open_app(new_context, app.url)
    send(page, "Tell me a long story")
    bubble = assistant(page).last
    expect(bubble).to_contain_text("word12", timeout=UI_WAIT_MS)  # streaming for a while
    page.wait_for_timeout(700)  # past the half-second write of the text so far
    seen = bubble.inner_text()
    os.kill(visitor_kernel_pid(app.server.pid, kernel_id(page)), signal.SIGKILL)

    fake_provider.tokens_per_s = 0
    fake_provider.text = "A short story."
    page.reload(wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable(timeout=UI_WAIT_MS)
    kept = assistant(page).last
    expect(kept).to_contain_text("word12")  # the text it had streamed is on the page
    expect(kept).to_contain_text("cut off")
    shot(page, "interrupted")
    kept_text = kept.locator(".lc-md").inner_text().strip()
    assert kept_text and STORY.startswith(kept_text) and len(kept_text) <= len(seen)
    kept.get_by_role("button", name="Retry").click()
    expect(assistant(page).last.locator(".lc-md")).to_have_text("A short story.")
    expect(user(page)).to_have_count(1)  # no prompt merged into another


def test_a_big_chat_opens_with_progress_and_the_page_stays_usable(
    start_livechat, fake_provider, new_context, shot, tmp_path
):
    logs = tmp_path / "big_logs"
    logs.mkdir()
    big = str(uuid.uuid4())
    with open(logs / f"{big}.csv", "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["timestamp", "user_id", "role", "content"])
        rows.writerow(["2026-01-01T00:00:00.000Z", "ada", "title", "Huge archive"])
        body = "lorem ipsum " * 4000
        for i in range(4000):  # 190 MB: seconds to read
            role = "user" if i % 2 == 0 else "assistant"
            rows.writerow(["2026-01-01T00:00:01.000Z", "ada", role, f"{i} {body}"])
    small = str(uuid.uuid4())  # newer: the one shown when the page opens
    with open(logs / f"{small}.csv", "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["timestamp", "user_id", "role", "content"])
        rows.writerow(["2026-06-01T00:00:00.000Z", "ada", "user", "A small chat"])
        rows.writerow(["2026-06-01T00:00:01.000Z", "ada", "assistant", "Here."])
    app = start_livechat(chat_logs=logs)
    page = open_app(new_context, app.url)
    expect(chat_items(page)).to_have_count(2, timeout=UI_WAIT_MS)
    expect(assistant(page).last).to_contain_text("Here.")

    chat_items(page).filter(has_text="Huge archive").click()
    opening = page.locator(".lc-opening")
    expect(opening).to_be_visible()
    expect(opening).to_have_attribute("role", "status")
    expect(opening).to_contain_text("Opening “Huge archive”")
    shot(page, "opening")
    expect(opening).to_be_hidden(timeout=UI_WAIT_MS)
    expect(user(page).last).to_contain_text("3998 lorem ipsum")
    expect(message_box(page)).to_be_editable()


def test_files_that_are_not_chats_are_counted_under_the_chat_list(
    start_livechat, fake_provider, new_context, shot, tmp_path
):
    logs = tmp_path / "odd_logs"
    logs.mkdir()
    noise = logs / f"{uuid.uuid4()}.csv"
    noise.write_bytes(os.urandom(2000).replace(b"\n", b"x"))
    other = logs / f"{uuid.uuid4()}.csv"
    other.write_bytes(b"name,price\nwidget,3\n")
    before = {p: p.read_bytes() for p in (noise, other)}
    app = start_livechat(chat_logs=logs)
    page = open_app(new_context, app.url)
    note = page.locator(".lc-sidebar .lc-unreadable")
    expect(note).to_be_visible(timeout=UI_WAIT_MS)
    expect(note).to_contain_text("2 chat files in this folder could not be read")
    expect(chat_items(page)).to_have_count(0)  # no empty "New chat" made of them
    shot(page, "unreadable")
    assert {p: p.read_bytes() for p in (noise, other)} == before
