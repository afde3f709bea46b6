"""ChatWidget: the anywidget model. Python owns all state, secrets and I/O.

The browser only draws the synced traits and reports what the person did through
custom messages (see docs/protocol.md); every message is validated before it can
change anything. Replies stream as asyncio tasks on the kernel's running loop, so
handlers return at once and Stop or a chat switch is processed mid-stream.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anywidget
import traitlets

from . import telemetry
from .chat_registry import ChatInfo, ChatRegistry
from .csv_storage import CsvStore, Message, StorageError
from .protocol import Command, ProtocolError, clean_text, parse_command
from .streaming import Outcome, Reply, stream_reply

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"
WINDOW = 100  # messages sent to the browser at once; older ones on request
RECENT_STATS = 20

MessageCallback = Callable[[dict[str, Any]], Any]


class _Folder:
    """What every widget on one chat folder in this process shares: the registry (so
    message ids and titles agree) and the replies streaming in its chats (so two views
    never answer in the same chat at once, and Stop works from either)."""

    def __init__(self, store: CsvStore) -> None:
        self.registry = ChatRegistry(store)
        self.replies: dict[str, Reply] = {}  # chat id -> reply streaming in it


_FOLDERS: dict[Path, _Folder] = {}


def _folder(store: CsvStore) -> _Folder:
    root = Path(store.root).resolve()
    if root not in _FOLDERS:
        _FOLDERS[root] = _Folder(store)
    return _FOLDERS[root]


def _default_user_id() -> str:
    try:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    except Exception:  # getpass fails without a passwd entry (some containers)
        return "unknown"


def _message_dict(message: Message) -> dict[str, Any]:
    return {"id": message.id, "role": message.role, "content": message.content,
            "timestamp": message.timestamp, "status": message.status, "error": message.error,
            "error_kind": message.error_kind}


def _chat_summary(info: ChatInfo) -> dict[str, Any]:
    return {"id": info.id, "title": info.title, "updated_at": info.updated_at,
            "message_count": info.message_count}


def model_history(messages: list[Message], start: int = 0) -> list[dict[str, str]]:
    """What the model sees: each user turn with the latest usable reply to it.

    - Messages before ``start`` (the person chose to leave the oldest turns out) are
      not sent, except ``system`` messages.
    - A regenerated reply supersedes the earlier ones to the same turn.
    - A reply with no text (failed, cut, empty) is dropped; the user messages around
      it are merged, so providers that require alternating roles accept the history.
    - A reply stopped before any text withdraws its turn: the prompt is not sent
      again (unless a later reply to it, e.g. Regenerate, says otherwise).
    """
    history: list[dict[str, str]] = []
    withdrawn = False  # the last user turn in `history` was stopped before any text
    for message in messages:
        if message.id < start and message.role != "system":
            continue
        last = history[-1] if history else None
        if message.role == "assistant":
            if not message.content:  # nothing said: nothing to send back
                if message.status == "stopped" and last and last["role"] == "user":
                    withdrawn = True
                continue
            withdrawn = False
            if last and last["role"] == "assistant":
                history[-1] = {"role": "assistant", "content": message.content}
                continue
        elif message.role == "user" and last and last["role"] == "user":
            if withdrawn:  # the earlier prompt was cancelled: this one replaces it
                history[-1] = {"role": "user", "content": message.content}
                withdrawn = False
            else:
                history[-1] = {"role": "user",
                               "content": last["content"] + "\n\n" + message.content}
            continue
        history.append({"role": message.role, "content": message.content})
    if withdrawn:
        history.pop()
    return history


def shorter_history_start(messages: list[Message], start: int) -> int | None:
    """Where the history starts when the oldest half of its turns is left out (at
    least one turn; the last turn always stays); None if one turn is all there is."""
    turn_starts = [m.id for m in messages
                   if m.role == "user" and m.id >= start
                   and (m.id == 0 or messages[m.id - 1].role != "user")]
    if len(turn_starts) < 2:
        return None
    return turn_starts[max(1, len(turn_starts) // 2)]


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
    chats = traitlets.List(read_only=True).tag(
        sync=True, to_json=lambda infos, _widget: [_chat_summary(i) for i in infos])
    active_chat_id = traitlets.Unicode("").tag(sync=True)
    messages = traitlets.List(traitlets.Dict()).tag(sync=True)
    has_older = traitlets.Bool(False).tag(sync=True)
    streams = traitlets.Dict().tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    search_query = traitlets.Unicode("").tag(sync=True)
    search_results = traitlets.List(traitlets.Dict()).tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        client: Any = None,
        store: CsvStore | str | os.PathLike[str] = "chat_logs",
        *,
        user_id: str | None = None,
        title: str = "Chat",
        height: str = "600px",
        theme: str = "auto",
    ) -> None:
        if client is None:
            from .providers.env import client_from_env

            client = client_from_env()
        if not isinstance(store, CsvStore):
            store = CsvStore(store)
        super().__init__(title=title, height=height, theme=theme)
        self._client = client
        folder = _folder(store)
        self._registry = folder.registry
        self._replies = folder.replies  # shared with other widgets on this folder
        self._store_root = str(Path(store.root).resolve())
        self._closed = False
        self._user_id = user_id or _default_user_id()
        self._waiters: dict[int, asyncio.Future[dict[str, Any]]] = {}  # id(reply) -> send()
        self._callbacks: list[MessageCallback] = []
        self._window_start = 0  # index of messages[0] in the active chat
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_STATS)
        self._totals = {"replies": 0, "completed": 0, "stopped": 0, "errors": 0, "tokens": 0}

        self.model_label = str(client.describe())
        self._label_task: asyncio.Task[Any] | None = None
        self._ask_model_name()
        self.stats = self._stats()
        recent = self._registry.list()
        with self.hold_sync():
            self._publish_chats()
            self._show(recent[0].id if recent else "")
        telemetry.attach(self._on_latency)
        self.on_msg(self._on_browser_msg)

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
            handler = getattr(self, f"_on_{command.type}")
            handler(command)
        except ProtocolError as exc:
            log.warning("rejected a browser message: %s", exc)
            self.error = str(exc)
        except KeyError:
            self.error = "That chat no longer exists."
            self._publish_chats()
        except StorageError as exc:
            log.error("chat files: %s", exc)
            self.error = self._redact(f"Could not access the chat files: {exc}")
        except Exception as exc:  # a bug must show up, not kill the comm handler
            log.exception("handling %r failed", content)
            self.error = self._redact(f"Something went wrong ({type(exc).__name__}: {exc}).")

    def _on_send(self, command: Command) -> None:
        self._start_reply(command.chat_id or self.active_chat_id, command.text)

    def _on_stop(self, command: Command) -> None:
        self.stop(command.chat_id)

    def _on_regenerate(self, command: Command) -> None:
        self._start_reply(command.chat_id, None)

    _on_retry = _on_regenerate

    def _on_retry_shorter(self, command: Command) -> None:
        """Retry with the oldest half of the turns left out of what the model is sent
        (offered when the conversation outgrew the model's context)."""
        chat_id = command.chat_id
        if chat_id in self._replies:
            raise ProtocolError("A reply is still streaming in this chat: stop it first.")
        messages = self._registry.messages(chat_id)
        start = shorter_history_start(messages, self._registry.history_start(chat_id))
        if start is None:
            raise ProtocolError("The last message alone is too long for this model: "
                                "shorten it, or start a new chat.")
        self._registry.set_history_start(chat_id, start)
        self._start_reply(chat_id, None)

    def _on_new_chat(self, command: Command) -> None:
        # The chat file is created by its first message: an untouched "New chat"
        # leaves nothing behind.
        self._show("")

    def _on_select_chat(self, command: Command) -> None:
        self.select(command.chat_id)

    def _on_rename(self, command: Command) -> None:
        self.rename(command.chat_id, command.text)

    def _on_delete(self, command: Command) -> None:
        self.delete(command.chat_id)

    def _on_clear(self, command: Command) -> None:
        self.clear(command.chat_id)

    def _on_search(self, command: Command) -> None:
        query = command.text.strip()
        hits = self._registry.search(query) if query else []
        with self.hold_sync():
            self.search_query = command.text
            self.search_results = [
                {"chat_id": hit.chat.id, "title": hit.chat.title, "snippet": hit.snippet}
                for hit in hits
            ]

    def _on_load_older(self, command: Command) -> None:
        if command.chat_id != self.active_chat_id or command.before != self._window_start:
            return  # a stale request from a view that has since moved on
        self._window_start = max(0, self._window_start - WINDOW)
        self._publish_messages()

    def _on_dismiss_error(self, command: Command) -> None:
        self.error = ""

    # --------------------------------------------------------------- python API

    async def send(self, text: str, chat_id: str | None = None) -> dict[str, Any]:
        """Send `text` to the model and wait for the reply; returns the assistant message.

        The reply streams into every displayed view, exactly like one sent from the
        browser. A failed reply is returned with ``status == "error"`` and its ``error``.
        """
        # The same checks as a message from the browser (ProtocolError is a ValueError).
        command = parse_command({"type": "send", "text": text, "chat_id": chat_id or ""})
        reply = self._start_reply(command.chat_id or self.active_chat_id, command.text)
        future = asyncio.get_running_loop().create_future()
        self._waiters[id(reply)] = future
        return await future

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
        title = " ".join(clean_text(str(title)).split())
        if not title:
            raise ValueError("title must not be empty")
        info = self._registry.rename(chat_id, title)
        self._publish_chats()
        return info

    def delete(self, chat_id: str) -> None:
        """Delete a chat and its file (a reply streaming in it is discarded)."""
        self._registry.delete(chat_id)
        self._discard_reply(chat_id)  # only once the file is gone: a failure keeps both
        self._forget(chat_id)

    def clear(self, chat_id: str) -> Path:
        """Archive a chat: its file moves to ``archive/``; returns the new path."""
        path = self._registry.archive(chat_id)
        self._discard_reply(chat_id)
        self._forget(chat_id)
        return path

    def stop(self, chat_id: str | None = None) -> bool:
        """Stop the reply streaming in a chat (default: the active one); keeps its text."""
        reply = self._replies.get(chat_id or self.active_chat_id)
        if reply is None or reply.task is None:
            return False
        reply.task.cancel()
        return True

    def history(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """All messages of a chat (default: the active one), oldest first."""
        chat_id = chat_id or self.active_chat_id
        if not chat_id:
            return []
        return [_message_dict(m) for m in self._registry.messages(chat_id)]

    @property
    def client(self) -> Any:
        return self._client

    def on_message(self, callback: MessageCallback, *, remove: bool = False) -> None:
        """Call `callback(message)` for every message saved (user and assistant)."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def close(self) -> None:
        """Close the views; replies this widget started stop and are saved as stopped."""
        telemetry.detach(self._on_latency)
        self._closed = True
        # getattr: __del__ also runs after a failed __init__
        for reply in list(getattr(self, "_replies", {}).values()):
            if reply.owner is self and reply.task is not None:
                reply.task.cancel()
        super().close()

    def _ask_model_name(self) -> None:
        """A client told to use the server's model asks which one it is now, so the
        label names the model that will answer before the first reply."""
        resolve = getattr(self._client, "resolve_model", None)
        if getattr(self._client, "model", None) != "" or resolve is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # the first reply asks instead
        self._label_task = loop.create_task(resolve())
        self._label_task.add_done_callback(self._on_model_name)

    def _on_model_name(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.info("could not ask the server for its model: %s", task.exception())
        if not self._closed:
            self.model_label = str(self._client.describe())

    # ---------------------------------------------------------------- streaming

    def _start_reply(self, chat_id: str, text: str | None) -> Reply:
        """Persist the user message (if any), then stream the answer as a task."""
        if chat_id:
            self._registry.get(chat_id)  # KeyError: it no longer exists
        if chat_id in self._replies:
            raise ProtocolError("A reply is still streaming in this chat: stop it first.")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("ChatWidget needs a running asyncio loop (a Jupyter kernel); "
                               "from a script, use `await chat.send(...)` inside asyncio.run"
                               ) from None
        if not chat_id:
            chat_id = self._registry.new().id
        if text is not None:
            # Durable first: the person's words are on disk before the model is called.
            saved = self._registry.append(chat_id, "user", text, user_id=self._user_id)
            self._notify({**_message_dict(saved), "chat_id": chat_id})
        messages = self._registry.messages(chat_id)
        asked = messages
        if text is None:  # regenerate/retry: answer the last user message again
            last_user = max((m.id for m in messages if m.role == "user"), default=-1)
            asked = messages[: last_user + 1]
        history = model_history(asked, self._registry.history_start(chat_id))
        if not history or history[-1]["role"] != "user":
            raise ProtocolError("There is no message to answer in this chat.")
        reply = Reply(chat_id, len(messages), owner=self)
        self._replies[chat_id] = reply
        reply.task = loop.create_task(
            stream_reply(self._client, history, reply, self._send_custom, self._publish_snapshot))
        reply.task.add_done_callback(lambda task: self._finish(reply, task))
        with self.hold_sync():
            self.error = ""
            self._publish_snapshot(reply)
            self._publish_chats()
            if chat_id != self.active_chat_id:
                self._show(chat_id)
            else:
                self._publish_messages()
        return reply

    def _publish_snapshot(self, reply: Reply) -> None:
        if self._replies.get(reply.chat_id) is reply:
            self.streams = {**self.streams, reply.chat_id: reply.snapshot()}

    def _finish(self, reply: Reply, task: asyncio.Task[Outcome]) -> None:
        """Runs when a reply's task ends, however it ends: save, then publish once.

        Whatever fails in here, the chat is released and `await send()` returns.
        """
        discarded = self._replies.get(reply.chat_id) is not reply  # its chat went away
        if not discarded:
            del self._replies[reply.chat_id]
        message = {"id": reply.message_id, "role": "assistant", "content": "", "timestamp": "",
                   "status": "error", "error": "The reply failed unexpectedly.",
                   "error_kind": "", "chat_id": reply.chat_id}
        try:
            outcome = self._outcome(reply, task)
            message = self._save(reply, outcome) if not discarded else {
                **message, "content": outcome.text, "status": "stopped", "error": ""}
            if not discarded and not self._closed:
                self._send_custom({
                    "type": "done", "chat_id": reply.chat_id, "message_id": reply.message_id,
                    "seq": reply.seq, "text": outcome.text, "reasoning": outcome.reasoning,
                    "status": message["status"], "error": message["error"],
                    "error_kind": message["error_kind"]})
        except Exception as exc:
            log.exception("finishing the reply in chat %s failed", reply.chat_id)
            self.error = self._redact(f"The reply failed unexpectedly ({exc}).")
        finally:
            if not self._closed:
                self._publish_after_reply(reply.chat_id)
            waiter = self._waiters.pop(id(reply), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
        if message["timestamp"]:  # saved
            self._notify(message)

    @staticmethod
    def _outcome(reply: Reply, task: asyncio.Task[Outcome]) -> Outcome:
        if task.cancelled():  # cancelled before it could start streaming
            return Outcome(reply.text, reply.reasoning, "stopped")
        if task.exception() is not None:  # stream_reply should not raise; never hang on it
            return Outcome(reply.text, reply.reasoning, "error",
                           f"The reply failed unexpectedly ({task.exception()}).")
        return task.result()

    def _save(self, reply: Reply, outcome: Outcome) -> dict[str, Any]:
        """Append the assistant row (with its status marker); the message as saved.

        Every reply is saved, even one stopped before its first token: it keeps its id
        and its status row says the prompt was withdrawn (see model_history)."""
        status, error = outcome.status, self._redact(outcome.error)
        try:
            saved = self._registry.append(
                reply.chat_id, "assistant", outcome.text, user_id=self._user_id,
                status=None if status == "complete" else status, error=error or None,
                error_kind=outcome.error_kind or None)
            return {**_message_dict(saved), "chat_id": reply.chat_id}
        except (StorageError, KeyError) as exc:
            log.error("could not save the reply in chat %s: %s", reply.chat_id, exc)
            status, error = "error", self._redact(f"The reply could not be saved: {exc}")
            self.error = error
        return {"id": reply.message_id, "role": "assistant", "content": outcome.text,
                "timestamp": "", "status": status, "error": error, "error_kind": "",
                "chat_id": reply.chat_id}

    def _publish_after_reply(self, chat_id: str) -> None:
        try:
            with self.hold_sync():
                self.streams = {k: v for k, v in self.streams.items() if k != chat_id}
                self.model_label = str(self._client.describe())  # a resolved model name
                self._publish_chats()
                if chat_id == self.active_chat_id:
                    self._publish_messages()
        except Exception:
            log.exception("publishing the state after a reply failed")
            self.busy = self.active_chat_id in self._replies

    def _redact(self, text: str) -> str:
        """Error texts name the server by host only and the chat folder by no path:
        base URLs and filesystem paths never reach the browser."""
        text = text.replace(self._store_root, "the chat folder")
        for attr in ("base_url", "safe_base_url"):
            base_url = str(getattr(self._client, attr, "") or "").rstrip("/")
            if base_url and base_url in text:
                text = text.replace(base_url, urlsplit(base_url).netloc or "the model server")
        return text

    def _discard_reply(self, chat_id: str) -> None:
        """Cancel a reply whose chat is going away; nothing of it is saved."""
        reply = self._replies.pop(chat_id, None)
        if reply is not None and reply.task is not None:
            reply.task.cancel()
            self.streams = {k: v for k, v in self.streams.items() if k != chat_id}

    # -------------------------------------------------------------- state sync

    def _show(self, chat_id: str) -> None:
        """Make `chat_id` ("" = a new, not yet created chat) the active chat."""
        # Read first: a chat that cannot be read leaves the view on the chat it showed.
        messages = self._registry.messages(chat_id) if chat_id else []
        with self.hold_sync():
            self.active_chat_id = chat_id
            self._window_start = max(0, len(messages) - WINDOW)
            self._publish_messages(messages)

    def _publish_messages(self, messages: list[Message] | None = None) -> None:
        chat_id = self.active_chat_id
        if messages is None:
            messages = self._registry.messages(chat_id) if chat_id else []
        window = messages[self._window_start:]
        with self.hold_sync():
            self.messages = [_message_dict(m) for m in window]
            self.has_older = self._window_start > 0
            self.busy = chat_id in self._replies

    def _publish_chats(self) -> None:
        self.set_trait("chats", self._registry.list())

    def _send_custom(self, content: dict[str, Any]) -> None:
        # `send` is the chat API here; this is ipywidgets' custom-message send.
        anywidget.AnyWidget.send(self, content)

    def _forget(self, chat_id: str) -> None:
        """Publish the state after `chat_id` left the registry."""
        with self.hold_sync():
            self._publish_chats()
            self.search_results = [h for h in self.search_results if h["chat_id"] != chat_id]
            if chat_id == self.active_chat_id:
                remaining = self._registry.list()
                self._show(remaining[0].id if remaining else "")

    def _notify(self, payload: dict[str, Any]) -> None:
        for callback in list(self._callbacks):
            try:
                callback(payload)
            except Exception as exc:  # shown, not swallowed; the chat goes on
                log.exception("on_message callback %r failed", callback)
                self.error = f"An on_message callback failed ({type(exc).__name__}: {exc})."

    # ---------------------------------------------------------------- telemetry

    def _on_latency(self, name: tuple[str, str, str], data: dict[str, Any]) -> None:
        # Events are emitted from inside the reply's task: keep only this widget's replies
        # (another widget may share the client object).
        task = asyncio.current_task() if data.get("client") is self._client else None
        if task is None or not any(r.task is task and r.owner is self
                                   for r in self._replies.values()):
            return
        outcome = str(data.get("outcome", ""))
        self._recent.append({"ttft_ms": data.get("ttft_ms"),
                             "tokens_per_s": data.get("tokens_per_s"), "outcome": outcome})
        totals = self._totals
        totals["replies"] += 1
        key = {"completed": "completed", "stopped": "stopped"}.get(outcome, "errors")
        totals[key] += 1
        totals["tokens"] += int(data.get("completion_tokens") or data.get("pieces") or 0)
        self.stats = self._stats()

    def _stats(self) -> dict[str, Any]:
        return {"recent": list(self._recent), "totals": dict(self._totals)}
