"""The `livechat` app under many requests (issue 22): a page fetched and never opened
costs its kernel only for seconds, the number of kernels has a cap with a "busy" page
beyond it, and a visitor who arrives while no preheated kernel is ready sees the chat
starting at once instead of a blank page."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from playwright.sync_api import expect
from test_voila_app import message_box, open_app, send, wait_idle
from test_voila_lifecycle import kernel_pids, wait_for_kernels

from livechat_widget.kernel_admission import CONNECT_WITHIN_S

RECLAIMED_WITHIN_S = CONNECT_WITHIN_S + 25  # the check, then a shutdown on 2 busy cores


def fetch(url: str) -> tuple[int, str, dict]:
    """A plain GET that reads the page and never opens the websocket (curl, a crawler)."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_fetched_pages_that_never_connect_give_their_kernels_back(start_livechat):
    app = start_livechat("--chats", "per-browser", "--pool-size", "1")
    pid = app.server.pid
    assert wait_for_kernels(pid, 1, 120)[0] == 1
    for _ in range(4):
        status, _page, _headers = fetch(app.url)
        assert status == 200
    assert len(kernel_pids(pid)) > 1  # each fetch took a kernel, the pool refilled
    kernels, waited = wait_for_kernels(pid, 1, RECLAIMED_WITHIN_S)
    assert kernels == 1, f"{kernels} kernels after {waited:.0f} s:\n{app.server.output[-3000:]}"
    assert "no page connected to kernel" in app.server.output


def test_beyond_max_kernels_a_busy_page_then_a_chat_again(start_livechat, new_context):
    app = start_livechat("--chats", "per-browser", "--pool", "1", "--max-kernels", "3")
    pid = app.server.pid
    assert "at most 3 kernels at once (--max-kernels)" in app.server.output
    assert wait_for_kernels(pid, 1, 120)[0] == 1
    answers = [fetch(app.url) for _ in range(5)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 503, 503]
    _, busy, headers = answers[-1]
    assert "The chat is busy" in busy and "Try again" in busy
    assert int(headers["Retry-After"]) > 0
    assert len(kernel_pids(pid)) <= 3
    # The fetched pages never connected: their places come back, and a visitor chats.
    assert wait_for_kernels(pid, 1, RECLAIMED_WITHIN_S)[0] == 1
    page = open_app(new_context, app.url)
    send(page, "Hello")
    wait_idle(page)
    expect(page.locator(".lc-msg[data-role=assistant]")).to_have_count(1)


def test_a_visitor_beyond_the_pool_sees_the_chat_starting(start_livechat, new_context):
    app = start_livechat("--chats", "per-browser", "--pool", "1")
    pid = app.server.pid
    assert wait_for_kernels(pid, 1, 120)[0] == 1
    assert fetch(app.url)[0] == 200  # takes the one preheated kernel; one more starts
    page = new_context().new_page()
    started = time.monotonic()
    page.goto(app.url, wait_until="commit")
    waiting = page.locator("#livechat-waiting")
    expect(waiting).to_have_count(1)  # written before the kernel is ready
    expect(waiting).to_contain_text("Starting the chat")
    first_word_s = time.monotonic() - started
    expect(message_box(page)).to_be_editable(timeout=120_000)
    expect(waiting).to_be_hidden()  # the page's own notices took over
    assert first_word_s < 5, f"the page said nothing for {first_word_s:.1f} s"
