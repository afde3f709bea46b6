"""Export of a chat as Markdown, JSON (every row) and a Jupyter notebook, from Python and
from the widget's chat menu (the browser's `export` message)."""

from __future__ import annotations

import json

import nbformat
import pytest
from widget_doubles import browser, make_widget, settle

from livechat_widget.chat_export import FORMAT_NAME, export_chat, filename
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import HEADER, ChatNotFound, CsvStore
from livechat_widget.markdown_text import inert, split_fences

REPLY = """Here is how:

```python
def add(a, b):
    return a + b
```

Run it in a shell:

```bash
echo "<b>not html</b>"
```

Careful with `<tags>` and <script>alert("model")</script>, and this image:
![tracker](https://tracker.example/pixel.png)

```py
print(add(2, 3))
```"""

USER = "Can you show me?\n\n```python\nprint('a user snippet stays text')\n```"


def sample_chat(root):
    store = CsvStore(root)
    registry = ChatRegistry(store)
    info = registry.new()
    registry.append(info.id, "system", "Answer briefly.", user_id="ada")
    registry.append(info.id, "user", USER, user_id="ada")
    registry.append(info.id, "assistant", REPLY, user_id="ada")
    store.append(info.id, "context", "x: int = 42", user_id="ada")
    registry.append(info.id, "user", "And <img src=x onerror=alert(1)>?", user_id="ada")
    registry.append(info.id, "assistant", "Part", user_id="ada", status="stopped")
    registry.rename(info.id, "Adding <numbers>")
    return store, info.id


def test_json_export_holds_every_row_exactly(tmp_path):
    store, chat_id = sample_chat(tmp_path / "logs")
    exported = export_chat(store, chat_id, "json")
    assert exported.filename == "Adding-numbers.json" and exported.mime == "application/json"
    document = json.loads(exported.text)
    assert document["format"] == FORMAT_NAME and document["version"] == 1
    (chat,) = document["chats"]
    assert chat["id"] == chat_id and chat["title"] == "Adding <numbers>"
    rows = [tuple(r[k] for k in HEADER) for r in chat["rows"]]
    assert rows == [tuple(r.__getattribute__(k) for k in HEADER) for r in store.load(chat_id)]
    assert {r[2] for r in rows} == {"system", "user", "assistant", "context", "status", "title"}


def test_markdown_export_keeps_the_text_and_makes_model_html_inert(tmp_path):
    store, chat_id = sample_chat(tmp_path / "logs")
    exported = export_chat(store, chat_id, "markdown")
    text = exported.text
    assert exported.filename == "Adding-numbers.md" and exported.mime == "text/markdown"
    assert text.startswith("# Adding &lt;numbers>\n")
    headings = [line.split(" · ")[0] for line in text.splitlines() if line.startswith("### ")]
    assert headings == ["### System", "### User", "### Assistant", "### User", "### Assistant"]
    # code blocks and code spans exactly as written
    assert "```python\ndef add(a, b):\n    return a + b\n```" in text
    assert 'echo "<b>not html</b>"' in text and "`<tags>`" in text
    # raw HTML and images from the model are text, not markup
    assert "<script>" not in text and "&lt;script>alert" in text
    assert "<img" not in text and "&lt;img src=x" in text
    assert "![tracker]" not in text and "&#33;[tracker](https://tracker.example/pixel.png)" in text
    assert "*(stopped before the reply was complete)*" in text
    assert str(tmp_path) not in text  # no paths


def test_ipynb_export_is_a_valid_notebook_with_reply_code_as_code_cells(tmp_path):
    store, chat_id = sample_chat(tmp_path / "logs")
    exported = export_chat(store, chat_id, "ipynb")
    assert exported.filename == "Adding-numbers.ipynb"
    notebook = nbformat.reads(exported.text, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["def add(a, b):\n    return a + b", "print(add(2, 3))"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)  # nothing ran
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "print('a user snippet stays text')" in markdown  # user code is not a cell
    assert '```bash\necho "<b>not html</b>"\n```' in markdown  # only Python becomes cells
    assert "<script>" not in markdown and "&lt;img src=x" in markdown
    assert "![tracker]" not in markdown
    # the message order is kept: the first code cell follows the reply's heading
    kinds = [c.cell_type for c in notebook.cells]
    first_code = kinds.index("code")
    assert notebook.cells[first_code - 1].source.startswith("### Assistant")
    assert notebook.metadata.kernelspec.name == "python3"
    assert str(tmp_path) not in exported.text


def test_bad_requests(tmp_path):
    store, chat_id = sample_chat(tmp_path / "logs")
    with pytest.raises(ValueError, match="format must be one of"):
        export_chat(store, chat_id, "pdf")
    with pytest.raises(ChatNotFound):
        export_chat(store, "11111111-1111-4111-8111-111111111111", "json")
    with pytest.raises(ValueError):
        export_chat(store, "../../etc/passwd", "json")


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Decorators", "Decorators.md"),
        ("../../etc/passwd", "etc-passwd.md"),
        ("Déjà vu: a/b\\c", "Déjà-vu-a-b-c.md"),
        ("???", "chat.md"),
        ("x" * 100, "x" * 60 + ".md"),
    ],
)
def test_file_names_come_from_the_title_and_are_safe(title, name):
    assert filename(title, ".md") == name


def test_split_fences_keeps_the_text_and_finds_code():
    text = "a\n````python\n```\ninner\n```\n````\n~~~\nx <y>\n~~~\n  ```js\n  z\n  ```\nend"
    blocks = split_fences(text)
    assert "".join(b.text for b in blocks) == text
    fenced = [b for b in blocks if b.fenced]
    assert [(b.language, b.code, b.top_level) for b in fenced] == [
        ("python", "```\ninner\n```\n", True),
        ("", "x <y>\n", True),
        ("js", "z\n", True),
    ]
    unclosed = split_fences("text\n```python\nprint(1)\n")
    assert unclosed[-1].fenced and unclosed[-1].code == "print(1)\n"
    nested = split_fences("- item\n\n      ```python\n      x = 1\n      ```\n")
    assert [b.top_level for b in nested if b.fenced] == [False]


def test_inert_escapes_html_outside_code_only():
    assert inert("a <b>x</b> `<b>` ``<i>`` b") == "a &lt;b>x&lt;/b> `<b>` ``<i>`` b"
    assert inert("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"
    assert inert("```html\n<div>\n```") == "```html\n<div>\n```"
    assert inert("an unclosed ` <b>") == "an unclosed ` &lt;b>"
    assert inert("<!-- hidden --> <?php ?>") == "&lt;!-- hidden --> &lt;?php ?>"


# -- from the widget ------------------------------------------------------------------


def capture(widget):
    sent = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append((data, buffers))
    return sent


async def test_python_export_of_the_active_chat(tmp_path):
    widget = make_widget(tmp_path)
    with pytest.raises(ValueError, match="no chat is open"):
        widget.export()
    await widget.ask("Hi there")
    await settle(widget)
    markdown = widget.export()
    assert "### User" in markdown and "Hi there" in markdown and "Hello there" in markdown
    assert json.loads(widget.export(format="json"))["chats"][0]["id"] == widget.active_chat_id
    nbformat.validate(nbformat.reads(widget.export(widget.active_chat_id, "ipynb"), 4))
    with pytest.raises(ValueError, match="format must be one of"):
        widget.export(format="docx")


def test_the_chat_menu_export_sends_the_file_to_the_view_that_asked(tmp_path):
    store, chat_id = sample_chat(tmp_path / "logs")
    widget = make_widget(tmp_path)
    sent = capture(widget)
    browser(widget, type="export", chat_id=chat_id, format="ipynb", request="view1-7")
    ((data, buffers),) = sent
    message = data["content"]
    assert data["method"] == "custom"
    assert message == {
        "type": "export",
        "chat_id": chat_id,
        "request": "view1-7",
        "format": "ipynb",
        "filename": "Adding-numbers.ipynb",
        "mime": "application/x-ipynb+json",
    }
    (payload,) = buffers
    assert bytes(payload).decode("utf-8") == export_chat(store, chat_id, "ipynb").text
    assert widget.error == ""


@pytest.mark.parametrize(
    "msg",
    [
        {"format": "pdf", "request": "r1"},
        {"format": "json", "request": ""},
        {"format": "json", "request": "../x"},
        {"format": "json", "request": "r" * 65},
        {"format": "json"},
        {"format": ["json"], "request": "r1"},
        {"format": "json", "request": "r1", "chat_id": "not-a-chat"},
        {"format": "json", "request": "r1", "chat_id": "11111111-1111-4111-8111-111111111111"},
    ],
)
def test_a_bad_export_request_sends_nothing_and_says_why(tmp_path, msg):
    _, chat_id = sample_chat(tmp_path / "logs")
    widget = make_widget(tmp_path)
    sent = capture(widget)
    browser(widget, **{"type": "export", "chat_id": chat_id, **msg})
    answers = [d["content"] for d, _ in sent if d.get("method") == "custom"]
    # Only a refusal, and only to a request whose id could be read (so its view stops
    # waiting); never a file.
    refusal = {"type": "refused", "request": "r1", "error": widget.error}
    assert answers == ([refusal] if msg.get("request") == "r1" else [])
    assert widget.error
    assert str(tmp_path) not in widget.error
