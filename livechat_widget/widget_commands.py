"""What each browser message does to a ChatWidget: the table widget.py dispatches on,
and the handlers of the messages that answer with more than state (a file, a chunk of
the front end, a code run, a model list, a notebook cell). Every message reaching a handler here has
been validated by protocol.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget

from .chat_export import export_chat
from .code_run import RunRefused, on_main_thread, run_in_kernel
from .insert_cell import insert_block
from .kernel_access import stored_block
from .protocol import Command
from .providers.errors import AIError
from .wire import NOT_RUNNING, ExportMsg, MathChunkMsg

if TYPE_CHECKING:
    from .widget import ChatWidget

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"

Handler = Callable[[Command], object]


def command_handlers(widget: ChatWidget) -> dict[str, Handler]:
    """Browser message type -> what it does to `widget`."""
    w = widget
    return {
        "send": w._send_from_browser,
        "stop": lambda c: w.stop(c.chat_id),
        "regenerate": lambda c: w.session.start_reply(c.chat_id, None),
        "retry": lambda c: w.session.start_reply(c.chat_id, None),
        "retry_shorter": lambda c: w.session.retry_shorter(c.chat_id),
        # The chat file is created by its first message: an untouched "New chat"
        # leaves nothing behind.
        "new_chat": lambda c: w._show(""),
        "select_chat": lambda c: w.select(c.chat_id),
        "rename": lambda c: w.rename(c.chat_id, c.text),
        "delete": lambda c: w.delete(c.chat_id),
        "clear": lambda c: w.clear(c.chat_id),
        "search": w._search,
        "load_older": w._load_older,
        "dismiss_error": lambda c: setattr(w, "error", ""),
        "edit": lambda c: w.session.start_reply(c.chat_id, c.text, replaces=c.message_id),
        "select_version": lambda c: w.select_version(c.message_id, c.version, c.chat_id),
        "export": lambda c: send_export(w, c),
        "claim": w._claim,
        "load_math": lambda c: send_math_chunk(w),
        "list_context": lambda c: setattr(w, "context_items", w.kernel_access.offer()),
        "run_code": lambda c: run_code(w, c),
        "configure": lambda c: w._configure(c.chat_id or w.active_chat_id, c.settings),
        "list_models": lambda c: list_models(w),
        "insert_cell": lambda c: insert_cell(w, c),
        "frame_sync": lambda c: frame_sync(w, c),
    }


def frame_sync(widget: ChatWidget, command: Command) -> None:
    """A page's timing hint for the deltas' grid (frame_clock.py); with no session yet
    there is no grid to move, and a hint is not worth an error banner."""
    if widget._session is not None:
        widget._session.frame_clock.shift(command.view, command.shift_ms / 1000)


def send_math_chunk(widget: ChatWidget) -> None:
    """KaTeX for the browser, asked for when it first shows a formula (js/math.ts).

    anywidget imports our module from a blob: URL, against which a split chunk
    cannot be resolved; so the chunk travels on the widget's own comm, as a buffer.
    """
    try:
        chunk = (_STATIC / "math.js").read_bytes()
    except OSError:
        log.error("static/math.js is missing; build the front end (cd js && npm run build)")
        widget.error = "Formulas cannot be shown: the front end was built without math support."
        return
    msg: MathChunkMsg = {"type": "math_chunk"}
    anywidget.AnyWidget.send(widget, dict(msg), buffers=[chunk])


def send_export(widget: ChatWidget, command: Command) -> None:
    """The chat's file goes to the view that asked, which saves it (a download)."""
    registry = widget.session.registry
    registry.get(command.chat_id)
    file = export_chat(registry.store, command.chat_id, command.format)
    message: ExportMsg = {
        "type": "export",
        "chat_id": command.chat_id,
        "request": command.request,
        "format": command.format,
        "filename": file.filename,
        "mime": file.mime,
    }
    anywidget.AnyWidget.send(widget, dict(message), buffers=[file.text.encode("utf-8")])


def run_code(widget: ChatWidget, command: Command) -> None:
    """Run a reply's Python block in this kernel (the person confirmed it in the
    widget). Synchronous on purpose: see code_run.py for why and for its limits."""
    if widget.running_code["chat_id"]:
        raise RunRefused("Code is already running: wait for it, or stop it.")
    code = widget.kernel_access.code_to_run(
        widget.session.registry, command.chat_id, command.message_id, command.code
    )
    widget.running_code = {
        "chat_id": command.chat_id,
        "message_id": command.message_id,
        "code": code,
    }
    on_main_thread(lambda: _finish_run(widget, command.chat_id, command.message_id, code))


def _finish_run(widget: ChatWidget, chat_id: str, message_id: int, code: str) -> None:
    session = widget.session
    try:
        run = run_in_kernel(message_id, code)
        session.registry.append_run(chat_id, message_id, run.to_json())
    except Exception as exc:  # shown, not swallowed: the handler may be long gone
        log.exception("running code from chat %s failed", chat_id)
        widget.error = session.redact(f"The code could not run ({exc}).")
    finally:
        widget.running_code = dict(NOT_RUNNING)
    widget.chat_changed(chat_id)
    session.folder.tell_others(session, chat_id)


def list_models(widget: ChatWidget) -> None:
    """Ask the provider for its models in a task; ``model_list`` says how it went."""
    models = widget.session.model_list
    if models.loading:
        return
    task = asyncio.get_running_loop().create_task(models.refresh())
    widget._publish_models()
    widget._tasks.add(task)

    def done(task: asyncio.Task[Any]) -> None:
        widget._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, AIError):
                log.error("listing the models failed", exc_info=exc)
                models.error = f"Could not list the models ({type(exc).__name__})."
        widget._publish_models()

    task.add_done_callback(done)


def insert_cell(widget: ChatWidget, command: Command) -> None:
    """A reply's Python block, as stored, into a new notebook cell (insert_cell.py)."""
    registry = widget.session.registry
    code = stored_block(registry, command.chat_id, command.message_id, command.code)
    insert_block(widget.cell_bridge, code)
