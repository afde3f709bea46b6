"""A chat as a file: Markdown, this project's JSON (lossless) or a Jupyter notebook.

- ``json``: every row of the chat file, event rows included, exactly as stored (README,
  "Export and import"); ``chat_import`` reads it back.
- ``markdown``: a heading per message (role and time) and its text. Model text is data:
  raw HTML is escaped and images become links (``markdown_text.inert``), so a viewer
  runs and loads nothing because a model wrote it.
- ``ipynb``: the same messages as markdown cells; the Python code blocks of replies
  become code cells, never run (no outputs). Checked with ``nbformat.validate``.

No export holds a path, a base URL or a key: only what the chat file holds (error texts
were stripped of those before they were saved).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .chat_registry import ChatInfo, summarise
from .csv_storage import HEADER, ChatNotFound, CsvStore, Message, messages_from_records
from .csv_storage import utc_timestamp as _now
from .markdown_text import heading_text, inert, split_fences

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


@dataclass(frozen=True)
class ExportFile:
    text: str
    filename: str  # e.g. "Decorators.md": from the title, safe as a file name
    mime: str


def export_chat(store: CsvStore, chat_id: str, format: str = "markdown") -> ExportFile:
    """The chat ``chat_id`` of ``store`` as a file in ``format`` ("markdown", "json" or
    "ipynb"). ValueError for an unknown format or a malformed id; ChatNotFound if the
    chat has no file."""
    if format not in _FILES:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if not store.exists(chat_id):
        raise ChatNotFound(chat_id)
    records = store.load_records(chat_id)
    info = summarise(chat_id, records, store.path(chat_id))
    if format == "json":
        text = to_json([(info, records)])
    elif format == "markdown":
        text = to_markdown(info, messages_from_records(records))
    else:
        text = to_ipynb(info, messages_from_records(records))
    extension, mime = _FILES[format]
    return ExportFile(text, filename(info.title, extension), mime)


def filename(title: str, extension: str) -> str:
    """A file name from a chat title: letters, digits, "-" and "_" only (at most 60)."""
    stem = re.sub(r"[^\w\-]+", "-", title, flags=re.UNICODE).strip("-_")[:60].strip("-_")
    return (stem or "chat") + extension


# -- JSON ------------------------------------------------------------------------------


def json_document(chats: list[tuple[ChatInfo, list[list[str]]]]) -> dict[str, Any]:
    """The JSON export of ``chats`` (info, records) as a Python object."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": _now(),
        "chats": [
            {
                "id": info.id,
                "title": info.title,
                "rows": [dict(zip(HEADER, record, strict=True)) for record in records],
            }
            for info, records in chats
        ],
    }


def to_json(chats: list[tuple[ChatInfo, list[list[str]]]]) -> str:
    return json.dumps(json_document(chats), ensure_ascii=False, indent=1) + "\n"


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


def to_markdown(info: ChatInfo, messages: list[Message]) -> str:
    parts = [_preamble(info, len(messages))]
    for message in messages:
        body = inert(message.content).strip("\n")
        note = _note(message)
        section = "\n\n".join(p for p in (_heading(message), _tools(message), body, note) if p)
        parts.append(section + "\n")
    return "\n".join(parts)


# -- Jupyter notebook ------------------------------------------------------------------


def _message_cells(message: Message) -> list[tuple[str, str]]:
    """("markdown" | "code", source) cells of one message: its heading and text, with the
    top-level Python blocks of a reply as code cells."""
    cells: list[tuple[str, str]] = []
    pending = [_heading(message), _tools(message)]  # markdown for the next markdown cell

    def flush() -> None:
        text = "\n\n".join(p for p in pending if p.strip())
        if text:
            cells.append(("markdown", text))
        pending.clear()

    for block in split_fences(message.content):
        if (
            message.role == "assistant"
            and block.fenced
            and block.top_level
            and block.language in PYTHON_LANGUAGES
        ):
            flush()
            cells.append(("code", block.code.rstrip("\n")))
        else:
            pending.append((block.text if block.fenced else inert(block.text)).strip("\n"))
    pending.append(_note(message))
    flush()
    return cells


def _nbformat() -> Any:
    import nbformat  # a dependency; imported here so other exports do not pay for it

    return nbformat


def to_ipynb(info: ChatInfo, messages: list[Message]) -> str:
    nbformat = _nbformat()
    v4 = nbformat.v4
    preamble = _preamble(info, len(messages))
    cells = [
        v4.new_markdown_cell(
            preamble + "\nCode from the replies is in code cells; none has run.", id="chat"
        )
    ]
    for message in messages:
        for n, (kind, source) in enumerate(_message_cells(message)):
            new_cell = v4.new_code_cell if kind == "code" else v4.new_markdown_cell
            cells.append(new_cell(source, id=f"m{message.id}-{n}"))
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
