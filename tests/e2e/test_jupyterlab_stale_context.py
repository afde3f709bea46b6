"""Stale-context warnings in a real JupyterLab (Playwright + Debian Chromium, the fake
provider): `@df` is sent, a cell drops rows and adds a column, and a badge over the
composer names `df` and the change; Refresh sends `df` again (a fresh `context` row in
the chat file); after another change Ignore sends the next message without it."""

from __future__ import annotations

import csv
from pathlib import Path

from notebook_files import write_notebook as notebook_file
from playwright.sync_api import Page, expect
from test_jupyterlab import cells, chat_in, open_notebook, run_cell
from test_voila_app import axe_violations

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = [
    "import livechat_widget, numpy as np, pandas as pd\n"
    "print(livechat_widget.__file__)\n"
    'df = pd.DataFrame({"customer": range(2000), "age": np.linspace(20.0, 70.0, 2000)})',
    "import os\nfrom livechat_widget import ChatWidget\n"
    'chat = ChatWidget(store=os.environ["LIVECHAT_CHAT_LOGS"])\nchat',
    'df = df.iloc[:797].copy()\ndf["tenure_bucket"] = "new"',
    "df = df.head(10)",
]


def write_notebook(root: Path, name: str = "stale.ipynb") -> str:
    return notebook_file(root, name, NOTEBOOK)


def rows(chat_logs: Path) -> list[dict[str, str]]:
    (path,) = sorted(chat_logs.glob("*.csv"))
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["role"] not in ("partial", "usage")]


def before_last_user(chat_logs: Path) -> list[str]:
    """The roles of the rows just before the chat's last user row."""
    roles = [r["role"] for r in rows(chat_logs)]
    at = len(roles) - 1 - roles[::-1].index("user")
    return roles[max(0, at - 2) : at]


def send(page: Page, root, box, text: str, replies: int) -> None:
    box.click()
    page.keyboard.type(text)
    box.press("Enter")
    expect(root.locator(".lc-msg[data-role=assistant]")).to_have_count(replies)
    expect(root.get_by_role("button", name="Send")).to_be_visible()


def test_a_changed_dataframe_is_named_refreshed_and_ignored(
    start_lab, fake_provider, new_context, shot
):
    fake_provider.text = "df has 2,000 customers."
    lab = start_lab()
    page = open_notebook(new_context, lab, write_notebook(lab.root))
    run_cell(page, 0)
    # the kernel imports this checkout's package (PYTHONPATH reaches the server's kernels)
    expect(cells(page).nth(0).locator(".jp-OutputArea")).to_contain_text(
        str(REPO / "livechat_widget")
    )
    run_cell(page, 1)
    root, box = chat_in(cells(page).nth(1).locator(".jp-OutputArea"))
    expect(box).to_be_editable()
    badge = root.locator(".lc-stale")

    # 1. @df goes with a question: what the model saw is recorded
    box.click()
    page.keyboard.type("@df")
    picker = root.get_by_role("listbox", name="Kernel context")
    expect(picker.get_by_role("option").first).to_have_attribute("data-name", "df")
    page.keyboard.press("Enter")
    send(page, root, box, "How many customers?", 1)
    assert before_last_user(lab.chat_logs) == ["context", "context_fingerprint"]
    expect(badge).to_be_hidden()

    # 2. a cell drops rows and adds a column: the badge says so
    run_cell(page, 2)
    expect(badge).to_be_visible()
    expect(badge).to_contain_text(
        "df changed since the model saw it: 1,203 fewer rows, new column tenure_bucket"
    )
    expect(root.locator(".lc-stale-wrap [role=status]")).to_contain_text("1,203 fewer rows")
    badge.scroll_into_view_if_needed()
    shot(page, "badge")
    assert axe_violations(page) == []

    # 3. Refresh: df becomes a chip, and the next message carries its new description
    badge.get_by_role("button", name="Refresh df").click()
    expect(root.locator(".lc-context-chips .lc-chip")).to_have_count(1)
    expect(badge).to_be_hidden()
    send(page, root, box, "And now?", 2)
    assert before_last_user(lab.chat_logs) == ["context", "context_fingerprint"]
    context_rows = [r for r in rows(lab.chat_logs) if r["role"] == "context"]
    assert len(context_rows) == 2 and "797 rows × 3 columns" in context_rows[-1]["content"]
    sent = fake_provider.requests[-1].json["messages"][-1]["content"]
    assert "797 rows × 3 columns" in sent and sent.endswith("And now?")
    expect(badge).to_be_hidden()

    # 4. changed again; Ignore: the next message goes without it
    run_cell(page, 3)
    expect(badge).to_contain_text("787 fewer rows")
    badge.get_by_role("button", name="Ignore df").focus()
    page.keyboard.press("Enter")  # reachable and pressed from the keyboard
    expect(badge).to_be_hidden()
    send(page, root, box, "Go on", 3)
    assert before_last_user(lab.chat_logs) == ["user", "assistant"]
    assert "<context" not in fake_provider.requests[-1].json["messages"][-1]["content"]
    expect(badge).to_be_hidden()
    shot(page, "after-ignore")
    assert page.errors == []
