"""What ``chat.ask(text, attachments=[...])`` takes, as (name, bytes) pairs: paths,
``(name, bytes)`` pairs, PIL images and matplotlib figures (both as PNG). A DataFrame
is context, not a file: it is refused with a pointer to ``context=``. The bytes are
then checked and stored like a file the page sent (attachments.py)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["as_files"]


def as_files(items: Iterable[Any]) -> list[tuple[str, bytes]]:
    """Each item as (file name, bytes); TypeError naming one it cannot take."""
    files = []
    for number, item in enumerate(items, 1):
        files.append(_one(item, number))
    return files


def _one(item: Any, number: int) -> tuple[str, bytes]:
    if isinstance(item, (str, os.PathLike)):
        path = Path(item).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"No file {str(item)!r} to attach.")
        return path.name, path.read_bytes()
    if isinstance(item, tuple) and len(item) == 2:
        name, data = item
        if isinstance(name, str) and isinstance(data, (bytes, bytearray, memoryview)):
            return name, bytes(data)
    if _is_dataframe(item):
        raise TypeError(
            "A DataFrame is context, not a file: pass its name with context=['df'] "
            "(the model gets its columns, dtypes and first rows)."
        )
    savefig = getattr(item, "savefig", None)
    if callable(savefig) and type(item).__module__.startswith("matplotlib"):
        buffer = io.BytesIO()
        savefig(buffer, format="png", bbox_inches="tight")
        return f"figure-{number}.png", buffer.getvalue()
    save = getattr(item, "save", None)
    if callable(save) and type(item).__module__.startswith("PIL"):
        buffer = io.BytesIO()
        save(buffer, format="PNG")
        return f"image-{number}.png", buffer.getvalue()
    raise TypeError(
        f"Cannot attach a {type(item).__name__}: give a path, a (name, bytes) pair, a PIL "
        f"image or a matplotlib figure."
    )


def _is_dataframe(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith("pandas") and hasattr(value, "columns")
