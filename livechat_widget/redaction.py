"""What of an error text may reach the browser: the model server by its host only (never
a base URL, which may hold a key or a user name), the chat folder by no path."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .csv_storage import CsvStore
from .providers.base import ChatClient


class Redactor:
    def __init__(self, store: CsvStore, client: ChatClient) -> None:
        self.store_root = str(Path(store.root).resolve())
        self.client = client

    def __call__(self, text: str) -> str:
        text = text.replace(self.store_root, "the chat folder")
        for base_url in (self.client.base_url, self.client.safe_base_url):
            base_url = base_url.rstrip("/")
            if base_url and base_url in text:
                host = urlsplit(base_url).hostname or "the model server"
                port = urlsplit(base_url).port
                text = text.replace(base_url, f"{host}:{port}" if port else host)
        return text
