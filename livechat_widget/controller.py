"""What each browser message does: a typed command (protocol.py) becomes a call on the
chat session, through the narrow ``ChatView`` a widget offers — what it shows, how it
answers one view's request. Every message reaching a handler here has been validated;
nothing a handler raises escapes ``handle``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .code_run import RunRefused, on_main_thread, run_in_kernel
from .compare import keep
from .csv_storage import ChatNotFound, StorageError
from .insert_cell import CellTarget, follow_cell_bridge, insert_block
from .kernel_access import KernelAccess, stored_block
from .protocol import (
    Claim,
    Clear,
    Command,
    Compare,
    CompareKeep,
    Configure,
    Delete,
    DismissError,
    Edit,
    Export,
    FrameSync,
    IgnoreStale,
    InsertCell,
    ListContext,
    ListModels,
    LoadAttachment,
    LoadMath,
    LoadOlder,
    NewChat,
    ProtocolError,
    RefreshPrompts,
    Regenerate,
    Rename,
    Request,
    Retry,
    RetryShorter,
    RunCode,
    Search,
    SelectChat,
    SelectVersion,
    Send,
    Stop,
    ToolConsent,
    TrimHistory,
    parse_command,
    request_id,
)
from .providers.errors import AIError
from .refusals import Refused
from .session import ChatSession
from .stale_context import StaleContext, variable_fingerprints
from .wire import (
    NOT_RUNNING,
    AttachmentMsg,
    ContextItemsMsg,
    ExportMsg,
    MathChunkMsg,
    ModelListMsg,
    RefusedMsg,
    RunningCode,
    SearchResultsMsg,
    StaleItem,
    search_hit,
)

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"


class ChatView(CellTarget, Protocol):
    """What the controller needs of a widget (widget.py implements it)."""

    @property
    def active_chat_id(self) -> str: ...

    @property
    def session(self) -> ChatSession: ...  # SessionError until the chats are open

    def has_session(self) -> bool: ...
    def show(self, chat_id: str) -> None: ...  # "" = a new, not yet created chat
    @property
    def opening(self) -> str: ...  # the chat being read, shown once read ("" = none)

    def show_opening(self, chat_id: str) -> None: ...
    def show_older(self, chat_id: str, before: int) -> None: ...
    def show_error(self, text: str) -> None: ...
    def show_running(self, running: RunningCode) -> None: ...
    def show_chats(self) -> None: ...
    def refresh_prompts(self) -> None: ...  # the `/` menu opened
    def show_stale(self) -> None: ...  # the active chat's stale context (stale_context.py)
    def open_visitor(self, secret: str) -> None: ...  # per-browser chats
    def answer(self, message: Mapping[str, Any], buffers: Sequence[bytes] = ()) -> None: ...
    def redact(self, text: str) -> str: ...


class Controller:
    """Browser messages -> session calls, for one widget."""

    def __init__(
        self,
        view: ChatView,
        allow_kernel_context: bool = True,
        allow_code: bool = True,
        context_item_bytes: int = 8 * 1024,
        context_total_bytes: int = 32 * 1024,
        uploads: bool = True,
    ) -> None:
        self.view = view
        # What the browser may reach in this kernel (kernel_access.py).
        self.kernel = KernelAccess(
            allow_kernel_context, allow_code, context_item_bytes, context_total_bytes
        )
        self.cell_bridge = follow_cell_bridge(view)
        self.uploads = uploads  # the page may send files (`livechat --no-uploads`: no)
        self.stale = StaleContext(bool(allow_kernel_context))  # what Ignore hid
        self.running: RunningCode = dict(NOT_RUNNING)  # type: ignore[assignment]
        self._listing: asyncio.Task[Any] | None = None  # the model list being asked for
        self._loading: set[asyncio.Task[None]] = set()  # chats being read, referenced

    @property
    def session(self) -> ChatSession:
        return self.view.session

    def handle(self, msg: object, buffers: Sequence[bytes | memoryview] = ()) -> None:
        """Entry point of every browser message (``buffers``: its binary parts, the
        files of a ``send``). Nothing raised here escapes."""
        command: Command | None = None
        try:
            command = parse_command(msg)
            if isinstance(command, Send):
                command = command.with_buffers(buffers)
            self.dispatch(command)
        except Exception as exc:  # a bug too must show up, not kill the comm handler
            self._refuse(msg, command, self.explain(exc))

    def explain(self, exc: BaseException) -> str:
        """The banner's text for what a handler (or work it started) raised."""
        if isinstance(exc, Refused):
            log.warning("refused a browser message: %s", exc)
            return str(exc)
        if isinstance(exc, ChatNotFound):
            self.view.show_chats()
            return "That chat no longer exists."
        if isinstance(exc, StorageError):
            log.error("chat files: %s", exc)
            return self.view.redact(f"Could not access the chat files: {exc}")
        log.error("handling a browser message failed", exc_info=exc)
        return self.view.redact(f"Something went wrong ({type(exc).__name__}: {exc}).")

    def _refuse(self, msg: object, command: Command | None, error: str) -> None:
        """Show ``error``; a request (even a malformed one, if its id is valid) also gets
        it as its answer, so the view that asked stops waiting."""
        self.view.show_error(error)
        request = command.request if isinstance(command, Request) else request_id(msg)
        if request:
            refused: RefusedMsg = {"type": "refused", "request": request, "error": error}
            self.view.answer(refused)

    # -- one handler per command

    @functools.singledispatchmethod
    def dispatch(self, command: Command) -> None:
        raise TypeError(f"no handler for {type(command).__name__}")

    @dispatch.register
    def _send(self, c: Send) -> None:
        context = self.kernel.context(list(c.context), from_browser=True)
        files = [*self.kernel.figures(list(c.context), from_browser=True), *c.files]
        if files and not self.uploads:
            raise ProtocolError("Attaching files is turned off here.")
        chat_id = c.chat_id or self.view.active_chat_id
        prints = variable_fingerprints(c.context) if context else ""
        self.session.start_reply(chat_id, c.text, context=context, files=files, fingerprints=prints)

    @dispatch.register
    def _compare(self, c: Compare) -> None:
        chat_id = c.chat_id or self.view.active_chat_id
        self.session.compare(chat_id, c.text, c.candidates, c.blind)

    @dispatch.register
    def _compare_keep(self, c: CompareKeep) -> None:
        keep(self.session, c.chat_id, c.pane)  # compare.py

    @dispatch.register
    def _load_attachment(self, c: LoadAttachment) -> None:
        media_type, data = self.session.attachment(c.chat_id, c.sha256)
        answer: AttachmentMsg = {
            "type": "attachment",
            "request": c.request,
            "sha256": c.sha256,
            "media_type": media_type,
        }
        self.view.answer(answer, [data])

    @dispatch.register
    def _stop(self, c: Stop) -> None:
        self.session.stop(c.chat_id)

    @dispatch.register(Regenerate)
    @dispatch.register(Retry)
    def _regenerate(self, c: Regenerate | Retry) -> None:
        self.session.start_reply(c.chat_id, None)

    @dispatch.register
    def _retry_shorter(self, c: RetryShorter) -> None:
        self.session.retry_shorter(c.chat_id)

    @dispatch.register
    def _trim_history(self, c: TrimHistory) -> None:
        self.session.trim_history(c.chat_id)

    @dispatch.register
    def _new_chat(self, c: NewChat) -> None:
        # The chat file is created by its first message: an untouched "New chat" leaves
        # nothing behind.
        self.view.show("")

    @dispatch.register
    def _select_chat(self, c: SelectChat) -> None:
        self.session.chat(c.chat_id)
        self.open_chat(c.chat_id)

    def open_chat(self, chat_id: str) -> None:
        """Show ``chat_id``; a chat not in memory is read in a worker thread first, the
        page saying so (``opening``), so a huge file never stalls the kernel."""
        if self.session.is_loaded(chat_id):
            self.view.show_opening("")
            self.view.show(chat_id)
            return
        self.view.show_opening(chat_id)
        task = asyncio.get_running_loop().create_task(self.session.load(chat_id))
        self._loading.add(task)
        task.add_done_callback(lambda task: self._opened(chat_id, task))

    def _opened(self, chat_id: str, task: asyncio.Task[None]) -> None:
        self._loading.discard(task)
        if self.view.opening != chat_id or not self.view.has_session() or self.session.closed:
            return  # another chat was asked for since, or the widget closed
        self.view.show_opening("")
        try:
            task.result()
            if self.session.has_chat(chat_id):  # not deleted meanwhile
                self.view.show(chat_id)
        except Exception as exc:  # a damaged file: the view stays on the chat it showed
            self.view.show_error(self.explain(exc))

    @dispatch.register
    def _rename(self, c: Rename) -> None:
        self.session.rename(c.chat_id, c.title)

    @dispatch.register
    def _delete(self, c: Delete) -> None:
        self.session.delete(c.chat_id)

    @dispatch.register
    def _clear(self, c: Clear) -> None:
        self.session.archive(c.chat_id)

    @dispatch.register
    def _search(self, c: Search) -> None:
        hits = [search_hit(hit) for hit in self.session.search(c.query)]
        answer: SearchResultsMsg = {
            "type": "search_results",
            "request": c.request,
            "query": c.query,
            "hits": hits,
        }
        self.view.answer(answer)

    @dispatch.register
    def _refresh_prompts(self, c: RefreshPrompts) -> None:
        self.view.refresh_prompts()

    @dispatch.register
    def _load_older(self, c: LoadOlder) -> None:
        self.view.show_older(c.chat_id, c.before)

    @dispatch.register
    def _dismiss_error(self, c: DismissError) -> None:
        self.view.show_error("")

    @dispatch.register
    def _edit(self, c: Edit) -> None:
        self.session.start_reply(c.chat_id, c.text, replaces=c.message_id)

    @dispatch.register
    def _select_version(self, c: SelectVersion) -> None:
        self.session.select_version(c.chat_id, c.message_id, c.version)

    @dispatch.register
    def _export(self, c: Export) -> None:
        """The chat's file goes to the view that asked, which saves it (a download)."""
        file = self.session.export(c.chat_id, c.format)
        answer: ExportMsg = {
            "type": "export",
            "chat_id": c.chat_id,
            "request": c.request,
            "format": c.format,
            "filename": file.filename,
            "mime": file.mime,
        }
        self.view.answer(answer, [file.text.encode("utf-8")])

    @dispatch.register
    def _claim(self, c: Claim) -> None:
        self.view.open_visitor(c.secret)

    @dispatch.register
    def _load_math(self, c: LoadMath) -> None:
        """KaTeX for the browser, asked for when it first shows a formula (js/math.ts).

        anywidget imports our module from a blob: URL, against which a split chunk
        cannot be resolved; so the chunk travels on the widget's own comm, as a buffer.
        """
        try:
            chunk = (_STATIC / "math.js").read_bytes()
        except OSError:
            log.error("static/math.js is missing; build the front end (cd js && npm run build)")
            raise Refused(
                "Formulas cannot be shown: the front end was built without math support."
            ) from None
        answer: MathChunkMsg = {"type": "math_chunk", "request": c.request}
        self.view.answer(answer, [chunk])

    @dispatch.register
    def _list_context(self, c: ListContext) -> None:
        items = self.kernel.offer()
        answer: ContextItemsMsg = {"type": "context_items", "request": c.request, "items": items}
        self.view.answer(answer)

    @dispatch.register
    def _ignore_stale(self, c: IgnoreStale) -> None:
        self.session.chat(c.chat_id)  # ChatNotFound: "That chat no longer exists."
        self.stale.ignore(c.chat_id, c.names, self.session.sent_messages(c.chat_id))
        self.view.show_stale()

    def stale_items(self, chat_id: str) -> list[StaleItem]:
        """``chat_id``'s stale context; Refresh may send those still in the kernel."""
        if not chat_id or not self.view.has_session() or not self.session.has_chat(chat_id):
            return []
        items = self.stale.items(chat_id, self.session.sent_messages(chat_id))
        self.kernel.offered |= {i["name"] for i in items if not i["gone"]}  # the badge's
        return items

    @dispatch.register
    def _configure(self, c: Configure) -> None:
        chat_id, _ = self.session.configure(c.chat_id or self.view.active_chat_id, dict(c.settings))
        self.view.show_error("")
        if chat_id != self.view.active_chat_id:
            self.view.show(chat_id)  # the new chat the settings created

    @dispatch.register
    def _frame_sync(self, c: FrameSync) -> None:
        # A page's timing hint for the deltas' grid (frame_clock.py); with no session
        # yet there is no grid to move, and a hint is not worth an error banner.
        if self.view.has_session():
            self.session.frame_clock.shift(c.view, c.shift_ms / 1000)

    @dispatch.register
    def _insert_cell(self, c: InsertCell) -> None:
        """A reply's Python block, as stored, into a new notebook cell (insert_cell.py)."""
        code = stored_block(self.session.reply_text(c.chat_id, c.message_id), c.code)
        insert_block(self.cell_bridge, code)

    @dispatch.register
    def _tool_consent(self, c: ToolConsent) -> None:
        self.session.answer_tool(c.chat_id, c.call_id, c.decision)

    def set_running(self, running: RunningCode) -> None:
        """Kernel code of a tool call runs (or ended): the page's Stop interrupts it."""
        self._show_running(running)

    # -- the two that outlive their message

    @dispatch.register
    def _run_code(self, c: RunCode) -> None:
        """Run a reply's Python block in this kernel (the person confirmed it in the
        widget). Synchronous on purpose: see code_run.py for why and for its limits."""
        if self.running["chat_id"]:
            raise RunRefused("Code is already running: wait for it, or stop it.")
        code = self.kernel.code_to_run(self.session.reply_text(c.chat_id, c.message_id), c.code)
        self._show_running({"chat_id": c.chat_id, "message_id": c.message_id, "code": code})
        on_main_thread(lambda: self._finish_run(c.chat_id, c.message_id, code))

    def _show_running(self, running: RunningCode) -> None:
        self.running = running
        self.view.show_running(running)

    def _finish_run(self, chat_id: str, message_id: int, code: str) -> None:
        session = self.session
        try:
            session.record_run(chat_id, message_id, run_in_kernel(message_id, code))
        except Exception as exc:  # shown, not swallowed: the handler may be long gone
            log.exception("running code from chat %s failed", chat_id)
            self.view.show_error(session.redact(f"The code could not run ({exc})."))
        finally:
            self._show_running(dict(NOT_RUNNING))  # type: ignore[arg-type]

    @dispatch.register
    def _list_models(self, c: ListModels) -> None:
        """Ask the provider for its models in a task (one at a time, however many views
        ask); each request is answered when it ends, saying how it went."""
        task = self._listing
        if task is None or task.done():
            task = self._listing = asyncio.get_running_loop().create_task(
                self.session.model_list.refresh()
            )
        task.add_done_callback(lambda task: self._answer_models(c.request, task))

    def _answer_models(self, request: str, task: asyncio.Task[Any]) -> None:
        models = self.session.model_list
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, AIError):
                log.error("listing the models failed", exc_info=exc)
                models.error = f"Could not list the models ({type(exc).__name__})."
        answer: ModelListMsg = {
            "type": "model_list",
            "request": request,
            "names": list(models.names),
            "error": self.session.redact(models.error),
        }
        self.view.answer(answer)
