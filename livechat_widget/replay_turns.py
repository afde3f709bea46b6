"""The past turns a replay sends again, each as the request its chat sent then.

A turn is a user message of the branch a chat shows. Its request is built from the
chat's rows up to that message — the rows on file when it was sent: the versions
shown then, its ``context`` rows and attached files, the ``history_start`` and the
``settings`` rows written before it — by the same function the session uses
(reply_request.py), with the candidate client's model. Reading only: the chat's file
is never written. No network here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .attachment_types import AttachmentLimits
from .attachments import AttachmentStore
from .chat_registry import summarise
from .chat_settings import ChatSettings, overrides_from_records, resolve
from .csv_format import MESSAGE_ROLES, history_start_from_records, messages_from_records
from .csv_storage import CsvStore
from .providers.base import ChatClient
from .reply_request import ModelRequest, build_request
from .session_files import SessionFiles
from .versions import EDIT_ROLE, model_messages, tree_from_records

Which = Literal["last", "all"]
Records = list[list[str]]


@dataclass(frozen=True)
class Turn:
    """One user turn of a chat, with the rows of the chat up to it (its own included)."""

    store: CsvStore
    chat_id: str
    title: str
    turn: int  # the user message's id in its chat
    records: Records  # the chat's rows when the message was sent
    original_reply: str  # the reply the chat shows to it ("" if none)


def chat_turns(store: CsvStore, chat_id: str, which: Which) -> list[Turn]:
    """The user turns of the branch ``chat_id`` shows: every one, or the last."""
    records = store.load_records(chat_id)
    title = summarise(chat_id, records, store.path(chat_id)).title
    tree = tree_from_records(records)
    messages = messages_from_records(records)
    branch = tree.branch()
    users = [at for at, i in enumerate(branch) if tree.roles[i] == "user"]
    if which == "last":
        users = users[-1:]
    turns = []
    for at in users:
        following = branch[at + 1] if at + 1 < len(branch) else None
        original = ""
        if following is not None and tree.roles[following] == "assistant":
            original = messages[following].content
        cut = records_until(records, branch[at])
        turns.append(Turn(store, chat_id, title, branch[at], cut, original))
    return turns


def records_until(records: Sequence[list[str]], message_id: int) -> Records:
    """The rows up to message ``message_id``'s row and the event rows written with it
    (``edit``: it is a version of an earlier message)."""
    seen = -1
    for index, record in enumerate(records):
        if record[2] in MESSAGE_ROLES:
            seen += 1
            if seen == message_id:
                end = index + 1
                while end < len(records) and records[end][2] == EDIT_ROLE:
                    end += 1
                return [list(r) for r in records[:end]]
    raise ValueError(f"no message {message_id} in the chat")


def turn_request(turn: Turn, client: ChatClient, defaults: ChatSettings) -> ModelRequest | None:
    """The request ``client`` is sent for ``turn``: what the chat sent then, with the
    settings it had then (``defaults`` overridden by its ``settings`` rows so far) and
    the candidate's model. None if the turn has nothing to answer."""
    records = turn.records
    messages = messages_from_records(records)
    settings = resolve(defaults, overrides_from_records(records))
    settings = replace(settings, model=client.model)
    start = history_start_from_records(records)
    start = start if start < len(messages) else 0  # as ChatRegistry.history_start
    files = SessionFiles(AttachmentStore(turn.store.root), client, AttachmentLimits())
    return build_request(
        model_messages(messages, tree_from_records(records)),
        start,
        settings,
        client.model,
        files=lambda message: files.parts(turn.chat_id, message),
    )
