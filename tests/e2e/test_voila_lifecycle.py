"""The `livechat` app over a page's life: a reply stopped before its first token, and
the kernel of a page that was left (found against a real llama.cpp server)."""

from __future__ import annotations

import time
from pathlib import Path

from fake_provider import openai_reply
from playwright.sync_api import Page, expect
from test_voila_app import message_box, open_app, read_rows, root, send, wait_idle

KERNELS_BACK_WITHIN_S = 60  # what the issue asks of a closed page's kernel


def bubble_roles(page: Page) -> list[str]:
    return (
        root(page)
        .locator(".lc-msg[data-role]")
        .evaluate_all("els => els.map(e => e.dataset.id + ':' + e.dataset.role)")
    )


def chat_posts(fake_provider) -> list:
    return [
        r
        for r in fake_provider.requests
        if r.method == "POST" and r.path.endswith("/chat/completions")
    ]


def test_stop_before_the_first_token_then_send(start_livechat, fake_provider, new_context):
    app = start_livechat()
    page = open_app(new_context, app.url)
    slow = openai_reply("This reply is never seen.")
    slow.head_delay = 120  # the server spends a long time on the prompt
    fake_provider.script(slow)

    send(page, "A very long prompt that the server is still reading")
    assert fake_provider.wait_for_requests(1, timeout=60)
    page.get_by_role("button", name="Stop").click()
    wait_idle(page)
    expect(root(page).locator(".lc-msg[data-role=assistant] .lc-note")).to_have_text("Stopped")
    assert bubble_roles(page) == ["0:user", "1:assistant"]

    send(page, "Say hi.")
    expect(root(page).locator(".lc-msg[data-role=assistant]")).to_have_count(2)
    wait_idle(page)
    expected = ["0:user", "1:assistant", "2:user", "3:assistant"]
    assert bubble_roles(page) == expected
    expect(root(page).locator('.lc-msg[data-id="2"]')).to_contain_text("Say hi.")

    # The model was asked only the new prompt: the cancelled one is not sent again.
    posts = chat_posts(fake_provider)
    assert len(posts) == 2
    assert posts[1].json["messages"] == [{"role": "user", "content": "Say hi."}]

    page.reload()
    expect(message_box(page)).to_be_editable()
    expect(root(page).locator(".lc-msg[data-role]")).to_have_count(4)
    assert bubble_roles(page) == expected
    (rows,) = read_rows(app.chat_logs).values()
    # Each reply's usage row and the text it kept while streaming (partial rows) aside.
    roles = [r["role"] for r in rows if r["role"] not in ("usage", "partial")]
    assert roles == ["user", "assistant", "status", "user", "assistant"]


def kernel_pids(server_pid: int) -> list[int]:
    """The kernels a server started: its children running ipykernel."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == server_pid and b"ipykernel" in cmdline:
            pids.append(int(entry.name))
    return pids


def wait_for_kernels(server_pid: int, count: int, within: float) -> tuple[int, float]:
    start = time.monotonic()
    while True:
        now = len(kernel_pids(server_pid))
        waited = time.monotonic() - start
        if now == count or waited > within:
            return now, waited
        time.sleep(0.5)


def test_pages_that_were_left_release_their_kernels(start_livechat, new_context):
    app = start_livechat("--pool-size", "1")  # culling stays at its default (minutes)
    pid = app.server.pid
    assert wait_for_kernels(pid, 1, 120)[0] == 1  # the preheated kernel
    context = new_context()
    for visit in range(3):
        page = context.new_page()
        page.goto(app.url, wait_until="domcontentloaded")
        expect(message_box(page)).to_be_editable()
        if visit == 1:  # a reload is a page left too
            page.reload()
            expect(message_box(page)).to_be_editable()
        page.goto("about:blank")  # leaving: the page asks Voila to shut its kernel down
        page.close()
    kernels, waited = wait_for_kernels(pid, 1, KERNELS_BACK_WITHIN_S)
    assert kernels == 1, f"{kernels} kernels after {waited:.0f} s:\n{app.server.output[-3000:]}"
    assert "'_xsrf' argument missing" not in app.server.output
