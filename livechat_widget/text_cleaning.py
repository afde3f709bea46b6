"""Text from outside — the browser, a model, a file being imported — made fit to store
and to show: lone surrogates mended, titles on one line and within their length."""

from __future__ import annotations

MAX_TITLE_CHARS = 200  # a title given by a person or a file (the protocol's limit too)


def clean_text(text: str) -> str:
    """``text`` with lone UTF-16 surrogates replaced by U+FFFD (a valid pair becomes its
    character): half an emoji cut by a browser cannot be written as UTF-8 otherwise."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def one_line(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """``text`` with whitespace runs collapsed, cut to ``limit`` characters with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def clean_title(title: object) -> str:
    """A chat title as stored: one line of at most MAX_TITLE_CHARS characters."""
    if not isinstance(title, str):
        raise TypeError(f"title must be str, not {type(title).__name__}")
    cleaned = " ".join(clean_text(title).split())[:MAX_TITLE_CHARS]
    if not cleaned:
        raise ValueError("a chat title cannot be empty")
    return cleaned
