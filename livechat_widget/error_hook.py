"""The "Ask livechat" button under every error: IPython's custom exception hook.

Installed once per kernel — by the first ChatWidget that may read the kernel
(``allow_kernel_context``), or by ``livechat_widget.error_help()``. For each error a
cell raises, the hook prints the traceback exactly as IPython would, keeps the error
(error_frames.py), and displays a small button under it. Pressing it puts a ready
prompt and the ``error [N]`` context into the composer of the chat last created or
displayed in this kernel; with no chat yet, a new one is shown under the button.

A custom exception handler someone else set is left alone (and the log says why).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from .error_frames import block_for, cell_number, cell_source, error_log
from .kernel_context import QUIET, current_shell
from .wire import ContextChip

__all__ = ["PROMPT", "ask", "current_chat", "install", "installed", "track"]

log = logging.getLogger(__name__)

PROMPT = "This cell raised {kind}. Explain why and how to fix it."
LABEL = "Ask livechat"
_MARK = "_livechat_error_help"  # set on the shell once the hook is ours


class DraftTarget(Protocol):
    """A chat that can take a ready message (ChatWidget, through chat_api.py)."""

    def can_draft(self) -> bool: ...  # alive, and it may read the kernel
    def show_draft(self, text: str, context: list[ContextChip]) -> None: ...


ChatFactory = Callable[[], DraftTarget]

_chats: list[weakref.ref[DraftTarget]] = []  # oldest first
_factory: list[ChatFactory] = []  # how to make a chat when there is none


def track(chat: DraftTarget) -> None:
    """``chat`` was created or displayed: the button opens it from now on."""
    _chats[:] = [r for r in _chats if r() is not None and r() is not chat]
    _chats.append(weakref.ref(chat))


def current_chat() -> DraftTarget | None:
    """The chat most recently created or displayed that is alive and may read the kernel."""
    for ref in reversed(_chats):
        chat = ref()
        if chat is not None and chat.can_draft():
            return chat
    return None


def installed() -> bool:
    """The hook is on in this kernel."""
    shell = current_shell()
    return shell is not None and _is_ours(shell)


def _is_ours(shell: Any) -> bool:
    return tuple(getattr(shell, "custom_exceptions", ())) == (Exception,) and bool(
        getattr(shell, _MARK, False)
    )


def install(make_chat: ChatFactory) -> bool:
    """Show the button under every error from now on (once per kernel); False when
    there is no IPython here or another custom exception handler is set."""
    if not _factory:
        _factory.append(make_chat)
    shell = current_shell()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if _is_ours(shell):
        return True
    if tuple(getattr(shell, "custom_exceptions", ())):
        log.warning(
            "livechat: IPython already has a custom exception handler (%r); it is left as "
            "it is, so no 'Ask livechat' button shows under errors.",
            shell.custom_exceptions,
        )
        return False
    error_log(create=True)
    shell.set_custom_exc((Exception,), _handler)
    setattr(shell, _MARK, True)
    return True


def _handler(
    shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None
) -> None:
    """IPython's traceback as it would print it, then the error kept and the button."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    if getattr(shell, QUIET, False):
        return  # code the chat runs: its error goes back to the chat
    try:
        count = cell_number(shell, tb, running=True)
        errors = error_log(create=True)
        if errors is not None:
            entry = errors.record(count, value, cell_source(shell, count, tb))
            _show_button(entry.name, etype.__name__)
    except Exception:  # never in the way of the traceback
        log.exception("livechat: the 'Ask livechat' button could not be shown")


def _show_button(name: str, kind: str) -> None:
    import ipywidgets
    from IPython.display import display

    button = ipywidgets.Button(
        description=LABEL,
        icon="comments",
        tooltip=f"Open the chat with this error ({name}), its cell and its local variables",
        # small, at the left; a chat shown below it takes the whole width
        layout=ipywidgets.Layout(width="auto", align_self="flex-start"),
    )
    button.add_class("livechat-error-help")
    box = ipywidgets.VBox([button])
    box.add_class("livechat-error-help-box")
    button.on_click(lambda _button: _pressed(name, kind, box))
    display(box)  # type: ignore[no-untyped-call]


def _pressed(name: str, kind: str, box: Any) -> None:
    try:
        ask(name, kind, box)
    except Exception as exc:  # shown under the button, not lost in the log
        import ipywidgets

        log.exception("livechat: Ask livechat failed")
        note = ipywidgets.HTML(f"<small>Ask livechat: {_escape(str(exc))}</small>")
        box.children = (*box.children[:1], note)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ask(name: str, kind: str, box: Any = None) -> DraftTarget:
    """Put the ready prompt and ``name``'s context into the current chat's composer;
    with no chat, make one (shown in ``box`` when given). Returns the chat."""
    text = block_for(name)  # ValueError when the error is no longer kept
    chat = current_chat()
    if chat is None:
        if not _factory:
            raise RuntimeError("no chat to open: create a ChatWidget first")
        chat = _factory[0]()
        if box is not None:
            box.children = (*box.children[:1], chat)
    chat.show_draft(PROMPT.format(kind=kind), [{"name": name, "kind": "error", "text": text}])
    return chat
