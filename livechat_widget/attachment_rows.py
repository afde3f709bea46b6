"""Files attached to a message, as a chat file keeps them: an ``attachment`` event row
per file, written just before the ``user`` row it belongs to (as a ``context`` row
is), holding ``{"name", "media_type", "size", "sha256"}``. The bytes live beside the
chat, content-addressed: ``<chat-id>.files/<sha256>.<ext>`` (attachments.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["ATTACHMENT_ROLE", "Attachment", "attachment_row", "parse_attachment"]

ATTACHMENT_ROLE = "attachment"
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str  # the file's name as the person gave it (shown, never a path)
    media_type: str  # sniffed from the bytes, never taken from the name
    size: int  # bytes
    sha256: str  # hex digest of the bytes: the file's name on disk

    def to_json(self) -> str:
        return attachment_row(self)


def attachment_row(attachment: Attachment) -> str:
    return json.dumps(
        {
            "name": attachment.name,
            "media_type": attachment.media_type,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
        ensure_ascii=False,
    )


def parse_attachment(content: str) -> Attachment | None:
    """The attachment an ``attachment`` row holds; None if the row is malformed."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name, media_type, size, digest = (
        data.get("name"),
        data.get("media_type"),
        data.get("size"),
        data.get("sha256"),
    )
    if not (isinstance(name, str) and isinstance(media_type, str) and isinstance(digest, str)):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    if not SHA256.fullmatch(digest):
        return None
    return Attachment(name, media_type, size, digest)
