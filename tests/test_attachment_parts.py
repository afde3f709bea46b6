"""attachment_parts: a file's bytes made into the parts a model is sent -- images kept
or downscaled (Pillow), text files and notebooks within a cap, PDFs whole or as text
(pypdf) -- and each provider's limits."""

from __future__ import annotations

import io
import json
import random
import sys
from typing import Any

import pytest
from PIL import Image

from livechat_widget import attachment_parts
from livechat_widget.attachment_parts import (
    FILE_BYTES,
    AttachmentRefused,
    Limits,
    client_limits,
    parts_for,
)
from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.base import BaseClient
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.messages import DocumentPart, FilePart, ImagePart
from livechat_widget.providers.openai import OpenAICompatibleClient
from livechat_widget.refusals import Refused

# The keyword arguments of parts_for, as client_limits gives them.
ANTHROPIC: dict[str, Any] = client_limits(AnthropicClient("claude-x", "k"))._asdict()
TEXT_ONLY_PDF: dict[str, Any] = client_limits(
    OpenAICompatibleClient("http://h:8000/v1", "m")
)._asdict()


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    """A PNG: a smooth gradient (a plot compresses like this), or noise (which does
    not compress at all)."""
    if noise:
        rng = random.Random(7)
        img = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    else:
        img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def opened(part: ImagePart) -> Image.Image:
    img = Image.open(io.BytesIO(part.data))
    assert Image.MIME[img.format or ""] == part.media_type
    return img


def without(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing ``module`` fails, as it does when the optional extra is missing."""
    monkeypatch.setitem(sys.modules, module, None)


# ------------------------------------------------------------------ images


def test_an_image_within_the_limits_is_sent_as_it_is() -> None:
    data = png(800, 600)
    assert parts_for("plot.png", "image/png", data, **ANTHROPIC) == [ImagePart(data, "image/png")]


def test_a_large_png_is_downscaled_within_the_side_and_stays_png() -> None:
    data = png(4000, 3000)
    [part] = parts_for("plot.png", "image/png", data, **ANTHROPIC)
    assert isinstance(part, ImagePart) and part.media_type == "image/png"
    assert opened(part).size == (1568, 1176)  # the long edge Anthropic recommends
    assert len(part.data) <= ANTHROPIC["max_image_bytes"]


def test_a_png_too_many_bytes_even_smaller_becomes_jpeg_within_the_limit() -> None:
    data = png(1200, 900, noise=True)  # noise: ~3.2 MB as PNG at any size near this
    limits = dict(takes_documents=True, max_image_bytes=400_000, max_image_side=1568)
    [part] = parts_for("noise.png", "image/png", data, **limits)
    assert isinstance(part, ImagePart) and part.media_type == "image/jpeg"
    assert len(part.data) <= 400_000
    assert max(opened(part).size) <= 1200


def test_a_transparent_image_made_jpeg_is_flattened_on_white() -> None:
    img = Image.new("RGBA", (3000, 100), (0, 0, 0, 0))
    buffer = io.BytesIO()
    img.save(buffer, "WEBP")
    limits = dict(takes_documents=True, max_image_bytes=10**6, max_image_side=1000)
    [part] = parts_for("clear.webp", "image/webp", buffer.getvalue(), **limits)
    assert isinstance(part, ImagePart) and part.media_type == "image/jpeg"
    small = opened(part)
    assert small.size == (1000, 33)
    assert small.convert("RGB").getpixel((500, 16)) == (255, 255, 255)


def test_without_pillow_an_image_over_the_limit_is_refused_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without("PIL", monkeypatch)
    small, large = b"\x89PNG" + b"\0" * 100, b"\x89PNG" + b"\0" * 5000
    limits = dict(takes_documents=True, max_image_bytes=1024, max_image_side=1568)
    assert parts_for("a.png", "image/png", small, **limits) == [ImagePart(small, "image/png")]
    with pytest.raises(AttachmentRefused) as info:
        parts_for("big.png", "image/png", large, **limits)
    assert 'pip install "livechat-widget[images]"' in str(info.value)
    assert str(info.value).startswith("big.png is 5 KB, more than the 1 KB the model takes")


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(AttachmentRefused, match="could not be read as an image"):
        parts_for("x.png", "image/png", b"not an image" * 10**6, **ANTHROPIC)


# ------------------------------------------------------------------ text files


def test_a_small_csv_is_its_text() -> None:
    data = "\ufeffcity,temp\nOslo,4\nRoma,18\n".encode()
    parts = parts_for("data.csv", "text/csv", data, **ANTHROPIC)
    assert parts == [FilePart("data.csv", "text/csv", "city,temp\nOslo,4\nRoma,18\n")]


def test_a_long_csv_is_cut_after_a_whole_line_and_the_cut_is_marked() -> None:
    data = "".join(f"{i},{i * i},row number {i}\n" for i in range(10_000)).encode()
    [part] = parts_for("big.csv", "text/csv", data, **ANTHROPIC)
    assert isinstance(part, FilePart)
    body, marker = part.text.rsplit("\n", 1)
    assert len(body.encode()) <= FILE_BYTES
    assert data.decode().startswith(body + "\n")  # whole lines only
    shown = body.count("\n") + 1
    assert marker == (
        f"[cut here: the file is longer; this is the first {shown:,} of 10,000 lines "
        f"(32 KB of {round(len(data) / 1024)} KB)]"
    )


def test_one_long_line_is_cut_by_bytes_and_undecodable_bytes_replaced() -> None:
    data = b'{"values": [' + b"1234567, " * 10_000 + b"\xff]}"
    [part] = parts_for("data.json", "application/json", data, **ANTHROPIC)
    assert isinstance(part, FilePart)
    assert part.text.endswith("\n[cut here: the file is longer; this is the first 32 KB of 88 KB]")
    small = parts_for("x.py", "text/x-python", b"print('\xff')\n", **ANTHROPIC)
    assert small == [FilePart("x.py", "text/x-python", "print('\ufffd')\n")]


def notebook(cells: list[dict[str, Any]]) -> bytes:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def test_a_notebook_is_its_cells_sources_without_outputs() -> None:
    outputs = [{"output_type": "stream", "name": "stdout", "text": ["x" * 100_000]}]
    data = notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Sales\n", "by month"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": "import pandas as pd\ndf = pd.read_csv('s.csv')\n",
                "outputs": outputs,
            },
        ]
    )
    [part] = parts_for("sales.ipynb", "application/x-ipynb+json", data, **ANTHROPIC)
    assert part == FilePart(
        "sales.ipynb",
        "application/x-ipynb+json",
        "# The cells of sales.ipynb: their sources, without outputs.\n\n"
        "# %% [markdown]\n# Sales\nby month\n\n"
        "# %%\nimport pandas as pd\ndf = pd.read_csv('s.csv')\n",
    )


def test_a_long_notebook_is_capped_and_a_broken_one_is_its_text() -> None:
    cells = [{"cell_type": "code", "source": f"x{i} = {i}\n" * 50} for i in range(200)]
    [part] = parts_for("long.ipynb", "application/x-ipynb+json", notebook(cells), **ANTHROPIC)
    assert isinstance(part, FilePart)
    assert len(part.text.encode()) < FILE_BYTES + 200
    assert "[cut here: the file is longer; this is the first" in part.text
    [broken] = parts_for("b.ipynb", "application/x-ipynb+json", b"{not json", **ANTHROPIC)
    assert broken == FilePart("b.ipynb", "application/x-ipynb+json", "{not json")


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(AttachmentRefused, match=r"app.exe \(application/x-msdownload\) cannot"):
        parts_for("app.exe", "application/x-msdownload", b"MZ", **ANTHROPIC)
    assert issubclass(AttachmentRefused, Refused)  # the controller shows it as it is


# ------------------------------------------------------------------ PDFs


def pdf(*pages: str) -> bytes:
    """A small PDF whose pages hold these lines of text (Helvetica), written by hand
    as the PDF reference lays out: objects, then the cross-reference table."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_pdf_is_a_document_for_a_model_that_reads_pdfs() -> None:
    data = pdf("Quarterly report")
    parts = parts_for("report.pdf", "application/pdf", data, **ANTHROPIC)
    assert parts == [DocumentPart("report.pdf", "application/pdf", data)]


def test_a_pdf_is_its_text_for_a_model_that_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    data = pdf("Quarterly report", "Revenue grew by 12 percent")
    parts = parts_for("report.pdf", "application/pdf", data, **TEXT_ONLY_PDF)
    assert parts == [
        FilePart(
            "report.pdf",
            "application/pdf",
            "--- page 1 ---\nQuarterly report\n--- page 2 ---\nRevenue grew by 12 percent\n",
        )
    ]
    # Too large to send whole: its text, even to a model that reads PDFs.
    monkeypatch.setattr(attachment_parts, "DOCUMENT_BYTES", len(data) - 1)
    assert parts_for("report.pdf", "application/pdf", data, **ANTHROPIC) == parts


def test_a_long_pdf_is_read_only_up_to_the_cap() -> None:
    data = pdf(*[f"Page {i} " + "word " * 80 for i in range(400)])
    [part] = parts_for("long.pdf", "application/pdf", data, **TEXT_ONLY_PDF)
    assert isinstance(part, FilePart)
    assert len(part.text.encode()) <= FILE_BYTES + 100
    assert part.text.endswith("[cut here: the PDF has 400 pages; this is its text up to here]")


def test_a_pdf_without_text_says_so() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    [part] = parts_for("scan.pdf", "application/pdf", buffer.getvalue(), **TEXT_ONLY_PDF)
    assert part == FilePart(
        "scan.pdf",
        "application/pdf",
        "(No text could be read from this PDF's 1 page(s): it may be scanned.)",
    )


def test_pdfs_as_text_need_pypdf_and_a_readable_file(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AttachmentRefused, match="could not be read as a PDF"):
        parts_for("broken.pdf", "application/pdf", b"%PDF-1.4 nothing", **TEXT_ONLY_PDF)
    without("pypdf", monkeypatch)
    with pytest.raises(AttachmentRefused) as info:
        parts_for("report.pdf", "application/pdf", pdf("x"), **TEXT_ONLY_PDF)
    assert 'pip install "livechat-widget[pdf]"' in str(info.value)
    # A model that reads PDFs needs no pypdf.
    assert parts_for("r.pdf", "application/pdf", b"%PDF-", **ANTHROPIC)[0] == DocumentPart(
        "r.pdf", "application/pdf", b"%PDF-"
    )


# ------------------------------------------------------------------ each provider's limits


def test_client_limits_by_provider() -> None:
    mb = 1024 * 1024
    assert client_limits(AnthropicClient("claude-x", "k")) == Limits(True, 5 * mb * 3 // 4, 1568)
    assert client_limits(OpenAICompatibleClient(api_key="k")) == Limits(True, 15 * mb, 2048)
    ollama = OpenAICompatibleClient("http://localhost:11434/v1", "llava")
    assert client_limits(ollama) == Limits(False, 15 * mb, 2048)
    vllm = OpenAICompatibleClient("http://gpu-box:8000/v1", "qwen-vl")
    assert client_limits(vllm).takes_documents is False
    assert client_limits(DemoClient()).takes_documents is True


def test_client_limits_of_a_client_of_ones_own() -> None:
    class Mine(BaseClient):
        provider = "mine"
        model = "m"

    assert client_limits(Mine()).takes_documents is False

    class Reader(Mine):
        takes_files = True
        takes_documents = True
        max_image_bytes = 1000
        max_image_side = 512

    assert client_limits(Reader()) == Limits(True, 1000, 512)
