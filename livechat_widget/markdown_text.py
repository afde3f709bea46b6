"""Markdown written by a model, made safe to put in an exported file.

Exports (``chat_export``) keep a message's markdown but treat it as data: raw HTML is
escaped and images become links, so a viewer of the exported file runs nothing and
loads nothing because a model wrote it; code (fenced blocks, inline code spans) is left
exactly as written. ``split_fences`` also finds the fenced code blocks that a notebook
export turns into code cells.

This is a line scanner for the CommonMark constructs that matter here (fences and code
spans), not a full markdown parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n?")
_TICKS = re.compile(r"`+")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")  # a tag, comment or declaration


@dataclass(frozen=True)
class Block:
    """A piece of a markdown text: prose, or one fenced code block."""

    text: str  # exactly as in the source (for a fence: its lines, fences included)
    code: str = ""  # a fence's content (indentation of the fence removed)
    language: str = ""  # a fence's info string, first word, lowercase
    fenced: bool = False
    top_level: bool = True  # a fence indented at most 3 spaces (not inside a list)


def split_fences(text: str) -> list[Block]:
    """``text`` as prose and fenced code blocks, in order; "".join(b.text) == text.

    An unclosed fence runs to the end of the text, as in CommonMark."""
    blocks: list[Block] = []
    prose: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        opening = _FENCE.fullmatch(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            prose.append(lines[i])
            i += 1
            continue
        if prose:
            blocks.append(Block("".join(prose)))
            prose = []
        fence, indent = opening["fence"], opening["indent"]
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.fullmatch(lines[j])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            body.append(lines[j])
            j += 1
        end = min(j + 1, len(lines))
        width = len(indent.expandtabs(4))
        blocks.append(
            Block(
                "".join(lines[i:end]),
                code="".join(_dedent(line, width) for line in body),
                language=(opening["info"].split() or [""])[0].lower(),
                fenced=True,
                top_level=width <= 3,
            )
        )
        i = end
    if prose:
        blocks.append(Block("".join(prose)))
    return blocks


def _dedent(line: str, width: int) -> str:
    """``line`` without up to ``width`` columns of leading spaces (CommonMark fences)."""
    n = 0
    while n < len(line) and n < width and line[n] == " ":
        n += 1
    return line[n:]


def inert(text: str) -> str:
    """Markdown prose with raw HTML escaped and images turned into links; code spans and
    fenced code blocks are kept exactly."""
    return "".join(
        block.text if block.fenced else _outside_code_spans(block.text)
        for block in split_fences(text)
    )


def _outside_code_spans(text: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        ticks = _TICKS.search(text, pos)
        if ticks is None:
            out.append(_escape(text[pos:]))
            return "".join(out)
        out.append(_escape(text[pos : ticks.start()]))
        run = ticks.group()
        closing = re.compile(rf"(?<!`){run}(?!`)").search(text, ticks.end())
        if closing is None:  # no closing run: the backticks are literal text
            out.append(run)
            pos = ticks.end()
        else:
            out.append(text[ticks.start() : closing.end()])
            pos = closing.end()


def _escape(prose: str) -> str:
    # "&#33;" is "!": an image ![alt](url) becomes the text "!" and a link to url.
    return _HTML_START.sub("&lt;", prose).replace("![", "&#33;[")


def heading_text(text: str) -> str:
    """``text`` on one line, made inert: for headings built from titles (a heading has
    no fenced blocks, only code spans)."""
    return _outside_code_spans(" ".join(text.split()))
