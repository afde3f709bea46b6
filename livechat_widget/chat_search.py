"""Search over a folder's chats: titles first, then message contents, with a snippet
around the first match. A chat whose messages are not in memory is searched in its raw
bytes first, and parsed only when they match."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from .csv_storage import MESSAGE_ROLES, CsvStore, Message, StorageError

log = logging.getLogger(__name__)

SNIPPET_CHARS = 120


class _Chat(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...


C = TypeVar("C", bound=_Chat)


def find_chats(
    chats: Iterable[C], query: str, limit: int, snippet_of: Callable[[str, str], str | None]
) -> list[tuple[C, str]]:
    """(chat, snippet) of ``chats`` (in their order) matching ``query``: title matches
    first; ``snippet_of(chat_id, lowercase query)`` finds a match in the messages."""
    if not isinstance(query, str):
        raise TypeError(f"query must be str, not {type(query).__name__}")
    q = query.strip().lower()
    if not q or limit <= 0:
        return []
    by_title: list[tuple[C, str]] = []
    by_content: list[tuple[C, str]] = []
    for info in chats:
        if len(by_title) >= limit:
            break
        title_hit = q in info.title.lower()
        snippet = snippet_of(info.id, q)
        if title_hit:
            by_title.append((info, snippet if snippet is not None else info.title))
        elif snippet is not None and len(by_content) < limit:
            by_content.append((info, snippet))
    return (by_title + by_content)[:limit]


def file_snippet(
    store: CsvStore, chat_id: str, q: str, cached: Sequence[Message] | None
) -> str | None:
    """The snippet around the first message of ``chat_id`` containing ``q``, or None."""
    if cached is not None:
        contents: Iterable[str] = (m.content for m in cached)
    else:
        try:
            raw = store.path(chat_id).read_bytes()
        except OSError:
            return None
        if q not in raw.decode("utf-8", "replace").lower():
            return None  # cheap pre-check before parsing the file
        try:
            records = store.load_records(chat_id)
        except StorageError as exc:
            log.warning("search skipped a chat that cannot be read: %s", exc)
            return None
        contents = (r[3] for r in records if r[2] in MESSAGE_ROLES)
    for content in contents:
        at = _find(content, q)
        if at >= 0:
            return _snippet(content, at)
    return None


def _find(text: str, query: str) -> int:
    """Index in ``text`` of the first case-insensitive match of ``query`` (lowercase), or -1."""
    low = text.lower()
    i = low.find(query)
    if i <= 0 or len(low) == len(text):
        return i
    # lower() changed some lengths (e.g. "İ" -> "i̇"): map the index back char by char.
    pos = 0
    for j, ch in enumerate(text):
        if pos >= i:
            return j
        pos += len(ch.lower())
    return len(text)


def _snippet(text: str, at: int, width: int = SNIPPET_CHARS) -> str:
    start = max(0, min(at - width // 3, len(text) - width))
    end = start + width
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")
