"""The request a reply sends: a chat's turns as model messages, its system prompt
first, and the options its settings give (model, temperature, max tokens).

One function builds it for the session (session.py: a reply now) and for a replay
(replay_turns.py: a past turn again, through another client), so both send exactly
the same messages for the same rows. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .chat_settings import ChatSettings, request_options, with_system_prompt
from .csv_format import Message
from .history import FileParts, model_history
from .providers.messages import ModelMessage


@dataclass(frozen=True)
class ModelRequest:
    """What ``client.stream`` is given: the history and the keyword options."""

    history: list[ModelMessage]
    options: dict[str, Any]


def build_request(
    asked: Sequence[Message],
    start: int,
    settings: ChatSettings,
    client_model: str,
    files: FileParts | None = None,
    *,
    answer_again: bool = False,
) -> ModelRequest | None:
    """The request answering the last user turn of ``asked`` (``versions.model_messages``
    of the branch shown), from message ``start`` on (``history_start``), with the
    chat's ``settings``; ``answer_again``: a reply after the last user message is left
    out (Regenerate, Retry). None when there is no user turn to answer."""
    if answer_again:
        users = [i for i, m in enumerate(asked) if m.role == "user"]
        asked = asked[: users[-1] + 1] if users else []
    history = model_history(asked, start, files=files)
    if not history or history[-1].role != "user":
        return None
    return ModelRequest(
        with_system_prompt(settings, history), request_options(settings, client_model)
    )
