"""Prompt templates: the ``/`` commands of the composer that fill it with a prompt.

A template is a Markdown file: a small front matter between ``---`` lines (``name``,
``description``, ``context``), then the prompt, whose ``{{name}}`` placeholders the
page fills from ``@`` items or typed values (``PromptTemplate.render`` in Python)::

    ---
    name: summary
    description: Summarize a DataFrame for a report
    context: [recent cells]
    ---
    Summarize {{df}} in five bullet points a manager can read.

Where they come from, later ones replacing earlier ones of the same name: the built-ins
(``livechat_widget/prompts/``), ``$XDG_CONFIG_HOME/livechat/prompts/`` (by default
``~/.config/livechat/prompts/``), then ``<chat folder>/prompts/``. The front matter is
parsed here, strictly: a file that is not valid is refused with its name and line (the
others still load), and the refusal is reported once. No path ever reaches the page.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypedDict

log = logging.getLogger(__name__)

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
KEYS = ("name", "description", "context")
ACTIONS = ("new", "clear", "model", "system")  # the page's own commands: no template's name
MAX_FILE_BYTES = 32 * 1024
MAX_TEMPLATES = 200  # the person's, over both folders
MAX_DESCRIPTION = 200
MAX_CONTEXT_ITEMS = 10
BUILT_IN = Path(__file__).parent / "prompts"
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*:(.*)\Z")

Source = Literal["built-in", "yours"]


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the line."""


class PromptPayload(TypedDict):
    """A template as the page gets it (the ``prompt_templates`` trait): never a path."""

    name: str
    description: str
    body: str
    placeholders: list[str]  # in order of first use
    context: list[str]  # `@` items to attach with it, e.g. "recent cells"
    source: str  # "built-in" | "yours"


@dataclass(frozen=True)
class PromptTemplate:
    """One ``/name`` template: ``chat.prompts["explain"].render()``."""

    name: str
    description: str
    body: str
    context: tuple[str, ...] = ()
    source: Source = "yours"

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The ``{{name}}`` placeholders of the body, each once, in order of first use."""
        return tuple(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(self.body)))

    def render(self, **values: str) -> str:
        """The body with every placeholder filled: ``render(df="sales")``. A missing or
        unknown value is a ValueError naming it."""
        wanted = self.placeholders
        missing = [name for name in wanted if name not in values]
        if missing:
            shown = ", ".join(f"{{{{{name}}}}}" for name in missing)
            raise ValueError(
                f"template {self.name!r} needs a value for {shown}: "
                f"render({', '.join(f'{name}=...' for name in missing)})"
            )
        unknown = sorted(set(values) - set(wanted))
        if unknown:
            raise ValueError(
                f"template {self.name!r} has no placeholder {', '.join(unknown)} "
                f"(it has: {', '.join(wanted) or 'none'})"
            )
        for name, value in values.items():
            if not isinstance(value, str):
                raise TypeError(f"the value for {{{{{name}}}}} must be a str, not {type(value)}")
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], self.body)

    def payload(self) -> PromptPayload:
        return {
            "name": self.name,
            "description": self.description,
            "body": self.body,
            "placeholders": list(self.placeholders),
            "context": list(self.context),
            "source": self.source,
        }


# -- one file


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _context_list(value: str, fail: Callable[[str], TemplateError]) -> tuple[str, ...]:
    if not (value.startswith("[") and value.endswith("]")):
        raise fail("context is a list in brackets, e.g. context: [recent cells, last error]")
    items = [_unquote(item.strip()) for item in value[1:-1].split(",")]
    items = [item for item in items if item]
    if len(items) > MAX_CONTEXT_ITEMS or any(len(item) > 100 for item in items):
        raise fail(f"context names at most {MAX_CONTEXT_ITEMS} items of 100 characters")
    return tuple(dict.fromkeys(items))


def _front_matter(lines: list[str], where: str) -> tuple[dict[str, tuple[int, str]], int]:
    """The ``key: value`` lines (with their line numbers) and the index of the body's
    first line. ``lines[0]`` is the opening ``---``."""
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        raise TemplateError(f"{where}, line 1: the front matter has no closing '---' line")
    fields: dict[str, tuple[int, str]] = {}
    for index in range(1, end):
        number, line = index + 1, lines[index].rstrip()
        if not line.strip():
            continue
        match = _KEY_LINE.match(line)
        if not match:
            raise TemplateError(f"{where}, line {number}: not a 'key: value' line: {line[:60]!r}")
        key, value = match.group(1), match.group(2).strip()
        if key not in KEYS:
            raise TemplateError(
                f"{where}, line {number}: unknown key {key!r} (a template has {', '.join(KEYS)})"
            )
        if key in fields:
            raise TemplateError(f"{where}, line {number}: {key!r} is given twice")
        fields[key] = (number, value)
    return fields, end + 1


def parse_template(text: str, stem: str, where: str, source: Source = "yours") -> PromptTemplate:
    """The template in ``text`` (a file named ``stem``.md, shown as ``where``)."""
    lines = text.split("\n")
    fields: dict[str, tuple[int, str]] = {}
    start = 0
    if lines and lines[0].rstrip() == "---":
        fields, start = _front_matter(lines, where)

    def fail(key: str, message: str) -> TemplateError:
        number = fields[key][0] if key in fields else 1
        return TemplateError(f"{where}, line {number}: {message}")

    name = _unquote(fields["name"][1]) if "name" in fields else stem.lower()
    if not NAME.match(name):
        rule = "1 to 32 of a-z, 0-9, '-' and '_', from a letter or digit"
        if "name" not in fields:
            rule += ": rename the file or give a 'name:' in its front matter"
        raise fail("name", f"the name {name[:40]!r} is not a template name ({rule})")
    if name in ACTIONS:
        raise fail("name", f"/{name} is a command of the chat: give the template another name")
    body = "\n".join(lines[start:]).strip("\n").rstrip()
    if not body.strip():
        raise fail("name", "the template has no text after its front matter")
    description = _unquote(fields["description"][1]) if "description" in fields else ""
    if len(description) > MAX_DESCRIPTION:
        raise fail("description", f"the description is over {MAX_DESCRIPTION} characters")
    if not description:
        description = body.strip().split("\n", 1)[0][:80]
    context: tuple[str, ...] = ()
    if "context" in fields:
        context = _context_list(fields["context"][1], lambda m: fail("context", m))
    return PromptTemplate(name, description, body, context, source)


def read_template(path: Path, where: str, source: Source = "yours") -> PromptTemplate:
    """Read and parse one file, refusing one too big or not UTF-8."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TemplateError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise TemplateError(f"{where}: over {MAX_FILE_BYTES // 1024} KB; a template is a prompt")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(f"{where}, line {line}: not UTF-8 text") from None
    return parse_template(text.replace("\r\n", "\n"), path.stem, where, source)


# -- the folders


def user_prompts_dir() -> tuple[Path, str]:
    """``$XDG_CONFIG_HOME/livechat/prompts`` (default ``~/.config/...``) and its label."""
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    if config and Path(config).is_absolute():
        return Path(config) / "livechat" / "prompts", "$XDG_CONFIG_HOME/livechat/prompts"
    return Path.home() / ".config" / "livechat" / "prompts", "~/.config/livechat/prompts"


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    """The ``*.md`` files of ``folder``: (name, mtime_ns, size), by name; [] if none."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.endswith(".md") and not entry.name.startswith("."):
            try:
                if entry.is_file():
                    stat = entry.stat()
                    found.append((entry.name, stat.st_mtime_ns, stat.st_size))
            except OSError:
                continue
    return sorted(found)


class PromptLibrary:
    """The templates a chat offers, read again when a folder's files changed."""

    def __init__(
        self, folders: list[tuple[Path, str]], report: Callable[[str], None] | None = None
    ) -> None:
        self.folders = folders  # the person's folders, lowest precedence first, with labels
        self.report = report
        self._built_in = self._load_built_in()
        self._signature: object = None
        self._templates: dict[str, PromptTemplate] = dict(self._built_in)
        self._reported: set[str] = set()

    @classmethod
    def for_chat_folder(
        cls, chat_folder: str | os.PathLike[str], report: Callable[[str], None] | None = None
    ) -> PromptLibrary:
        user, label = user_prompts_dir()
        return cls(
            [(user, label), (Path(chat_folder) / "prompts", "the chat folder's prompts")], report
        )

    @staticmethod
    def _load_built_in() -> dict[str, PromptTemplate]:
        found = {}
        for name, _mtime, _size in _listing(BUILT_IN):
            template = read_template(BUILT_IN / name, f"built-in {name}", "built-in")
            found[template.name] = template
        return found

    def templates(self) -> Mapping[str, PromptTemplate]:
        """Name -> template, read-only, as the folders hold them now."""
        self.refresh()
        return MappingProxyType(dict(self._templates))

    def payloads(self) -> list[PromptPayload]:
        return [t.payload() for t in self._templates.values()]

    def refresh(self) -> bool:
        """Read the folders again if their files changed; True when the list changed."""
        listings = [_listing(folder) for folder, _label in self.folders]
        if listings == self._signature:
            return False
        self._signature = listings
        templates, problems = self._load(listings)
        changed = templates != self._templates
        self._templates = templates
        self._tell(problems)
        return changed

    def _load(
        self, listings: list[list[tuple[str, int, int]]]
    ) -> tuple[dict[str, PromptTemplate], list[str]]:
        templates = dict(self._built_in)
        problems: list[str] = []
        count = 0
        for (folder, label), listing in zip(self.folders, listings, strict=True):
            names: dict[str, str] = {}  # template name -> file, in this folder
            for file, _mtime, _size in listing:
                where = f"{file} in {label}"
                if count >= MAX_TEMPLATES:
                    problems.append(f"{where}: more than {MAX_TEMPLATES} templates; not loaded")
                    break
                try:
                    template = read_template(folder / file, where)
                except TemplateError as exc:
                    problems.append(str(exc))
                    continue
                if template.name in names:
                    taken = names[template.name]
                    problems.append(f"{where}: the name {template.name!r} is taken by {taken}")
                    continue
                names[template.name] = file
                templates[template.name] = template  # a person's replaces a built-in
                count += 1
        return templates, problems

    def _tell(self, problems: list[str]) -> None:
        new = [p for p in problems if p not in self._reported]
        self._reported.update(new)
        if not new:
            return
        for problem in new:
            log.warning("prompt template not loaded: %s", problem)
        if self.report is not None:
            many = f"{len(new)} prompt templates were" if len(new) > 1 else "A prompt template was"
            shown = new[:3] + (
                [f"and {len(new) - 3} more (the log lists them)"] if len(new) > 3 else []
            )
            self.report(f"{many} not loaded: " + "; ".join(shown))
