"""The "Ask livechat" button under an error, in a real JupyterLab and a real Notebook 7
(Playwright + Debian Chromium, kernels pointed at the fake provider): a cell shows a
chat, a cell calls a function that raises; the button shows under the traceback; pressing it puts
the prompt and the `error [N]` chip into the chat's composer, whose text holds the
frame's locals (a DataFrame's shape and columns, an int, the secret-looking name
withheld, never its value); sent, the chat's CSV has the `context` row and the model
received the block."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from notebook_files import write_notebook as notebook_file
from playwright.sync_api import Locator, Page, expect
from test_jupyterlab import cells, open_notebook, run_cell
from test_notebook7 import notebook7  # noqa: F401 - the fixture
from test_notebook7 import run_cell as run_cell_nb7
from test_voila_app import axe_violations

KEY = "sk-e2e-1234567890abcdef"
PROMPT = "This cell raised ZeroDivisionError. Explain why and how to fix it."
ERROR = "error [2]"  # the second cell run in a fresh kernel
SETUP = {  # cell 0: where the chat is
    "inline": "chat = ChatWidget(store=os.environ['LIVECHAT_CHAT_LOGS'], height='460px')\nchat",
    "none": "livechat_widget.error_help()  # no chat yet",
    "sidebar": "chat = livechat_widget.sidebar()",
}
FAILING = (
    "def f():\n"
    '    df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 31.2]})\n'
    "    n = 3\n"
    f'    api_key = "{KEY}"\n'
    "    return n / 0\n"
    "\n"
    "f()"
)


def notebook(setup: str) -> list[str]:
    head = (
        "import os\n"
        "import livechat_widget\n"
        "import pandas as pd\n"
        "from livechat_widget import ChatWidget\n"
        "print('livechat_widget from', livechat_widget.__file__)\n"
    )
    return [head + SETUP[setup], FAILING]


def write_notebook(root: Path, setup: str = "inline", name: str = "errors.ipynb") -> str:
    return notebook_file(root, name, notebook(setup))


def ask_and_check_the_draft(page: Page, cell_list: Locator, shot, chat: Locator | None = None):
    """Press "Ask livechat" under cell 1's traceback; the chat (``chat``, else the one
    of cell 0) gets the draft. Returns the chat's root."""
    output = cell_list.nth(1).locator(".jp-OutputArea")
    traceback = output.locator("[data-mime-type='application/vnd.jupyter.stderr']")
    expect(traceback).to_contain_text("ZeroDivisionError")
    button = output.get_by_role("button", name="Ask livechat")
    expect(button).to_be_visible()
    assert button.bounding_box()["width"] < 300  # a small button, not a banner
    # under the traceback, which stays as IPython prints it
    assert button.bounding_box()["y"] > traceback.bounding_box()["y"]
    shot(page, "button-under-traceback")

    button.click()
    root = chat if chat is not None else cell_list.nth(0).locator(".livechat-root")
    box = root.get_by_role("textbox", name="Message")
    expect(box).to_have_value(PROMPT)
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()  # scrolled into view
    chip = root.locator(f'.lc-chip[data-name="{ERROR}"]')
    expect(chip).to_be_visible()
    chip.locator(".lc-chip-show").click()
    preview = root.locator(".lc-chip-text")
    expect(preview).to_contain_text("ZeroDivisionError: division by zero")
    expect(preview).to_contain_text("df: pandas DataFrame, 3 rows × 2 columns")
    expect(preview).to_contain_text("- city: ")
    expect(preview).to_contain_text("- temp: float64")
    expect(preview).to_contain_text("- n: int: 3")
    expect(preview).to_contain_text("api_key: str (value withheld")
    assert KEY not in preview.inner_text()
    root.scroll_into_view_if_needed()
    shot(page, "draft-in-composer")
    assert axe_violations(page) == []
    return root


def send_and_check_the_row(page: Page, root: Locator, chat_logs: Path, fake_provider, shot):
    box = root.get_by_role("textbox", name="Message")
    box.press("Enter")
    expect(root.locator(".lc-msg[data-role=user]").last).to_contain_text(PROMPT)
    expect(root.get_by_role("button", name="Send")).to_be_visible()  # the reply ended
    expect(root.locator(".lc-msg[data-role=assistant]").last).to_contain_text("fake")
    shot(page, "sent")
    (path,) = chat_logs.glob("*.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    (context,) = [r for r in rows if r["role"] == "context"]
    assert f'<context name="{ERROR}" kind="error">' in context["content"]
    assert "3 rows × 2 columns" in context["content"] and "- n: int: 3" in context["content"]
    assert KEY not in path.read_text(encoding="utf-8")
    sent = fake_provider.requests[-1].json["messages"][-1]["content"]
    assert "3 rows × 2 columns" in sent and sent.endswith(PROMPT) and KEY not in sent


@pytest.mark.parametrize("setup", ["inline", "none", "sidebar"])
def test_ask_livechat_in_jupyterlab(start_lab, fake_provider, new_context, shot, setup):
    """The chat shown in a cell; no chat yet (`error_help()`: one shows under the
    button); the chat in the right sidebar."""
    fake_provider.text = "A fake answer: n / 0 divides by zero."
    lab = start_lab()
    page = open_notebook(new_context, lab, write_notebook(lab.root, setup))
    run_cell(page, 0)
    print(cells(page).nth(0).locator(".jp-OutputArea-output").first.inner_text())
    chat = {
        "inline": cells(page).nth(0).locator(".livechat-root"),
        "none": cells(page).nth(1).locator(".jp-OutputArea .livechat-root"),
        "sidebar": page.locator("#jp-right-stack .livechat-root"),
    }[setup]
    if setup != "none":
        expect(chat).to_be_visible()
    run_cell(page, 1)
    expect(page.locator(".livechat-root")).to_have_count(0 if setup == "none" else 1)
    root = ask_and_check_the_draft(page, cells(page), shot, chat)
    expect(page.locator(".livechat-root")).to_have_count(1)  # that one chat, no other
    if setup == "none":  # the new chat is under the button
        button = cells(page).nth(1).get_by_role("button", name="Ask livechat")
        assert root.bounding_box()["y"] > button.bounding_box()["y"]
        assert root.bounding_box()["width"] > 600  # the cell's width, not squeezed
    send_and_check_the_row(page, root, lab.chat_logs, fake_provider, shot)
    assert page.errors == []


def test_ask_livechat_in_notebook7(notebook7, fake_provider, new_context, shot):  # noqa: F811
    fake_provider.text = "A fake answer: n / 0 divides by zero."
    name = write_notebook(Path(notebook7.chat_logs).parent / "root")
    page = new_context().new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(exc.stack or str(exc)))
    page.goto(notebook7.url(f"notebooks/{name}"), wait_until="domcontentloaded")
    cell_list = page.locator(".jp-Notebook .jp-Cell")
    expect(cell_list.first).to_be_visible()
    expect(page.locator(".jp-Notebook-ExecutionIndicator").first).to_have_attribute(
        "data-status", "idle"
    )
    run_cell_nb7(page, 0)
    expect(cell_list.nth(0).locator(".livechat-root")).to_be_visible()
    run_cell_nb7(page, 1)
    root = ask_and_check_the_draft(page, cell_list, shot)
    send_and_check_the_row(page, root, notebook7.chat_logs, fake_provider, shot)
    assert [e for e in page.errors if "livechat_widget" in e or "widget.js" in e] == []
