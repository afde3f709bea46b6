"""sidebar(): docked through sidecar in JupyterLab; elsewhere a clear warning and inline."""

from __future__ import annotations

import types

import pytest
import sidecar

from livechat_widget import kernel_host, sidecar_panel
from livechat_widget.kernel_host import lab_unavailable_reason
from livechat_widget.providers.demo import DemoClient
from livechat_widget.sidecar_panel import SidebarUnavailableWarning
from livechat_widget.widget import ChatWidget


class FakeShell:
    """What sidebar() looks at in a kernel's IPython shell."""

    def __init__(self, user_ns=None, kernel=True):
        self.user_ns = user_ns or {}
        self.kernel = object() if kernel else None


@pytest.fixture
def displayed(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    return shown


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("VOILA_", "VSCODE_", "JPY_SESSION_NAME")):
            monkeypatch.delenv(name)


@pytest.fixture
def in_lab(monkeypatch, clean_env):
    monkeypatch.setattr(kernel_host, "_ipython", lambda: FakeShell())
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/sidebar.ipynb")


@pytest.fixture
def chat(tmp_path):
    widget = ChatWidget(client=DemoClient(), store=tmp_path / "logs", height="100%")
    yield widget
    widget.close()


def test_reasons(monkeypatch, clean_env):
    monkeypatch.setattr(kernel_host, "_ipython", lambda: None)
    assert "not an IPython kernel" in lab_unavailable_reason()

    monkeypatch.setattr(kernel_host, "_ipython", lambda: FakeShell(kernel=False))
    assert "terminal IPython" in lab_unavailable_reason()

    monkeypatch.setattr(kernel_host, "_ipython", lambda: FakeShell())
    assert "not started by JupyterLab" in lab_unavailable_reason()

    monkeypatch.setenv("JPY_SESSION_NAME", "/x/nb.ipynb")
    assert lab_unavailable_reason() is None

    vscode = FakeShell(user_ns={"__vsc_ipynb_file__": "/x/nb.ipynb"})
    monkeypatch.setattr(kernel_host, "_ipython", lambda: vscode)
    assert "VS Code" in lab_unavailable_reason()

    monkeypatch.setattr(kernel_host, "_ipython", lambda: FakeShell())
    monkeypatch.setitem(__import__("sys").modules, "google.colab", types.ModuleType("colab"))
    assert "Colab" in lab_unavailable_reason()

    monkeypatch.setenv("VOILA_KERNEL_ID", "abc")
    assert "Voila" in lab_unavailable_reason()


def test_outside_lab_it_warns_and_shows_the_chat_inline(chat, displayed, clean_env, monkeypatch):
    monkeypatch.setattr(kernel_host, "_ipython", lambda: FakeShell())  # a kernel, not Lab's
    created = []
    monkeypatch.setattr(sidecar, "Sidecar", lambda **kw: created.append(kw))
    with pytest.warns(SidebarUnavailableWarning, match="sidebar is not available.*inline"):
        returned = sidecar_panel.sidebar(chat, title="Help")
    assert returned is chat
    assert displayed == [chat]
    assert created == []  # no panel that nobody can see
    assert chat.height == sidecar_panel.INLINE_HEIGHT  # "100%" of an output cell is nothing


def test_outside_lab_a_new_chat_uses_livechat_chat_logs(
    tmp_path, displayed, clean_env, monkeypatch
):
    monkeypatch.setattr(kernel_host, "_ipython", lambda: None)
    monkeypatch.setenv("LIVECHAT_PROVIDER", "demo")
    monkeypatch.setenv("LIVECHAT_CHAT_LOGS", str(tmp_path / "mine"))
    with pytest.warns(SidebarUnavailableWarning):
        chat = sidecar_panel.sidebar(title="Side")
    try:
        assert isinstance(chat, ChatWidget)
        assert displayed == [chat]
        assert chat.title == "Side" and chat.height == sidecar_panel.INLINE_HEIGHT
        chat.new_chat("x")
        assert list((tmp_path / "mine").glob("*.csv"))
    finally:
        chat.close()


def test_in_lab_the_chat_goes_into_a_sidecar(chat, displayed, in_lab, monkeypatch):
    panels = []

    class RecordingSidecar(sidecar.Sidecar):
        def __init__(self, **kw):
            super().__init__(**kw)
            panels.append(self)

    monkeypatch.setattr(sidecar, "Sidecar", RecordingSidecar)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SidebarUnavailableWarning)
        returned = sidecar_panel.sidebar(chat, title="Chat", anchor="split-right")
    assert returned is chat
    assert len(panels) == 1
    assert (panels[0].title, panels[0].anchor) == ("Chat", "split-right")
    assert displayed == [chat]
    assert chat.height == "100%"
    panels[0].close()


def test_in_lab_a_new_chat_fills_the_panel(tmp_path, displayed, in_lab, monkeypatch):
    monkeypatch.setenv("LIVECHAT_PROVIDER", "demo")
    monkeypatch.setenv("LIVECHAT_CHAT_LOGS", str(tmp_path))
    chat = sidecar_panel.sidebar()
    try:
        assert chat.height == "100%" and chat.title == "Chat"
    finally:
        chat.close()


def test_bad_anchor_is_refused(chat):
    with pytest.raises(ValueError, match="anchor must be one of"):
        sidecar_panel.sidebar(chat, anchor="left-ish")


def test_exported_from_the_package():
    import livechat_widget

    assert livechat_widget.sidebar is sidecar_panel.sidebar
