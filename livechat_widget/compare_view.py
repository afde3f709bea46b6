"""``compare_view(result)``: a ``replay()`` result opened in a ChatWidget's Compare
panes. Each (chat, turn) of the result becomes a new chat: the turn's prompt (its
``prompt`` column, else a line naming the chat and turn), then the original reply and
each client's reply saved as versions of its answer, shown side by side as an ended
comparison (compare.py). Keep works there as after a live comparison (the kept reply
becomes the selected version; a ``compare_vote`` row records it)."""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .widget import ChatWidget

COLUMNS = ("chat_id", "turn", "client", "reply", "original_reply")
MAX_PANES = 4


def _records(result: Any) -> list[dict[str, Any]]:
    """The rows of a DataFrame (or a list of dicts), each a dict."""
    rows = result.to_dict("records") if hasattr(result, "to_dict") else list(result)
    for row in rows[:1]:
        missing = [c for c in COLUMNS if c not in row]
        if missing:
            raise ValueError(
                f"compare_view needs replay()'s columns; missing: {', '.join(missing)}"
            )
    return rows


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value)  # NaN != NaN


def compare_view(result: Any, chat: ChatWidget | None = None) -> ChatWidget:
    """Open a ``replay()`` result (a DataFrame with chat_id, turn, client, model, reply,
    original_reply, ...) in ``chat``'s panes — a new ChatWidget on a scratch folder if
    None — one new chat per (chat, turn): the original reply beside each client's, at
    most four panes (the original and three clients). Returns the widget; display it."""
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for row in _records(result):
        groups.setdefault((str(row["chat_id"]), row["turn"]), []).append(row)
    if chat is None:
        from .widget import ChatWidget

        chat = ChatWidget(store=tempfile.mkdtemp(prefix="livechat-replay-"), title="Replay")
    first = ""
    for (chat_id, turn), rows in groups.items():
        prompt = _text(rows[0].get("prompt")) or f"Replay of chat {chat_id[:8]}…, turn {turn}"
        panes = [
            ("original", _text(rows[0].get("original_model")), _text(rows[0]["original_reply"]))
        ]
        for row in rows[: MAX_PANES - 1]:
            panes.append((_text(row["client"]), _text(row.get("model")), _text(row["reply"])))
        title = f"Replay: {chat_id[:8]} turn {turn}"
        opened = chat.open_saved_comparison(title, prompt, panes)
        first = first or opened
    if first:
        chat.select(first)
    return chat
