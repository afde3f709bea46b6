"""Issue 22 ("Trust at scale"), the page's findings, in the real `livechat` app (Voila)
in Chromium against the fake provider: a message over the limit stays in the composer,
titles with bidi overrides and control characters are isolated and neutralised, the
settings panel asks before it drops edits, the stats tile names its tokens, and
`javascript:`/`data:` links are plain text. Screenshots: ./artifacts/."""

from __future__ import annotations

from playwright.sync_api import expect
from test_voila_app import (
    assistant,
    message_box,
    open_app,
    root,
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
