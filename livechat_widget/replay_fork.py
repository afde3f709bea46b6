"""A replayed turn's reply, kept as a new chat: a fork of the original.

The fork holds the original's rows up to the turn (copied as they are, with the
turn's ``context`` rows and attached files), a ``title`` row naming the fork, a
``replay`` row saying what it replays (JSON: ``chat_id``, ``turn``, ``client``,
``model``) and the candidate's reply with its ``reasoning``, ``usage`` and ``status``
rows, as a session writes a reply. It is written whole, under a new chat id
(chat_import.write_chats: a temporary file, fsync, rename); the original file is only
ever read. Widgets on the folder in this process list the fork at once.
"""

from __future__ import annotations

import json
import logging

from .attachments import AttachmentStore
from .chat_import import File, Record, write_chats
from .csv_format import default_user, encode_record, messages_from_records, status_content
from .csv_storage import utc_timestamp
from .folders import chats_added
from .refusals import Refused
from .replay_turns import Turn
from .reply_usage import Usage
from .streaming import Outcome
from .text_cleaning import MAX_TITLE_CHARS, clean_text, one_line

log = logging.getLogger(__name__)

REPLAY_ROLE = "replay"  # the event row that marks a fork (docs/data.md)


def fork_title(title: str, label: str) -> str:
    """ "<original title> · replay on <label>", the original's title shortened to fit."""
    suffix = f" · replay on {one_line(label, 40)}"
    return one_line(title, MAX_TITLE_CHARS - len(suffix)) + suffix


def reply_records(outcome: Outcome, usage: Usage, user_id: str) -> list[Record]:
    """The rows of the candidate's reply, in the order ``CsvStore.append`` writes them."""
    ts = utc_timestamp()
    rows: list[Record] = [(ts, user_id, "assistant", outcome.text)]
    if outcome.reasoning:
        rows.append((ts, user_id, "reasoning", outcome.reasoning))
    rows.append((ts, user_id, "usage", usage.to_json()))
    if outcome.status != "complete":
        rows.append((ts, user_id, "status", status_content(outcome.status, outcome.error)))
        if outcome.status == "error" and outcome.error_kind:
            rows.append((ts, user_id, "error_kind", outcome.error_kind))
    return [(t, clean_text(u), r, clean_text(c)) for t, u, r, c in rows]


def write_fork(turn: Turn, label: str, outcome: Outcome, usage: Usage) -> str:
    """Write the fork of ``turn`` holding ``outcome`` (the reply of client ``label``);
    returns its chat id. StorageError when the disk refuses (nothing is left behind)."""
    user_id = default_user()
    ts = utc_timestamp()
    marker = {"chat_id": turn.chat_id, "turn": turn.turn, "client": label, "model": usage.model}
    records: list[Record] = [(r[0], r[1], r[2], r[3]) for r in turn.records]
    records.append((ts, user_id, "title", fork_title(turn.title, label)))
    records.append((ts, user_id, REPLAY_ROLE, json.dumps(marker, ensure_ascii=False)))
    records += reply_records(outcome, usage, user_id)
    for record in records:
        encode_record(*record)  # every field encodable before anything is written
    (chat_id,) = write_chats(turn.store, [(records, _files(turn))])
    chats_added(turn.store.root, [chat_id])
    return chat_id


def _files(turn: Turn) -> list[File]:
    """The files attached up to the turn, to copy beside the fork (one that is gone or
    changed is left out: the fork then reports it missing, as the original does)."""
    store = AttachmentStore(turn.store.root)
    files: list[File] = []
    for message in messages_from_records(turn.records):
        for attachment in message.attachments:
            try:
                data = store.read(turn.chat_id, attachment)
            except Refused as exc:
                log.warning("a file of the replayed chat is not copied: %s", exc)
                continue
            files.append((attachment.name, attachment.media_type, data))
    return files
