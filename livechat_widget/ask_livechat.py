"""``error_help()``: the "Ask livechat" button under every error, before any chat exists.

    import livechat_widget
    livechat_widget.error_help()   # from now on, each error shows "Ask livechat"

A ``ChatWidget`` that may read the kernel turns it on by itself; this is for a kernel
with no chat yet (pressing the button then shows a new chat under it).
"""

from __future__ import annotations

from .error_hook import install
from .kernel_context import current_shell


def error_help() -> None:
    """Show an "Ask livechat" button under the traceback of every cell that raises,
    from now on, in this kernel. Pressing it opens the chat (the last one created or
    displayed; a new one under the button when there is none) with the error, the
    cell's code and the local variables of the innermost frame of your code attached,
    and a prompt to edit and send. RuntimeError outside IPython, or when IPython has
    another custom exception handler (which is left as it is)."""
    if current_shell() is None:
        raise RuntimeError("error_help() needs an IPython kernel (a notebook, JupyterLab, ...).")
    from .widget import _new_chat

    if not install(_new_chat):
        raise RuntimeError(
            "IPython already has a custom exception handler; it was left as it is, so "
            "no 'Ask livechat' button shows under errors."
        )
