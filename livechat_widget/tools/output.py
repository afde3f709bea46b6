"""What a Python value returned by a tool becomes for the model: text, and PNG images.

A string is itself; ``None`` says there was no value; a matplotlib figure (or axes)
is drawn as a PNG; anything else is formatted the way the notebook would show it
(IPython's display formatter, when a shell is running) or by its ``repr``. Text is
capped as a code run's is (code_run.py), images by count and size.
"""

from __future__ import annotations

import base64
import io
import os
import sys
import traceback
from typing import Any

from ..code_run import MAX_IMAGE_BYTES, MAX_IMAGES, _clip
from .toolbox import ToolOutput

__all__ = ["error_output", "output_of"]

NO_VALUE = "(no return value)"


def output_of(value: Any) -> ToolOutput:
    """``value`` as a tool's result: its text (capped) and up to MAX_IMAGES PNGs."""
    if isinstance(value, ToolOutput):
        return value
    if isinstance(value, str):
        return ToolOutput(_clip(value))
    if value is None:
        return ToolOutput(NO_VALUE)
    figure = _figure_of(value)
    if figure is not None:
        return _figure_output(figure)
    formatted = _ipython_format(value)
    if formatted is None:
        return ToolOutput(_clip(_safe_repr(value)))
    text = str(formatted.get("text/plain", "")) or _safe_repr(value)
    png = formatted.get("image/png")
    return _with_images(text, [png] if isinstance(png, str) else [])


def error_output(exc: BaseException) -> ToolOutput:
    """The failure as the model reads it: the exception, and where it was raised."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f"{os.path.basename(last.filename)}, line {last.lineno}, in {last.name}"
        text += f"\n  ({where}: {last.line})" if last.line else f"\n  ({where})"
    return ToolOutput(_clip(text), is_error=True)


def _with_images(text: str, images: list[str]) -> ToolOutput:
    kept: list[str] = []
    notes: list[str] = []
    for image in images:
        if len(image) > MAX_IMAGE_BYTES:
            notes.append(f"(an image of {len(image):,} bytes was left out: it is too large)")
        elif len(kept) >= MAX_IMAGES:
            notes.append(f"(images after the first {MAX_IMAGES} were left out)")
        else:
            kept.append(image)
    return ToolOutput(_clip("\n".join([text, *dict.fromkeys(notes)])), tuple(kept))


def _figure_of(value: Any) -> Any:
    """The matplotlib Figure ``value`` is or belongs to (axes); None otherwise.
    matplotlib is never imported here: a figure means it already is."""
    figure_module = sys.modules.get("matplotlib.figure")
    if figure_module is None:
        return None
    figure_type: Any = figure_module.Figure
    if isinstance(value, figure_type):
        return value
    axes_module = sys.modules.get("matplotlib.axes")
    if axes_module is not None and isinstance(value, axes_module.Axes):
        return value.get_figure()
    return None


def _figure_output(figure: Any) -> ToolOutput:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    width, height = (round(x) for x in figure.get_size_inches() * figure.dpi)
    axes = len(figure.get_axes())
    titles = [t for ax in figure.get_axes() if (t := ax.get_title())]
    text = f"(a matplotlib figure, {width}×{height} px, {axes} axes"
    text += f"; titles: {', '.join(map(repr, titles))})" if titles else ")"
    return _with_images(text, [png])


def _ipython_format(value: Any) -> dict[str, Any] | None:
    """The notebook's own formatting of ``value`` (mimetype -> data), when a shell runs."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    formatter = getattr(shell, "display_formatter", None)
    if formatter is None:
        return None
    try:
        data, _metadata = formatter.format(value)
    except Exception:  # a broken _repr_*_ of the person's object: fall back to repr
        return None
    return data if isinstance(data, dict) else None


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # the object's own __repr__ failed
        return f"<{type(value).__name__} object; its repr failed: {type(exc).__name__}: {exc}>"
