"""A session's attached files: checked before anything is saved, stored beside the
chat (attachments.py), turned into the parts each model is sent (attachment_parts.py)
and read back for the page's thumbnails.

A file the chat's client cannot send (an image to a client that takes none, a PDF
without the ``pdf`` extra) is refused before the message is saved, so nothing is
half-sent. A file gone or changed on disk later is reported when its chat is shown,
and the model is told it is missing instead; the chat goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from .attachment_parts import client_limits, parts_for
from .attachment_rows import Attachment
from .attachment_types import IMAGE_TYPES, AttachmentLimits, check
from .attachments import AttachmentStore, find_attachment, problems_summary
from .csv_storage import Message
from .providers.base import ChatClient
from .providers.messages import Part, TextPart
from .refusals import Refused

log = logging.getLogger(__name__)

Checked = list[tuple[str, str, bytes]]  # (name, media type, bytes), ready to store


class FileRefused(Refused):
    """A file this chat cannot take or send; the text is fit to show as is."""


@dataclass
class SessionFiles:
    store: AttachmentStore
    client: ChatClient
    limits: AttachmentLimits

    def check(self, files: Sequence[tuple[str, bytes]]) -> Checked:
        """``files`` checked (limits, types sniffed from the bytes) and sendable by this
        chat's client; raises before anything is written."""
        checked = check(files, self.limits)
        takes_images = getattr(self.client, "takes_images", False) is True
        takes_files = getattr(self.client, "takes_files", False) is True
        for name, media_type, data in checked:
            if media_type in IMAGE_TYPES and not takes_images:
                raise FileRefused(f"{name}: this chat's model client cannot send images.")
            if media_type not in IMAGE_TYPES and not takes_files:
                raise FileRefused(f"{name}: this chat's model client cannot send files.")
            self._parts(name, media_type, data)  # a PDF without pypdf is refused now
        return checked

    def save(self, chat_id: str, checked: Checked) -> list[Attachment]:
        return [self.store.put(chat_id, name, data, kind) for name, kind, data in checked]

    def parts(self, chat_id: str, message: Message) -> list[Part]:
        """What the model is sent of ``message``'s files (a note for one that is gone)."""
        out: list[Part] = []
        for attachment in message.attachments:
            try:
                data = self.store.read(chat_id, attachment)
                out += self._parts(attachment.name, attachment.media_type, data)
            except Refused as exc:
                log.warning("an attached file is not sent: %s", exc)
                out.append(TextPart(f"[The attached file {attachment.name} is unavailable: {exc}]"))
        return out

    def _parts(self, name: str, media_type: str, data: bytes) -> list[Part]:
        limits = client_limits(self.client)
        return parts_for(
            name,
            media_type,
            data,
            takes_documents=limits.takes_documents,
            max_image_bytes=limits.max_image_bytes,
            max_image_side=limits.max_image_side,
        )

    def read(self, chat_id: str, messages: Sequence[Message], sha256: str) -> tuple[str, bytes]:
        """(media type, bytes) of a file of one of ``messages``; Refused if none has it."""
        found = find_attachment((a for m in messages for a in m.attachments), sha256)
        if found is None:
            raise FileRefused("That file is not attached to a message of this chat.")
        return found.media_type, self.store.read(chat_id, found)

    def problems(self, chat_id: str, messages: Sequence[Message]) -> str:
        """The load-time report of files missing or changed on disk ("" if none)."""
        attached = [a for m in messages for a in m.attachments]
        return problems_summary(self.store.verify(chat_id, attached)) if attached else ""
