"""Tool calls as a chat file keeps them: a ``tool_call`` row when the model made a call
and a ``tool_result`` row when it ended (ok, error, denied, stopped), each a JSON
object. Both are written while the reply runs, so they come before the reply's own
assistant row, to which they belong (as a ``context`` row belongs to the user message
after it). A call with no result row (its kernel died) reads as stopped.

``offset`` is where in the reply's text the call was made: the text of step ``k`` is
the reply's text between the offsets of steps ``k-1`` and ``k``, so the history the
model is sent after a reload is the one it was sent before (history.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["ENDED", "ToolRecord", "call_row", "records_with", "result_row"]

CALL_ROLE = "tool_call"
RESULT_ROLE = "tool_result"
ENDED = frozenset({"ok", "error", "denied", "stopped"})
NO_RESULT = "No result was recorded: the reply ended before this tool finished."


@dataclass(frozen=True, slots=True)
class ToolRecord:
    """One tool call of a reply and, once it ended, its result."""

    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it
    step: int = 1
    offset: int = 0
    source: str = ""
    needs_consent: bool = False
    status: str = "proposed"  # proposed | waiting | running | ok | error | denied | stopped
    content: str = ""  # the result the model received
    images: tuple[str, ...] = ()  # base64 PNG, for the page
    ms: float | None = None

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def code(self) -> str:
        """The Python this call runs, if its arguments carry a ``code`` string."""
        try:
            args = json.loads(self.arguments)
        except ValueError:
            return ""
        code = args.get("code") if isinstance(args, dict) else None
        return code if isinstance(code, str) else ""

    def result_text(self) -> str:
        """What the model is told this call returned (a call cut off gets a note)."""
        return self.content if self.ended else NO_RESULT


def call_row(record: ToolRecord) -> str:
    return json.dumps(
        {
            "id": record.id,
            "name": record.name,
            "arguments": record.arguments,
            "step": record.step,
            "offset": record.offset,
            "source": record.source,
            "needs_consent": record.needs_consent,
        },
        ensure_ascii=False,
    )


def result_row(record: ToolRecord) -> str:
    return json.dumps(
        {
            "id": record.id,
            "status": record.status,
            "content": record.content,
            "images": list(record.images),
            "ms": record.ms,
        },
        ensure_ascii=False,
    )


def _int(value: Any, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else default


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def records_with(records: list[ToolRecord], role: str, content: str) -> list[ToolRecord]:
    """``records`` (the calls read so far for the coming reply) with one more
    ``tool_call`` or ``tool_result`` row applied; a malformed row changes nothing."""
    try:
        data = json.loads(content)
    except ValueError:
        return records
    if not isinstance(data, dict) or not _str(data.get("id")):
        return records
    call_id = data["id"]
    if role == CALL_ROLE:
        record = ToolRecord(
            call_id,
            _str(data.get("name")),
            _str(data.get("arguments")),
            _int(data.get("step"), 1),
            _int(data.get("offset"), 0),
            _str(data.get("source")),
            data.get("needs_consent") is True,
        )
        return [*records, record]
    status = data.get("status")
    if status not in ENDED:
        return records
    ms = data.get("ms")
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not math.isfinite(ms):
        ms = None
    images = data.get("images")
    images = tuple(i for i in images if isinstance(i, str)) if isinstance(images, list) else ()
    for at in range(len(records) - 1, -1, -1):
        if records[at].id == call_id and not records[at].ended:
            ended = replace(
                records[at],
                status=status,
                content=_str(data.get("content")),
                images=images,
                ms=ms,
            )
            return [*records[:at], ended, *records[at + 1 :]]
    return records
