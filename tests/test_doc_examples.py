"""The examples of README.md and docs/ run, so they cannot drift from the code.

Every ```python block of a page runs, in order, in one IPython shell per page (top-level
``await`` and bare expressions work as in a notebook cell), in a temporary folder, on the
offline demo model. A block that cannot run here — it needs a model server, or it is a
configuration file for another program — has ``<!-- not run: why -->`` on the line
before its fence; a marker without a reason is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [REPO / "README.md", *(REPO / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(REPO).as_posix(),
)
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<why>.*?)\s*-->\s*$")
# Environment variables that would send the examples to a real model or a real folder.
PROVIDER_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "ANTHROPIC_API_KEY")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, from 1
    code: str
    skipped: str | None  # the reason given in <!-- not run: ... -->, else None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def python_blocks(text: str, page: Path) -> Iterator[Block]:
    """The ```python blocks of a markdown text, with the line each starts on."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        end = i + 1
        while end < len(lines) and not re.match(
            rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]
        ):
            end += 1
        language = (opening["info"].split() or [""])[0].lower()
        if language in ("python", "py"):
            before = NOT_RUN.match(lines[i - 1]) if i else None
            code = "\n".join(line[indent:] for line in lines[i + 1 : end])
            yield Block(page, i + 1, code + "\n", before["why"] if before else None)
        i = end + 1


def page_id(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def test_the_parser_finds_blocks_and_markers(tmp_path: Path) -> None:
    text = (
        "intro\n```python\na = 1\n```\n\n````markdown\n```python\nnot = a block\n```\n````\n"
        "<!-- not run: needs a server -->\n```python title='x'\nb = 2\n```\n~~~bash\nls\n~~~\n"
    )
    blocks = list(python_blocks(text, tmp_path / "page.md"))
    assert [(b.line, b.code, b.skipped) for b in blocks] == [
        (2, "a = 1\n", None),
        (12, "b = 2\n", "needs a server"),
    ]


def test_the_readme_has_a_runnable_example() -> None:
    blocks = list(python_blocks((REPO / "README.md").read_text(encoding="utf-8"), REPO))
    assert any(b.skipped is None and "await chat.ask(" in b.code for b in blocks)


@pytest.fixture
def demo_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("LIVECHAT_") or name in PROVIDER_VARS or name == "OLLAMA_HOST":
            monkeypatch.delenv(name)
    monkeypatch.setenv("LIVECHAT_PROVIDER", "demo")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def runnable_blocks(page: Path) -> list[Block]:
    return [b for b in python_blocks(page.read_text(encoding="utf-8"), page) if b.skipped is None]


# The pages with a python example to run (the others have none: nothing to skip).
EXAMPLE_PAGES = [page for page in PAGES if runnable_blocks(page)]


def test_a_block_left_out_says_why() -> None:
    for page in PAGES:
        for block in python_blocks(page.read_text(encoding="utf-8"), page):
            assert block.skipped is None or block.skipped.strip(), (
                f"{block.where}: say why the block is not run"
            )
    assert len(EXAMPLE_PAGES) >= 5, "the user guide's pages show runnable examples"


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=page_id)
async def test_the_examples_of_a_page_run(page: Path, demo_folder: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    runnable = runnable_blocks(page)
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(colors="nocolor")
    try:
        for block in runnable:
            result = await shell.run_cell_async(
                block.code, store_history=True, transformed_cell=shell.transform_cell(block.code)
            )
            error = result.error_before_exec or result.error_in_exec
            assert error is None, f"{block.where}: the example fails: {error!r}"
    finally:
        from livechat_widget import ChatWidget

        for value in list(shell.user_ns.values()):
            if isinstance(value, ChatWidget):
                value.close()
        InteractiveShell.clear_instance()
