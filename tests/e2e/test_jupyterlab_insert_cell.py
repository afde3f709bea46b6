"""Insert as cell in a real JupyterLab and a real Notebook 7 with ipylab,
driven with Playwright + Debian Chromium: a reply's Python block becomes a new cell
right below the active one, with exactly the block's text — read from the page and,
after a save, from the notebook file itself."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
from notebook_files import write_notebook as notebook_file
from playwright.sync_api import Page, expect
from test_jupyterlab import chat_in, open_notebook
from test_notebook7 import notebook7  # noqa: F401 - the fixture

from conftest import UI_WAIT_MS

REPLY = (
    "Here is a helper:\n\n```python\ndef scale(values, factor=2):\n"
    '    """Every value times factor."""\n    return [v * factor for v in values]\n\n'
    "print(scale([1, 2, 3]))\n```\n\nAnd in JavaScript:\n\n```js\nconsole.log(1)\n```\n"
)
BLOCK = (
    "def scale(values, factor=2):\n"
    '    """Every value times factor."""\n    return [v * factor for v in values]\n\n'
    "print(scale([1, 2, 3]))"
)
NOTEBOOK = [
    "import os\nfrom livechat_widget import ChatWidget\n"
    'chat = ChatWidget(store=os.environ["LIVECHAT_CHAT_LOGS"])\nchat',
    'print("the cell after the chat")',
]


def write_notebook(root: Path, name: str = "insert.ipynb") -> str:
    return notebook_file(root, name, NOTEBOOK)


def notebook_cells(page: Page):
    # JupyterLab's visible notebook panel; Notebook 7 shows one notebook per page
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def saved_sources(path: Path, expected: list[str]) -> list[str]:
    """The cells' sources in the file, once a save wrote them (or the last ones read)."""
    deadline = time.monotonic() + UI_WAIT_MS / 1000
    while True:
        sources = [c.source for c in nbformat.read(path, as_version=4).cells]
        if sources == expected or time.monotonic() > deadline:
            return sources
        time.sleep(0.2)


def cell_text(cell) -> str:
    """The text of a cell's editor, line by line as CodeMirror holds it."""
    return "\n".join(cell.locator(".cm-line").all_text_contents())


def run_first_cell(page: Page) -> None:
    cell = notebook_cells(page).first
    prompt = cell.locator(".jp-InputPrompt")
    for _attempt in range(3):
        prompt.click()
        expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"))
        page.keyboard.press("Control+Enter")  # run in place: the chat's cell stays active
        try:
            expect(prompt).not_to_have_text(re.compile(r"^\[\s\]"), timeout=10_000)
            break
        except AssertionError:
            continue
    expect(prompt).to_have_text(re.compile(r"^\[\d+\]"))


def ask_for_code(page: Page, fake_provider):
    fake_provider.text = REPLY
    root, box = chat_in(notebook_cells(page).first.locator(".jp-OutputArea"))
    expect(box).to_be_editable()
    box.click()
    page.keyboard.type("A helper please")
    box.press("Enter")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    expect(reply).to_contain_text("return [v * factor for v in values]")
    return reply


def insert_and_check(page: Page, reply, shot, saved: Path) -> None:
    python, js = reply.locator(".lc-codeblock").nth(0), reply.locator(".lc-codeblock").nth(1)
    insert = python.get_by_role("button", name="Insert as cell")
    expect(insert).to_be_visible()  # ipylab's front end answered the kernel
    expect(js.get_by_role("button", name="Insert as cell")).to_have_count(0)
    shot(page, "insert-button", clip=python.bounding_box())
    cells = notebook_cells(page)
    expect(cells).to_have_count(2)
    insert.click()
    expect(cells).to_have_count(3)
    new = cells.nth(1)  # right below the chat's cell, which was the active one
    expect(new).to_have_class(re.compile(r"\bjp-mod-active\b"))
    expect(new.locator(".cm-content")).to_contain_text("print(scale([1, 2, 3]))")
    assert cell_text(new) == BLOCK
    assert cell_text(cells.nth(2)) == NOTEBOOK[1]
    new.scroll_into_view_if_needed()
    shot(page, "inserted-cell")

    # the notebook's model holds it: save, and read the file
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    assert saved_sources(saved, [NOTEBOOK[0], BLOCK, NOTEBOOK[1]]) == [
        NOTEBOOK[0],
        BLOCK,
        NOTEBOOK[1],
    ]
    nbformat.validate(nbformat.read(saved, as_version=4))

    # the inserted code runs like any cell
    new.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    expect(new.locator(".jp-OutputArea")).to_have_text(re.compile(r"^\s*\[2, 4, 6\]\s*$"))


def test_insert_as_cell_in_jupyterlab(start_lab, fake_provider, new_context, shot):
    lab = start_lab()
    name = write_notebook(lab.root)
    page = open_notebook(new_context, lab, name)
    run_first_cell(page)
    reply = ask_for_code(page, fake_provider)
    insert_and_check(page, reply, shot, lab.root / name)
    assert page.errors == []
    # nothing about the chat changed: the chat file holds the two messages only
    (csv_file,) = lab.chat_logs.glob("*.csv")
    assert "custom-menu" not in csv_file.read_text(encoding="utf-8")


SIDEBAR_NOTEBOOK = [
    "from livechat_widget import sidebar\nchat = sidebar()",
    "a = 1",
    "b = 2",
]


def test_from_the_sidebar_into_the_notebook_in_front_and_a_refusal_without_one(
    start_lab, fake_provider, new_context, shot
):
    """The chat docked in the sidebar inserts below the active cell of the notebook in
    front; with a launcher in front instead, the widget says why nothing happened."""
    lab = start_lab()
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in SIDEBAR_NOTEBOOK],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
    )
    nbformat.write(nb, lab.root / "side.ipynb")
    page = open_notebook(new_context, lab, "side.ipynb")
    run_first_cell(page)
    fake_provider.text = REPLY
    root, box = chat_in(page.locator("#jp-right-stack"))
    expect(box).to_be_editable()
    box.click()
    page.keyboard.type("A helper please")
    box.press("Enter")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    insert = reply.get_by_role("button", name="Insert as cell")
    expect(insert).to_be_visible()

    cells = notebook_cells(page)
    cells.nth(1).locator(".jp-InputPrompt").click()  # "a = 1" is the active cell
    expect(cells.nth(1)).to_have_class(re.compile(r"\bjp-mod-active\b"))
    insert.click()
    expect(cells).to_have_count(4)
    expect(cells.nth(2).locator(".cm-content")).to_contain_text("print(scale([1, 2, 3]))")
    assert [cell_text(cells.nth(i)) for i in range(4)] == [
        SIDEBAR_NOTEBOOK[0],
        SIDEBAR_NOTEBOOK[1],
        BLOCK,
        SIDEBAR_NOTEBOOK[2],
    ]
    shot(page, "inserted-from-sidebar")

    # a launcher in front: no notebook to insert into
    page.keyboard.press("Escape")
    page.locator("#jp-main-dock-panel").get_by_role("button", name="New Launcher").first.click()
    expect(page.locator(".jp-Launcher").first).to_be_visible()
    insert.click()
    banner = root.get_by_role("alert")
    expect(banner).to_contain_text("needs a notebook")
    page.get_by_role("tab", name=re.compile(r"side\.ipynb")).click()
    expect(cells).to_have_count(4)  # nothing was added
    assert page.errors == []


def test_insert_as_cell_in_notebook7(notebook7, fake_provider, new_context, shot):  # noqa: F811
    root = notebook7.chat_logs.parent / "root"
    name = write_notebook(root)
    page = new_context().new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(exc.stack or str(exc)))
    page.goto(notebook7.url(f"notebooks/{name}"), wait_until="domcontentloaded")
    expect(notebook_cells(page).first).to_be_visible()
    assert f"/notebooks/{name}" in page.url  # Notebook 7's own page, not JupyterLab's
    expect(
        page.locator(".jp-Notebook-ExecutionIndicator, #jp-NotebookKernelStatus").first
    ).to_be_attached()
    run_first_cell(page)
    reply = ask_for_code(page, fake_provider)
    insert_and_check(page, reply, shot, root / name)
    # Notebook 7.6 throws "Cannot read properties of undefined (reading 'schema')" from
    # its shortcuts settings while the page loads, ipylab installed or not (checked);
    # none may come from the widget or ipylab.
    mine = ("livechat_widget", "widget.js", "ipylab")
    assert [e for e in page.errors if any(m in e for m in mine)] == []
