"""The files attached to messages, kept beside their chat and named by their content:
``<chat folder>/<chat-id>.files/<sha256>.<ext>``. The chat file holds one ``attachment``
row per file (attachment_rows.py); this module holds the bytes.

- Writes are atomic (a temporary file, fsync, rename) and content-addressed: the same
  bytes attached twice are one file. What may be attached, and how much, is checked
  first (attachment_types.py): a refusal writes nothing.
- Reads check the hash: a file that is gone raises ``AttachmentMissing``, one whose
  bytes changed ``AttachmentAltered``; ``verify`` lists such files for a load-time report
  and never raises for them.
- Deleting a chat removes its folder; archiving moves it beside the archived chat file
  (``archive/<chat-id>-<time>.files``), done by ``CsvStore`` through the two functions
  at the end.

Messages name the file as the person named it, never a path: they may reach the browser.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from .attachment_rows import SHA256, Attachment
from .attachment_types import (
    ACCEPTED,
    EXTENSIONS,
    IMAGE_TYPES,
    TEXT_TYPES,
    AttachmentLimits,
    AttachmentRefused,
    check,
    display_name,
    human_size,
    megabytes,
    sniff,
)
from .csv_format import StorageError, validate_chat_id
from .file_lock import fsync_dir, replace_whole
from .refusals import Refused

__all__ = [
    "ACCEPTED",
    "EXTENSIONS",
    "IMAGE_TYPES",
    "TEXT_TYPES",
    "Attachment",
    "AttachmentAltered",
    "AttachmentLimits",
    "AttachmentMissing",
    "AttachmentRefused",
    "AttachmentStore",
    "check",
    "files_dir",
    "find_attachment",
    "human_size",
    "megabytes",
    "problems_summary",
    "sniff",
]

log = logging.getLogger(__name__)

FILES_SUFFIX = ".files"
_CHUNK = 1 << 20


class AttachmentMissing(Refused):
    """An attached file is no longer in the chat's folder."""


class AttachmentAltered(Refused):
    """An attached file's bytes no longer match the hash it was saved under."""


def files_dir(root: str | os.PathLike[str], chat_id: str) -> Path:
    """``<root>/<chat-id>.files``: where a chat's attached files live."""
    return Path(root) / f"{validate_chat_id(chat_id)}{FILES_SUFFIX}"


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class AttachmentStore:
    """The attached files of the chats in one chat folder (``root``, as ``CsvStore``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        # path -> (size, mtime_ns, sha256) of files already hashed, so that verifying a
        # chat again reads only what changed.
        self._hashed: dict[Path, tuple[int, int, str]] = {}

    def __repr__(self) -> str:
        return f"AttachmentStore({str(self.root)!r})"

    def files_dir(self, chat_id: str) -> Path:
        return files_dir(self.root, chat_id)

    def path(self, chat_id: str, attachment: Attachment) -> Path:
        """Where ``attachment``'s bytes are (ValueError for a malformed hash or type)."""
        if not SHA256.fullmatch(attachment.sha256):
            raise ValueError(f"not a sha256 hex digest: {attachment.sha256!r}")
        ext = EXTENSIONS.get(attachment.media_type)
        if ext is None:
            raise ValueError(f"not a type that can be attached: {attachment.media_type!r}")
        return self.files_dir(chat_id) / f"{attachment.sha256}.{ext}"

    # -- writing -----------------------------------------------------------------------

    def save(
        self,
        chat_id: str,
        files: Sequence[tuple[str, bytes]],
        limits: AttachmentLimits | None = None,
    ) -> list[Attachment]:
        """Check ``(name, data)`` files (``check``) and then write each (``put``): the
        attachments to pass to ``ChatRegistry.append(..., attachments=...)``."""
        checked = check(files, limits)
        return [self.put(chat_id, name, data, media) for name, media, data in checked]

    def put(self, chat_id: str, name: str, data: bytes, media_type: str) -> Attachment:
        """Write ``data`` as ``<chat-id>.files/<sha256>.<ext>`` (nothing if a file with
        those bytes is there already) and return its ``Attachment``. ``media_type`` is
        what ``sniff``/``check`` found (AttachmentRefused if the bytes are not of it).
        StorageError when the disk refuses."""
        name = display_name(name)
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(name, media_type, len(data), digest)
        path = self.path(chat_id, attachment)
        # Never the browser's word for it: the bytes must be of the type they are saved as.
        if sniff(data, f"{name}.{path.suffix[1:]}") != media_type:
            raise AttachmentRefused(f"{name} is not of the type it was sent as ({media_type}).")
        if self._intact(path, digest):
            return attachment
        folder = path.parent
        temporary = folder / f".tmp-{uuid.uuid4().hex}"
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            replace_whole(temporary, path, data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            in_the_way = isinstance(exc, (FileExistsError, NotADirectoryError))
            cause = "a file is in the way" if in_the_way else _cause(exc)
            raise StorageError(f"cannot save the attached file {name}: {cause}") from None
        fsync_dir(folder)
        return attachment

    def _intact(self, path: Path, digest: str) -> bool:
        try:
            return self._hash(path) == digest
        except OSError:
            return False

    def _hash(self, path: Path) -> str:
        st = path.stat()
        known = self._hashed.get(path)
        if known is not None and known[:2] == (st.st_size, st.st_mtime_ns):
            return known[2]
        digest = _digest_file(path)
        self._hashed[path] = (st.st_size, st.st_mtime_ns, digest)
        return digest

    # -- reading -----------------------------------------------------------------------

    def read(self, chat_id: str, attachment: Attachment) -> bytes:
        """The bytes of ``attachment``; ``AttachmentMissing`` if its file is gone,
        ``AttachmentAltered`` if its bytes no longer match its hash."""
        path = self.path(chat_id, attachment)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(_missing(attachment)) from None
        except OSError as exc:
            raise StorageError(
                f"cannot read the attached file {attachment.name}: {_cause(exc)}"
            ) from None
        if hashlib.sha256(data).hexdigest() != attachment.sha256:
            raise AttachmentAltered(_altered(attachment))
        return data

    def verify(self, chat_id: str, attachments: Iterable[Attachment]) -> list[str]:
        """One line per attached file that is missing or changed on disk ([] if all are
        intact); each file is hashed once while it stays unchanged."""
        problems: list[str] = []
        seen: set[str] = set()
        for attachment in attachments:
            if attachment.sha256 in seen:
                continue
            seen.add(attachment.sha256)
            try:
                path = self.path(chat_id, attachment)
                if self._hash(path) != attachment.sha256:
                    problems.append(_altered(attachment))
            except FileNotFoundError:
                problems.append(_missing(attachment))
            except (OSError, ValueError) as exc:
                cause = _cause(exc) if isinstance(exc, OSError) else str(exc)
                problems.append(f"{attachment.name} cannot be read: {cause}.")
        return problems


def _missing(attachment: Attachment) -> str:
    return f"{attachment.name} is missing: its file is no longer in the chat folder."


def _altered(attachment: Attachment) -> str:
    return f"{attachment.name} was changed on disk after it was attached."


def problems_summary(problems: Sequence[str]) -> str:
    """The load-time report: "1 attached file of this chat is missing or changed on
    disk: …" ("" when there are none)."""
    if not problems:
        return ""
    count = len(problems)
    files = (
        "1 attached file of this chat is"
        if count == 1
        else f"{count} attached files of this chat are"
    )
    return f"{files} missing or changed on disk: " + " ".join(problems)


def find_attachment(attachments: Iterable[Attachment], sha256: str) -> Attachment | None:
    """The attachment with hash ``sha256`` (e.g. among a chat's messages' attachments)."""
    return next((a for a in attachments if a.sha256 == sha256), None)


# -- a chat's folder, for CsvStore's delete and archive ----------------------------------


def remove_files(root: Path, chat_id: str) -> None:
    """Remove the chat's attached files (the chat is gone: a failure is only logged)."""
    folder = files_dir(root, chat_id)
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            log.warning("could not remove all the attached files of deleted chat %s", chat_id)


def move_files(root: Path, chat_id: str, dest: Path) -> bool:
    """Move the chat's attached files to ``dest`` (one rename); False if it has none.
    StorageError if they cannot be moved (then nothing moved)."""
    folder = files_dir(root, chat_id)
    if not folder.is_dir():
        return False
    try:
        if dest.exists():
            raise OSError(errno.EEXIST, "the archive already holds a folder of that name")
        os.rename(folder, dest)
    except OSError as exc:
        raise StorageError(
            f"cannot archive the attached files of the chat: {_cause(exc)}"
        ) from None
    return True
