"""What a session is opened with: the client, whose name rows carry, new chats' settings
(``SessionOptions``); where the chats are (a store, or the folder of one); and who hears
what happens (``SessionListener``, a widget)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .attachment_types import AttachmentLimits
from .chat_settings import ChatSettings, defaults_from_env
from .csv_format import default_user
from .csv_storage import CsvStore
from .prices import PriceTable, prices_from_env
from .providers.base import ChatClient
from .streaming import Reply
from .tool_rows import ToolRecord
from .tools.toolbox import Toolbox
from .versions import ShownMessage
from .wire import DeltaMsg
from .wire_compare import CompareDeltaMsg

ChatStore = CsvStore | str | os.PathLike[str]  # a store, or the folder of one


def open_store(store: ChatStore) -> CsvStore:
    return store if isinstance(store, CsvStore) else CsvStore(store)


@dataclass(frozen=True)
class SessionOptions:
    """What every session a widget opens is made with (one per folder it shows)."""

    client: ChatClient
    user_id: str
    defaults: ChatSettings
    toolbox: Toolbox = field(default_factory=Toolbox)  # what the model may call
    upload_limits: AttachmentLimits = field(default_factory=AttachmentLimits)  # files sent
    prices: PriceTable = field(default_factory=PriceTable)  # LIVECHAT_PRICES (prices.py)
    # Compare's other clients by label (compare.py); LIVECHAT_COMPARE in the app.
    compare_clients: Mapping[str, ChatClient] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        client: ChatClient | None = None,
        user_id: str | None = None,
        toolbox: Toolbox | None = None,
        upload_limits: AttachmentLimits | None = None,
        compare_clients: Mapping[str, ChatClient] | None = None,
        **settings: Any,
    ) -> SessionOptions:
        """``client`` None: the one the LIVECHAT_* variables configure (the demo model
        when none is set); ``settings`` (model, system_prompt, temperature, max_tokens)
        are new chats' defaults, else LIVECHAT_SYSTEM_PROMPT, LIVECHAT_TEMPERATURE and
        LIVECHAT_MAX_TOKENS; the model, else the client's."""
        defaults = defaults_from_env(**settings)  # checked before a client is made
        prices = prices_from_env()  # a malformed LIVECHAT_PRICES is an error at once
        if client is None:
            from .providers.env import client_from_env

            client = client_from_env()
        toolbox = toolbox if toolbox is not None else Toolbox()  # an empty one is falsy
        limits = upload_limits or AttachmentLimits()
        compare = dict(compare_clients or {})
        return cls(client, user_id or default_user(), defaults, toolbox, limits, prices, compare)


class SessionListener(Protocol):
    """What a session reports; called on the event loop, never raising back into it."""

    def reply_started(self, reply: Reply) -> None: ...
    def reply_progress(self, reply: Reply) -> None: ...  # a snapshot is due
    def reply_delta(self, delta: DeltaMsg) -> None: ...
    def reply_finished(
        self, reply: Reply, saved: ShownMessage | None
    ) -> None: ...  # None: discarded
    def problem(self, text: str) -> None: ...  # shown in the error banner
    def tool_changed(self, reply: Reply, call: ToolRecord) -> None: ...  # a call's new state
    def tool_running(self, reply: Reply, call: ToolRecord | None) -> None: ...  # kernel code
    def message_saved(self, message: ShownMessage, chat_id: str) -> None: ...  # user or reply
    def chat_changed(self, chat_id: str) -> None: ...  # by any session on the folder
    def compare_started(self, chat_id: str) -> None: ...  # a comparison began (compare.py)
    def compare_changed(self, chat_id: str) -> None: ...  # a comparison's state (compare.py)
    def compare_delta(self, delta: CompareDeltaMsg) -> None: ...  # its panes' new pieces
