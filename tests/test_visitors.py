"""Private chats per browser: the folder a secret names, the default mode, and a
widget in per-browser mode refusing everything that names another browser's chats."""

from __future__ import annotations

import hashlib

import pytest
from widget_doubles import ScriptedClient, answer, browser, make_widget, settle

from livechat_widget import app
from livechat_widget.visitors import default_chats_mode, is_loopback, visitor_folder

SECRET_A = "0123456789abcdef0123456789abcdef"
SECRET_B = "fedcba9876543210fedcba9876543210"


def test_the_folder_is_named_by_a_hash_of_the_secret(tmp_path):
    folder = visitor_folder(tmp_path, SECRET_A)
    assert folder.parent == tmp_path / "visitors"
    assert folder.name == hashlib.sha256(SECRET_A.encode()).hexdigest()
    assert SECRET_A not in str(folder)
    assert visitor_folder(tmp_path, SECRET_B) != folder


@pytest.mark.parametrize(
    "secret",
    ["", "0123", SECRET_A.upper(), SECRET_A + "0", "../" + SECRET_A[3:], None, 12],
)
def test_anything_but_32_lowercase_hex_digits_is_refused(tmp_path, secret):
    with pytest.raises(ValueError):
        visitor_folder(tmp_path, secret)


@pytest.mark.parametrize(
    ("host", "mode"),
    [
        ("127.0.0.1", "shared"),
        ("localhost", "shared"),
        ("::1", "shared"),
        ("127.0.0.2", "shared"),
        ("0.0.0.0", "per-browser"),
        ("", "per-browser"),
        ("::", "per-browser"),
        ("192.168.1.5", "per-browser"),
        ("chat.example.org", "per-browser"),
    ],
)
def test_per_browser_is_the_default_whenever_others_can_connect(host, mode):
    assert default_chats_mode(host) == mode
    assert is_loopback(host) == (mode == "shared")


def test_the_chats_option_beats_the_default(tmp_path):
    def env(*argv: str) -> str:
        return app.build_env(app.parse_args(["--chat-logs", str(tmp_path), *argv]), {})[
            "LIVECHAT_CHATS"
        ]

    assert env() == "shared"
    assert env("--host", "0.0.0.0") == "per-browser"
    assert env("--chats", "per-browser") == "per-browser"
    assert env("--host", "0.0.0.0", "--chats", "shared") == "shared"


def test_the_start_up_line_says_which_mode_and_warns_about_shared_beyond_loopback():
    assert "per browser" in app.chats_mode_notice("per-browser", "0.0.0.0")
    assert "WARNING" not in app.chats_mode_notice("shared", "127.0.0.1")
    assert "WARNING" in app.chats_mode_notice("shared", "0.0.0.0")


def test_bad_chats_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        app.parse_args(["--chats", "everyone"])
    assert exc.value.code == 2
    assert "--chats" in capsys.readouterr().err


# ------------------------------------------------------------------ the widget


def visitor(tmp_path, secret: str | None, **kwargs):
    widget = make_widget(tmp_path, ScriptedClient(pieces=["ok"]), per_browser=True, **kwargs)
    if secret is not None:
        browser(widget, type="claim", secret=secret)
    return widget


def files(tmp_path):
    return sorted(p.relative_to(tmp_path) for p in (tmp_path / "logs").rglob("*") if p.is_file())


async def test_no_chats_until_the_browser_says_whose(tmp_path):
    shared = make_widget(tmp_path)  # a chat in the shared folder
    browser(shared, type="send", text="shared secret plans")
    await settle(shared)
    before = files(tmp_path)

    widget = visitor(tmp_path, None)
    assert widget.per_browser and widget.chats == [] and widget.messages == []
    assert widget.active_chat_id == ""
    browser(widget, type="send", text="hello")
    assert "not loaded" in widget.error
    browser(widget, type="search", query="plans", request="s1")
    assert "not loaded" in widget.error
    assert answer(widget, "s1") == {"type": "refused", "request": "s1", "error": widget.error}
    assert files(tmp_path) == before  # nothing written, nothing read

    browser(widget, type="claim", secret=SECRET_A)
    assert widget.chats == []
    browser(widget, type="send", text="mine")
    await settle(widget)
    (path,) = (tmp_path / "logs" / "visitors").rglob("*.csv")
    assert path.parent == visitor_folder(tmp_path / "logs", SECRET_A)
    assert [c.title for c in widget.chats] == ["mine"]  # not the shared chat


async def test_a_visitor_cannot_reach_another_visitors_chats(tmp_path):
    a = visitor(tmp_path, SECRET_A)
    browser(a, type="send", text="alpha private notes")
    await settle(a)
    browser(a, type="rename", chat_id=a.active_chat_id, title="Alpha title")
    chat_a = a.active_chat_id
    before = {p: p.read_bytes() for p in (tmp_path / "logs").rglob("*.csv")}

    b = visitor(tmp_path, SECRET_B)
    assert b.chats == [] and b.active_chat_id == ""
    browser(b, type="search", query="alpha", request="s1")
    assert answer(b, "s1") == {
        "type": "search_results",
        "request": "s1",
        "query": "alpha",
        "hits": [],
    }
    forged = [
        {"type": "select_chat"},
        {"type": "rename", "title": "pwned"},
        {"type": "delete"},
        {"type": "clear"},
        {"type": "regenerate"},
        {"type": "retry"},
        {"type": "retry_shorter"},
        {"type": "send", "text": "into A's chat"},
    ]
    for msg in forged:
        b.error = ""
        browser(b, **msg, chat_id=chat_a)
        assert b.error, f"{msg['type']} naming A's chat was not refused"
        assert b.active_chat_id == "" and b.messages == [] and b.chats == []
    # Stop and load_older act only on B's own reply and window: naming A's chat is a no-op.
    browser(b, type="stop", chat_id=chat_a)
    browser(b, type="load_older", chat_id=chat_a, before=1)
    assert b.messages == [] and not a.session.replies
    # B cannot switch to A's folder either, even knowing A's secret, once claimed.
    browser(b, type="claim", secret=SECRET_A)
    assert "another browser" in b.error and b.chats == []
    await settle(b)
    assert {p: p.read_bytes() for p in (tmp_path / "logs").rglob("*.csv")} == before
    assert [c.title for c in a.chats] == ["Alpha title"]


async def test_the_same_secret_finds_the_same_chats_again(tmp_path):
    a = visitor(tmp_path, SECRET_A)
    browser(a, type="send", text="remember me")
    await settle(a)
    browser(a, type="claim", secret=SECRET_A)  # a view re-rendered: changes nothing
    assert a.error == "" and [c.title for c in a.chats] == ["remember me"]
    a.close()

    again = visitor(tmp_path, SECRET_A)  # a reload: a new kernel, the same browser
    assert [c.title for c in again.chats] == ["remember me"]
    assert [m["content"] for m in again.messages] == ["remember me", "ok"]


def test_a_malformed_secret_is_refused_and_opens_nothing(tmp_path):
    widget = visitor(tmp_path, "../../" + SECRET_A[6:])
    assert "key is not valid" in widget.error and widget.chats == []
    assert not (tmp_path / "logs").exists()


async def test_shared_chats_ignore_a_claim(tmp_path):
    widget = make_widget(tmp_path)
    browser(widget, type="send", text="shared")
    await settle(widget)
    browser(widget, type="claim", secret=SECRET_A)
    assert widget.error == "" and [c.title for c in widget.chats] == ["shared"]
    assert not (tmp_path / "logs" / "visitors").exists()
