"""livechat-widget: an AI chat that lives inside Jupyter.

Public names are imported lazily (PEP 562) so that light entry points — the
``livechat`` command, the storage layer used from a script — do not pay for
importing anywidget, ipywidgets and httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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
    "AIError": "ai_client",
    "AnthropicClient": "ai_client",
    "DemoClient": "ai_client",
    "OpenAICompatibleClient": "ai_client",
    "client_from_env": "ai_client",
    "sidebar": "sidecar_panel",
}

__all__ = [  # the names in _EXPORTS (tests/test_public_api.py checks)
    "AIError", "AnthropicClient", "ChatInfo", "ChatRegistry", "ChatWidget", "CsvStore",
    "DemoClient", "Message", "OpenAICompatibleClient", "Row", "SearchHit", "StorageError",
    "client_from_env", "sidebar",
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
    from .ai_client import (
        AIError,
        AnthropicClient,
        DemoClient,
        OpenAICompatibleClient,
        client_from_env,
    )
    from .chat_registry import ChatInfo, ChatRegistry, SearchHit
    from .csv_storage import CsvStore, Message, Row, StorageError
    from .sidecar_panel import sidebar
    from .widget import ChatWidget
