"""The widget inside a real JupyterLab (a subprocess with a temporary config, a token
and no browser; kernels pointed at the local fake provider), driven with Playwright +
Debian Chromium: a notebook cell, the right sidebar, and JupyterLab's own styles."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
expect.set_options(timeout=UI_WAIT_MS)


def open_notebook(new_context, lab, name: str, **context_options) -> Page:
    context = new_context(**context_options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(lab.url(f"lab/tree/{name}"), wait_until="domcontentloaded")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible()
    expect(
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
    ).to_have_attribute("data-status", "idle")
    # the kernel is connected (the status bar names it and says Idle)
    expect(page.locator(".jp-StatusBar-Widget").filter(has_text="| Idle")).to_have_count(1)
    return page


def cells(page: Page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def run_cell(page: Page, index: int) -> None:
    """Select a cell (command mode) and run it with Shift+Enter, as a person would."""
    cell = cells(page).nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _attempt in range(3):
        prompt.click()
        expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"))
        page.keyboard.press("Shift+Enter")
        try:  # queued or running: "[*]"; a key press lost while Lab settles: still "[ ]"
            expect(prompt).not_to_have_text(re.compile(r"^\[\s\]"), timeout=10_000)
            break
        except AssertionError:
            continue
    expect(prompt).to_have_text(re.compile(r"^\[\d+\]"))  # finished


def chat_in(scope):
    root = scope.locator(".livechat-root")
    return root, root.get_by_role("textbox", name="Message")


def test_demo_notebook_renders_the_widget_which_answers(
    start_lab, fake_provider, new_context, shot
):
    fake_provider.text = "Hello from the fake model, inside JupyterLab."
    lab = start_lab()
    page = open_notebook(new_context, lab, "demo.ipynb", accept_downloads=True)
    run_cell(page, 1)  # the cell that creates and shows the ChatWidget
    output = cells(page).nth(1).locator(".jp-OutputArea")
    root, box = chat_in(output)
    expect(box).to_be_editable()
    assert 590 <= root.bounding_box()["height"] <= 610  # the default height="600px"
    shot(page, "demo-widget")

    n_cells = cells(page).count()
    box.click()
    page.keyboard.type("Hi from a notebook cell")  # letters like a, b, m, d are Lab commands
    box.press("Enter")  # the widget's Enter, not JupyterLab's
    expect(root.locator(".lc-msg[data-role=user]")).to_contain_text("Hi from a notebook cell")
    reply = root.locator(".lc-msg[data-role=assistant]").last
    expect(reply).to_contain_text("Hello from the fake model, inside JupyterLab.")
    expect(root.get_by_role("button", name="Send")).to_be_visible()
    # the request went to the fake provider with the model and key from the kernel's env
    request = next(r for r in fake_provider.requests if r.path.endswith("/chat/completions"))
    assert request.json["model"] == "fake-model"
    assert request.headers.get("authorization") == "Bearer test-key"
    assert request.json["messages"][-1]["content"] == "Hi from a notebook cell"
    # JupyterLab did not take the keys typed into the widget (no cell added or changed)
    expect(cells(page)).to_have_count(n_cells)
    expect(cells(page).nth(1)).to_have_class(re.compile(r"\bjp-CodeCell\b"))
    assert list(lab.chat_logs.glob("*.csv"))
    shot(page, "demo-answered")

    # The chat menu's export is a download inside JupyterLab too.
    root.get_by_role("button", name="Chat menu").click()
    with page.expect_download() as download:
        root.get_by_role("menuitem", name="Export as Markdown").click()
    assert download.value.suggested_filename == "Hi-from-a-notebook-cell.md"
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Hi from a notebook cell" in markdown and "inside JupyterLab" in markdown
    expect(cells(page)).to_have_count(n_cells)
    assert page.errors == []


def test_sidebar_notebook_docks_a_working_chat_in_the_right_sidebar(
    start_lab, fake_provider, new_context, shot
):
    def numbered(request):
        n = sum(1 for r in fake_provider.requests if r.path.endswith("/chat/completions"))
        # a code line far wider than the 250 px panel: it scrolls inside its block
        return f"Sidebar reply #{n}.\n\n```python\nprint('{'wide ' * 30}')\n```"

    fake_provider.text = numbered
    lab = start_lab()
    page = open_notebook(new_context, lab, "sidebar.ipynb")
    run_cell(page, 1)  # chat = sidebar(title="Chat")

    right = page.locator("#jp-right-stack")
    root, box = chat_in(right)
    expect(box).to_be_editable()
    # nothing inline: the chat is in the sidebar only
    expect(cells(page).nth(1).locator(".livechat-root")).to_have_count(0)
    panel = right.bounding_box()
    widget = root.bounding_box()
    viewport = page.viewport_size
    assert widget["x"] > viewport["width"] / 2, widget  # on the right
    assert widget["width"] <= panel["width"] + 1 and widget["width"] < 400, (widget, panel)
    assert widget["height"] >= 0.8 * panel["height"], (widget, panel)  # fills the panel
    # the narrow layout at the sidebar's width: a top bar with the drawer toggle
    expect(root.get_by_role("button", name="Toggle chat list")).to_be_visible()
    scroll = root.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll[0] <= scroll[1] + 1, f"horizontal overflow in the sidebar: {scroll}"

    box.click()
    box.fill("Hello from the sidebar")
    box.press("Enter")
    expect(root.locator(".lc-msg[data-role=assistant]").last).to_contain_text("Sidebar reply #1.")
    expect(root.get_by_role("button", name="Send")).to_be_visible()
    # the reply fits the panel: its code block (with Copy) and its footer (the usage line
    # on a row of its own) end inside the message list, which does not scroll sideways
    log = root.locator(".lc-log")
    fits = log.evaluate(FITS_JS)
    assert fits["overflow"] == [], fits
    assert fits["scroll"][0] <= fits["scroll"][1] + 1, fits
    shot(page, "sidebar")

    run_cell(page, 3)  # await chat.ask("Hello from the notebook!") drives the docked chat
    expect(root.locator(".lc-msg[data-role=user]").last).to_contain_text("Hello from the notebook!")
    expect(root.locator(".lc-msg[data-role=assistant]").last).to_contain_text("Sidebar reply #2.")
    expect(cells(page).nth(3).locator(".jp-OutputArea")).to_contain_text("Sidebar reply #2.")

    # the drawer opens inside the 250 px panel
    root.get_by_role("button", name="Toggle chat list").click()
    expect(root.get_by_role("complementary", name="Chat list")).to_be_visible()
    expect(root.locator(".lc-chat-list .lc-chat-item")).to_have_count(1)
    shot(page, "sidebar-drawer")
    assert page.errors == []


# What in the message list ends past its right edge or its message's (a message paints
# nothing outside its box: content-visibility), be it a code block, a button, the footer.
FITS_JS = """
log => {
  const parts = '.lc-codeblock, .lc-codeblock button, .lc-actions, .lc-usage';
  const edge = el => Math.round(el.getBoundingClientRect().right);
  const overflow = [...log.querySelectorAll(parts)]
    .filter(el => el.getClientRects().length)
    .filter(el => edge(el) > Math.min(edge(log), edge(el.closest('.lc-msg'))) + 1)
    .map(el => el.className.split(' ')[0] + ' ends at ' + edge(el) + ', its message at '
      + edge(el.closest('.lc-msg')));
  return { overflow, right: edge(log), scroll: [log.scrollWidth, log.clientWidth] };
}
"""

SNAPSHOT_JS = """
([key, rootSelector]) => {
  const skip = new Set(document.querySelectorAll(rootSelector + ', ' + rootSelector + ' *'));
  const out = new Map();  // element -> its computed style, property by property
  for (const el of document.querySelectorAll('body, body *')) {
    if (skip.has(el)) continue;
    const cs = getComputedStyle(el);
    const values = new Map();
    for (let i = 0; i < cs.length; i++) values.set(cs[i], cs.getPropertyValue(cs[i]));
    out.set(el, values);
  }
  window[key] = out;
  return out.size;
}
"""

DIFF_JS = """
() => {
  const [a, b, c] = [window.__snapA, window.__snapB, window.__snapC];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].slice(0, 3).map(k => '.' + k).join('');
  const diffs = [];
  let compared = 0;
  for (const [el, va] of a) {
    const vb = b.get(el), vc = c.get(el);
    if (!vb || !vc) continue;  // came or went on its own (tooltips, status bar)
    compared++;
    for (const [prop, x] of va) {
      if (vc.get(prop) !== x) continue;  // changed on its own: not the widget's CSS
      if (vb.get(prop) !== x) diffs.push(`${name(el)} { ${prop}: ${x} -> ${vb.get(prop)} }`);
    }
  }
  return {compared, diffs: diffs.slice(0, 50)};
}
"""

TOGGLE_JS = """
(disabled) => {
  const sheets = [...document.querySelectorAll('style, link[rel=stylesheet]')]
    .filter(s => s.sheet && [...s.sheet.cssRules].some(r => r.cssText.includes('livechat-root')));
  sheets.forEach(s => { s.sheet.disabled = disabled; });
  return sheets.length;
}
"""


def test_widget_css_changes_nothing_outside_the_widget(start_lab, fake_provider, new_context):
    """Computed styles of every JupyterLab element, with and without the widget's CSS."""
    lab = start_lab()
    page = open_notebook(new_context, lab, "demo.ipynb")
    run_cell(page, 1)
    root, box = chat_in(cells(page).nth(1))
    expect(box).to_be_editable()
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(500)  # let transitions started by the clicks finish

    assert page.evaluate(TOGGLE_JS, False) >= 1, "the widget's stylesheet was not found"
    # The widget's own box is out of the comparison: hidden (inline, so in all three
    # snapshots alike), its size cannot move JupyterLab's elements around.
    root.evaluate("el => el.style.setProperty('display', 'none', 'important')")
    count = page.evaluate(SNAPSHOT_JS, ["__snapA", ".livechat-root"])
    assert count > 500  # JupyterLab's whole page
    assert page.evaluate(TOGGLE_JS, True) >= 1
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    page.evaluate(SNAPSHOT_JS, ["__snapB", ".livechat-root"])
    page.evaluate(TOGGLE_JS, False)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    page.evaluate(SNAPSHOT_JS, ["__snapC", ".livechat-root"])
    result = page.evaluate(DIFF_JS)
    root.evaluate("el => el.style.removeProperty('display')")
    expect(box).to_be_visible()
    assert result["compared"] > 500
    diffs = result["diffs"]
    assert diffs == [], "the widget's CSS changed JupyterLab's elements:\n" + "\n".join(diffs)
    assert page.errors == []


TOTALS_JS = """
panel => [...panel.querySelectorAll('dl > div')].map(item => {
  const [dt, dd] = [item.querySelector('dt'), item.querySelector('dd')];
  const box = el => { const r = el.getBoundingClientRect();
                      return {x: r.x, y: r.y, right: r.right, bottom: r.bottom}; };
  return {
    label: dt.textContent, value: dd.textContent,
    float: [getComputedStyle(dt).float, getComputedStyle(dd).float],
    width: [getComputedStyle(dt).width, getComputedStyle(dd).width],
    item: box(item), dt: box(dt), dd: box(dd),
  };
})
"""


def test_stats_totals_do_not_float_or_overlap_in_a_notebook_output(
    start_lab, fake_provider, new_context, shot
):
    """JupyterLab's output-area CSS floats dt/dd (width 20%/80%); the widget's reset undoes it."""
    fake_provider.text = "Counting replies."
    lab = start_lab()
    page = open_notebook(new_context, lab, "demo.ipynb")
    run_cell(page, 1)
    root, box = chat_in(cells(page).nth(1).locator(".jp-OutputArea"))
    expect(box).to_be_editable()
    box.fill("Hello")
    box.press("Enter")
    expect(root.locator(".lc-msg[data-role=assistant]").last).to_contain_text("Counting replies.")
    root.get_by_role("button", name="Stats").click()
    panel = root.get_by_role("region", name="Reply statistics")
    expect(panel).to_be_visible()
    expect(panel.locator("dd").first).to_have_text("1")  # one reply counted
    shot(page, "stats-panel")
    totals = panel.evaluate(TOTALS_JS)
    labels = ["Replies", "Completed", "Stopped", "Errors", "Completion tokens"]
    assert [t["label"] for t in totals] == labels
    for t in totals:
        assert t["float"] == ["none", "none"], t
        dt, dd, item = t["dt"], t["dd"], t["item"]
        assert dd["y"] >= dt["bottom"] - 0.5, f"the value overlaps its label: {t}"
        for el in (dt, dd):  # both inside their own box
            assert item["x"] <= el["x"] and el["right"] <= item["right"] + 0.5, t
            assert item["y"] <= el["y"] and el["bottom"] <= item["bottom"] + 0.5, t
    assert page.errors == []
