"""What a docstring says about a function and its parameters, for its tool's schema.

Three styles are read: Google (``Args:`` with ``name (type): text``), NumPy
(``Parameters`` underlined with dashes, ``name : type`` and indented text) and reST
(``:param name: text``). The summary is the docstring's first paragraph, unless that
paragraph is already a section.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]

_GOOGLE_HEADER = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$"
)
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(\([^)]*\))?\s*:\s*(?P<text>.*)$")
_NUMPY_HEADER = re.compile(r"^(Parameters|Other Parameters|Keyword Arguments)\s*$")
_NUMPY_RULE = re.compile(r"^-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^(?P<names>\w+(\s*,\s*\w+)*)\s*(:.*)?$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(?P<name>\w+)\s*:\s*(?P<text>.*)$")
_REST_FIELD = re.compile(r"^:\w+")
# A line that starts any section (Google, NumPy or reST), so a summary stops there.
_SECTION = re.compile(r"^(\w[\w ]*:\s*$|:\w+|\w[\w ]*\n-{3,})")


@dataclass
class Docstring:
    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    if not doc:
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    params = _google(lines) or _numpy(lines) or _rest(lines)
    return Docstring(_summary(lines), params)


def _summary(lines: list[str]) -> str:
    paragraph: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip():
            break
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _SECTION.match(line) or _SECTION.match(f"{line}\n{following}"):
            break
        paragraph.append(line.strip())
    return " ".join(paragraph)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for start, line in enumerate(lines):
        if not _GOOGLE_HEADER.match(line.strip()):
            continue
        base = _indent(line)
        entry_indent: int | None = None
        current = ""
        for body in lines[start + 1 :]:
            if not body.strip():
                continue
            indent = _indent(body)
            if indent <= base:
                break  # the next section
            match = _GOOGLE_ENTRY.match(body.strip())
            if match and (entry_indent is None or indent == entry_indent):
                entry_indent = indent
                current = match["name"]
                params[current] = match["text"].strip()
            elif current:  # a continuation line
                params[current] = f"{params[current]} {body.strip()}".strip()
    return params


def _numpy(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for start in range(len(lines) - 1):
        if not (_NUMPY_HEADER.match(lines[start].strip()) and _NUMPY_RULE.match(lines[start + 1])):
            continue
        base = _indent(lines[start])
        names: list[str] = []
        for i, body in enumerate(lines[start + 2 :], start + 2):
            if not body.strip():
                continue
            if _indent(body) <= base:
                following = lines[i + 1] if i + 1 < len(lines) else ""
                if _NUMPY_RULE.match(following):
                    break  # the next section
                match = _NUMPY_ENTRY.match(body.strip())
                names = [n.strip() for n in match["names"].split(",")] if match else []
                for name in names:
                    params[name] = ""
            else:
                for name in names:
                    params[name] = f"{params[name]} {body.strip()}".strip()
    return params


def _rest(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    current = ""
    for line in lines:
        match = _REST_PARAM.match(line.strip())
        if match:
            current = match["name"]
            params[current] = match["text"].strip()
        elif _REST_FIELD.match(line.strip()) or not line.strip():
            current = ""
        elif current and _indent(line) > 0:
            params[current] = f"{params[current]} {line.strip()}"
    return params
