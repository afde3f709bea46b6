"""Files in the conversation, in the `livechat` app (Playwright + Debian Chromium): an
image pasted and a CSV dropped reach the model as an OpenAI image part and as text (and
as an Anthropic image block); after a reload the thumbnail and the chip are there, the
thumbnail opens large, and the files are on disk under their hashes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from playwright.sync_api import Page, expect
from pngs import png
from test_voila_app import axe_violations, message_box, open_app, read_rows, root, user, wait_idle

IMAGE = png(24, 16, b"\xd0\x60\x20")
CSV = b"city,temp\nOslo,3.5\nLima,19.0\n"

GIVE_FILE = """(target, [event, name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  const init = { bubbles: true, cancelable: true };
  if (event === "paste") {
    target.dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: data }));
    return;
  }
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, { ...init, dataTransfer: data }));
  }
}"""


def give(target, event: str, name: str, media_type: str, data: bytes) -> None:
    """Paste into, or drop onto, ``target`` (a locator) a file, as the browser does."""
    b64 = base64.b64encode(data).decode()
    target.evaluate(GIVE_FILE, [event, name, media_type, b64])


def attach_and_send(page: Page, shot) -> None:
    box = message_box(page)
    box.fill("What do these show?")
    give(box, "paste", "image.png", "image/png", IMAGE)
    give(root(page).locator(".lc-main"), "drop", "temps.csv", "text/csv", CSV)
    chips = root(page).locator(".lc-file-chips [role=listitem]")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("temps.csv")
    shot(page, "chips")
    assert axe_violations(page) == []
    box.press("Enter")
    expect(user(page).last.locator(".lc-sent-files [role=listitem]")).to_have_count(2)
    wait_idle(page)


def check_files_on_disk(app) -> str:
    chats = read_rows(app.chat_logs)
    ((chat_id, rows),) = chats.items()
    attached = [json.loads(r["content"]) for r in rows if r["role"] == "attachment"]
    assert [(a["name"], a["media_type"]) for a in attached] == [
        ("pasted-1.png", "image/png"),
        ("temps.csv", "text/csv"),
    ]
    folder = app.chat_logs / f"{chat_id}.files"
    for attachment, data in zip(attached, (IMAGE, CSV), strict=True):
        digest = hashlib.sha256(data).hexdigest()
        assert attachment["sha256"] == digest and attachment["size"] == len(data)
        (path,) = folder.glob(f"{digest}.*")
        assert path.read_bytes() == data
    return chat_id


def test_a_pasted_image_and_a_dropped_csv_reach_the_model(
    start_livechat, fake_provider, new_context, shot
):
    fake_provider.text = "A plot and a table."
    app = start_livechat()
    page = open_app(new_context, app.url)
    attach_and_send(page, shot)
    sent = fake_provider.requests[-1].json["messages"][-1]["content"]
    assert sent[0] == {"type": "text", "text": "What do these show?"}
    image_url = "data:image/png;base64," + base64.b64encode(IMAGE).decode()
    assert sent[1] == {"type": "image_url", "image_url": {"url": image_url}}
    assert sent[2]["type"] == "text" and "Lima,19.0" in sent[2]["text"]
    assert "temps.csv" in sent[2]["text"]
    check_files_on_disk(app)

    # After a reload: the thumbnail (its bytes from the kernel) and the file chip.
    page.reload(wait_until="domcontentloaded")
    expect(message_box(page)).to_be_editable()
    message = user(page).last
    thumb = message.locator(".lc-thumb img")
    expect(thumb).to_have_attribute("alt", "pasted-1.png")
    expect(thumb).to_have_js_property("naturalWidth", 24)
    expect(message.locator(".lc-sent-file")).to_contain_text("temps.csv")
    shot(page, "after-reload")
    message.locator(".lc-thumb").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("img")).to_have_js_property("naturalWidth", 24)
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert page.errors == []


def test_the_anthropic_client_sends_an_image_block(
    start_livechat, fake_provider, new_context, shot
):
    app = start_livechat("--provider", "anthropic", "--base-url", fake_provider.url)
    page = open_app(new_context, app.url)
    attach_and_send(page, shot)
    (request,) = [r for r in fake_provider.requests if r.path.endswith("/messages")]
    blocks = request.json["messages"][-1]["content"]
    assert blocks[0] == {"type": "text", "text": "What do these show?"}
    assert blocks[1] == {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(IMAGE).decode(),
        },
    }
    assert "Oslo,3.5" in blocks[2]["text"]
    check_files_on_disk(app)
    assert page.errors == []


@pytest.mark.parametrize("flag", ["--no-uploads"])
def test_no_uploads_hides_the_paperclip_and_refuses_files(
    start_livechat, fake_provider, new_context, flag
):
    app = start_livechat(flag)
    page = open_app(new_context, app.url)
    expect(root(page).get_by_role("button", name="Attach files")).to_be_hidden()
    give(message_box(page), "paste", "image.png", "image/png", IMAGE)
    expect(root(page).locator(".lc-attach-note")).to_contain_text("turned off")
    expect(root(page).locator(".lc-file-chips [role=listitem]")).to_have_count(0)
