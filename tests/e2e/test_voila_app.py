"""The `livechat` Voila app in a real browser: each test starts `livechat` itself (a
subprocess on a free 127.0.0.1 port, temporary chat_logs) in front of the local fake
provider, and drives it with Playwright + Debian Chromium. Screenshots: ./artifacts/."""

from __future__ import annotations

import csv
import http.server
import json
import re
import threading
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)

STORY = " ".join(f"word{i}" for i in range(400))  # a long reply, streamed slowly
MARKDOWN_REPLY = """Here is a **Python** function that reads a chat file:

```python
import csv

def read_chat(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
```

- one CSV file per chat
- columns: `timestamp`, `user_id`, `role`, `content`
"""


# ------------------------------------------------------------------ helpers


def open_app(new_context, url: str, **context_options) -> Page:
    context = new_context(**context_options)
    page = context.new_page()
    page.errors = []  # uncaught page errors, checked at the end of tests
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    return page


def root(page: Page):
    return page.locator(".livechat-root")


def message_box(page: Page):
    return page.get_by_role("textbox", name="Message")


def send(page: Page, text: str) -> None:
    box = message_box(page)
    box.fill(text)
    box.press("Enter")


def assistant(page: Page):
    return root(page).locator(".lc-msg[data-role=assistant]")


def user(page: Page):
    return root(page).locator(".lc-msg[data-role=user]")


def chat_items(page: Page):
    return root(page).locator(".lc-chat-list .lc-chat-item")


def wait_idle(page: Page) -> None:
    """The composer shows Send again: no reply is streaming in the active chat."""
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def read_rows(chat_logs: Path) -> dict[str, list[dict[str, str]]]:
    rows = {}
    for path in sorted(chat_logs.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            rows[path.stem] = list(csv.DictReader(f))
    return rows


def last_user_text(request) -> str:
    messages = (request.json or {}).get("messages") or [{}]
    content = messages[-1].get("content", "")
    return content if isinstance(content, str) else str(content)


# -------------------------------------------------------------------- tests


def test_send_streams_stop_keeps_partial_and_reload_keeps_all(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = STORY
    fake_provider.tokens_per_s = 12
    app = start_livechat()
    page = open_app(new_context, app.url)
    shot(page, "empty")

    # a new chat exists once it has a first message
    page.get_by_role("button", name="New chat").click()
    expect(root(page).locator(".lc-empty")).to_be_visible()
    send(page, "Tell me a long story")
    expect(chat_items(page)).to_have_count(1)
    expect(user(page)).to_have_count(1)
    expect(user(page).first).to_contain_text("Tell me a long story")

    # the reply visibly streams: its text grows while the caret is shown
    bubble = assistant(page).last
    expect(bubble).to_have_class(re.compile(r"\blc-streaming\b"))
    expect(bubble).to_contain_text("word3")
    seen = len(bubble.inner_text())
    page.wait_for_function(
        "([el, n]) => el.innerText.length > n + 20", arg=[bubble.element_handle(), seen]
    )
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    shot(page, "streaming")

    page.get_by_role("button", name="Stop").click()
    wait_idle(page)
    expect(bubble).not_to_have_class(re.compile(r"\blc-streaming\b"))
    expect(bubble.locator(".lc-note")).to_contain_text("Stopped")
    partial = bubble.locator(".lc-md").inner_text().strip()
    assert partial and STORY.startswith(partial) and len(partial) < len(STORY)
    shot(page, "stopped")

    # persisted: the user row, then the partial assistant row
    (rows,) = read_rows(app.chat_logs).values()
    roles = [r["role"] for r in rows if r["role"] in ("user", "assistant")]
    assert roles == ["user", "assistant"]
    stored = next(r["content"] for r in rows if r["role"] == "assistant")
    assert stored.strip() == partial

    fake_provider.tokens_per_s = 0
    fake_provider.text = "The capital of France is **Paris**."
    send(page, "Capital of France?")
    expect(assistant(page)).to_have_count(2)
    expect(assistant(page).last).to_contain_text("The capital of France is Paris.")
    wait_idle(page)

    page.reload(wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    expect(chat_items(page)).to_have_count(1)
    expect(user(page)).to_have_text([re.compile("Tell me a long story"),
                                     re.compile("Capital of France")])  # fmt: skip
    expect(assistant(page).first).to_contain_text(partial[-30:])
    expect(assistant(page).first.locator(".lc-note")).to_contain_text("Stopped")
    expect(assistant(page).last.locator("strong")).to_have_text("Paris")
    shot(page, "after-reload")
    assert page.errors == []


def test_the_app_fills_the_window_and_follows_its_size(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = MARKDOWN_REPLY
    app = start_livechat()
    page = open_app(new_context, app.url)
    expect(page).to_have_title("Live chat")
    expect(root(page).locator(".lc-side-title")).to_have_text("Live chat")
    # Three page loads: the height must not depend on which script finished first.
    for load in range(3):
        if load:
            page.reload(wait_until="domcontentloaded")
            expect(message_box(page)).to_be_editable()
        for width, height in ((1280, 800), (1000, 600), (1400, 1000)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(
                "([el, w, h]) => { const r = el.getBoundingClientRect();"
                " return Math.abs(r.height - h) <= 2 && Math.abs(r.width - w) <= 2; }",
                arg=[root(page).element_handle(), width, height],
            )
            scroll = page.evaluate(
                "[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]"
            )
            assert scroll[0] <= width and scroll[1] <= height + 1, scroll  # no page scrollbars
    # no code is shown, only the widget
    assert page.locator(".jp-InputArea, .jp-CodeMirrorEditor, pre.jp-ThemedContainer").count() == 0
    page.set_viewport_size({"width": 1280, "height": 800})
    send(page, "How do I read a chat file in Python?")
    expect(assistant(page).last.locator("pre code")).to_contain_text("def read_chat(path):")
    wait_idle(page)
    shot(page, "full-page")
    assert page.errors == []


def test_rename_search_and_delete(start_livechat, fake_provider, new_context, shot):
    def reply(request):
        said = last_user_text(request)
        animal = "quokka" if "zebra" in said else "walrus"
        return f"About that: the {animal} is a fine animal."

    fake_provider.text = reply
    app = start_livechat()
    page = open_app(new_context, app.url)

    send(page, "Tell me about zebras")
    expect(assistant(page).last).to_contain_text("quokka")
    wait_idle(page)
    page.get_by_role("button", name="New chat").click()
    send(page, "Tell me about seals")
    expect(assistant(page).last).to_contain_text("walrus")
    wait_idle(page)
    expect(chat_items(page)).to_have_count(2)
    zebras = chat_items(page).filter(has_text="zebras")
    seals = chat_items(page).filter(has_text="seals")

    # rename (inline; Enter saves)
    zebras.hover()
    zebras.get_by_role("button", name="Rename chat").click()
    title = root(page).get_by_role("textbox", name="Chat title")
    expect(title).to_be_focused()
    title.fill("Striped friends")
    title.press("Enter")
    renamed = chat_items(page).filter(has_text="Striped friends")
    expect(renamed).to_have_count(1)
    shot(page, "renamed")
    titles = [r["content"] for rows in read_rows(app.chat_logs).values() for r in rows
              if r["role"] == "title"]  # fmt: skip
    assert "Striped friends" in titles

    # search finds a chat by a word that is only in its content
    search = page.get_by_role("searchbox", name="Search chats")
    search.fill("quokka")
    results = root(page).get_by_role("list", name="Search results")
    expect(results.get_by_role("button")).to_have_count(1)
    hit = results.get_by_role("button").first
    expect(hit).to_contain_text("Striped friends")
    expect(hit.locator("mark")).to_have_text("quokka")
    shot(page, "search")
    hit.click()
    expect(root(page).locator(".lc-topbar")).to_contain_text("Striped friends")
    expect(assistant(page).last).to_contain_text("quokka")
    search.fill("")
    expect(chat_items(page)).to_have_count(2)

    # delete, with a confirmation (Cancel keeps it)
    seals.hover()
    seals.get_by_role("button", name="Delete chat").click()
    confirm = root(page).get_by_role("group", name=re.compile("Delete"))
    expect(confirm).to_be_visible()
    shot(page, "confirm-delete")
    confirm.get_by_role("button", name="Cancel").click()
    expect(chat_items(page)).to_have_count(2)
    seals.hover()
    seals.get_by_role("button", name="Delete chat").click()
    root(page).get_by_role("group", name=re.compile("Delete")).get_by_role(
        "button", name="Delete", exact=True
    ).click()
    expect(chat_items(page)).to_have_count(1)
    expect(chat_items(page).first).to_contain_text("Striped friends")
    assert len(app.csv_files()) == 1
    assert page.errors == []


def test_reload_and_a_second_browser_see_the_same_chats(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = lambda request: f"Echo: {last_user_text(request)}"
    app = start_livechat()
    first = open_app(new_context, app.url)
    send(first, "first chat message")
    expect(assistant(first).last).to_contain_text("Echo: first chat message")
    wait_idle(first)
    first.get_by_role("button", name="New chat").click()
    send(first, "second chat message")
    expect(assistant(first).last).to_contain_text("Echo: second chat message")
    wait_idle(first)

    # another visitor (its own browser context, its own kernel) sees both chats
    second = open_app(new_context, app.url)
    expect(chat_items(second)).to_have_count(2)
    expect(chat_items(second).filter(has_text="first chat message")).to_have_count(1)
    chat_items(second).filter(has_text="first chat message").locator(".lc-chat-select").click()
    expect(assistant(second).last).to_contain_text("Echo: first chat message")
    shot(second, "second-context")

    # ... and what it adds is there for the first visitor after a reload
    send(second, "from the second browser")
    expect(assistant(second).last).to_contain_text("Echo: from the second browser")
    wait_idle(second)
    first.reload(wait_until="domcontentloaded")
    expect(message_box(first)).to_be_editable()
    first_chat = chat_items(first).filter(has_text="first chat message")
    first_chat.locator(".lc-chat-select").click()
    expect(user(first)).to_have_count(2)
    expect(user(first).last).to_contain_text("from the second browser")
    assert first.errors == [] and second.errors == []


def test_phone_width_drawer_opens_and_closes(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = "Small screens work too."
    app = start_livechat()
    page = open_app(new_context, app.url, viewport={"width": 360, "height": 740})
    sidebar = root(page).get_by_role("complementary", name="Chat list")
    toggle = page.get_by_role("button", name="Toggle chat list")
    expect(toggle).to_be_visible()
    expect(sidebar).not_to_be_in_viewport()
    send(page, "hello from a phone")
    expect(assistant(page).last).to_contain_text("Small screens work too.")
    wait_idle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"horizontal overflow: {width}px"
    shot(page, "narrow")

    toggle.click()
    expect(root(page)).to_have_class(re.compile(r"\blc-drawer-open\b"))
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_in_viewport()
    expect(chat_items(page)).to_have_count(1)
    shot(page, "drawer-open")

    # the open drawer covers the toggle; a tap beside it (the backdrop) closes it
    drawer = sidebar.bounding_box()
    page.mouse.click(drawer["x"] + drawer["width"] + 20, 400)
    expect(root(page)).not_to_have_class(re.compile(r"\blc-drawer-open\b"))
    expect(sidebar).not_to_be_in_viewport()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()  # Escape closes it too
    expect(sidebar).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()
    assert page.errors == []


def test_keyboard_shortcuts(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = STORY
    fake_provider.tokens_per_s = 12
    app = start_livechat()
    page = open_app(new_context, app.url)
    box = message_box(page)

    # Shift+Enter: a new line; Enter: send
    box.click()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    expect(box).to_have_value("line one\nline two")
    page.keyboard.press("Enter")
    expect(user(page)).to_have_count(1)
    expect(user(page).first).to_contain_text("line one")
    expect(user(page).first).to_contain_text("line two")
    expect(box).to_have_value("")

    # Esc stops the streaming reply
    expect(assistant(page).last).to_contain_text("word5")
    box.focus()
    page.keyboard.press("Escape")
    wait_idle(page)
    expect(assistant(page).last.locator(".lc-note")).to_contain_text("Stopped")

    # Ctrl+K focuses the search box
    box.focus()
    page.keyboard.press("Control+k")
    expect(page.get_by_role("searchbox", name="Search chats")).to_be_focused()

    # Ctrl+Shift+O starts a new chat (it is listed once it has a message)
    expect(chat_items(page)).to_have_count(1)
    box.focus()
    page.keyboard.press("Control+Shift+O")
    expect(user(page)).to_have_count(0)
    expect(root(page).locator(".lc-empty")).to_be_visible()
    fake_provider.tokens_per_s = 0
    fake_provider.text = "A fresh chat."
    send(page, "new chat via the keyboard")
    expect(chat_items(page)).to_have_count(2)
    expect(assistant(page)).to_have_count(1)
    shot(page, "after-shortcuts")
    assert page.errors == []


def test_dark_theme(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = MARKDOWN_REPLY
    app = start_livechat("--theme", "dark")
    page = open_app(new_context, app.url)
    expect(root(page)).to_have_attribute("data-lc-scheme", "dark")
    send(page, "How do I read a chat file in Python?")
    expect(assistant(page).last.locator("pre code")).to_contain_text("def read_chat(path):")
    wait_idle(page)
    luminance = page.evaluate(
        """el => {
            let node = el.querySelector('.lc-app') || el, bg = 'rgba(0, 0, 0, 0)';
            while (node && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            const [r, g, b] = bg.match(/[\\d.]+/g).map(Number);
            return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
        }""",
        root(page).element_handle(),
    )
    assert luminance < 0.3, f"background is not dark (luminance {luminance:.2f})"
    text_luminance = page.evaluate(
        """el => { const [r, g, b] = getComputedStyle(el).color.match(/[\\d.]+/g).map(Number);
                  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; }""",
        assistant(page).last.locator(".lc-md").element_handle(),
    )
    assert text_luminance > 0.6, f"text is not light (luminance {text_luminance:.2f})"
    shot(page, "dark")
    assert page.errors == []


class Canary:
    """A 127.0.0.1 HTTP server that records every request: XSS payloads point at it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary():
    server = Canary()
    yield server
    server.close()


def xss_reply(canary_url: str) -> str:
    return "\n\n".join([
        "Here are some payloads.",
        f'<img src="{canary_url}/img" onerror="window.__xss=1;alert(1)">',
        f"<script>window.__xss=2;alert(2);fetch('{canary_url}/script')</script>",
        "[click me](javascript:window.__xss=3;alert(3))",
        f"<iframe srcdoc=\"<script>parent.__xss=4;fetch('{canary_url}/iframe')</script>\">"
        "</iframe>",
        f'<svg><script>window.__xss=5</script><image href="{canary_url}/svg"/></svg>',
        '<a href="data:text/html,<script>alert(6)</script>">data link</a>',
        f'<form action="{canary_url}/form"><button>submit me</button></form>',
        f"![remote image]({canary_url}/md-img.png)",
        f'<div style="background:url({canary_url}/css)">styled</div>',
        f'<a href="{canary_url}/link">a plain link</a>',
        # Math: KaTeX without trust, its output sanitized again.
        r"Math: $\href{javascript:window.__xss=7}{math link}$ and "
        + rf"\(\url{{{canary_url}/url}}\) and $\includegraphics{{{canary_url}/graphic.png}}$",
        rf"$$\htmlStyle{{background:url({canary_url}/css2)}}{{x}}"
        + rf" \text{{<img src={canary_url}/img2>}}$$",
        "End of payloads.",
    ])  # fmt: skip


def assert_inert(page: Page, canary: Canary, requests: list[str]) -> None:
    body = assistant(page).last.locator(".lc-md")
    expect(body).to_contain_text("End of payloads.")
    found = page.evaluate(
        """el => ({
            dangerous: [...el.querySelectorAll('script,iframe,frame,object,embed,form,svg script')]
                .map(e => e.tagName),
            handlers: [...el.querySelectorAll('*')].flatMap(e => [...e.attributes]
                .filter(a => a.name.startsWith('on')).map(a => e.tagName + '@' + a.name)),
            badLinks: [...el.querySelectorAll('[href],[src],[action],[formaction]')]
                .map(e => ['href', 'src', 'action', 'formaction']
                          .map(n => e.getAttribute(n)).find(Boolean) || '')
                .filter(u => /^\\s*(javascript|data|vbscript):/i.test(u)),
            links: [...el.querySelectorAll('a[href]')].map(a => [a.target, a.rel]),
            xss: window.__xss ?? null,
        })""",
        body.element_handle(),
    )
    assert found["dangerous"] == [] and found["handlers"] == [] and found["badLinks"] == []
    # The formulas were typeset by KaTeX (the payloads went through it), with no link.
    expect(body.locator(".lc-math-done .katex")).to_have_count(4)
    assert body.locator(".lc-math a").count() == 0
    assert found["xss"] is None
    for target, rel in found["links"]:
        assert target == "_blank" and "noopener" in rel and "noreferrer" in rel
    link = body.get_by_text("click me")
    if link.count():
        link.click()
    page.wait_for_timeout(1000)  # give any late loader the chance to fire (it must not)
    assert page.evaluate("window.__xss ?? null") is None
    assert canary.hits == []
    assert [url for url in requests if url.startswith(canary.url)] == []


def test_model_reply_with_xss_payloads_is_inert(
    start_livechat, fake_provider, new_context, canary, shot
):
    fake_provider.text = xss_reply(canary.url)
    app = start_livechat()
    page = open_app(new_context, app.url)
    dialogs, requests = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))

    send(page, "Show me your worst")
    wait_idle(page)
    assert_inert(page, canary, requests)  # rendered while streaming, then finished
    shot(page, "xss-streamed")

    page.reload(wait_until="domcontentloaded")  # rendered from the stored history
    expect(message_box(page)).to_be_editable()
    assert_inert(page, canary, requests)
    assert dialogs == []
    assert page.errors == []


def test_provider_down_shows_error_with_retry_then_retry_works(
    start_livechat, fake_provider, new_context, shot
):
    app = start_livechat()
    page = open_app(new_context, app.url)
    fake_provider.down()
    send(page, "Are you there?")
    error_bubble = root(page).locator(".lc-msg.lc-msg-error")
    expect(error_bubble).to_have_count(1)
    expect(error_bubble.locator(".lc-error-box")).not_to_be_empty()
    retry = error_bubble.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    wait_idle(page)
    shot(page, "provider-down")

    fake_provider.up()
    fake_provider.text = "Back online and answering."
    retry.click()
    expect(assistant(page).last).to_contain_text("Back online and answering.")
    wait_idle(page)
    shot(page, "retried")
    assert any(r["content"] == "Back online and answering."
               for rows in read_rows(app.chat_logs).values() for r in rows)  # fmt: skip
    assert page.errors == []


# ------------------------------------------------------------ accessibility

AXE_JS = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """
async () => {
  const widget = document.querySelector('.livechat-root');
  const result = await axe.run(widget, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
}
"""
# finite animations (fade-ins, the drawer sliding in) have ended; the caret may blink on
SETTLED_JS = """
() => document.getAnimations().every(
  a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)
"""


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations inside the widget."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    page.wait_for_function(SETTLED_JS)
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violation(start_livechat, fake_provider, new_context, shot, theme):
    """axe-core (js/node_modules/axe-core) on the widget: wide with a markdown reply and the
    stats panel, the settings panel, then narrow (360 x 740) with the drawer closed and open."""
    assert AXE_JS.exists(), "axe-core is missing: run `npm ci` in js/"
    fake_provider.text = MARKDOWN_REPLY
    app = start_livechat("--theme", theme)
    page = open_app(new_context, app.url)
    expect(root(page)).to_have_attribute("data-lc-scheme", theme)
    send(page, "How do I read a chat file in Python?")
    expect(assistant(page).last.locator("pre code")).to_contain_text("def read_chat(path):")
    wait_idle(page)
    page.get_by_role("button", name="Stats").click()
    expect(root(page).get_by_role("region", name="Reply statistics")).to_be_visible()
    found = {"wide": axe_violations(page)}
    page.get_by_role("button", name="Stats").click()
    page.get_by_role("button", name="Chat settings").click()
    expect(root(page).get_by_role("region", name="Chat settings")).to_be_visible()
    found["wide, settings open"] = axe_violations(page)
    page.get_by_role("button", name="Chat settings").click()

    page.set_viewport_size({"width": 360, "height": 740})
    toggle = page.get_by_role("button", name="Toggle chat list")
    expect(toggle).to_be_visible()
    found["narrow"] = axe_violations(page)
    toggle.click()
    expect(root(page).get_by_role("complementary", name="Chat list")).to_be_in_viewport()
    found["narrow, drawer open"] = axe_violations(page)
    shot(page, f"axe-{theme}-drawer")
    assert all(not v for v in found.values()), found
    assert page.errors == []


# ------------------------------------------------------- chats as data


def test_chat_menu_exports_the_chat_as_a_download(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = MARKDOWN_REPLY
    app = start_livechat()
    page = open_app(new_context, app.url, accept_downloads=True)
    send(page, "Show me a <b>function</b>")
    expect(assistant(page).last).to_contain_text("def read_chat(path):")
    wait_idle(page)
    (rows,) = read_rows(app.chat_logs).values()

    def download(item: str):
        page.get_by_role("button", name="Chat menu").click()
        expect(page.get_by_role("menuitem", name="Export as Markdown")).to_be_focused()
        with page.expect_download() as info:
            page.get_by_role("menuitem", name=item).click()
        file = info.value
        return file.suggested_filename, Path(file.path()).read_text(encoding="utf-8")

    page.get_by_role("button", name="Chat menu").click()
    shot(page, "chat-menu")
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu", name="Chat menu")).to_be_hidden()

    name, markdown = download("Export as Markdown")
    assert name == "Show-me-a-b-function-b.md"
    assert "### User" in markdown and "Show me a &lt;b>function&lt;/b>" in markdown
    assert "```python\nimport csv\n" in markdown and "### Assistant" in markdown

    name, text = download("Export as JSON")
    assert name.endswith(".json")
    (chat,) = json.loads(text)["chats"]
    assert chat["rows"] == rows  # every row of the chat file, exactly

    name, text = download("Export as notebook")
    assert name.endswith(".ipynb")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert code == [
        "import csv\n\ndef read_chat(path):\n"
        '    with open(path, newline="", encoding="utf-8") as f:\n'
        "        return list(csv.DictReader(f))"
    ]
    assert str(app.chat_logs) not in markdown + text
    assert page.errors == []
