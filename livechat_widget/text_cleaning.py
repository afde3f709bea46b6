"""Text from outside — the browser, a model, a file being imported — made fit to store
and to show: lone surrogates mended, titles on one line and within their length."""

from __future__ import annotations

import re

MAX_TITLE_CHARS = 200  # a title given by a person or a file (the protocol's limit too)


def clean_text(text: str) -> str:
    """``text`` with lone UTF-16 surrogates replaced by U+FFFD (a valid pair becomes its
    character): half an emoji cut by a browser cannot be written as UTF-8 otherwise."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# Bidi embeddings, overrides and isolates, and marks: in a title (shown in the chat list,
# the topbar, a heading) they could make "RTL" read as "LTR"; control characters draw as
# boxes. Titles drop them; message bodies keep every character.
_UNSAFE_IN_TITLES = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """``text`` as a title: bidi controls and control characters out (a newline or tab
    counts as a space), whitespace runs collapsed, cut to ``limit`` characters with "…"."""
    line = " ".join(_UNSAFE_IN_TITLES.sub(_replacement, text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def clean_title(title: object) -> str:
    """A chat title as stored: one line of at most MAX_TITLE_CHARS characters."""
    if not isinstance(title, str):
        raise TypeError(f"title must be str, not {type(title).__name__}")
    cleaned = one_line(clean_text(title), MAX_TITLE_CHARS + 1)[:MAX_TITLE_CHARS]
    if not cleaned:
        raise ValueError("a chat title cannot be empty")
    return cleaned


def _replacement(match: re.Match[str]) -> str:
    return " " if match.group().isspace() else ""
