"""What a model is sent of an attached file: its bytes made into message parts.

:func:`parts_for` takes a file as storage keeps it (its name, the media type sniffed
from its bytes, the bytes) and the limits of the model's provider
(:func:`client_limits`), and returns the parts of the user message:

- an image (PNG, JPEG, GIF, WebP): an :class:`ImagePart`, as it is when it is within
  the provider's limits, else downscaled and re-encoded as PNG (a PNG or GIF that
  still fits) or JPEG -- with Pillow, the optional extra
  ``pip install "livechat-widget[images]"``; without it an image over the limits is
  refused, naming the extra;
- a text file (CSV, TSV, plain text, Markdown, Python, JSON): a :class:`FilePart`, its
  text decoded as UTF-8 and cut at :data:`FILE_BYTES`, the cut marked; a notebook is
  reduced to its cells' sources (outputs left out);
- a PDF: a :class:`DocumentPart` for a provider that reads PDFs (Anthropic, OpenAI,
  OpenRouter), else its text through pypdf, the optional extra
  ``pip install "livechat-widget[pdf]"``; without it such a PDF is refused, naming the
  extra.

Every refusal is an :class:`AttachmentRefused` whose message a person can act on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from .attachment_types import IMAGE_TYPES, AttachmentRefused
from .attachment_types import TEXT_TYPES as TEXT_BY_EXTENSION
from .providers.messages import DocumentPart, FilePart, ImagePart, Part

__all__ = [
    "DOCUMENT_BYTES",
    "FILE_BYTES",
    "AttachmentRefused",
    "Limits",
    "client_limits",
    "parts_for",
]

#: The most of a text file's (or a PDF's extracted) text a model is sent, in bytes.
FILE_BYTES = 32 * 1024
#: The largest PDF sent whole (a request of 32 MB at most, once base64).
DOCUMENT_BYTES = 20 * 1024 * 1024

NOTEBOOK = "application/x-ipynb+json"
# The text types sent as text (a notebook is reduced to its cells first).
TEXT_TYPES = frozenset(TEXT_BY_EXTENSION.values()) - {NOTEBOOK}
PDF = "application/pdf"

_IMAGES_EXTRA = 'pip install "livechat-widget[images]"'
_PDF_EXTRA = 'pip install "livechat-widget[pdf]"'
_MB = 1024 * 1024


class Limits(NamedTuple):
    """What a provider takes: PDFs whole, and images up to a size (bytes before
    base64) and a longest side (pixels)."""

    takes_documents: bool
    max_image_bytes: int
    max_image_side: int


# Anthropic: 5 MB per image, counted on its base64 (so 3/4 of it before), and 8000 px
# per side at most; it recommends a long edge of 1568 px at most (larger images are
# scaled down by the API, at the same cost). OpenAI: 20 MB per image; it fits an image
# in 2048 x 2048 before reading it, so larger sides are only bytes on the wire.
_ANTHROPIC = Limits(True, 5 * _MB * 3 // 4, 1568)
_OPENAI = Limits(True, 20 * _MB * 3 // 4, 2048)
# Ollama, vLLM, llama.cpp, LM Studio, Azure...: images as OpenAI takes them; PDFs as
# text (a chat completions ``file`` part is OpenAI's, most servers refuse it).
_OTHER = Limits(False, 20 * _MB * 3 // 4, 2048)
_BY_PROVIDER = {
    "anthropic": _ANTHROPIC,
    "openai": _OPENAI,
    "openrouter": _OPENAI,
    "demo": _OPENAI,
}


def client_limits(client: object) -> Limits:
    """The limits of ``client``'s provider (``client.provider``). A client may state
    its own as attributes ``takes_documents``, ``max_image_bytes`` and
    ``max_image_side``; one that does not take files (``takes_files``) takes no PDFs."""
    base = _BY_PROVIDER.get(str(getattr(client, "provider", "")), _OTHER)
    takes = getattr(client, "takes_documents", base.takes_documents)
    max_bytes = getattr(client, "max_image_bytes", base.max_image_bytes)
    max_side = getattr(client, "max_image_side", base.max_image_side)
    takes_files = getattr(client, "takes_files", False) is True
    return Limits(takes is True and takes_files, int(max_bytes), int(max_side))


def parts_for(
    attachment_name: str,
    media_type: str,
    data: bytes,
    *,
    takes_documents: bool,
    max_image_bytes: int,
    max_image_side: int,
) -> list[Part]:
    """The parts a model is sent of one attached file (see the module docstring).
    Raises :class:`AttachmentRefused` for a file that cannot be sent."""
    if media_type in IMAGE_TYPES:
        return [_image(attachment_name, media_type, data, max_image_bytes, max_image_side)]
    if media_type in TEXT_TYPES:
        return [FilePart(attachment_name, media_type, _capped(_decoded(data)))]
    if media_type == NOTEBOOK:
        return [FilePart(attachment_name, media_type, _notebook(attachment_name, data))]
    if media_type == PDF:
        if takes_documents and len(data) <= DOCUMENT_BYTES:
            return [DocumentPart(attachment_name, PDF, data)]
        return [FilePart(attachment_name, PDF, _pdf_text(attachment_name, data))]
    raise AttachmentRefused(
        f"{attachment_name} ({media_type}) cannot be sent to a model: attach images "
        f"(PNG, JPEG, GIF, WebP), PDFs, notebooks or text files (CSV, TSV, text, "
        f"Markdown, Python, JSON)."
    )


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / _MB:.1f} MB"


# ---------------------------------------------------------------- text


def _decoded(data: bytes) -> str:
    """UTF-8 text (a byte-order mark dropped, undecodable bytes replaced)."""
    return data.decode("utf-8-sig", errors="replace")


def _cut(text: str, limit: int = FILE_BYTES) -> tuple[str, bool]:
    """``text`` within ``limit`` bytes of UTF-8, cut after a whole line where one
    ends in its second half; and whether it was cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text, False
    head = encoded[:limit].decode("utf-8", errors="ignore")
    line_end = head.rfind("\n")
    if line_end >= len(head) // 2:
        head = head[: line_end + 1]
    return head, True


def _lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _capped(text: str) -> str:
    """``text`` cut at :data:`FILE_BYTES`, ending in a line that says what was cut."""
    head, cut = _cut(text)
    if not cut:
        return text
    shown, total = _lines(head), _lines(text)
    sizes = f"{_size(len(head.encode()))} of {_size(len(text.encode()))}"
    if head.endswith("\n") and total > 1:
        what = f"the first {shown:,} of {total:,} lines ({sizes})"
    else:
        what = f"the first {sizes}"
    return f"{head.rstrip(chr(10))}\n[cut here: the file is longer; this is {what}]"


def _notebook(name: str, data: bytes) -> str:
    """A notebook as its cells' sources, in the percent format (``# %%`` before each
    code cell, ``# %% [markdown]`` before each markdown one); outputs left out. Not
    a notebook's JSON: its text as it is."""
    text = _decoded(data)
    try:
        cells = json.loads(text).get("cells")
    except (ValueError, AttributeError):
        cells = None
    if not isinstance(cells, list):
        return _capped(text)
    out = [f"# The cells of {name}: their sources, without outputs."]
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        kind = cell.get("cell_type")
        out.append(("# %%" if kind == "code" else f"# %% [{kind}]") + "\n" + source.rstrip())
    return _capped("\n\n".join(out) + "\n")


# ---------------------------------------------------------------- PDF


def _pdf_text(name: str, data: bytes) -> str:
    """A PDF's text, page by page, through pypdf; read until :data:`FILE_BYTES`."""
    try:
        import pypdf
    except ImportError:
        raise AttachmentRefused(
            f"{name} is a PDF, which this model does not read itself, and reading its "
            f"text needs pypdf: {_PDF_EXTRA}, then send it again."
        ) from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise AttachmentRefused(f"{name} is a PDF locked with a password: unlock it first.")
        pages = reader.pages
        texts: list[str] = []
        read = 0
        for number, page in enumerate(pages, 1):
            texts.append(f"--- page {number} ---\n{(page.extract_text() or '').strip()}\n")
            read += len(texts[-1].encode())
            if read > FILE_BYTES:
                break
        total = len(pages)
    except AttachmentRefused:
        raise
    except Exception as exc:  # pypdf raises many kinds on a broken file
        raise AttachmentRefused(f"{name} could not be read as a PDF ({exc}).") from None
    text = "".join(texts)
    if not any(t.split("\n", 1)[1].strip() for t in texts):
        return f"(No text could be read from this PDF's {total} page(s): it may be scanned.)"
    head, cut = _cut(text)
    if not cut and len(texts) == total:
        return text
    return f"{head.rstrip()}\n[cut here: the PDF has {total} pages; this is its text up to here]"


# ---------------------------------------------------------------- images


def _image(name: str, media_type: str, data: bytes, max_bytes: int, max_side: int) -> ImagePart:
    """The image as it is if it is within the limits, else downscaled."""
    try:
        from PIL import Image
    except ImportError:
        if len(data) <= max_bytes:
            return ImagePart(data, media_type)  # its sides are the provider's to check
        raise AttachmentRefused(
            f"{name} is {_size(len(data))}, more than the {_size(max_bytes)} the model "
            f"takes; making it smaller needs Pillow: {_IMAGES_EXTRA}, then send it again "
            f"(or attach a smaller image)."
        ) from None
    with _opened(Image, name, data) as img:
        if len(data) <= max_bytes and max(img.size) <= max_side:
            return ImagePart(data, media_type)
        return _downscaled(Image, img, name, media_type, max_bytes, max_side)


def _opened(Image: Any, name: str, data: bytes) -> Any:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise AttachmentRefused(f"{name} has too many pixels to be read safely.") from None
    except OSError:
        raise AttachmentRefused(f"{name} could not be read as an image.") from None


def _downscaled(
    Image: Any, img: Any, name: str, media_type: str, max_bytes: int, max_side: int
) -> ImagePart:
    """``img`` fitted in ``max_side`` pixels and ``max_bytes`` bytes: PNG when the
    source was PNG or GIF and that fits, else JPEG; smaller until it fits."""
    from PIL import ImageOps

    img.draft("RGB", (max_side, max_side))  # a JPEG decodes at a reduced scale
    frame = ImageOps.exif_transpose(img)  # a photo taken sideways stays upright
    lossless = media_type in ("image/png", "image/gif")
    side = min(max_side, max(frame.size))
    for _ in range(10):
        small = frame.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        encodings: list[tuple[str, Callable[[Any], bytes]]] = [("image/jpeg", _jpeg)]
        if lossless:
            encodings.insert(0, ("image/png", _png))
        for out_type, encode in encodings:
            out = encode(small)
            if len(out) <= max_bytes:
                return ImagePart(out, out_type)
        side = int(side * 0.75)
        if side < 16:
            break
    raise AttachmentRefused(f"{name} could not be made small enough for the model.")


def _png(img: Any) -> bytes:
    buffer = io.BytesIO()
    if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        img = img.convert("RGBA")
    img.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _jpeg(img: Any) -> bytes:
    """JPEG at quality 85, transparency flattened onto white."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        img = Image.new("RGB", rgba.size, (255, 255, 255))
        img.paste(rgba, mask=rgba.getchannel("A"))
    elif img.mode != "RGB":
        img = img.convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()
