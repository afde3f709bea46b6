"""The chat core without traitlets, and the only writer of a chat folder: chats (new,
rename, delete, archive), replies and their persistence, versions, settings, code runs.

A ``ChatWidget`` (or anything else) drives a ``ChatSession``: it starts a reply as an
asyncio task on the running loop, saves the person's message before the model is called
and the reply when it ends, and tells its ``SessionListener`` what happened. Sessions on
one folder share its registry and the replies streaming in it (folders.py), so ids and
titles agree and two views never answer in one chat at once; every write is announced
to every session on the folder (``chat_changed``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .attachment_types import AttachmentLimits
from .attachments import AttachmentStore
from .chat_registry import ChatInfo, SearchHit
from .chat_settings import (
    ChatSettings,
    check_changes,
    resolve,
)
from .compare import CompareRun, candidate_clients, start_compare
from .context_window import ContextWindows
from .csv_storage import CsvStore, Message
from .folders import folder_for
from .frame_clock import FrameClock
from .history import shorter_history_start
from .model_list import ModelList
from .prices import PriceTable
from .providers.base import ChatClient, check_client
from .redaction import Redactor
from .reply_keeper import ReplyKeeper, save_interrupted
from .reply_request import ModelRequest, build_request
from .reply_usage import usage_totals
from .session_budget import ChatBudget
from .session_chats import ChatChanges
from .session_chats import SessionError as SessionError  # raised to the callers
from .session_files import Checked, SessionFiles
from .session_options import SessionListener, SessionOptions
from .session_reply_end import ReplyEnding
from .session_stats import SessionStats
from .session_tools import Approve, answer_consent, tool_loop
from .streaming import Reply, stream_reply
from .tools.toolbox import Toolbox
from .versions import ShownMessage, model_messages
from .visitors import visitor_folder
from .wire import Stats, usage_totals_payload

log = logging.getLogger(__name__)


STILL_STREAMING = "A reply is still streaming in this chat: stop it first."


class ChatSession(ChatChanges, ChatBudget, ReplyEnding):
    @classmethod
    def open(
        cls, options: SessionOptions, store: CsvStore, listener: SessionListener
    ) -> ChatSession:
        return cls(
            options.client,
            store,
            options.user_id,
            listener,
            options.defaults,
            options.toolbox,
            options.upload_limits,
            options.prices,
            options.compare_clients,
        )

    @classmethod
    def for_visitor(
        cls,
        options: SessionOptions,
        root: CsvStore,
        secret: str,
        listener: SessionListener,
        current: ChatSession | None,
    ) -> ChatSession:
        """The session on the chats of the browser holding ``secret`` (per-browser
        chats, visitors.py): ``current`` if it is already that one; SessionError if
        ``current`` shows another browser's chats."""
        folder = visitor_folder(root.root, secret).resolve()
        if current is None:
            return cls.open(options, CsvStore(folder), listener)
        if Path(current.registry.store.root).resolve() != folder:
            raise SessionError("This page already shows another browser's chats.")
        return current  # a view re-sending its own secret is fine

    def __init__(
        self,
        client: ChatClient,
        store: CsvStore,
        user_id: str,
        listener: SessionListener,
        defaults: ChatSettings | None = None,
        toolbox: Toolbox | None = None,
        upload_limits: AttachmentLimits | None = None,
        prices: PriceTable | None = None,
        compare_clients: Mapping[str, ChatClient] | None = None,
    ) -> None:
        folder = folder_for(store)
        folder.sessions.add(self)
        self.folder = folder
        self.client = check_client(client)
        self.registry = folder.registry
        self.replies = folder.replies  # shared with other sessions on this folder
        self.compare_clients: Mapping[str, ChatClient] = {
            k: check_client(v) for k, v in (compare_clients or {}).items()
        }
        self.compares: dict[str, CompareRun] = {}  # open comparisons (compare.py)
        self.user_id = user_id
        self.listener = listener
        self.closed = False
        self._redact = Redactor(store, self.client)
        self._waiters: dict[int, asyncio.Future[ShownMessage]] = {}  # id(reply) -> ask()
        self._stats = SessionStats()
        self._keepers: dict[int, ReplyKeeper] = {}  # id(reply) -> its lock and partial rows
        self.defaults = defaults or ChatSettings()
        self.model_list = ModelList(self.client)
        self.price_table = prices or PriceTable()  # LIVECHAT_PRICES (prices.py)
        self.windows = ContextWindows(self.client)  # the models' context windows
        self._unpriced_budgets: set[str] = set()
        self.frame_clock = FrameClock()  # deltas' grid, tuned by the page (frame_sync)
        self.toolbox = toolbox if toolbox is not None else Toolbox()
        limits = upload_limits or AttachmentLimits()
        self.files = SessionFiles(AttachmentStore(store.root), self.client, limits)

    def chat_changed(self, chat_id: str) -> None:
        """A session on the folder (this one too) wrote ``chat_id``: redraw it."""
        self.listener.chat_changed(chat_id)

    def recover(self, chat_id: str) -> None:
        """Save a reply that never finished — its kernel died, its page closed mid-reply
        — as interrupted, with the text kept while it streamed (reply_keeper.py)."""
        mine = not chat_id or chat_id in self.replies or chat_id not in self.registry
        if not mine and save_interrupted(self.registry, chat_id, self.user_id):
            self.folder.announce(chat_id)

    # -- chats: every change to the folder goes through here and is announced

    def chats(self) -> list[ChatInfo]:
        """Every chat of the folder, most recently updated first."""
        return self.registry.list()

    def chat(self, chat_id: str) -> ChatInfo:
        """A chat's title and times; ChatNotFound if there is none."""
        return self.registry.get(chat_id)

    def unreadable(self) -> int:
        """How many chat files could not be read (each left as it is; the log says why)."""
        return len(self.registry.unreadable)

    def has_chat(self, chat_id: str) -> bool:
        return chat_id in self.registry

    def is_loaded(self, chat_id: str) -> bool:
        return self.registry.is_loaded(chat_id)

    async def load(self, chat_id: str) -> None:
        """Read a chat's file off the event loop (chat_registry.py), before showing it."""
        await self.registry.load(chat_id)

    # -- reading

    def history(self, chat_id: str, start: int = 0) -> list[ShownMessage]:
        """The messages shown of a chat ("" = none yet), oldest first: one version of
        each turn, each saying which version it is of how many. While a regenerated
        reply streams, the version it will replace is left out (the stream takes its
        place). From the ``start``-th shown message on."""
        return self.history_window(chat_id, start, 0)[1]

    def history_window(
        self, chat_id: str, start: int, newest: int
    ) -> tuple[int, list[ShownMessage]]:
        """``history`` from ``start`` on, but from earlier if that leaves fewer than the
        ``newest`` last messages: (where the window starts, its messages). A window of a
        long chat builds only its own payloads, and the branch is worked out once."""
        if not chat_id:
            return 0, []
        branch = self._branch(chat_id)
        start = min(start, max(0, len(branch) - newest))
        messages = self.registry.messages(chat_id)
        tree = self.registry.tree(chat_id)
        return start, [ShownMessage(messages[i], *tree.position(i)) for i in branch[start:]]

    def _branch(self, chat_id: str) -> list[int]:
        tree = self.registry.tree(chat_id)
        branch = tree.branch()
        open_run = chat_id in self.replies or chat_id in self.compares
        if open_run and branch and tree.roles[branch[-1]] == "assistant":
            branch.pop()
        return branch

    def sent_messages(self, chat_id: str) -> list[Message]:
        """The messages of the branch shown, oldest first (stale_context.py)."""
        messages = self.registry.messages(chat_id)
        return [messages[i] for i in self._branch(chat_id)]

    def _shown(self, chat_id: str, message: Message) -> ShownMessage:
        return ShownMessage(message, *self.registry.tree(chat_id).position(message.id))

    def search(self, query: str) -> list[SearchHit]:
        """Chats whose title or messages contain ``query`` (a blank query finds none)."""
        return self.registry.search(query.strip()) if query.strip() else []

    # -- settings

    def settings(self, chat_id: str) -> ChatSettings:
        """The settings a chat ("" = a new one) replies with: the defaults, overridden
        by what the chat set itself; ``model`` is always named when it is known."""
        settings = resolve(self.defaults, self.registry.settings(chat_id) if chat_id else {})
        if not settings.model:
            settings = resolve(settings, {"model": self.client.model})
        return settings

    def configure(self, chat_id: str, changes: dict[str, Any]) -> tuple[str, ChatSettings]:
        """Check and record changes of a chat's settings ("" creates the chat); returns
        the chat id and its settings. Raises SettingsError, ChatNotFound."""
        limit = self.client.max_temperature
        checked = check_changes(changes, listed=self.model_list.names, max_temperature=limit)
        current = self.settings(chat_id).as_dict()
        own = self.registry.settings(chat_id) if chat_id else {}
        # Only what differs is written; a None number is "back to the default" and is
        # written only when the chat had set that number itself.
        diff = {
            k: v
            for k, v in checked.items()
            if (v is None and k in own) or (v is not None and v != current[k])
        }
        if diff:
            if not chat_id:
                chat_id = self.registry.new().id
            self.registry.add_settings(chat_id, diff)
            self.folder.announce(chat_id)
        return chat_id, self.settings(chat_id)

    def describe(self, chat_id: str) -> str:
        """The label of the model a chat replies with."""
        model = self.settings(chat_id).model
        if model and model != self.client.model:
            return self.client.describe(model=model)
        return self.client.describe()

    # -- replies

    def start_reply(
        self,
        chat_id: str,
        text: str | None,
        replaces: int | None = None,
        context: str = "",
        approve: Approve = "ask",
        files: Sequence[tuple[str, bytes]] = (),
        fingerprints: str = "",
    ) -> Reply:
        """Save the person's message (if any; a new version of message ``replaces`` if
        given; with the kernel ``context``, its variables' ``fingerprints`` (JSON,
        stale_context.py) and the ``files`` — (name, bytes) — sent with it), then
        answer the last user turn shown as a task; ``approve`` decides tool
        calls that need consent (session_tools.py). ``chat_id`` "" starts a new chat.
        Raises ChatNotFound, SessionError, or a Refused naming a file it cannot take."""
        if chat_id:
            self.registry.get(chat_id)
        if chat_id in self.replies:
            raise SessionError(STILL_STREAMING)
        unchecked = self.check_budget(chat_id, text)  # max_cost, before anything is saved
        checked = self.files.check(files) if files else []  # before anything is saved
        if replaces is not None:
            self._check_message(chat_id, replaces, "user")
        chat_id, request = self._prompt(chat_id, text, replaces, context, checked, fingerprints)
        loop = asyncio.get_running_loop()
        settings = self.settings(chat_id)
        history, options = request.history, request.options
        reply = Reply(chat_id, len(self.registry.messages(chat_id)), owner=self)
        reply.model = settings.model
        reply.prompt = history
        self.replies[chat_id] = reply
        self._keepers[id(reply)] = ReplyKeeper(self.registry, reply, self.user_id)
        reply.task = loop.create_task(
            stream_reply(
                self.client,
                history,
                reply,
                self.listener.reply_delta,
                self.listener.reply_progress,
                options,
                self.frame_clock,
                tool_loop(self, reply, settings, approve),
            )
        )
        reply.task.add_done_callback(lambda task: self._finish(reply, task))
        self.listener.reply_started(reply)
        if unchecked:  # a budget without a price: said once, never passed in silence
            self.listener.problem(unchecked)
        self.folder.announce(chat_id)
        return reply

    def compare(
        self, chat_id: str, text: str, candidates: Sequence[str], blind: bool = False
    ) -> CompareRun:
        """Put ``text`` to 2-4 candidates at once, their replies side by side: compare
        clients by label, or models of this client (compare.py). SessionError if a
        candidate is unknown or a reply streams in the chat."""
        if chat_id:
            self.registry.get(chat_id)
        if chat_id in self.replies:
            raise SessionError(STILL_STREAMING)
        chosen = candidate_clients(self, chat_id, candidates)
        unchecked = self.check_budget(chat_id, text)
        chat_id, request = self._prompt(chat_id, text, None, "", [], "")
        run = start_compare(self, self.listener, chat_id, request.history, chosen, blind)
        if unchecked:
            self.listener.problem(unchecked)
        self.folder.announce(chat_id)
        return run

    def _prompt(
        self,
        chat_id: str,
        text: str | None,
        replaces: int | None,
        context: str,
        checked: Checked,
        fingerprints: str,
    ) -> tuple[str, ModelRequest]:
        """Save the person's message (a new chat if ``chat_id`` is ""; none when ``text``
        is None: answer the last one again); the request that answers the last user
        turn shown (reply_request.py: a replay builds the same)."""
        self.recover(chat_id)  # a prompt left unanswered is never merged with this one
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "ChatWidget needs a running asyncio loop (a Jupyter kernel); "
                "from a script, use `await chat.ask(...)` inside asyncio.run"
            ) from None
        if not chat_id:
            chat_id = self.registry.new().id
        if self.compares.pop(chat_id, None) is not None:
            self.listener.compare_changed(chat_id)  # a comparison left without a vote
        if text is not None:
            self._save_prompt(chat_id, text, replaces, context, checked, fingerprints)
        request = build_request(
            model_messages(self.registry.messages(chat_id), self.registry.tree(chat_id)),
            self.registry.history_start(chat_id),
            self.settings(chat_id),
            self.client.model,
            files=lambda message: self.files.parts(chat_id, message),
            answer_again=text is None,  # regenerate/retry: answer the last user message
        )
        if request is None:
            raise SessionError("There is no message to answer in this chat.")
        return chat_id, request

    def _save_prompt(
        self,
        chat_id: str,
        text: str,
        replaces: int | None,
        context: str,
        files: Checked,
        fingerprints: str,
    ) -> None:
        """Durable first: the person's words (and files) are on disk before the model
        is called."""
        attachments = self.files.save(chat_id, files) if files else []
        saved = self.registry.append(
            chat_id,
            "user",
            text,
            user_id=self.user_id,
            replaces=replaces,
            context=context or None,
            attachments=attachments,
            fingerprints=fingerprints,
        )
        self.listener.message_saved(self._shown(chat_id, saved), chat_id)

    def attachment(self, chat_id: str, sha256: str) -> tuple[str, bytes]:
        """(media type, bytes) of a file sent in ``chat_id`` (the page's thumbnails)."""
        return self.files.read(chat_id, self.registry.messages(chat_id), sha256)

    def file_problems(self, chat_id: str) -> str:
        """Files of the chat missing or changed on disk, as one line ("" if none)."""
        return self.files.problems(chat_id, self.registry.messages(chat_id)) if chat_id else ""

    def retry_shorter(self, chat_id: str) -> Reply:
        """Retry with the oldest half of the turns left out of what the model is sent
        (offered when the conversation outgrew the model's context)."""
        if chat_id in self.replies:
            raise SessionError(STILL_STREAMING)
        shown = model_messages(self.registry.messages(chat_id), self.registry.tree(chat_id))
        start = shorter_history_start(shown, self.registry.history_start(chat_id))
        if start is None:
            raise SessionError(
                "The last message alone is too long for this model: "
                "shorten it, or start a new chat."
            )
        self.registry.set_history_start(chat_id, start)
        return self.start_reply(chat_id, None)

    def select_version(self, chat_id: str, message_id: int, version: int) -> None:
        """Show version ``version`` (from 1) of message ``message_id``'s turn; what the
        model is sent follows. Refused while a reply streams in the chat."""
        if chat_id in self.replies:
            raise SessionError(STILL_STREAMING)
        self._check_message(chat_id, message_id)
        tree = self.registry.tree(chat_id)
        versions = tree.versions(message_id)
        if not 1 <= version <= len(versions):
            raise SessionError(f"That message has {len(versions)} version(s), not {version}.")
        if versions[version - 1] in tree.branch():
            return  # already shown: nothing to record
        self.registry.select_version(chat_id, versions[version - 1])
        self.folder.announce(chat_id)

    def _check_message(self, chat_id: str, message_id: int, role: str | None = None) -> None:
        messages = self.registry.messages(chat_id)
        if not 0 <= message_id < len(messages):
            raise SessionError("That message is not in this chat.")
        if role is not None and messages[message_id].role != role:
            raise SessionError(f"Only {role} messages can be edited.")

    def answer_tool(self, chat_id: str, call_id: str, decision: str) -> None:
        """The person's answer ("once", "chat", "deny") to a call waiting for consent."""
        answer_consent(self.replies, chat_id, call_id, decision)

    def allow_tool(self, chat_id: str, name: str) -> None:
        """Let tool ``name`` run without asking for the rest of the chat."""
        self.registry.allow_tool(chat_id, name)
        self.folder.announce(chat_id)

    def tools_refused(self, chat_id: str, why: str) -> None:
        """The server took no tools: this chat goes on without them (a settings row)."""
        self.registry.add_settings(chat_id, {"tools": False})
        self.listener.problem(self.redact(why))
        self.folder.announce(chat_id)

    def wait(self, reply: Reply) -> asyncio.Future[ShownMessage]:
        """A future for the reply's message as saved (how ``await chat.ask()`` ends)."""
        future: asyncio.Future[ShownMessage] = asyncio.get_running_loop().create_future()
        self._waiters[id(reply)] = future
        return future

    def stop(self, chat_id: str) -> bool:
        """Stop the reply streaming in a chat; what it said so far is kept."""
        reply = self.replies.get(chat_id)
        if reply is None or reply.task is None:
            return False
        reply.task.cancel()
        return True

    def discard(self, chat_id: str) -> bool:
        """Cancel a reply whose chat is going away; nothing of it is saved."""
        self.compares.pop(chat_id, None)
        reply = self.replies.pop(chat_id, None)
        if reply is None or reply.task is None:
            return False
        reply.task.cancel()
        return True

    def close(self) -> None:
        """Replies this session started stop and are saved as stopped."""
        self.closed = True
        for reply in list(self.replies.values()):
            if reply.owner is self and reply.task is not None:
                reply.task.cancel()

    def stats(self, chat_id: str = "") -> Stats:
        """This session's recent replies and totals; tokens summed over ``chat_id``'s
        replies and over every chat in the folder (from their ``usage`` rows)."""
        chat = self.registry.usage(chat_id) if chat_id in self.registry else usage_totals(())
        overall = usage_totals_payload(self.registry.usage())
        return self._stats.payload(usage_totals_payload(chat), overall)

    def redact(self, text: str) -> str:
        """``text`` fit for the browser: no base URL, no path (redaction.py)."""
        return self._redact(text)
