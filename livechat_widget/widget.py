"""ChatWidget: the anywidget model. Python owns all state, secrets and I/O.

The widget is an adapter: synced traits (everything a freshly rendered view needs),
the publishing of the session's state into them (wire.py shapes the payloads), and the
``ChatView`` the controller drives (controller.py: one handler per browser message).
The chat itself — chats, replies, their persistence, history, stop, stats — is a
``ChatSession`` (session.py); the Python API for notebooks is ``ChatApi`` (chat_api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from . import error_hook, figures
from .attachment_types import AttachmentLimits
from .chat_api import ChatApi
from .chat_registry import ChatInfo
from .controller import Controller
from .kernel_context import current_shell
from .prompt_templates import PromptLibrary
from .providers.base import ChatClient
from .session import ChatSession, SessionError
from .session_options import ChatStore, SessionOptions, open_store
from .stale_context import watch_cells
from .streaming import Reply
from .tool_rows import ToolRecord
from .tools.chat_tools import ChatTools
from .tools.kernel_tools import kernel_tools
from .tools.mcp_config import config_from_env
from .tools.toolbox import Toolbox
from .versions import ShownMessage
from .wire import (
    NO_DRAFT,
    NOT_RUNNING,
    DeltaMsg,
    RunningCode,
    ToolMsg,
    chat_summary,
    done_message,
    empty_stats,
    settings_payload,
    shown_payload,
    tool_payload,
)
from .wire_compare import CompareDeltaMsg

log = logging.getLogger(__name__)
# What one message may carry through Jupyter's websocket: Tornado refuses messages over
# 10 MiB unless the server raised `websocket_max_message_size` (the livechat app does,
# and says so with LIVECHAT_WEBSOCKET_BYTES).
WEBSOCKET_BYTES = 10 * 1024 * 1024 - 64 * 1024
_closing: set[asyncio.Task[None]] = set()  # MCP servers stopping after their widget closed

_STATIC = Path(__file__).parent / "static"
OPEN_WINDOW = 30  # messages sent when a chat opens: few enough to paint at once
WINDOW = 100  # older messages sent per request (the page asks once right after opening)


def page_limits(limits: AttachmentLimits, allowed: bool) -> dict[str, int]:
    """The ``uploads`` trait: what the page may attach to one message."""
    try:
        transport = int(os.environ.get("LIVECHAT_WEBSOCKET_BYTES") or WEBSOCKET_BYTES)
    except ValueError:
        transport = WEBSOCKET_BYTES
    return {
        "file_bytes": min(limits.file_bytes, transport),
        "message_bytes": min(limits.message_bytes, transport),
        "count": limits.count if allowed else 0,
    }


def _kernel_toolbox(read: bool, run: bool, item_bytes: int) -> Toolbox:
    """The kernel's own tools, where there is a kernel (IPython's), as far as the widget
    lets the browser reach it (none elsewhere)."""
    toolbox = Toolbox()
    if current_shell() is not None:
        figures.install()  # the `@` picker offers the images cells display
        for tool in kernel_tools(read=read, run=run, item_bytes=item_bytes):
            toolbox.add(tool)
    return toolbox


class ChatWidget(ChatApi, anywidget.AnyWidget):
    """An AI chat: a chat list, streaming replies, every chat kept as a CSV file.

    >>> chat = ChatWidget()          # demo model unless LIVECHAT_* variables say otherwise
    >>> chat                         # display it
    >>> reply = await chat.ask("Hello")

    ``compare_clients`` ({label: client}) are other models `/compare` can put a message
    to beside the client's own list; the page sees their labels and models only.
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    # Everything a freshly rendered view needs (docs/protocol.md). Read-only for the browser.
    title = traitlets.Unicode("Chat").tag(sync=True)
    height = traitlets.Unicode("600px").tag(sync=True)
    theme = traitlets.Enum(["auto", "light", "dark"], default_value="auto").tag(sync=True)
    model_label = traitlets.Unicode("").tag(sync=True)
    # ChatInfo objects in Python (`chat.chats`), summaries in the browser.
    chats: traitlets.List[ChatInfo] = traitlets.List(read_only=True).tag(
        sync=True, to_json=lambda infos, _widget: [chat_summary(i) for i in infos]
    )
    active_chat_id = traitlets.Unicode("").tag(sync=True)
    messages = traitlets.List(traitlets.Dict()).tag(sync=True)
    has_older = traitlets.Bool(False).tag(sync=True)
    streams = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)
    # Private chats per browser (visitors.py): no chats until the view sends its secret.
    per_browser = traitlets.Bool(False).tag(sync=True)
    # Kernel context and code runs (kernel_access.py); the browser cannot turn them on.
    allow_kernel_context = traitlets.Bool(True).tag(sync=True)
    allow_code = traitlets.Bool(True).tag(sync=True)
    running_code = traitlets.Dict(dict(NOT_RUNNING)).tag(sync=True)
    stale_context = traitlets.List(traitlets.Dict()).tag(sync=True)  # stale_context.py
    chat_settings = traitlets.Dict().tag(sync=True)  # the active chat's (settings_panel)
    can_insert_cell = traitlets.Bool(False).tag(sync=True)  # insert_cell.py: ipylab answered
    opening = traitlets.Unicode("").tag(sync=True)  # a chat whose file is being read
    unreadable = traitlets.Int(0).tag(sync=True)  # chat files that could not be read
    # Files the page may attach (file_bytes, message_bytes, count; count 0: none).
    uploads = traitlets.Dict().tag(sync=True)
    # The `/` templates (prompt_templates.py), never their paths; `chat.prompts` in Python.
    prompt_templates = traitlets.List(traitlets.Dict()).tag(sync=True)
    # How full the active chat's next request would be (session_budget.py).
    context_gauge = traitlets.Dict().tag(sync=True)
    draft = traitlets.Dict(dict(NO_DRAFT)).tag(sync=True)  # "Ask livechat" (error_hook.py)
    # Compare (compare.py): the configured clients' labels and models; open comparisons.
    compare_choices = traitlets.List(traitlets.Dict()).tag(sync=True)
    compares = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        client: ChatClient | None = None,
        store: ChatStore = "chat_logs",
        *,
        user_id: str | None = None,
        title: str = "Chat",
        height: str = "600px",
        theme: str = "auto",
        per_browser: bool = False,
        allow_kernel_context: bool = True,
        allow_code: bool = True,
        context_item_bytes: int = 8 * 1024,
        context_total_bytes: int = 32 * 1024,
        uploads: bool = True,
        upload_limits: AttachmentLimits | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        compare_clients: Mapping[str, ChatClient] | None = None,
    ) -> None:
        # New chats' settings: these arguments, else LIVECHAT_SYSTEM_PROMPT,
        # LIVECHAT_TEMPERATURE, LIVECHAT_MAX_TOKENS; the model, else the client's.
        toolbox = _kernel_toolbox(allow_kernel_context, allow_code, context_item_bytes)
        limits = upload_limits or AttachmentLimits()
        self._options = SessionOptions.create(
            client,
            user_id,
            toolbox,
            limits,
            compare_clients,
            model=model,
            system_prompt=system_prompt,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        super().__init__(
            title=title,
            height=height,
            theme=theme,
            per_browser=per_browser,
            allow_kernel_context=bool(allow_kernel_context),
            allow_code=bool(allow_code),
        )
        self._root = open_store(store)
        self._prompts = PromptLibrary.for_chat_folder(self._root.root, report=self.problem)
        self._prompts.refresh()
        self.prompt_templates = [dict(p) for p in self._prompts.payloads()]
        self._callbacks = []
        self._session: ChatSession | None = None
        self._window_start = 0  # index of messages[0] in the active chat
        self.controller = Controller(
            self,
            allow_kernel_context,
            allow_code,
            context_item_bytes,
            context_total_bytes,
            uploads=bool(uploads),
        )
        self.uploads = page_limits(limits, bool(uploads))
        self._tools = ChatTools(toolbox, self.problem)
        self._start_mcp_servers()
        self._unwatch = watch_cells(self.show_stale) if allow_kernel_context else None
        self.model_label = self._options.client.describe()
        clients = self._options.compare_clients.items()
        self.compare_choices = [{"label": k, "model": c.model or ""} for k, c in clients]
        self.stats = dict(empty_stats())
        if not per_browser:
            self._open(ChatSession.open(self._options, self._root, self))
        self.on_msg(lambda _widget, content, buffers: self.controller.handle(content, buffers))
        if allow_kernel_context and current_shell() is not None:
            error_hook.install(_new_chat)  # "Ask livechat" under every error of a cell
            error_hook.track(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        error_hook.track(self)  # displayed last: "Ask livechat" opens this chat
        return super()._repr_mimebundle_(**kwargs)

    def _start_mcp_servers(self) -> None:
        """The MCP servers LIVECHAT_MCP_CONFIG names (``livechat --mcp-config``), if
        any; a bad file or a missing extra is shown in the chat, nothing else breaks."""
        try:
            configs = config_from_env()
            if configs:
                self._tools.add_mcp(configs)
        except (ValueError, ImportError, RuntimeError) as exc:  # RuntimeError: no loop
            log.warning("MCP servers not started: %s", exc)
            self.error = f"MCP servers were not started: {exc}"

    def _open(self, session: ChatSession) -> None:
        """Show ``session``'s most recent chat."""
        self._session = session
        session.model_list.ask_model_name(then=self._label_model)  # a server's own model
        recent = session.chats()
        with self.hold_sync():
            self.show_chats()
            self.show(recent[0].id if recent else "")

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Refuse state written by the browser and re-send ours, so views stay truthful."""
        keys = [key for key in sync_data if key in self.keys]
        log.warning("ignored a state update from the browser for %s", keys or list(sync_data))
        if keys:
            self.send_state(keys)

    # ------------------------------------------------- ChatView (controller.py)

    @property
    def session(self) -> ChatSession:
        """The chat core; with per-browser chats, only once the browser said whose."""
        if self._session is None:
            raise SessionError("The chats are not loaded yet: reload the page.")
        return self._session

    def has_session(self) -> bool:
        return self._session is not None

    def open_visitor(self, secret: str) -> None:
        """The browser's secret: its chats are in the folder named by the secret's hash."""
        if not self.per_browser:
            return  # shared chats: there is nothing to claim
        session = ChatSession.for_visitor(self._options, self._root, secret, self, self._session)
        if session is not self._session:
            self._open(session)

    def answer(self, message: Mapping[str, Any], buffers: Sequence[bytes] = ()) -> None:
        """A request's answer; every view receives it, the one that asked uses it."""
        self.send(dict(message), buffers=list(buffers) or None)

    def show_error(self, text: str) -> None:
        self.error = text

    def refresh_prompts(self) -> None:
        """Read the prompt folders again if their files changed (the page's `/` menu)."""
        if self._prompts.refresh():
            self.prompt_templates = [dict(p) for p in self._prompts.payloads()]

    def show_running(self, running: RunningCode) -> None:
        self.running_code = dict(running)

    def redact(self, text: str) -> str:
        if self._session is not None:
            return self._session.redact(text)
        return text.replace(str(Path(self._root.root).resolve()), "the chat folder")

    def show_opening(self, chat_id: str) -> None:
        self.opening = chat_id

    def show(self, chat_id: str) -> None:
        """Make `chat_id` ("" = a new, not yet created chat) the active chat."""
        # Read first: a chat that cannot be read leaves the view on the chat it showed.
        self.session.recover(chat_id)
        window = self.session.history_window(chat_id, sys.maxsize, OPEN_WINDOW)
        with self.hold_sync():
            self.active_chat_id = chat_id
            self._publish_messages(window)
            self._publish_settings()
            self._publish_stats()
            self.show_stale()
            problems = self.session.file_problems(chat_id)
            if problems:
                self.error = problems

    def show_older(self, chat_id: str, before: int) -> None:
        first = self.messages[0]["id"] if self.messages else None
        if chat_id != self.active_chat_id or before != first:
            return  # a stale request from a view that has since moved on
        self._window_start = max(0, self._window_start - WINDOW)
        self._publish_messages()

    def show_stale(self) -> None:
        """The active chat's variables that changed since the model saw them (also after
        every cell the kernel runs)."""
        self.stale_context = [dict(i) for i in self.controller.stale_items(self.active_chat_id)]

    def show_chats(self) -> None:
        with self.hold_sync():
            self.set_trait("chats", self.session.chats())
            self.unreadable = self.session.unreadable()

    # ----------------------------------------- SessionListener (session_options.py)

    def reply_started(self, reply: Reply) -> None:
        with self.hold_sync():
            self.error = ""
            self.reply_progress(reply)
            if reply.chat_id != self.active_chat_id:
                self.show(reply.chat_id)

    def reply_progress(self, reply: Reply) -> None:
        if self.session.replies.get(reply.chat_id) is reply:
            self.streams = {**self.streams, reply.chat_id: reply.snapshot()}

    def reply_delta(self, delta: DeltaMsg) -> None:
        self.send(dict(delta))

    def reply_finished(self, reply: Reply, saved: ShownMessage | None) -> None:
        try:
            if saved is not None:
                self.send(dict(done_message(reply.chat_id, reply.seq, shown_payload(saved))))
            with self.hold_sync():  # the bubble turns into the saved message in one sync
                self._drop_stream(reply.chat_id)
                self.chat_changed(reply.chat_id)
                self._label_model()  # a resolved model name
        except Exception:
            log.exception("publishing the state after a reply failed")
            self.busy = self.active_chat_id in self.session.replies

    def problem(self, text: str) -> None:
        self.error = text

    def compare_started(self, chat_id: str) -> None:
        with self.hold_sync():
            self.error = ""
            self.compare_changed(chat_id)
            if chat_id != self.active_chat_id:
                self.show(chat_id)

    def compare_changed(self, chat_id: str) -> None:
        compares = self.session.compares
        self.compares = {k: dict(run.state()) for k, run in compares.items()}

    def compare_delta(self, delta: CompareDeltaMsg) -> None:
        self.send(dict(delta))

    def tool_changed(self, reply: Reply, call: ToolRecord) -> None:
        """A tool call's new state: the views' cards follow (and a view rendered later
        finds it in the reply's snapshot)."""
        message: ToolMsg = {
            "type": "tool",
            "chat_id": reply.chat_id,
            "message_id": reply.message_id,
            "call": tool_payload(call),
        }
        self.send(dict(message))
        self.reply_progress(reply)

    def tool_running(self, reply: Reply, call: ToolRecord | None) -> None:
        running: RunningCode = dict(NOT_RUNNING)  # type: ignore[assignment]
        if call is not None:
            running = {"chat_id": reply.chat_id, "message_id": reply.message_id, "code": call.code}
        self.controller.set_running(running)

    def chat_changed(self, chat_id: str) -> None:
        """Any session on the folder wrote ``chat_id``: redraw what shows of it."""
        with self.hold_sync():
            self.show_chats()
            if not self.session.has_chat(chat_id):  # deleted or archived
                self._drop_stream(chat_id)
                if chat_id == self.active_chat_id:
                    remaining = self.session.chats()
                    self.show(remaining[0].id if remaining else "")
            elif chat_id == self.active_chat_id:
                self._publish_messages()
                self._publish_settings()
                self._publish_stats()
                self.show_stale()
            self.compare_changed(chat_id)

    # -------------------------------------------------------------- publishing

    def _label_model(self) -> None:
        if not self.session.closed:
            self.model_label = self.session.describe(self.active_chat_id)

    def _publish_settings(self) -> None:
        with self.hold_sync():
            self.chat_settings = dict(settings_payload(self.session.settings(self.active_chat_id)))
            self._label_model()

    def _publish_stats(self) -> None:
        self.stats = dict(self.session.stats(self.active_chat_id))
        self.context_gauge = {**self.session.gauge(self.active_chat_id, self._publish_gauge)}

    def _publish_gauge(self) -> None:
        if self.has_session() and not self.session.closed:
            self.context_gauge = {**self.session.gauge(self.active_chat_id)}

    def _drop_stream(self, chat_id: str) -> None:
        self.streams = {k: v for k, v in self.streams.items() if k != chat_id}

    def _publish_messages(self, window: tuple[int, list[ShownMessage]] | None = None) -> None:
        """The window of the active chat: its messages from ``_window_start`` on (another
        version may show a shorter branch: the newest few at least)."""
        chat_id = self.active_chat_id
        if window is None:
            window = self.session.history_window(chat_id, self._window_start, OPEN_WINDOW)
        self._window_start, messages = window
        with self.hold_sync():
            self.messages = [dict(shown_payload(m)) for m in messages]
            self.has_older = self._window_start > 0
            self.busy = chat_id in self.session.replies

    def close(self) -> None:
        """Close the views; replies this widget started stop and are saved as stopped."""
        session = getattr(self, "_session", None)  # __del__ also runs after a failed __init__
        if session is not None:
            session.close()
        if getattr(self, "_unwatch", None) is not None:
            self._unwatch()  # type: ignore[misc]
            self._unwatch = None
        tools = getattr(self, "_tools", None)
        if tools is not None and tools.mcp_servers:
            with contextlib.suppress(RuntimeError):  # no loop left: the process is ending
                task = asyncio.get_running_loop().create_task(tools.aclose())
                _closing.add(task)
                task.add_done_callback(_closing.discard)
        super().close()


def _new_chat() -> ChatWidget:
    """The chat "Ask livechat" shows when the kernel has none."""
    return ChatWidget(store=os.environ.get("LIVECHAT_CHAT_LOGS") or "chat_logs")
