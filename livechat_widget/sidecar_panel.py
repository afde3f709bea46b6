"""``sidebar()``: the chat docked in JupyterLab's right sidebar, through ``sidecar``.

    from livechat_widget import sidebar
    chat = sidebar()              # a ChatWidget, shown in the right sidebar
    await chat.send("Hello")      # the same Python API as an inline chat

Sidecar panels exist only in JupyterLab (and Jupyter Notebook 7, built on it).
Elsewhere — VS Code, Colab, Voila, a plain kernel — ``sidebar()`` warns and shows the
chat inline in the cell's output instead of displaying nothing.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .widget import ChatWidget

ANCHORS = (
    "right",
    "split-right",
    "split-left",
    "split-top",
    "split-bottom",
    "tab-before",
    "tab-after",
)
INLINE_HEIGHT = "600px"


class SidebarUnavailableWarning(UserWarning):
    """The JupyterLab sidebar is not available here; the chat is shown inline."""


def _ipython() -> Any:
    ip_mod = sys.modules.get("IPython")
    if ip_mod is None:
        return None
    try:
        return ip_mod.get_ipython()
    except Exception:  # pragma: no cover - IPython half-imported
        return None


def lab_unavailable_reason() -> str | None:
    """Why this kernel's front end cannot show a sidecar panel, or None if it can.

    Best effort: a kernel cannot ask its front end what it is. JupyterLab's server
    sets JPY_SESSION_NAME in the kernels it starts for a notebook; the other hosts
    leave recognisable traces.
    """
    env = os.environ
    if any(key.startswith("VOILA_") for key in env):
        return "this is a Voila page"
    ip = _ipython()
    if ip is None:
        return "this is not an IPython kernel"
    if getattr(ip, "kernel", None) is None:
        return "this is a terminal IPython, not a notebook"
    user_ns = getattr(ip, "user_ns", {}) or {}
    if "__vsc_ipynb_file__" in user_ns or "VSCODE_PID" in env or "VSCODE_CWD" in env:
        return "this notebook runs in VS Code"
    if "google.colab" in sys.modules:
        return "this notebook runs in Google Colab"
    if not env.get("JPY_SESSION_NAME"):
        return "this kernel was not started by JupyterLab"
    return None


def sidebar(
    chat: ChatWidget | None = None, *, title: str = "Chat", anchor: str = "right"
) -> ChatWidget:
    """Show ``chat`` (a new ChatWidget when None) in JupyterLab's right sidebar.

    A new widget keeps its chats in ``$LIVECHAT_CHAT_LOGS``, else ``chat_logs``.
    Returns the widget, so it can be driven from Python (``await chat.send(...)``).
    A new widget gets ``height="100%"`` so it fills the panel; it is usable at the
    panel's default 250 px width (the widget switches to its narrow layout).
    Where there is no JupyterLab sidebar, warns and displays the chat inline.
    """
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}; got {anchor!r}")
    from IPython.display import display

    reason = lab_unavailable_reason()
    if chat is None:
        from .widget import ChatWidget

        chat = ChatWidget(
            store=os.environ.get("LIVECHAT_CHAT_LOGS") or "chat_logs",
            title=title,
            height="100%" if reason is None else INLINE_HEIGHT,
        )
    elif reason is not None and str(chat.height).endswith("%"):
        chat.height = INLINE_HEIGHT  # a percentage of an output cell is no height at all

    if reason is not None:
        warnings.warn(
            f"livechat_widget.sidebar(): the JupyterLab sidebar is not available "
            f"({reason}); showing the chat inline instead.",
            SidebarUnavailableWarning,
            stacklevel=2,
        )
        display(chat)  # type: ignore[no-untyped-call]
        return chat

    from sidecar import Sidecar

    panel = Sidecar(title=title, anchor=anchor)
    with panel:
        display(chat)  # type: ignore[no-untyped-call]
    # ipywidgets keeps every open widget (the panel too) alive until it is closed.
    return chat
