"""livechat-widget: an AI chat that lives inside Jupyter.

Public names are imported lazily (PEP 562) so that light entry points — the
``livechat`` command, the storage layer used from a script — do not pay for
importing anywidget, ipywidgets and httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

# public name -> submodule that defines it
_EXPORTS = {
    "ChatWidget": "widget",
    "CsvStore": "csv_storage",
    "Row": "csv_storage",
    "StorageError": "csv_storage",
    "Message": "csv_storage",
    "ChatInfo": "chat_registry",
    "SearchHit": "chat_registry",
    "ChatRegistry": "chat_registry",
    "AnthropicClient": "providers.anthropic",
    "BaseClient": "providers.base",
    "ChatClient": "providers.base",
    "ModelMessage": "providers.messages",
    "TextPart": "providers.messages",
    "StreamEvent": "providers.events",
    "TextDelta": "providers.events",
    "ReasoningDelta": "providers.events",
    "ToolCallDelta": "providers.events",
    "UsageEvent": "providers.events",
    "FinishEvent": "providers.events",
    "DemoClient": "providers.demo",
    "OpenAICompatibleClient": "providers.openai",
    "client_from_env": "providers.env",
    "AIError": "providers.errors",
    "AuthenticationFailed": "providers.errors",
    "ConnectionFailed": "providers.errors",
    "ContentFiltered": "providers.errors",
    "ContextTooLong": "providers.errors",
    "ModelNotFound": "providers.errors",
    "ProviderError": "providers.errors",
    "QuotaExceeded": "providers.errors",
    "RateLimited": "providers.errors",
    "StreamInterrupted": "providers.errors",
    "sidebar": "sidecar_panel",
    "error_help": "ask_livechat",
    # Chats as data
    "read_chats": "chat_data",
    "compare_view": "compare_view",
    "import_chats": "chat_import",
    "ChatImportError": "chat_import",
    "ChatImportWarning": "chat_import",
    "replay": "replay",
    "ReplayJob": "replay_job",
    "ReplayFrame": "replay_frame",
    "replay_summary": "replay_frame",
    "LAST_ERROR": "kernel_context",
    "RECENT_CELLS": "kernel_context",
    "PromptTemplate": "prompt_templates",
}

__all__ = [  # the names in _EXPORTS (tests/test_public_api.py checks)
    "AIError",
    "AnthropicClient",
    "AuthenticationFailed",
    "BaseClient",
    "ChatClient",
    "ChatInfo",
    "ChatRegistry",
    "ChatWidget",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextTooLong",
    "LAST_ERROR",
    "CsvStore",
    "DemoClient",
    "FinishEvent",
    "Message",
    "ModelMessage",
    "ModelNotFound",
    "OpenAICompatibleClient",
    "PromptTemplate",
    "ProviderError",
    "QuotaExceeded",
    "RECENT_CELLS",
    "RateLimited",
    "ReasoningDelta",
    "Row",
    "SearchHit",
    "StorageError",
    "StreamEvent",
    "StreamInterrupted",
    "TextDelta",
    "TextPart",
    "ToolCallDelta",
    "UsageEvent",
    "client_from_env",
    "error_help",
    "sidebar",
    # Chats as data
    "ChatImportError",
    "ChatImportWarning",
    "compare_view",
    "import_chats",
    "read_chats",
    "ReplayFrame",
    "ReplayJob",
    "replay",
    "replay_summary",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'livechat_widget' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # for type checkers and IDEs
    from .ask_livechat import error_help
    from .chat_data import read_chats
    from .chat_import import ChatImportError, ChatImportWarning, import_chats
    from .chat_registry import ChatInfo, ChatRegistry, SearchHit
    from .compare_view import compare_view
    from .csv_storage import CsvStore, Message, Row, StorageError
    from .kernel_context import LAST_ERROR, RECENT_CELLS
    from .prompt_templates import PromptTemplate
    from .providers.anthropic import AnthropicClient
    from .providers.base import BaseClient, ChatClient
    from .providers.demo import DemoClient
    from .providers.env import client_from_env
    from .providers.errors import (
        AIError,
        AuthenticationFailed,
        ConnectionFailed,
        ContentFiltered,
        ContextTooLong,
        ModelNotFound,
        ProviderError,
        QuotaExceeded,
        RateLimited,
        StreamInterrupted,
    )
    from .providers.events import (
        FinishEvent,
        ReasoningDelta,
        StreamEvent,
        TextDelta,
        ToolCallDelta,
        UsageEvent,
    )
    from .providers.messages import ModelMessage, TextPart
    from .providers.openai import OpenAICompatibleClient
    from .replay import replay
    from .replay_frame import ReplayFrame, replay_summary
    from .replay_job import ReplayJob
    from .sidecar_panel import sidebar
    from .widget import ChatWidget
