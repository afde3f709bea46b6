"""Messages and tools in the shape OpenAI's chat completions take them.

Text alone is a string, as every compatible server accepts; several text parts are a
list of content parts. An assistant's tool calls go in ``tool_calls`` beside its text
(``content`` "" when it said nothing: OpenAI takes null too, but llama-cpp-python's
server refuses it); a ``tool`` message becomes one ``tool``
message per result, since chat completions answer one call per message. OpenAI has no
field for a failed call: the result's text already says it failed.

A user message with attachments is a list of content parts, in the message's order:
text as ``{"type": "text"}``; an image as ``{"type": "image_url", "image_url": {"url":
"data:<type>;base64,..."}}``; a file's text as a text part framed by
``messages.file_text``; a PDF as ``{"type": "file", "file": {"filename", "file_data":
"data:application/pdf;base64,..."}}`` -- OpenAI's chat completions and OpenRouter
take it, most local servers refuse it (``attachment_parts`` sends them its text).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from .messages import (
    DocumentPart,
    FilePart,
    ImagePart,
    ModelMessage,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    file_text,
    unsupported,
)

__all__ = ["wire_messages", "wire_tools"]


def wire_tools(tools: Iterable[ToolSpec]) -> list[dict[str, Any]]:
    """``tools`` as the request's ``tools`` list (function tools)."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            },
        }
        for tool in tools
    ]


def wire_messages(messages: Iterable[ModelMessage], who: str) -> list[dict[str, Any]]:
    """``messages`` as the request's ``messages``; ``who`` (the client's class name)
    is named in the TypeError for a part it cannot send."""
    out: list[dict[str, Any]] = []
    for message in messages:
        out += _wire_message(message, who)
    return out


def data_url(media_type: str, data: bytes) -> str:
    """``data`` as a ``data:`` URL (base64)."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _content_part(part: Part, who: str) -> dict[str, Any]:
    """One part of a message with attachments, as a content part."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        return {"type": "image_url", "image_url": {"url": data_url(part.media_type, part.data)}}
    if isinstance(part, FilePart):
        return {"type": "text", "text": file_text(part)}
    if isinstance(part, DocumentPart):
        return {
            "type": "file",
            "file": {"filename": part.name, "file_data": data_url(part.media_type, part.data)},
        }
    raise unsupported(part, who)


def _wire_message(message: ModelMessage, who: str) -> list[dict[str, Any]]:
    if any(isinstance(p, (ImagePart, FilePart, DocumentPart)) for p in message.parts):
        return [{"role": message.role, "content": [_content_part(p, who) for p in message.parts]}]
    texts: list[str] = []
    calls: list[ToolCallPart] = []
    results: list[ToolResultPart] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCallPart):
            calls.append(part)
        elif isinstance(part, ToolResultPart):
            results.append(part)
        else:
            raise unsupported(part, who)
    if message.role == "tool":
        return [
            {"role": "tool", "tool_call_id": r.tool_call_id, "content": r.content} for r in results
        ]
    if calls:
        return [
            {
                "role": message.role,
                "content": "".join(texts),
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                    for call in calls
                ],
            }
        ]
    if len(texts) == 1:
        return [{"role": message.role, "content": texts[0]}]
    return [{"role": message.role, "content": [{"type": "text", "text": t} for t in texts]}]
