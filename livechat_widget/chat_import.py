"""Chats from a file into new CSV chats: this project's JSON export, or a ChatGPT
data export (``conversations.json``, or the export's .zip that holds it).

Everything is read and checked before anything is written:

- a file that is too big (``MAX_IMPORT_BYTES``), is not JSON, is in neither format, or
  holds nothing that can be imported raises ``ChatImportError`` and writes nothing;
- a file that is partly valid imports every valid chat; what was left out is listed in
  the result's ``skipped`` and in one ``ChatImportWarning``.

Each chat is written whole (a temporary file, fsync, rename), under a new chat id, its
attached files first (``<chat-id>.files/``, each checked against its hash and type); a
failure part-way removes the chats this import wrote, and their files. Widgets on the folder in this
process show the new chats at once (``folders.chats_added``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import uuid
import warnings
import zipfile
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .attachment_rows import ATTACHMENT_ROLE, parse_attachment
from .attachments import EXTENSIONS, AttachmentRefused, AttachmentStore, remove_files, sniff
from .chat_export import FORMAT_NAME, FORMAT_VERSION
from .csv_format import (
    HEADER_LINE,
    ROLE_PATTERN,
    TIMESTAMP_PATTERN,
    default_user,
    encode_record,
    status_content,
    utc_timestamp,
)
from .csv_storage import CsvStore, StorageError
from .file_lock import fsync_dir, replace_whole
from .text_cleaning import MAX_TITLE_CHARS, clean_text, one_line

MAX_IMPORT_BYTES = 256 * 1024 * 1024  # a file (or the zip member) larger than this is refused

Record = tuple[str, str, str, str]  # timestamp, user_id, role, content
File = tuple[str, str, bytes]  # an attached file: name, media type, bytes
Planned = tuple[list[Record], list[File]]  # a chat to write


class ChatImportError(ValueError):
    """The file cannot be imported; nothing was written. The text says why."""


class ChatImportWarning(UserWarning):
    """Some of the file was left out of an import (see ``ImportResult.skipped``)."""


class ImportResult(list[str]):
    """The ids of the chats created (a list), plus ``skipped``: one line for each chat,
    conversation or kind of content that was left out, and why."""

    def __init__(self, chat_ids: Iterable[str], skipped: list[str]) -> None:
        super().__init__(chat_ids)
        self.skipped = skipped


class _Skip(Exception):
    """One chat or conversation that cannot be imported (the text says why)."""


def import_chats(
    path: str | os.PathLike[str],
    folder: CsvStore | str | os.PathLike[str] = "chat_logs",
    *,
    user_id: str | None = None,
    max_bytes: int = MAX_IMPORT_BYTES,
) -> ImportResult:
    """Import the chats in ``path`` into ``folder`` as new chats; returns their ids.

    ``path`` is this project's JSON export (``chat.export(format="json")``, any number
    of chats, every row as it was) or a ChatGPT data export: its ``conversations.json``
    or the .zip it came in (each conversation's current branch, its user and assistant
    text messages; hidden, system and tool messages are left out). ``user_id`` names the
    person on ChatGPT messages (default: ``JUPYTERHUB_USER``, else the OS user).
    """
    document = _load_json(Path(path), max_bytes)
    if isinstance(document, dict) and document.get("format") == FORMAT_NAME:
        planned, skipped = _from_livechat(document)
    elif isinstance(document, list) and (
        not document or any(isinstance(c, dict) and "mapping" in c for c in document)
    ):
        person = user_id or default_user()
        planned, skipped = _from_chatgpt(document, clean_text(person))
    else:
        raise ChatImportError(
            f"{Path(path).name} is neither a livechat-widget export (a JSON object with "
            f'"format": "{FORMAT_NAME}") nor a ChatGPT conversations.json (a list of '
            "conversations with a mapping)"
        )
    if not planned:
        reasons = "; ".join(skipped[:5]) + ("; …" if len(skipped) > 5 else "")
        reasons = reasons or "it holds no chats"
        raise ChatImportError(f"nothing to import from {Path(path).name}: {reasons}")
    store = folder if isinstance(folder, CsvStore) else CsvStore(folder)
    chat_ids = write_chats(store, planned)
    from .folders import chats_added

    chats_added(store.root, chat_ids)
    if skipped:
        warnings.warn(
            f"imported {len(chat_ids)} chat(s) from {Path(path).name}, left out "
            f"{len(skipped)}: " + "; ".join(skipped),
            ChatImportWarning,
            stacklevel=2,
        )
    return ImportResult(chat_ids, skipped)


# -- reading ---------------------------------------------------------------------------


def _load_json(path: Path, max_bytes: int) -> Any:
    limit = f"the limit is {max_bytes:,} bytes; import_chats(..., max_bytes=N) raises it"
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ChatImportError(f"{path.name} is too big to import ({size:,} bytes; {limit})")
        if zipfile.is_zipfile(path):
            data = _zip_member(path, max_bytes, limit)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as exc:
        raise ChatImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # it grew since stat
        raise ChatImportError(f"{path.name} is too big to import ({limit})")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ChatImportError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ChatImportError(
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise ChatImportError(f"{path.name} is nested too deeply to be an export") from None


def _zip_member(path: Path, max_bytes: int, limit: str) -> bytes:
    """``conversations.json`` from a ChatGPT export's .zip (read at most ``max_bytes``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "conversations.json"]
            if not names:
                raise ChatImportError(f"{path.name} is a zip file without conversations.json")
            info = archive.getinfo(min(names, key=len))
            if info.file_size > max_bytes:
                raise ChatImportError(
                    f"conversations.json in {path.name} is too big to import "
                    f"({info.file_size:,} bytes; {limit})"
                )
            with archive.open(info) as member:
                return member.read(max_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise ChatImportError(f"cannot read the zip file {path.name}: {exc}") from None


def _label(kind: str, n: int, item: object) -> str:
    title = item.get("title") if isinstance(item, dict) else None
    named = f" {one_line(title, 40)!r}" if isinstance(title, str) and title.strip() else ""
    return f"{kind} {n}{named}"


# -- this project's JSON export --------------------------------------------------------


def _from_livechat(document: dict[str, Any]) -> tuple[list[Planned], list[str]]:
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ChatImportError(f'the export has no valid "version" (got {version!r})')
    if version > FORMAT_VERSION:
        raise ChatImportError(
            f"the export is format version {version}, made by a newer livechat-widget; "
            f"this one reads version {FORMAT_VERSION}: upgrade livechat-widget"
        )
    chats = document.get("chats")
    if not isinstance(chats, list):
        raise ChatImportError('the export has no "chats" list')
    planned: list[Planned] = []
    skipped: list[str] = []
    for n, chat in enumerate(chats, 1):
        try:
            if not isinstance(chat, dict) or not isinstance(chat.get("rows"), list):
                raise _Skip('not a chat (an object with a "rows" list expected)')
            records = [_row(row, i) for i, row in enumerate(chat["rows"], 1)]
            if not records:
                raise _Skip("it has no rows")
            files, absent = _files(chat.get("files", {}), records)
            planned.append((records, files))
            if absent:
                plural = "file that is" if absent == 1 else "files that are"
                skipped.append(
                    f"{_label('chat', n, chat)}: imported without {absent} attached "
                    f"{plural} not in the export"
                )
        except _Skip as exc:
            skipped.append(f"{_label('chat', n, chat)}: {exc}")
    return planned, skipped


def _files(value: object, records: list[Record]) -> tuple[list[File], int]:
    """The attached files of a chat of the export that its ``attachment`` rows name, each
    checked (its bytes match its hash and are of its type), and how many are absent."""
    if not isinstance(value, dict):
        raise _Skip('its "files" is not an object')
    attachments = [parse_attachment(r[3]) for r in records if r[2] == ATTACHMENT_ROLE]
    files: dict[tuple[str, str], File] = {}
    absent = set()
    for attachment in attachments:
        if attachment is None or (attachment.sha256, attachment.media_type) in files:
            continue
        entry = value.get(attachment.sha256)
        if entry is None:
            absent.add(attachment.sha256)
            continue
        data = _file_bytes(entry, attachment.name, attachment.sha256)
        ext = EXTENSIONS.get(attachment.media_type)
        try:
            found = sniff(data, f"file.{ext}") if ext else None
        except AttachmentRefused:
            found = None
        if found != attachment.media_type:
            raise _Skip(
                f"its attached file {attachment.name} is not of the type its row names "
                f"({attachment.media_type})"
            )
        media_type = attachment.media_type
        files[(attachment.sha256, media_type)] = (attachment.name, media_type, data)
    return list(files.values()), len(absent)


def _file_bytes(entry: object, name: str, sha256: str) -> bytes:
    data = entry.get("data") if isinstance(entry, dict) else None
    if not isinstance(data, str):
        raise _Skip(f'its attached file {name} has no "data"')
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _Skip(f"its attached file {name} is not valid base64") from None
    if hashlib.sha256(decoded).hexdigest() != sha256:
        raise _Skip(
            f"its attached file {name} does not match its hash (the export was changed or damaged)"
        )
    return decoded


def _row(row: object, n: int) -> Record:
    if not isinstance(row, dict):
        raise _Skip(f"row {n} is not an object")
    values = []
    for name in ("timestamp", "user_id", "role", "content"):
        value = row.get(name)
        if not isinstance(value, str):
            raise _Skip(f"row {n} has no text {name!r}")
        values.append(value)
    timestamp, user, role, content = values
    if not TIMESTAMP_PATTERN.fullmatch(timestamp):
        raise _Skip(f"row {n} has a malformed timestamp {timestamp[:40]!r}")
    if not ROLE_PATTERN.fullmatch(role):
        raise _Skip(f"row {n} has an invalid role {role[:40]!r} (lowercase letters, digits, _)")
    return timestamp, clean_text(user), role, clean_text(content)


# -- ChatGPT's conversations.json --------------------------------------------------------

_CHATGPT_ROLES = frozenset({"user", "assistant", "system", "tool"})
_FINISH_STATUS = {"max_tokens": "length", "interrupted": "stopped"}


def _from_chatgpt(conversations: list[Any], user_id: str) -> tuple[list[Planned], list[str]]:
    planned: list[Planned] = []
    skipped: list[str] = []
    for n, conversation in enumerate(conversations, 1):
        label = _label("conversation", n, conversation)
        try:
            records, left_out = _conversation(conversation, user_id)
            planned.append((records, []))
            if left_out:
                skipped.append(f"{label}: imported without {', '.join(left_out)}")
        except _Skip as exc:
            skipped.append(f"{label}: {exc}")
    return planned, skipped


def _branch(conversation: object) -> list[dict[str, Any]]:
    """The nodes from the root to ``current_node`` (the branch the person last saw)."""
    if not isinstance(conversation, dict) or not isinstance(conversation.get("mapping"), dict):
        raise _Skip("not a conversation (no mapping)")
    mapping: dict[str, Any] = conversation["mapping"]
    node_id = conversation.get("current_node")
    if not isinstance(node_id, str) or node_id not in mapping:
        raise _Skip("its current_node is not in its mapping")
    branch: list[dict[str, Any]] = []
    seen: set[str] = set()
    while node_id is not None:
        node = mapping.get(node_id) if isinstance(node_id, str) else None
        if not isinstance(node, dict) or node_id in seen:
            raise _Skip(f"its message tree is broken at node {str(node_id)[:40]!r}")
        seen.add(node_id)
        branch.append(node)
        node_id = node.get("parent")
    branch.reverse()
    return branch


def _conversation(conversation: object, user_id: str) -> tuple[list[Record], list[str]]:
    branch = _branch(conversation)
    assert isinstance(conversation, dict)  # _branch checked
    started = _epoch(conversation.get("create_time"))
    last = started or utc_timestamp()
    records: list[Record] = []
    left_out: dict[str, int] = {}
    for node in branch:
        message = node.get("message")
        if not isinstance(message, dict):
            continue  # the root node has none
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        if not isinstance(role, str) or role not in _CHATGPT_ROLES:
            _count(left_out, f"messages with an unknown role {str(role)[:20]!r}")
            continue
        metadata = message.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        recipient = message.get("recipient", "all")
        if (
            role in ("system", "tool")
            or metadata.get("is_visually_hidden_from_conversation")
            or (role == "assistant" and recipient not in ("all", None))  # a tool call
        ):
            continue
        text = _text(message.get("content"), left_out)
        if not text.strip():
            continue
        last = _epoch(message.get("create_time")) or last
        records.append((last, user_id, role, clean_text(text)))
        finish = metadata.get("finish_details")
        status = _FINISH_STATUS.get(str(finish.get("type"))) if isinstance(finish, dict) else None
        if role == "assistant" and status:
            records.append((last, user_id, "status", status_content(status)))
    if not records:
        raise _Skip("it has no text messages")
    title = conversation.get("title")
    if isinstance(title, str) and title.strip():  # first: the chat's time starts with it
        when = min(started or records[0][0], records[0][0])
        records.insert(0, (when, user_id, "title", one_line(title, MAX_TITLE_CHARS)))
    counted = [f"{count} {what}" if count > 1 else what for what, count in left_out.items()]
    return records, counted


def _text(content: object, left_out: dict[str, int]) -> str:
    """The text of a message's content; other parts (images, files, code runs) are
    counted in ``left_out``."""
    kind = content.get("content_type") if isinstance(content, dict) else None
    if kind in ("text", "multimodal_text"):
        assert isinstance(content, dict)
        parts = content.get("parts")
        texts = [p for p in parts if isinstance(p, str)] if isinstance(parts, list) else []
        others = len(parts) - len(texts) if isinstance(parts, list) else 0
        if others:
            _count(left_out, "non-text parts (images, files)", others)
        return "\n".join(texts)
    _count(left_out, f"{str(kind)[:30]} content")
    return ""


def _count(left_out: dict[str, int], what: str, n: int = 1) -> None:
    left_out[what] = left_out.get(what, 0) + n


def _epoch(value: object) -> str | None:
    """A stored timestamp from ChatGPT's seconds since the epoch (None if unusable)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 2**35:
        return None
    return utc_timestamp(datetime.fromtimestamp(value, timezone.utc))


# -- writing ---------------------------------------------------------------------------


def write_chats(store: CsvStore, planned: list[Planned]) -> list[str]:
    """Write each chat as a new file (its attached files first); on any failure remove
    what this call wrote."""
    try:
        os.makedirs(store.root, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot write {store.root}: {exc.strerror or exc}") from None
    written: list[str] = []
    attachments = AttachmentStore(store.root)
    try:
        for records, files in planned:
            chat_id = str(uuid.uuid4())
            written.append(chat_id)
            for name, media_type, data in files:
                attachments.put(chat_id, name, data, media_type)
            _write_file(store, chat_id, records)
    except BaseException:
        for chat_id in written:
            store.path(chat_id).unlink(missing_ok=True)
            remove_files(store.root, chat_id)
        raise
    finally:
        fsync_dir(store.root)
    return written


def _write_file(store: CsvStore, chat_id: str, records: list[Record]) -> None:
    path = store.path(chat_id)
    temporary = store.root / f".import-{chat_id}.tmp"  # not a chat: list_chats skips it
    data = (HEADER_LINE + "".join(encode_record(*r) for r in records)).encode("utf-8")
    try:
        replace_whole(temporary, path, data)  # a new random id: nothing is replaced
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None
