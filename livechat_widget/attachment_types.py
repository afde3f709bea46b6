"""What may be attached to a message, decided from the bytes: the media type is sniffed
(magic numbers for images and PDF; UTF-8 text for text files whose name says which kind
of text), never taken from the name or the browser; sizes and counts are checked against
``AttachmentLimits`` before anything is written. Every refusal is an ``AttachmentRefused``
whose text says what to do, and names no path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .refusals import Refused
from .text_cleaning import clean_text, one_line

MiB = 1024 * 1024
MAX_NAME_CHARS = 255

# Images and PDF: (media type, what a person calls it, its file extension on disk).
_BINARY = {
    "image/png": ("a PNG image", "png"),
    "image/jpeg": ("a JPEG image", "jpg"),
    "image/gif": ("a GIF image", "gif"),
    "image/webp": ("a WebP image", "webp"),
    "application/pdf": ("a PDF", "pdf"),
}
# The type a name's extension claims, for the binary types: a name that claims one of
# them for bytes that are not an accepted type is refused with what the name claimed.
_CLAIMED = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
}
# Text files: the extension chooses the type, the bytes must be UTF-8 without NULs.
TEXT_TYPES = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "txt": "text/plain",
    "md": "text/markdown",
    "py": "text/x-python",
    "json": "application/json",
    "ipynb": "application/x-ipynb+json",
}
_JSON_TYPES = frozenset({"application/json", "application/x-ipynb+json"})
IMAGE_TYPES = frozenset(t for t in _BINARY if t.startswith("image/"))
# media type -> extension of the file on disk (<sha256>.<ext>)
EXTENSIONS = {media: ext for media, (_, ext) in _BINARY.items()} | {
    media: ext for ext, media in TEXT_TYPES.items()
}
ACCEPTED = (
    "images (PNG, JPEG, GIF, WebP), PDF, and text files ("
    + ", ".join(f".{ext}" for ext in TEXT_TYPES)
    + ")"
)

# Executables: ELF, Mach-O (32/64-bit, both byte orders, universal) and PE ("MZ", whose
# header always holds NUL bytes, so a text file that starts with "MZ" is not one).
_PROGRAMS = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


class AttachmentRefused(Refused):
    """A file that cannot be attached (its type, its size, how many); nothing was saved."""


@dataclass(frozen=True)
class AttachmentLimits:
    """What one message may carry. The defaults fit the big providers: OpenAI takes
    images of up to 20 MB and 50 MB of files per request; Anthropic 32 MB per request
    (the provider modules refuse what their model cannot take)."""

    file_bytes: int = 20 * MiB  # each file
    message_bytes: int = 50 * MiB  # all files of one message together
    count: int = 10  # files per message


def megabytes(size: int) -> str:
    """``60.0 MB`` (sizes in MiB, as file managers mostly show them)."""
    return f"{size / MiB:.1f} MB"


def human_size(size: int) -> str:
    """``812 bytes``, ``12.3 KB``, ``1.2 MB``."""
    if size < 1024:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    return f"{size / 1024:.1f} KB" if size < MiB else megabytes(size)


def _limit(size: int) -> str:
    """A limit as people read it: ``20 MB``, or bytes below a megabyte."""
    if size >= MiB:
        value = size / MiB
        return f"{value:g} MB" if value == int(value) else f"{value:.1f} MB"
    return f"{size:,} bytes"


def display_name(name: str) -> str:
    """A file name fit to store and show: the last part of any path, on one line."""
    base = clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    return one_line(base, MAX_NAME_CHARS) or "file"


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _magic(data: bytes) -> str | None:
    """The image or PDF type the bytes begin with, if any."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _is_program(data: bytes) -> bool:
    return data.startswith(_PROGRAMS) or (data.startswith(b"MZ") and b"\0" in data[:1024])


def sniff(data: bytes, name: str) -> str:
    """The media type of ``data``, from its bytes; ``name`` only chooses among text types.

    An image or PDF is what its bytes say, whatever its name (a PNG named ``.txt`` is a
    PNG; a PNG named ``.jpg`` is a PNG). A text file needs a text extension and bytes
    that are UTF-8 without NULs (JSON and notebooks must parse). Anything else, and a
    program under any name, raises ``AttachmentRefused``."""
    name = display_name(name)
    if not data:
        raise AttachmentRefused(f"{name} is empty: there is nothing to attach.")
    found = _magic(data)
    if found is not None:
        return found
    ext = _extension(name)
    claimed = _CLAIMED.get(ext)
    shebang = data.startswith(b"#!") and ext not in TEXT_TYPES  # a script with a text
    if _is_program(data) or (claimed and shebang):  # extension is text (.py): fine
        if claimed:
            raise AttachmentRefused(
                f"{name} is not {_BINARY[claimed][0]}: it looks like a program."
            )
        raise AttachmentRefused(f"{name} looks like a program; only {ACCEPTED} can be attached.")
    if claimed:
        raise AttachmentRefused(
            f"{name} is not {_BINARY[claimed][0]}: its contents are something else. "
            f"Only {ACCEPTED} can be attached."
        )
    media_type = TEXT_TYPES.get(ext)
    if media_type is None:
        raise AttachmentRefused(f"{name} cannot be attached: only {ACCEPTED} can be.")
    return _text_type(data, name, media_type)


def _text_type(data: bytes, name: str, media_type: str) -> str:
    if b"\0" in data:
        raise AttachmentRefused(f"{name} is not a text file: it holds binary data.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttachmentRefused(
            f"{name} is not UTF-8 text: save it as UTF-8 and attach it again."
        ) from None
    if media_type in _JSON_TYPES:
        what = "notebook" if media_type == "application/x-ipynb+json" else "JSON file"
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise AttachmentRefused(
                f"{name} is not a valid {what}: {exc.msg} at line {exc.lineno}."
            ) from None
        except RecursionError:
            raise AttachmentRefused(
                f"{name} is not a valid {what}: it is nested too deeply."
            ) from None
    return media_type


def check(
    files: Sequence[tuple[str, bytes]], limits: AttachmentLimits | None = None
) -> list[tuple[str, str, bytes]]:
    """``(name, media type, data)`` for each ``(name, data)``, every file checked (how
    many, each one's size, their total, each one's type) before any is written: a
    refusal saves nothing."""
    limits = limits or AttachmentLimits()
    if len(files) > limits.count:
        raise AttachmentRefused(
            f"A message can carry up to {limits.count} files; this one has {len(files)}."
        )
    named = [(display_name(name), data) for name, data in files]
    for name, data in named:
        if len(data) > limits.file_bytes:
            raise AttachmentRefused(
                f"{name} is {megabytes(len(data))}; files up to "
                f"{_limit(limits.file_bytes)} can be attached."
            )
    total = sum(len(data) for _, data in named)
    if total > limits.message_bytes:
        raise AttachmentRefused(
            f"These files come to {megabytes(total)}; a message can carry up to "
            f"{_limit(limits.message_bytes)} of files. Send some of them in another message."
        )
    return [(name, sniff(data, name), data) for name, data in named]
