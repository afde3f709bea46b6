"""ChatWidget: the anywidget model. Python owns all state, secrets and I/O.

The widget is an adapter: synced traits (everything a freshly rendered view needs),
one table from browser message type to handler (widget_commands.py), and the publishing
of state. The chat itself — replies, their persistence, history, stop, stats — is a
``ChatSession`` (session.py). Every browser message is validated (protocol.py) before it can change
anything; payloads are shaped in wire.py (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from . import chat_data
from .chat_export import export_chat
from .chat_registry import ChatInfo, ChatRegistry
from .chat_settings import SettingsError, defaults_from_env
from .code_run import RunRefused
from .csv_storage import ChatNotFound, CsvStore, StorageError
from .insert_cell import follow_cell_bridge
from .kernel_access import KernelAccess
from .kernel_context import ContextUnavailable
from .protocol import Command, ProtocolError, clean_text, parse_command
from .providers.base import ChatClient
from .session import ChatSession, SessionError
from .streaming import Reply
from .visitors import visitor_folder
from .widget_commands import command_handlers
from .wire import (
    NOT_RUNNING,
    DeltaMsg,
    DoneMsg,
    MessagePayload,
    chat_summary,
    empty_stats,
    settings_payload,
)

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
OPEN_WINDOW = 30  # messages sent when a chat opens: few enough to paint at once
WINDOW = 100  # older messages sent per request (the page asks once right after opening)

MessageCallback = Callable[[dict[str, Any]], Any]


def _default_user_id() -> str:
    try:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    except Exception:  # getpass fails without a passwd entry (some containers)
        return "unknown"


class ChatWidget(anywidget.AnyWidget):
    """An AI chat: a chat list, streaming replies, every chat kept as a CSV file.

    >>> chat = ChatWidget()          # demo model unless LIVECHAT_* variables say otherwise
    >>> chat                         # display it
    >>> reply = await chat.send("Hello")
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
    search_query = traitlets.Unicode("").tag(sync=True)
    search_results = traitlets.List(traitlets.Dict()).tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)
    # Private chats per browser (visitors.py): no chats until the view sends its secret.
    per_browser = traitlets.Bool(False).tag(sync=True)
    # Kernel context and code runs (kernel_access.py); the browser cannot turn them on.
    allow_kernel_context = traitlets.Bool(True).tag(sync=True)
    allow_code = traitlets.Bool(True).tag(sync=True)
    context_items = traitlets.List(traitlets.Dict()).tag(sync=True)
    running_code = traitlets.Dict(dict(NOT_RUNNING)).tag(sync=True)
    chat_settings = traitlets.Dict().tag(sync=True)  # the active chat's (settings_panel)
    model_list = traitlets.Dict({"names": [], "loading": False, "error": ""}).tag(sync=True)
    can_insert_cell = traitlets.Bool(False).tag(sync=True)  # insert_cell.py: ipylab answered

    def __init__(
        self,
        client: ChatClient | None = None,
        store: CsvStore | str | os.PathLike[str] = "chat_logs",
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
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        # New chats' settings: these arguments, else LIVECHAT_SYSTEM_PROMPT,
        # LIVECHAT_TEMPERATURE, LIVECHAT_MAX_TOKENS; the model, else the client's.
        defaults = defaults_from_env(
            model=model, system_prompt=system_prompt, temperature=temperature, max_tokens=max_tokens
        )
        if client is None:
            from .providers.env import client_from_env

            client = client_from_env()
        self.kernel_access = KernelAccess(
            allow_kernel_context, allow_code, context_item_bytes, context_total_bytes
        )
        super().__init__(
            title=title,
            height=height,
            theme=theme,
            per_browser=per_browser,
            allow_kernel_context=bool(allow_kernel_context),
            allow_code=bool(allow_code),
        )
        store = store if isinstance(store, CsvStore) else CsvStore(store)
        self._client = client
        self._user_id = user_id or _default_user_id()
        self._defaults = defaults
        self._session: ChatSession | None = None
        self._visitor_folder: Path | None = None
        self._window_start = 0  # index of messages[0] in the active chat
        self._tasks: set[asyncio.Task[Any]] = set()  # referenced until they end
        self._handlers = command_handlers(self)
        self.cell_bridge = follow_cell_bridge(self)
        self.model_label = str(client.describe())
        self._root = store
        self.stats = dict(empty_stats())
        if not per_browser:
            self._open(store)
        self.on_msg(self._on_browser_msg)

    @property
    def session(self) -> ChatSession:
        """The chat core; with per-browser chats, only once the browser said whose."""
        if self._session is None:
            raise SessionError("The chats are not loaded yet: reload the page.")
        return self._session

    @property
    def _registry(self) -> ChatRegistry:
        return self.session.registry

    def _open(self, store: CsvStore) -> None:
        """Start the session on ``store`` and show its most recent chat."""
        self._session = ChatSession(
            self._client, store, self._user_id, self, defaults=self._defaults
        )
        self._session.ask_model_name(then=self._label_model)
        recent = self._registry.list()
        with self.hold_sync():
            self._publish_chats()
            self._show(recent[0].id if recent else "")

    def _claim(self, command: Command) -> None:
        """The browser's secret: its chats are in the folder named by the secret's hash."""
        if not self.per_browser:
            return  # shared chats: there is nothing to claim
        folder = visitor_folder(self._root.root, command.text)
        if self._visitor_folder is None:
            self._visitor_folder = folder
            self._open(CsvStore(folder))
        elif folder != self._visitor_folder:  # a view re-sending its own secret is fine
            raise SessionError("This page already shows another browser's chats.")

    # ------------------------------------------------------------------ browser

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Refuse state written by the browser and re-send ours, so views stay truthful."""
        keys = [key for key in sync_data if key in self.keys]
        log.warning("ignored a state update from the browser for %s", keys or list(sync_data))
        if keys:
            self.send_state(keys)

    def _on_browser_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """Entry point of every browser message. Nothing raised here escapes."""
        try:
            command = parse_command(content)
            self._handlers[command.type](command)
        except (ProtocolError, SessionError, SettingsError, ContextUnavailable, RunRefused) as exc:
            log.warning("refused a browser message: %s", exc)
            self.error = str(exc)
        except ChatNotFound:
            self.error = "That chat no longer exists."
            self._publish_chats()
        except StorageError as exc:
            log.error("chat files: %s", exc)
            self.error = self._redact(f"Could not access the chat files: {exc}")
        except Exception as exc:  # a bug must show up, not kill the comm handler
            log.exception("handling %r failed", content)
            self.error = self._redact(f"Something went wrong ({type(exc).__name__}: {exc}).")

    def _redact(self, text: str) -> str:
        if self._session is not None:
            return self._session.redact(text)
        return text.replace(str(Path(self._root.root).resolve()), "the chat folder")

    def _send_from_browser(self, command: Command) -> None:
        context = self.kernel_access.context(list(command.names), from_browser=True)
        self.session.start_reply(
            command.chat_id or self.active_chat_id, command.text, context=context
        )

    def _search(self, command: Command) -> None:
        with self.hold_sync():
            self.search_query = command.text
            self.search_results = [dict(hit) for hit in self.session.search(command.text)]

    def _load_older(self, command: Command) -> None:
        first = self.messages[0]["id"] if self.messages else None
        if command.chat_id != self.active_chat_id or command.before != first:
            return  # a stale request from a view that has since moved on
        self._window_start = max(0, self._window_start - WINDOW)
        self._publish_messages()

    def _configure(self, chat_id: str, changes: Any) -> str:
        chat_id, _ = self.session.configure(chat_id, dict(changes))
        with self.hold_sync():
            self.error = ""
            self._publish_chats()
            if chat_id != self.active_chat_id:
                self._show(chat_id)  # the new chat the settings created
            else:
                self._publish_settings()
        return chat_id

    # --------------------------------------------------------------- python API

    def configure(
        self,
        chat_id: str | None = None,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Change what is given of a chat's settings (default: the active chat; a new
        chat when none is active) and return its settings. The model is a name the
        provider lists or a plain name; ValueError (SettingsError) otherwise."""
        given: dict[str, Any] = {"model": model, "system_prompt": system_prompt}
        if temperature is not None:
            given["temperature"] = temperature
        if max_tokens is not None:
            given["max_tokens"] = max_tokens
        chat_id = self._configure(chat_id or self.active_chat_id, given)
        return dict(settings_payload(self.session.settings(chat_id)))

    def models(self) -> list[str]:
        """The models the provider lists (asked now; [] when the server has no list).
        Raises the provider's AIError when it cannot be reached or refuses the key."""
        try:
            return self.session.model_list.fetch()
        finally:
            self._publish_models()

    async def send(
        self, text: str, chat_id: str | None = None, *, context: list[str] | None = None
    ) -> dict[str, Any]:
        """Send `text` to the model and wait for the reply; returns the assistant message.

        The reply streams into every displayed view, exactly like one sent from the
        browser. A failed reply is returned with ``status == "error"`` and its ``error``.
        ``context`` names what of the kernel to attach: variables, ``"last error"`` and
        ``"recent cells"``; an unknown name is a ValueError before anything is saved.
        """
        # The same checks as a message from the browser (ProtocolError is a ValueError).
        command = parse_command({"type": "send", "text": text, "chat_id": chat_id or ""})
        sent = self.kernel_access.context(context or [], from_browser=False)
        reply = self.session.start_reply(
            command.chat_id or self.active_chat_id, command.text, context=sent
        )
        return dict(await self.session.wait(reply))

    async def edit(self, message_id: int, text: str, chat_id: str | None = None) -> dict[str, Any]:
        """Save ``text`` as a new version of user message ``message_id`` and wait for the
        new reply to it (returned like ``send``'s). The new version is shown; the model
        is sent the conversation up to it. Refused while a reply streams in the chat."""
        command = parse_command(
            {
                "type": "edit",
                "chat_id": chat_id or self.active_chat_id,
                "message_id": message_id,
                "text": text,
            }
        )
        reply = self.session.start_reply(command.chat_id, command.text, command.message_id)
        return dict(await self.session.wait(reply))

    def select_version(
        self, message_id: int, version: int, chat_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Show version ``version`` (from 1) of message ``message_id``'s turn, and with
        it the rest of that branch; returns the history now shown."""
        command = parse_command(
            {
                "type": "select_version",
                "chat_id": chat_id or self.active_chat_id,
                "message_id": message_id,
                "version": version,
            }
        )
        self.session.select_version(command.chat_id, command.message_id, command.version)
        if command.chat_id == self.active_chat_id:
            self._publish_messages()
        return self.history(command.chat_id)

    def new_chat(self, title: str | None = None) -> ChatInfo:
        """Create a chat and show it."""
        info = self._registry.new(title)
        with self.hold_sync():
            self._publish_chats()
            self._show(info.id)
        return info

    def select(self, chat_id: str) -> None:
        """Show another chat (a reply streaming elsewhere keeps streaming)."""
        self._registry.get(chat_id)
        self._show(chat_id)

    def rename(self, chat_id: str, title: str) -> ChatInfo:
        """Set a chat's title (whitespace collapsed; ValueError if empty)."""
        info = self._registry.rename(chat_id, clean_text(str(title)))
        self._publish_chats()
        return info

    def delete(self, chat_id: str) -> None:
        """Delete a chat and its file (a reply streaming in it is discarded)."""
        self._registry.delete(chat_id)
        self._discard(chat_id)  # only once the file is gone: a failure keeps both

    def clear(self, chat_id: str) -> Path:
        """Archive a chat: its file moves to ``archive/``; returns the new path."""
        path = self._registry.archive(chat_id)
        self._discard(chat_id)
        return path

    def stop(self, chat_id: str | None = None) -> bool:
        """Stop the reply streaming in a chat (default: the active one); keeps its text."""
        return self.session.stop(chat_id or self.active_chat_id)

    def history(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The messages shown of a chat (default: the active one), oldest first: one
        version of each turn, with ``version`` (from 1) of ``versions``."""
        return [dict(m) for m in self.session.history(chat_id or self.active_chat_id)]

    def export(self, chat_id: str | None = None, format: str = "markdown") -> str:
        """A chat (default: the active one) as the text of a Markdown, JSON (every row;
        ``livechat_widget.import_chats`` reads it) or Jupyter notebook (``"ipynb"``) file."""
        chat_id = self._chat_or_active(chat_id)
        self._registry.get(chat_id)
        return export_chat(self._registry.store, chat_id, format).text

    def to_pandas(self, chat_id: str | None = None) -> Any:
        """A chat's messages (default: the active chat) as a pandas DataFrame, with the
        columns of ``livechat_widget.read_chats``."""
        chat_id = self._chat_or_active(chat_id)
        self._registry.get(chat_id)
        return chat_data.frame(self._registry.store, [chat_id])

    def _chat_or_active(self, chat_id: str | None) -> str:
        if chat_id is None:
            if not self.active_chat_id:
                raise ValueError("no chat is open yet: pass a chat_id")
            return self.active_chat_id
        return chat_id

    @property
    def client(self) -> ChatClient:
        return self._client

    def on_message(self, callback: MessageCallback, *, remove: bool = False) -> None:
        """Call `callback(message)` for every message saved (user and assistant)."""
        self.session.on_message(callback, remove=remove)

    def close(self) -> None:
        """Close the views; replies this widget started stop and are saved as stopped."""
        session = getattr(self, "_session", None)  # __del__ also runs after a failed __init__
        if session is not None:
            session.close()
        super().close()

    # ------------------------------------------------- SessionListener (session.py)

    def reply_started(self, reply: Reply) -> None:
        with self.hold_sync():
            self.error = ""
            self.reply_progress(reply)
            self._publish_chats()
            if reply.chat_id != self.active_chat_id:
                self._show(reply.chat_id)
            else:
                self._publish_messages()

    def reply_progress(self, reply: Reply) -> None:
        if self.session.replies.get(reply.chat_id) is reply:
            self.streams = {**self.streams, reply.chat_id: reply.snapshot()}

    def reply_delta(self, delta: DeltaMsg) -> None:
        # `send` is the chat API here; this is ipywidgets' custom-message send.
        anywidget.AnyWidget.send(self, dict(delta))

    def reply_finished(self, reply: Reply, done: DoneMsg | None) -> None:
        try:
            if done is not None:
                anywidget.AnyWidget.send(self, dict(done))
            with self.hold_sync():
                self._drop_stream(reply.chat_id)
                self.chat_changed(reply.chat_id)
                self._label_model()  # a resolved model name
                self._publish_stats()
        except Exception:
            log.exception("publishing the state after a reply failed")
            self.busy = self.active_chat_id in self.session.replies

    def problem(self, text: str) -> None:
        self.error = text

    def chat_changed(self, chat_id: str) -> None:
        with self.hold_sync():
            self._publish_chats()
            if chat_id != self.active_chat_id:
                return
            if chat_id in self._registry:
                self._publish_messages()
                self._publish_settings()
                self._publish_stats()
            else:  # deleted or archived from another view
                self._drop_stream(chat_id)
                remaining = self._registry.list()
                self._show(remaining[0].id if remaining else "")

    def _label_model(self) -> None:
        self.model_label = self.session.describe(self.active_chat_id)

    def _publish_settings(self) -> None:
        with self.hold_sync():
            self.chat_settings = dict(settings_payload(self.session.settings(self.active_chat_id)))
            self._label_model()

    def _publish_stats(self) -> None:
        self.stats = dict(self.session.stats(self.active_chat_id))

    def _publish_models(self) -> None:
        models = self.session.model_list
        self.model_list = {
            "names": list(models.names),
            "loading": models.loading,
            "error": self.session.redact(models.error),
        }

    # -------------------------------------------------------------- state sync

    def _discard(self, chat_id: str) -> None:
        """Publish the state after `chat_id` left the registry (its reply discarded)."""
        self.session.folder.tell_others(self.session, chat_id)
        with self.hold_sync():
            if self.session.discard(chat_id):
                self._drop_stream(chat_id)
            self._publish_chats()
            self.search_results = [h for h in self.search_results if h["chat_id"] != chat_id]
            if chat_id == self.active_chat_id:
                remaining = self._registry.list()
                self._show(remaining[0].id if remaining else "")

    def _drop_stream(self, chat_id: str) -> None:
        self.streams = {k: v for k, v in self.streams.items() if k != chat_id}

    def _show(self, chat_id: str) -> None:
        """Make `chat_id` ("" = a new, not yet created chat) the active chat."""
        # Read first: a chat that cannot be read leaves the view on the chat it showed.
        window = self.session.history_window(chat_id, sys.maxsize, OPEN_WINDOW)
        with self.hold_sync():
            self.active_chat_id = chat_id
            self._publish_messages(window)
            self._publish_settings()
            self._publish_stats()

    def _publish_messages(self, window: tuple[int, list[MessagePayload]] | None = None) -> None:
        """The window of the active chat: its messages from ``_window_start`` on (another
        version may show a shorter branch: the newest few at least)."""
        chat_id = self.active_chat_id
        if window is None:
            window = self.session.history_window(chat_id, self._window_start, OPEN_WINDOW)
        self._window_start, messages = window
        with self.hold_sync():
            self.messages = [dict(m) for m in messages]
            self.has_older = self._window_start > 0
            self.busy = chat_id in self.session.replies

    def _publish_chats(self) -> None:
        self.set_trait("chats", self._registry.list())
