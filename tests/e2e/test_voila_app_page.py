"""The `livechat` command's own page (Voila template "livechat", js/app_page): no
JupyterLab, one script, the same kernel life, theme flag and a message instead of a
blank page when the kernel cannot be reached. The app's behaviour itself is covered by
test_voila_app.py and the other test_voila_*.py files, which run against this page."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from playwright.sync_api import Page, expect
from test_voila_app import MARKDOWN_REPLY, assistant, message_box, open_app, root, send, wait_idle
from test_voila_lifecycle import kernel_pids, wait_for_kernels


def kernel_id(page: Page) -> str:
    config = page.locator("#livechat-page-config").text_content() or "{}"
    return str(json.loads(config)["kernelId"])


def notice(page: Page):
    return page.locator("#livechat-notice")


def test_the_page_connects_without_jupyterlab(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = MARKDOWN_REPLY
    app = start_livechat()
    context = new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app.url, wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    expect(notice(page)).to_be_hidden()
    send(page, "How do I read a chat file in Python?")
    expect(assistant(page).last.locator("pre code")).to_contain_text("def read_chat(path):")
    wait_idle(page)

    http = [url for url in requests if url.startswith("http")]
    assert http == [app.url, f"{app.url}voila/static/app_page.js"], http
    # none of Voila's JupyterLab page: its voila.js, chunks, extensions, themes
    assert not [u for u in requests if "voila.js" in u or "labextensions" in u or "themes" in u]
    assert page.evaluate("typeof window._JUPYTERLAB") == "undefined"
    shot(page, "app-page")


def test_leaving_the_page_shuts_its_kernel_down(start_livechat, new_context):
    app = start_livechat()
    pid = app.server.pid
    assert wait_for_kernels(pid, 1, 120)[0] == 1  # the preheated kernel
    page = new_context().new_page()
    page.goto(app.url, wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    visitor_kernel = kernel_id(page)
    assert wait_for_kernels(pid, 2, 120)[0] == 2  # the visitor's + a new preheated one
    page.close(run_before_unload=True)
    kernels, waited = wait_for_kernels(pid, 1, 60)
    assert kernels == 1, f"{kernels} kernels after {waited:.0f} s:\n{app.server.output[-3000:]}"
    assert f"Kernel shutdown: {visitor_kernel}" in app.server.output
    assert "'_xsrf' argument missing" not in app.server.output


def test_theme_flag_forces_the_scheme_whatever_the_browser_prefers(start_livechat, new_context):
    app = start_livechat("--theme", "dark")
    page = open_app(new_context, app.url, color_scheme="light")
    expect(root(page)).to_have_attribute("data-lc-scheme", "dark")
    assert page.locator("body").get_attribute("data-jp-theme-light") == "false"

    light = start_livechat("--theme", "light")
    page = open_app(new_context, light.url, color_scheme="dark")
    expect(root(page)).to_have_attribute("data-lc-scheme", "light")


def test_the_default_page_is_light(start_livechat, new_context):
    # As documented for --theme (and as Voila's lab page was): light, even in a dark browser.
    app = start_livechat()
    page = open_app(new_context, app.url, color_scheme="dark")
    expect(root(page)).to_have_attribute("data-lc-scheme", "light")


def visitor_kernel_pid(server_pid: int, kernel: str) -> int:
    for pid in kernel_pids(server_pid):
        if kernel.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError(f"no process for kernel {kernel}")


def test_a_kernel_that_dies_leaves_a_message_and_reload_starts_again(
    start_livechat, new_context, shot
):
    app = start_livechat()
    page = open_app(new_context, app.url)
    os.kill(visitor_kernel_pid(app.server.pid, kernel_id(page)), signal.SIGKILL)
    expect(notice(page)).to_be_visible()
    expect(notice(page)).to_have_attribute("role", "alert")
    expect(notice(page)).to_contain_text("Reload the page")
    shot(page, "kernel-died")
    notice(page).get_by_role("button", name="Reload").click()
    expect(message_box(page)).to_be_editable()
    expect(notice(page)).to_be_hidden()


def test_a_server_that_stops_leaves_a_message(start_livechat, new_context):
    app = start_livechat()
    page = open_app(new_context, app.url)
    app.server.stop(signal.SIGINT)  # shuts every kernel down, then the websocket ends
    expect(notice(page)).to_be_visible()
    # "lost, reconnecting…" or, once the browser gives up, "stopped… Reload"
    expect(notice(page)).to_contain_text(
        re.compile("Connection to the server lost|The chat stopped on the server")
    )


def test_a_notebook_that_fails_shows_why_not_a_blank_page(start_livechat, new_context, shot):
    app = start_livechat(env={"LIVECHAT_TEMPERATURE": "hot"})  # the widget refuses it
    page = new_context().new_page()
    page.goto(app.url, wait_until="domcontentloaded")
    expect(notice(page)).to_have_attribute("role", "alert")
    expect(notice(page)).to_contain_text("could not start on the server")
    assert "LIVECHAT_TEMPERATURE" in app.server.output  # the server log says which
    expect(root(page)).to_have_count(0)
    shot(page, "notebook-failed")
