"""`livechat --chats per-browser` in a real browser: two browser contexts (two
visitors, each with its own localStorage secret and kernel) never see each other's
chats, a page that forges kernel messages naming the other's chat ids changes
nothing, and a reload finds the visitor's own chats again."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
from pathlib import Path

from playwright.sync_api import Page, WebSocketRoute, expect
from test_voila_app import assistant, chat_items, last_user_text, message_box, root, send, wait_idle

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)


class KernelSocket:
    """The page's kernel websocket, routed through the test: it records what the page
    sends and can send the kernel messages the page never would (forged ones)."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict] = []  # decoded comm messages of the page
        self.server: WebSocketRoute | None = None
        page.route_web_socket(re.compile(r"/api/kernels/.*/channels"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.server = server

        def forward(message: str | bytes) -> None:
            if isinstance(message, bytes):
                parts = decode(message)
                if json.loads(parts[1]).get("msg_type") == "comm_msg":
                    self.sent.append({"parts": parts, "content": json.loads(parts[4])})
            server.send(message)

        ws.on_message(forward)

    def widget_comm(self) -> dict:
        """A comm message the widget itself sent (a custom message)."""
        for msg in self.sent:
            if msg["content"]["data"].get("method") == "custom":
                return msg
        raise AssertionError("the page sent no widget message yet")

    def forge(self, payload: dict) -> None:
        """Send the kernel `payload` as if the widget had sent it."""
        template = self.widget_comm()
        header = {**json.loads(template["parts"][1]), "msg_id": str(uuid.uuid4())}
        content = {**template["content"], "data": {"method": "custom", "content": payload}}
        parts = list(template["parts"])
        parts[1], parts[4] = json.dumps(header).encode(), json.dumps(content).encode()
        assert self.server is not None
        self.server.send(encode(parts))


def decode(frame: bytes) -> list[bytes]:
    """Jupyter's v1 kernel websocket frame: a count, offsets, then the parts."""
    (count,) = struct.unpack_from("<Q", frame)
    offsets = struct.unpack_from(f"<{count}Q", frame, 8)
    return [frame[offsets[i] : offsets[i + 1]] for i in range(count - 1)]


def encode(parts: list[bytes]) -> bytes:
    count = len(parts) + 1
    offsets = [8 * (count + 1)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return struct.pack(f"<Q{count}Q", count, *offsets) + b"".join(parts)


def visit(context, url: str) -> tuple[Page, KernelSocket]:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    socket = KernelSocket(page)
    page.goto(url, wait_until="domcontentloaded", timeout=UI_WAIT_MS)
    expect(message_box(page)).to_be_editable()
    return page, socket


def files(chat_logs: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(chat_logs.rglob("*.csv"))}


def test_two_browsers_never_see_each_others_chats(start_livechat, fake_provider, new_context, shot):
    fake_provider.text = lambda request: f"Echo: {last_user_text(request)}"
    app = start_livechat("--chats", "per-browser")
    assert "chats are per browser" in app.server.output

    context_a = new_context()
    page_a, _ = visit(context_a, app.url)
    send(page_a, "aardvark plans for Monday")
    expect(assistant(page_a).last).to_contain_text("Echo: aardvark plans for Monday")
    wait_idle(page_a)
    page_a.get_by_role("button", name="New chat").click()
    send(page_a, "aardvark budget")
    expect(assistant(page_a).last).to_contain_text("Echo: aardvark budget")
    wait_idle(page_a)
    expect(chat_items(page_a)).to_have_count(2)
    secret_a = page_a.evaluate("localStorage.getItem('livechat-visitor-secret')")
    assert re.fullmatch(r"[0-9a-f]{32}", secret_a)
    folder_a = app.chat_logs / "visitors" / hashlib.sha256(secret_a.encode()).hexdigest()
    ids_a = sorted(p.stem for p in folder_a.glob("*.csv"))
    assert len(ids_a) == 2
    assert not list(app.chat_logs.glob("*.csv")), "nothing in the shared folder"

    context_b = new_context()
    page_b, socket_b = visit(context_b, app.url)
    expect(root(page_b).locator(".lc-chat-list")).to_contain_text("No chats yet")
    send(page_b, "bison notes")
    expect(assistant(page_b).last).to_contain_text("Echo: bison notes")
    wait_idle(page_b)
    expect(chat_items(page_b)).to_have_count(1)
    expect(root(page_b)).not_to_contain_text("aardvark")
    secret_b = page_b.evaluate("localStorage.getItem('livechat-visitor-secret')")
    assert secret_b != secret_a

    # search: nothing of A's
    search = page_b.get_by_role("searchbox", name="Search chats")
    search.fill("aardvark")
    expect(root(page_b).get_by_text("No chats match")).to_be_visible()
    expect(root(page_b).get_by_role("list", name="Search results")).to_have_count(0)
    shot(page_b, "b-searches-for-a")
    search.fill("")

    # forged messages naming A's chats: nothing of A's changes, B sees nothing of A's
    before = files(folder_a)
    for chat_id in ids_a:
        for payload in (
            {"type": "select_chat", "chat_id": chat_id},
            {"type": "rename", "chat_id": chat_id, "title": "taken over"},
            {"type": "send", "chat_id": chat_id, "text": "written by B"},
            {"type": "regenerate", "chat_id": chat_id},
            {"type": "clear", "chat_id": chat_id},
            {"type": "delete", "chat_id": chat_id},
            {"type": "load_older", "chat_id": chat_id, "before": 1},
        ):
            socket_b.forge(payload)
    # a claim with a made-up secret is refused once the page has its chats
    socket_b.forge({"type": "claim", "secret": "0" * 32})
    expect(root(page_b).get_by_role("alert")).to_contain_text("another browser")
    page_b.get_by_role("button", name="Dismiss error").click()
    send(page_b, "still mine")  # ordered after every forged message
    expect(assistant(page_b).last).to_contain_text("Echo: still mine")
    wait_idle(page_b)
    assert files(folder_a) == before
    assert len(fake_provider.requests) == 4  # two of A, two of B: no forged reply
    expect(chat_items(page_b)).to_have_count(1)
    expect(root(page_b).locator(".lc-chat-list")).not_to_contain_text("aardvark")
    expect(page_b.get_by_role("log", name="Messages")).not_to_contain_text("aardvark")
    expect(root(page_b).locator(".lc-topbar")).not_to_contain_text("aardvark")
    shot(page_b, "b-after-forged-messages")

    # each reload finds its own chats
    page_a.reload(wait_until="domcontentloaded", timeout=UI_WAIT_MS)
    expect(message_box(page_a)).to_be_editable()
    expect(chat_items(page_a)).to_have_count(2)
    expect(chat_items(page_a).filter(has_text="aardvark budget")).to_have_count(1)
    expect(root(page_a)).not_to_contain_text("bison")
    page_b.reload(wait_until="domcontentloaded", timeout=UI_WAIT_MS)
    expect(message_box(page_b)).to_be_editable()
    expect(chat_items(page_b)).to_have_count(1)
    expect(chat_items(page_b).first).to_contain_text("bison notes")
    expect(root(page_b)).not_to_contain_text("aardvark")
    shot(page_a, "a-after-reload")
    assert page_a.errors == [] and page_b.errors == []
