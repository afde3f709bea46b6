"""Issue 22 ("Trust at scale"), the page's findings, in the real `livechat` app (Voila)
in Chromium against the fake provider: a message over the limit stays in the composer,
titles with bidi overrides and control characters are isolated and neutralised, the
settings panel asks before it drops edits, the stats tile names its tokens, and
`javascript:`/`data:` links are plain text. Screenshots: ./artifacts/."""

from __future__ import annotations

import csv
import re
import uuid
from pathlib import Path

from playwright.sync_api import expect
from test_voila_app import (
    assistant,
    axe_violations,
    message_box,
    open_app,
    read_rows,
    root,
    send,
    wait_idle,
)

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)

MAX_TEXT = 100_000  # the kernel's limit for a message (protocol.py MAX_TEXT_CHARS)

# What a paste does: text inserted at the caret, as typing would (maxlength applies).
PASTE_JS = """
([selector, n]) => {
  const box = document.querySelector(selector);
  box.focus();
  document.execCommand('insertText', false, 'p'.repeat(n));
  return box.value.length;
}
"""
# A value set from script (as a browser extension or autofill would): no maxlength.
SET_VALUE_JS = """
([selector, n]) => {
  const box = document.querySelector(selector);
  box.value = 'v'.repeat(n);
  box.dispatchEvent(new Event('input', {bubbles: true}));
}
"""
BOX = ".livechat-root textarea[aria-label=Message]"


def posts(fake_provider) -> list:
    return [r for r in fake_provider.requests if r.method == "POST"]


# ------------------------------------------------------------ 4. over the limit


def test_a_message_over_the_limit_stays_in_the_composer(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = "Short and sweet."
    app = start_livechat()
    page = open_app(new_context, app.url)
    box = message_box(page)
    note = root(page).locator(".lc-too-long")

    # A paste longer than the limit is kept whole (the browser does not cut it).
    assert page.evaluate(PASTE_JS, [BOX, MAX_TEXT + 50_000]) == MAX_TEXT + 50_000
    expect(note).to_be_visible()
    expect(note).to_contain_text("at most 100,000 characters")
    expect(note).to_contain_text("Cut 50,000 characters")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    box.press("Enter")
    expect(note).to_be_visible()
    assert len(box.input_value()) == MAX_TEXT + 50_000
    shot(page, "over-the-limit")
    assert axe_violations(page) == []

    # 5 MB, Enter: refused here, the text stays, the note says how much to cut.
    page.evaluate(SET_VALUE_JS, [BOX, 5_000_000])
    expect(note).to_contain_text("Cut 4,900,000 characters")
    box.press("Enter")
    page.wait_for_timeout(500)  # a send would have reached the kernel by now
    assert page.evaluate("s => document.querySelector(s).value.length", BOX) == 5_000_000
    expect(root(page).locator(".lc-banner")).to_be_hidden()
    assert posts(fake_provider) == [] and app.csv_files() == []

    # Trimmed to the limit, it goes.
    page.evaluate(SET_VALUE_JS, [BOX, MAX_TEXT])
    expect(note).to_be_hidden()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    box.press("Enter")
    expect(assistant(page).last).to_contain_text("Short and sweet.")
    wait_idle(page)
    expect(box).to_have_value("")
    assert len(posts(fake_provider)) == 1
    assert page.errors == []


# ------------------------------------------------------------ 6. titles

# "RTL" stored backwards behind a right-to-left override: drawn raw, it reads "RTL",
# and the end of the title swaps places; a bell and an escape draw as boxes.
SPOOF = "Invoice \u202eLTR\u202c.txt\u0007\u001b[1m"
SHOWN = "Invoice LTR.txt[1m"
BIDI_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
BODY = "Look at \u202eLTR\u202c, kept as written."


def write_old_chat(chat_logs: Path, title: str) -> str:
    """A chat file as an older version (or another tool) may have left it."""
    chat_logs.mkdir(parents=True, exist_ok=True)
    chat_id = str(uuid.uuid4())
    rows = [
        ("2025-01-01T10:00:00.000Z", "someone", "title", title),
        ("2025-01-01T10:00:01.000Z", "someone", "user", BODY),
        ("2025-01-01T10:00:02.000Z", "someone", "assistant", "A reply about invoices."),
    ]
    with open(chat_logs / f"{chat_id}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("timestamp", "user_id", "role", "content"))
        writer.writerows(rows)
    return chat_id


# Each title's text as drawn, whether it sits in an isolating element, and its tooltip.
TITLES_JS = """
root => [
  ...root.querySelectorAll('.lc-chat-title, .lc-top-title, .lc-hit span:first-child'),
].filter(el => el.offsetParent !== null).map(el => ({
  text: el.innerText,
  isolated: [...el.querySelectorAll('*'), el].some(
    e => getComputedStyle(e).unicodeBidi === 'isolate'),
  tooltip: (el.closest('[title]') || el).title,
}))
"""


def test_titles_are_isolated_and_their_bidi_and_control_characters_neutralised(
    start_livechat, fake_provider, new_context, shot, tmp_path
):
    chat_logs = tmp_path / "old_chats"
    write_old_chat(chat_logs, SPOOF)
    app = start_livechat(chat_logs=chat_logs)
    page = open_app(new_context, app.url)
    item = root(page).locator(".lc-chat-list .lc-chat-item")
    expect(item).to_have_count(1)
    item.locator(".lc-chat-select").click()
    expect(root(page).locator(".lc-msg[data-role=user]")).to_have_count(1)
    expect(root(page).locator(".lc-top-title")).to_have_text(SHOWN)

    # the sidebar and the topbar
    drawn = root(page).evaluate(TITLES_JS)
    assert [t["text"] for t in drawn] == [SHOWN, SHOWN], drawn
    assert all(t["isolated"] for t in drawn), drawn
    assert all(t["tooltip"] == SHOWN for t in drawn), drawn
    for part in (".lc-sidebar", ".lc-topbar"):
        assert not BIDI_OR_CONTROL.search(root(page).locator(part).text_content()), part
    # the message body keeps every character
    body = root(page).locator(".lc-msg[data-role=user]").evaluate("el => el.textContent")
    assert BODY in body
    shot(page, "spoofed-title-neutralised")

    # a search hit
    page.get_by_role("searchbox", name="Search chats").fill("invoices")
    hits = root(page).get_by_role("list", name="Search results").get_by_role("button")
    expect(hits).to_have_count(1)
    hit_titles = root(page).evaluate(TITLES_JS)
    assert [t["text"] for t in hit_titles] == [SHOWN, SHOWN], hit_titles
    assert all(t["isolated"] for t in hit_titles), hit_titles
    page.get_by_role("searchbox", name="Search chats").fill("")

    # the delete confirm's name, and the rename field: starts from the title as shown
    item.hover()
    item.get_by_role("button", name="Delete chat").click()
    expect(root(page).get_by_role("group", name=f"Delete “{SHOWN}”?")).to_be_visible()
    root(page).get_by_role("button", name="Cancel").click()
    item.hover()
    item.get_by_role("button", name="Rename chat").click()
    field = root(page).get_by_role("textbox", name="Chat title")
    expect(field).to_have_value(SHOWN)
    field.press("Enter")  # unchanged: no rename
    expect(item.locator(".lc-chat-title")).to_have_text(SHOWN)
    page.wait_for_timeout(300)
    (rows,) = read_rows(app.chat_logs).values()
    assert [r["content"] for r in rows if r["role"] == "title"] == [SPOOF]
    assert axe_violations(page) == []
    assert page.errors == []


# ------------------------------------------------------------ 7. the settings panel


def test_settings_panel_asks_before_it_drops_unsaved_edits(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.models = ["fake-model", "fake-large"]
    app = start_livechat()
    page = open_app(new_context, app.url)
    toggle = page.get_by_role("button", name="Chat settings")
    toggle.click()
    panel = root(page).get_by_role("region", name="Chat settings")
    prompt = panel.get_by_role("textbox", name="System prompt")
    expect(prompt).to_be_visible()
    prompt.fill("Answer in haiku.")

    # Esc: the question, not a silent close
    prompt.press("Escape")
    question = panel.get_by_role("group", name="Unsaved changes")
    expect(question).to_be_visible()
    expect(question).to_contain_text("Save your changes")
    expect(question.get_by_role("button", name="Keep editing")).to_be_focused()
    expect(panel.get_by_role("button", name="Cancel")).to_be_hidden()
    shot(page, "unsaved-changes")
    assert axe_violations(page) == []
    question.get_by_role("button", name="Keep editing").click()
    expect(question).to_be_hidden()
    expect(prompt).to_have_value("Answer in haiku.")

    # the topbar button asks too; Save changes saves
    toggle.click()
    expect(question).to_be_visible()
    question.get_by_role("button", name="Save changes").click()
    expect(panel).to_be_hidden()
    toggle.click()
    expect(prompt).to_have_value("Answer in haiku.")

    # Discard changes: closed, nothing saved
    prompt.fill("Answer in limericks.")
    toggle.click()
    question.get_by_role("button", name="Discard changes").click()
    expect(panel).to_be_hidden()
    toggle.click()
    expect(prompt).to_have_value("Answer in haiku.")
    toggle.click()  # nothing changed: closes at once
    expect(panel).to_be_hidden()
    settings = [r for rows in read_rows(app.chat_logs).values() for r in rows
                if r["role"] == "settings"]  # fmt: skip
    assert len(settings) == 1 and "haiku" in settings[0]["content"], settings
    assert page.errors == []


# ------------------------------------------ 7. unsafe links, and the stats tile

LINKS_REPLY = """Three links:

- [click me](javascript:alert(1))
- [open data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
- [the docs](https://example.org/docs)
"""
# Every <a> in the reply, and how the unsafe links' words are drawn.
LINKS_JS = """
md => {
  const anchors = [...md.querySelectorAll('a')].map(a => a.getAttribute('href'));
  const words = ['click me', 'open data'].map(w => {
    const li = [...md.querySelectorAll('li')].find(li => li.textContent.includes(w));
    const el = li && [...li.querySelectorAll('*')].find(e => e.textContent === w) || li;
    return {text: li?.textContent, tag: el?.tagName,
            decoration: getComputedStyle(el).textDecorationLine};
  });
  return {anchors, words};
}
"""
TOTALS_JS = """
panel => ({
  tiles: Object.fromEntries([...panel.querySelectorAll('dl > div')].map(
    d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])),
  chat: [...panel.querySelectorAll('.lc-usage-totals tbody tr')][0].innerText.split('\\t'),
})
"""


def test_unsafe_links_are_plain_text_and_the_tokens_tile_says_what_it_counts(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = LINKS_REPLY
    app = start_livechat()
    page = open_app(new_context, app.url)
    send(page, "Give me some links")
    md = assistant(page).last.locator(".lc-md")
    expect(md).to_contain_text("the docs")
    wait_idle(page)
    found = md.evaluate(LINKS_JS)
    assert found["anchors"] == ["https://example.org/docs"], found
    for word in found["words"]:
        assert word["tag"] == "LI" and word["decoration"] == "none", found
    shot(page, "unsafe-links-plain")

    page.get_by_role("button", name="Stats").click()
    panel = root(page).get_by_role("region", name="Reply statistics")
    expect(panel).to_be_visible()
    totals = panel.evaluate(TOTALS_JS)
    assert "Tokens" not in totals["tiles"], totals
    # the tile counts completion tokens: this one reply's, as the table's Completion column
    name, replies, prompt, completion = totals["chat"]
    assert (name, replies) == ("This chat", "1"), totals
    assert totals["tiles"]["Completion tokens"] == completion, totals
    shot(page, "stats-tokens")
    assert axe_violations(page) == []
    assert page.errors == []
