"""livechat-widget: an AI chat that lives inside Jupyter."""

from .chat_registry import ChatInfo, ChatRegistry
from .csv_storage import CsvStore, Row, StorageError
from .widget import ChatWidget

__all__ = ["ChatInfo", "ChatRegistry", "ChatWidget", "CsvStore", "Row", "StorageError"]
__version__ = "0.1.0"
