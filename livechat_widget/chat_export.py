"""A chat as a file: Markdown, this project's JSON (lossless) or a Jupyter notebook.

- ``json``: every row of the chat file, event rows included, exactly as stored (README,
  "Export and import"), and the bytes of its attached files (``files``, base64, by
  hash); ``chat_import`` reads it back.
- ``markdown``: a heading per message (role and time) and its text. Model text is data:
  raw HTML is escaped and images become links (``markdown_text.inert``), so a viewer
  runs and loads nothing because a model wrote it.
- ``ipynb``: the same messages as markdown cells; the Python code blocks of replies
  become code cells, never run (no outputs); attached images are attachments of their
  message's cell. Checked with ``nbformat.validate``.
- Attached files that are not images are named (name, type, size) under their message.

No export holds a path, a base URL or a key: only what the chat file holds (error texts
were stripped of those before they were saved).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .attachments import IMAGE_TYPES, Attachment, AttachmentStore, human_size
from .chat_registry import ChatInfo, summarise
from .csv_storage import (
    HEADER,
    ChatNotFound,
    CsvStore,
    Message,
    StorageError,
    messages_from_records,
)
from .csv_storage import utc_timestamp as _now
from .markdown_text import heading_text, inert, split_fences
from .refusals import Refused

log = logging.getLogger(__name__)

FORMAT_NAME = "livechat-widget"  # the "format" field of the JSON export
FORMAT_VERSION = 1

_FILES = {  # format -> (file extension, MIME type)
    "markdown": (".md", "text/markdown"),
    "json": (".json", "application/json"),
    "ipynb": (".ipynb", "application/x-ipynb+json"),
}
FORMATS = tuple(_FILES)
PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3", "ipython", "ipython3"})
_ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}

Reader = Callable[[Attachment], "bytes | None"]  # an attached file's bytes (None: unreadable)
Files = dict[str, dict[str, str]]  # sha256 -> {"media_type", "data": base64}


@dataclass(frozen=True)
class ExportFile:
    text: str
    filename: str  # e.g. "Decorators.md": from the title, safe as a file name
    mime: str


def export_chat(
    store: CsvStore,
    chat_id: str,
    format: str = "markdown",
    *,
    files: AttachmentStore | None = None,
) -> ExportFile:
    """The chat ``chat_id`` of ``store`` as a file in ``format`` ("markdown", "json" or
    "ipynb"); attached files are read from ``files`` (default: the store's folder).
    ValueError for an unknown format or a malformed id; ChatNotFound if the chat has no
    file. An attached file that is missing or changed on disk is left out (logged)."""
    if format not in _FILES:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if not store.exists(chat_id):
        raise ChatNotFound(chat_id)
    records = store.load_records(chat_id)
    info = summarise(chat_id, records, store.path(chat_id))
    messages = messages_from_records(records)
    read = reader(files or AttachmentStore(store.root), chat_id)
    if format == "json":
        text = to_json([(info, records)], {chat_id: embedded_files(messages, read)})
    elif format == "markdown":
        text = to_markdown(info, messages)
    else:
        text = to_ipynb(info, messages, read)
    extension, mime = _FILES[format]
    return ExportFile(text, filename(info.title, extension), mime)


def reader(files: AttachmentStore, chat_id: str) -> Reader:
    """Reads a chat's attached files for an export: None for one that cannot be read."""

    def read(attachment: Attachment) -> bytes | None:
        try:
            return files.read(chat_id, attachment)
        except (Refused, StorageError, ValueError) as exc:
            log.warning("exporting chat %s without an attached file: %s", chat_id, exc)
            return None

    return read


def filename(title: str, extension: str) -> str:
    """A file name from a chat title: letters, digits, "-" and "_" only (at most 60)."""
    stem = re.sub(r"[^\w\-]+", "-", title, flags=re.UNICODE).strip("-_")[:60].strip("-_")
    return (stem or "chat") + extension


# -- JSON ------------------------------------------------------------------------------


def json_document(
    chats: list[tuple[ChatInfo, list[list[str]]]], files: Mapping[str, Files] | None = None
) -> dict[str, Any]:
    """The JSON export of ``chats`` (info, records) as a Python object; ``files``: each
    chat's attached files by chat id (``embedded_files``)."""
    files = files or {}
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": _now(),
        "chats": [
            {
                "id": info.id,
                "title": info.title,
                "rows": [dict(zip(HEADER, record, strict=True)) for record in records],
                "files": files.get(info.id, {}),
            }
            for info, records in chats
        ],
    }


def to_json(
    chats: list[tuple[ChatInfo, list[list[str]]]], files: Mapping[str, Files] | None = None
) -> str:
    return json.dumps(json_document(chats, files), ensure_ascii=False, indent=1) + "\n"


def embedded_files(messages: list[Message], read: Reader) -> Files:
    """The attached files of ``messages`` for the JSON export: ``{sha256: {"media_type",
    "data": base64}}``, each once; a file that cannot be read is left out."""
    found: Files = {}
    for attachment in (a for m in messages for a in m.attachments):
        if attachment.sha256 not in found:
            data = read(attachment)
            if data is not None:
                encoded = base64.b64encode(data).decode("ascii")
                found[attachment.sha256] = {"media_type": attachment.media_type, "data": encoded}
    return found


# -- Markdown --------------------------------------------------------------------------


def _when(timestamp: str) -> str:
    """``2026-11-25 06:40 UTC`` for a stored timestamp (as is if it is not one)."""
    if len(timestamp) >= 16 and timestamp[10] == "T":
        return f"{timestamp[:10]} {timestamp[11:16]} UTC"
    return heading_text(timestamp)


def _heading(message: Message) -> str:
    return f"### {_ROLE_NAMES.get(message.role, message.role)} · {_when(message.timestamp)}"


def _note(message: Message) -> str:
    """A line saying how a reply ended, when it did not complete."""
    if message.status == "stopped":
        return "*(stopped before the reply was complete)*"
    if message.status == "length":
        return "*(cut off: the reply reached the model's length limit)*"
    if message.status == "error":
        return f"*(error: {heading_text(message.error) or 'the reply failed'})*"
    return ""


def _tools(message: Message) -> str:
    """A reply's tool calls: each one's name, arguments, status and result (exports)."""
    parts = []
    for call in message.tools:
        arguments = call.code or call.arguments
        language = "python" if call.code else "json"
        parts.append(
            f"**Tool call** `{heading_text(call.name)}` · {call.status}\n\n"
            f"{_fenced(arguments, language)}\n\n"
            f"<details><summary>Result</summary>\n\n{_fenced(call.result_text(), '')}\n\n"
            f"</details>"
        )
    return "\n\n".join(parts)


def _fenced(text: str, language: str) -> str:
    """``text`` in a code fence longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _preamble(info: ChatInfo, count: int) -> str:
    plural = "" if count == 1 else "s"
    return (
        f"# {heading_text(info.title)}\n\n"
        f"*Exported from livechat-widget on {_when(_now())} · {count} message{plural}*\n"
    )


def _file_name(attachment: Attachment) -> str:
    """A file's name as markdown text: on one line, no markup or HTML of its own."""
    return re.sub(r"([\\`*_\[\]<>|~!])", r"\\\1", " ".join(attachment.name.split()))


def _file_line(attachment: Attachment) -> str:
    """A list item naming an attached file: its name, type and size."""
    size = human_size(attachment.size)
    return f"- Attached: {_file_name(attachment)} ({attachment.media_type}, {size})"


def _files(message: Message) -> str:
    return "\n".join(_file_line(attachment) for attachment in message.attachments)


def to_markdown(info: ChatInfo, messages: list[Message]) -> str:
    parts = [_preamble(info, len(messages))]
    for message in messages:
        body = inert(message.content).strip("\n")
        pieces = (_heading(message), _tools(message), body, _files(message), _note(message))
        parts.append("\n\n".join(p for p in pieces if p) + "\n")
    return "\n".join(parts)


# -- Jupyter notebook ------------------------------------------------------------------


Cell = tuple[str, str, dict[str, dict[str, str]]]  # kind, source, cell attachments


def _cell_files(message: Message, read: Reader) -> tuple[str, dict[str, dict[str, str]]]:
    """The markdown for a message's attached files and the cell attachments it names:
    ``![name](attachment:name.png)`` for an image, a line naming any other file."""
    lines: list[str] = []
    bundle: dict[str, dict[str, str]] = {}
    for attachment in message.attachments:
        data = read(attachment) if attachment.media_type in IMAGE_TYPES else None
        if data is None:
            lines.append(_file_line(attachment))
            continue
        key = re.sub(r"[^A-Za-z0-9_.-]+", "-", attachment.name).strip("-") or "image"
        entry = {attachment.media_type: base64.b64encode(data).decode("ascii")}
        if bundle.get(key, entry) != entry:
            key = f"{attachment.sha256[:8]}-{key}"  # two images of one name in one message
        bundle[key] = entry
        lines.append(f"![{_file_name(attachment)}](attachment:{key})")
    return "\n\n".join(lines), bundle


def _message_cells(message: Message, read: Reader) -> list[Cell]:
    """("markdown" | "code", source, attachments) cells of one message: its heading and
    text, with the top-level Python blocks of a reply as code cells, then its files."""
    cells: list[Cell] = []
    pending = [_heading(message), _tools(message)]  # markdown for the next markdown cell

    def flush(bundle: dict[str, dict[str, str]]) -> None:
        text = "\n\n".join(p for p in pending if p.strip())
        if text:
            cells.append(("markdown", text, bundle))
        pending.clear()

    for block in split_fences(message.content):
        if (
            message.role == "assistant"
            and block.fenced
            and block.top_level
            and block.language in PYTHON_LANGUAGES
        ):
            flush({})
            cells.append(("code", block.code.rstrip("\n"), {}))
        else:
            pending.append((block.text if block.fenced else inert(block.text)).strip("\n"))
    files, bundle = _cell_files(message, read)
    pending += [files, _note(message)]
    flush(bundle)
    return cells


def _nbformat() -> Any:
    import nbformat  # a dependency; imported here so other exports do not pay for it

    return nbformat


def _no_files(attachment: Attachment) -> bytes | None:
    return None


def to_ipynb(info: ChatInfo, messages: list[Message], read: Reader = _no_files) -> str:
    nbformat = _nbformat()
    v4 = nbformat.v4
    preamble = _preamble(info, len(messages))
    cells = [
        v4.new_markdown_cell(
            preamble + "\nCode from the replies is in code cells; none has run.", id="chat"
        )
    ]
    for message in messages:
        for n, (kind, source, bundle) in enumerate(_message_cells(message, read)):
            cell_id = f"m{message.id}-{n}"
            if kind == "code":
                cells.append(v4.new_code_cell(source, id=cell_id))
            elif bundle:
                cells.append(v4.new_markdown_cell(source, id=cell_id, attachments=bundle))
            else:
                cells.append(v4.new_markdown_cell(source, id=cell_id))
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook))
