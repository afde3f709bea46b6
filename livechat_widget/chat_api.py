"""The Python API of a chat for notebook users: ``await chat.ask(...)``, new, select,
rename, delete, versions, settings, export. ``ChatWidget`` (widget.py) inherits it.

Each method checks its arguments as a browser message is checked (protocol.py), then
calls the session — the same path as the page, so the views show what a script did.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from .attachment_inputs import as_files
from .chat_registry import ChatInfo
from .compare import open_saved
from .error_frames import last_block
from .prompt_templates import PromptLibrary, PromptTemplate
from .protocol import Edit, IgnoreStale, SelectVersion, Send
from .providers.base import ChatClient
from .session_tools import Approve, check_approve
from .stale_context import variable_fingerprints
from .tools.chat_tools import ChatTools
from .versions import ShownMessage
from .wire import ContextChip, Draft, settings_payload, shown_payload

if TYPE_CHECKING:
    from .controller import Controller
    from .session import ChatSession

MessageCallback = Callable[[dict[str, Any]], Any]
log = logging.getLogger(__name__)
_draft_ids = itertools.count(1)  # every view applies a draft once, by its id


class ChatApi:
    """The methods a notebook user calls on a chat widget."""

    # Provided by ChatWidget.
    active_chat_id: str
    allow_kernel_context: bool
    comm: Any
    draft: dict[str, Any]
    controller: Controller
    _callbacks: list[MessageCallback]  # on_message's
    _tools: ChatTools
    _prompts: PromptLibrary

    @property
    def session(self) -> ChatSession:
        raise NotImplementedError

    def show(self, chat_id: str) -> None:
        raise NotImplementedError

    def problem(self, text: str) -> None:
        raise NotImplementedError

    def refresh_prompts(self) -> None:
        raise NotImplementedError

    # -- prompt templates (prompt_templates.py): the composer's `/` commands

    @property
    def prompts(self) -> Mapping[str, PromptTemplate]:
        """The prompt templates, name -> ``PromptTemplate``, read-only and read again
        when their folders changed: the built-ins (``explain``, ``fix``, ``tests``,
        ``doc``), ``~/.config/livechat/prompts/*.md`` and ``<chat folder>/prompts/*.md``
        (a person's template replaces a built-in of the same name).
        ``chat.prompts["summary"].render(df="sales")`` fills its placeholders."""
        self.refresh_prompts()
        return self._prompts.templates()

    # -- tools the model may call (tools/chat_tools.py)

    @property
    def tools(self) -> ChatTools:
        """The tools offered to the model: the kernel's, your functions, MCP servers'.
        ``chat.tools.add(fn)``, ``chat.tools.remove(name)``, ``list(chat.tools)``."""
        return self._tools

    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        needs_consent: bool = False,
    ) -> Any:
        """Decorator: ``@chat.tool`` or ``@chat.tool(needs_consent=True)`` offers the
        function to the model (``chat.tools.add``) and returns it unchanged."""

        def add(function: Callable[..., Any]) -> Callable[..., Any]:
            self._tools.add(
                function, name=name, description=description, needs_consent=needs_consent
            )
            return function

        return add if fn is None else add(fn)

    def add_mcp_server(
        self,
        name: str,
        *,
        command: str | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> asyncio.Task[list[str]]:
        """Start an MCP server (needs ``pip install 'livechat-widget[mcp]'``): a stdio
        ``command`` with ``args``/``env``/``cwd``, or a streamable HTTP ``url`` with
        ``headers``. Its tools join ``chat.tools``, each asking for consent. Returns a
        task: ``await`` it for the names of the tools added; a server that cannot start
        is reported in the chat either way."""
        return self._tools.add_mcp_server(
            name, command=command, args=args, env=env, cwd=cwd, url=url, headers=headers
        )

    # -- talking to the model

    async def ask(
        self,
        text: str,
        chat_id: str | None = None,
        *,
        context: list[str] | None = None,
        approve: Approve = "ask",
        attachments: Sequence[Any] = (),
    ) -> dict[str, Any]:
        """Send ``text`` to the model and wait for the reply; returns the assistant message.

        The reply streams into every displayed view, exactly like one sent from the
        browser. A failed reply is returned with ``status == "error"`` and its ``error``.
        ``context`` names what of the kernel to attach: variables, ``"last error"`` and
        ``"recent cells"``, a cell's error as "Ask livechat" attaches it (``"error [12]"``,
        one of the last 5), and figures — ``"current figure"`` or ``"figure [12]"``, an
        image cell 12 displayed, sent as image files (from IPython only: elsewhere
        there is no kernel namespace);
        an unknown name is a ValueError before anything is saved.

        ``approve`` decides the tool calls that need consent (running code, MCP tools,
        functions marked so): ``"ask"`` shows Allow/Deny in the views and waits;
        ``"always"`` and ``"never"`` decide unattended; a function gets a ``ToolCall``
        (name, arguments, code) and returns True to allow it (it may be async).

        ``attachments`` are files sent with the message: paths, ``(name, bytes)`` pairs,
        PIL images and matplotlib figures (as PNG); a DataFrame is context, not a file.
        A file the chat cannot take is refused before anything is saved.
        """
        approve = check_approve(approve)
        # The same checks as a message from the browser (ProtocolError is a ValueError).
        command = Send.from_msg({"type": "send", "text": text, "chat_id": chat_id or ""})
        sent = self.controller.kernel.context(context or [], from_browser=False)
        figures = self.controller.kernel.figures(context or [], from_browser=False)
        files = [*figures, *as_files(attachments)]
        reply = self.session.start_reply(
            command.chat_id or self.active_chat_id,
            command.text,
            context=sent,
            approve=approve,
            files=files,
            fingerprints=variable_fingerprints(context or []) if sent else "",
        )
        return dict(shown_payload(await self.session.wait(reply)))

    async def edit(self, message_id: int, text: str, chat_id: str | None = None) -> dict[str, Any]:
        """Save ``text`` as a new version of user message ``message_id`` and wait for the
        new reply to it (returned like ``ask``'s). The new version is shown; the model
        is sent the conversation up to it. Refused while a reply streams in the chat."""
        msg = {"chat_id": chat_id or self.active_chat_id, "message_id": message_id, "text": text}
        command = Edit.from_msg(msg)
        reply = self.session.start_reply(command.chat_id, command.text, command.message_id)
        return dict(shown_payload(await self.session.wait(reply)))

    def stop(self, chat_id: str | None = None) -> bool:
        """Stop the reply streaming in a chat (default: the active one); keeps its text."""
        return self.session.stop(chat_id or self.active_chat_id)

    def select_version(
        self, message_id: int, version: int, chat_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Show version ``version`` (from 1) of message ``message_id``'s turn, and with
        it the rest of that branch; returns the history now shown."""
        msg = {"chat_id": chat_id or self.active_chat_id, "message_id": message_id}
        command = SelectVersion.from_msg({**msg, "version": version})
        self.session.select_version(command.chat_id, command.message_id, command.version)
        return self.history(command.chat_id)

    def on_message(self, callback: MessageCallback, *, remove: bool = False) -> None:
        """Call ``callback(message)`` for every message saved (user and assistant), the
        message as ``history`` gives it, with its ``chat_id``."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def message_saved(self, message: ShownMessage, chat_id: str) -> None:
        """(SessionListener) A message was saved: tell the ``on_message`` callbacks."""
        if message.message.role == "user" and self.draft.get("text"):
            self.draft = {**self.draft, "text": "", "context": []}  # sent: the draft is done
        for callback in list(self._callbacks):
            try:
                callback({**shown_payload(message), "chat_id": chat_id})
            except Exception as exc:  # shown, not swallowed; the chat goes on
                log.exception("on_message callback %r failed", callback)
                self.problem(f"An on_message callback failed ({type(exc).__name__}: {exc}).")

    # -- errors ("Ask livechat", error_hook.py)

    def error_context(self) -> str:
        """The context block "Ask livechat" attaches for this kernel's last error: the
        traceback, the cell's code and the local variables of the innermost frame of
        your code (secret-looking names withheld). ValueError when there is none."""
        return last_block()

    def can_draft(self) -> bool:
        """(error_hook.py) Open, and allowed to attach kernel context."""
        return bool(self.allow_kernel_context) and getattr(self, "comm", None) is not None

    def show_draft(self, text: str, context: list[ContextChip]) -> None:
        """(error_hook.py) A ready message in every view's composer, to edit and send:
        ``text`` and the context chips; the next message sent here ends it."""
        self.controller.kernel.grant([chip["name"] for chip in context])
        draft: Draft = {"id": next(_draft_ids), "text": text, "context": context}
        self.draft = dict(draft)

    # -- settings and models

    def configure(
        self,
        chat_id: str | None = None,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: bool | None = None,
        tool_steps: int | None = None,
        prices: Mapping[str, float] | None | EllipsisType = ...,
        max_cost: float | None | EllipsisType = ...,
        context_window: int | None | EllipsisType = ...,
    ) -> dict[str, Any]:
        """Change what is given of a chat's settings (default: the active chat; a new
        chat when none is active) and return its settings. The model is a name the
        provider lists or a plain name; ValueError (SettingsError) otherwise.
        ``tools`` offers the model the chat's tools or not; ``tool_steps`` caps the
        model requests of one reply (1 to 50; 10 unless set).

        Cost and the context window (``None``: back to the default):
        ``prices={"input_per_mtok": 1.0, "output_per_mtok": 2.0}`` is this chat's price
        in dollars per million tokens (a local or private model; else LIVECHAT_PRICES,
        else the genai-prices table: install ``livechat-widget[prices]`` for it);
        ``max_cost`` (dollars, >= 0) refuses a send that would take the chat past it;
        ``context_window`` (tokens) is the model's window when the provider does not
        say it (the composer's gauge)."""
        given: dict[str, Any] = {"model": model, "system_prompt": system_prompt}
        numbers = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "tools": tools,
            "tool_steps": tool_steps,
        }
        given.update({k: v for k, v in numbers.items() if v is not None})
        costs = {"prices": prices, "max_cost": max_cost, "context_window": context_window}
        given.update({k: v for k, v in costs.items() if v is not ...})
        chat_id, settings = self.session.configure(chat_id or self.active_chat_id, given)
        if chat_id != self.active_chat_id:
            self.show(chat_id)  # the new chat the settings created
        return dict(settings_payload(settings))

    def models(self) -> list[str]:
        """The models the provider lists (asked now; [] when the server has no list).
        Raises the provider's AIError when it cannot be reached or refuses the key."""
        return self.session.model_list.fetch()

    @property
    def client(self) -> ChatClient:
        return self.session.client

    # -- chats

    def new_chat(self, title: str | None = None) -> ChatInfo:
        """Create a chat and show it."""
        info = self.session.new_chat(title)
        self.show(info.id)
        return info

    def select(self, chat_id: str) -> None:
        """Show another chat (a reply streaming elsewhere keeps streaming)."""
        self.session.chat(chat_id)
        self.show(chat_id)

    def open_saved_comparison(
        self, title: str, prompt: str, replies: Sequence[tuple[str, str, str]]
    ) -> str:
        """A new chat of ``prompt`` whose saved ``replies`` ((label, model, text) each)
        show side by side in the Compare panes (``compare_view``); its id."""
        return open_saved(self.session, self.session.listener, title, prompt, replies)

    def rename(self, chat_id: str, title: str) -> ChatInfo:
        """Set a chat's title (whitespace collapsed; ValueError if empty)."""
        return self.session.rename(chat_id, title)

    def delete(self, chat_id: str) -> None:
        """Delete a chat and its file (a reply streaming in it is discarded)."""
        self.session.delete(chat_id)

    def clear(self, chat_id: str) -> Path:
        """Archive a chat: its file moves to ``archive/``; returns the new path."""
        return self.session.archive(chat_id)

    # -- reading

    def history(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The messages shown of a chat (default: the active one), oldest first: one
        version of each turn, with ``version`` (from 1) of ``versions``."""
        return [
            dict(shown_payload(m)) for m in self.session.history(chat_id or self.active_chat_id)
        ]

    def export(self, chat_id: str | None = None, format: str = "markdown") -> str:
        """A chat (default: the active one) as the text of a Markdown, JSON (every row;
        ``livechat_widget.import_chats`` reads it) or Jupyter notebook (``"ipynb"``) file."""
        return self.session.export(self._chat_or_active(chat_id), format).text

    def to_pandas(self, chat_id: str | None = None) -> Any:
        """A chat's messages (default: the active chat) as a pandas DataFrame, with the
        columns of ``livechat_widget.read_chats``."""
        return self.session.to_pandas(self._chat_or_active(chat_id))

    def stale_items(self, chat_id: str | None = None) -> list[dict[str, Any]]:
        """The variables a chat (default: the active one) sent as context that changed in
        the kernel since, each ``{"name", "change", "gone"}`` — what the page's badge
        shows (``stale_context``), checked now. Empty when kernel context is off."""
        return [dict(item) for item in self.controller.stale_items(self._chat_or_active(chat_id))]

    def ignore_stale(self, names: list[str], chat_id: str | None = None) -> None:
        """Hide stale ``names`` (the badge's Ignore) until their values change again."""
        msg = {"type": "ignore_stale", "chat_id": self._chat_or_active(chat_id), "names": names}
        self.controller.dispatch(IgnoreStale.from_msg(msg))

    def _chat_or_active(self, chat_id: str | None) -> str:
        if chat_id is None:
            if not self.active_chat_id:
                raise ValueError("no chat is open yet: pass a chat_id")
            return self.active_chat_id
        return chat_id
