"""``sidebar()``: the chat docked in JupyterLab's right sidebar, through ``sidecar``.

    from livechat_widget import sidebar
    chat = sidebar()              # a ChatWidget, shown in the right sidebar
    await chat.ask("Hello")      # the same Python API as an inline chat

Sidecar panels exist only in JupyterLab (and Jupyter Notebook 7, built on it).
Elsewhere — VS Code, Colab, Voila, a plain kernel — ``sidebar()`` warns and shows the
chat inline in the cell's output instead of displaying nothing.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from .kernel_host import lab_unavailable_reason

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


def sidebar(
    chat: ChatWidget | None = None, *, title: str = "Chat", anchor: str = "right"
) -> ChatWidget:
    """Show ``chat`` (a new ChatWidget when None) in JupyterLab's right sidebar.

    A new widget keeps its chats in ``$LIVECHAT_CHAT_LOGS``, else ``chat_logs``.
    Returns the widget, so it can be driven from Python (``await chat.ask(...)``).
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
