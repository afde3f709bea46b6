"""Prompt templates (prompt_templates.py): the composer's `/` commands from Markdown
files — the built-ins, ~/.config/livechat/prompts/ and <chat folder>/prompts/ —,
their strict front matter, `chat.prompts` and the `prompt_templates` trait."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from widget_doubles import browser, make_widget

from livechat_widget import prompt_templates
from livechat_widget.prompt_templates import (
    MAX_FILE_BYTES,
    PromptLibrary,
    PromptTemplate,
    TemplateError,
    parse_template,
    user_prompts_dir,
)

SUMMARY = """---
name: summary
description: Summarize a DataFrame for a report
context: [recent cells]
---
Summarize {{df}} by {{ column }}; then {{df}} again.
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "livechat" / "prompts"


def library(chat_folder: Path, problems: list[str] | None = None) -> PromptLibrary:
    return PromptLibrary.for_chat_folder(
        chat_folder, report=None if problems is None else problems.append
    )


# -- one file


def test_a_template_file_parses_with_its_placeholders_and_renders():
    t = parse_template(SUMMARY, "whatever", "summary.md")
    assert (t.name, t.description, t.context, t.source) == (
        "summary",
        "Summarize a DataFrame for a report",
        ("recent cells",),
        "yours",
    )
    assert t.body == "Summarize {{df}} by {{ column }}; then {{df}} again."
    assert t.placeholders == ("df", "column")
    assert t.render(df="sales", column="region") == "Summarize sales by region; then sales again."
    with pytest.raises(
        ValueError, match=r"needs a value for \{\{column\}\}: render\(column=\.\.\.\)"
    ):
        t.render(df="sales")
    with pytest.raises(ValueError, match="has no placeholder colour"):
        t.render(df="sales", column="region", colour="red")
    with pytest.raises(TypeError, match=r"\{\{df\}\} must be a str"):
        t.render(df=3, column="region")  # type: ignore[arg-type]


def test_without_front_matter_the_name_is_the_stem_and_the_first_line_describes_it():
    t = parse_template("Review this notebook for leaks.\n\nBe thorough.", "Review", "Review.md")
    assert (t.name, t.description, t.context) == ("review", "Review this notebook for leaks.", ())
    assert PromptTemplate("x", "d", "no placeholders").render() == "no placeholders"


@pytest.mark.parametrize(
    ("text", "stem", "message"),
    [
        ("---\nname: a\nBody", "a", r"a\.md, line 1: the front matter has no closing '---' line"),
        ("---\nname: a\njust words\n---\nBody", "a", r"a\.md, line 3: not a 'key: value' line"),
        (
            "---\ntitle: A\n---\nBody",
            "a",
            r"a\.md, line 2: unknown key 'title' \(a template has name, description, context\)",
        ),
        ("---\nname: a\nname: b\n---\nBody", "a", r"a\.md, line 3: 'name' is given twice"),
        (
            "---\nname: Big Name\n---\nBody",
            "a",
            r"a\.md, line 2: the name 'Big Name' is not a template name",
        ),
        (
            "Body",
            "my prompt",
            r"a\.md, line 1: the name 'my prompt' is not a template name .*rename the file",
        ),
        ("---\nname: model\n---\nBody", "a", r"a\.md, line 2: /model is a command of the chat"),
        (
            "---\nname: a\n---\n\n",
            "a",
            r"a\.md, line 2: the template has no text after its front matter",
        ),
        (
            "---\ncontext: recent cells\n---\nBody",
            "a",
            r"a\.md, line 2: context is a list in brackets",
        ),
        (
            "---\ndescription: " + "x" * 201 + "\n---\nBody",
            "a",
            r"a\.md, line 2: the description is over 200",
        ),
    ],
)
def test_front_matter_that_is_not_valid_is_refused_with_the_file_and_line(text, stem, message):
    with pytest.raises(TemplateError, match=message):
        parse_template(text, stem, "a.md")


def test_files_too_big_or_not_utf8_are_refused(tmp_path):
    big = write(tmp_path, "big.md", "x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(TemplateError, match=r"big\.md: over 32 KB"):
        prompt_templates.read_template(big, "big.md")
    latin = write(tmp_path, "latin.md", b"---\nname: latin\n---\ncaf\xe9\n")
    with pytest.raises(TemplateError, match=r"latin\.md, line 4: not UTF-8 text"):
        prompt_templates.read_template(latin, "latin.md")
    crlf = write(tmp_path, "crlf.md", b"\xef\xbb\xbf---\r\nname: crlf\r\n---\r\nHi {{x}}\r\n")
    assert prompt_templates.read_template(crlf, "crlf.md").body == "Hi {{x}}"


# -- the folders


def test_built_ins_then_the_persons_folders_with_their_precedence(tmp_path, user_dir):
    chat = tmp_path / "chat_logs"
    write(user_dir, "summary.md", SUMMARY)
    write(user_dir, "explain.md", "---\ndescription: My own explain\n---\nExplain like I'm five.")
    write(chat / "prompts", "summary.md", SUMMARY.replace("for a report", "(project)"))
    write(chat / "prompts", "notes.txt", "not a template")
    prompts = library(chat).templates()
    assert list(prompts) == ["doc", "explain", "fix", "tests", "summary"]
    assert prompts["fix"].source == "built-in"
    assert prompts["fix"].context == ("last error", "recent cells")
    # A person's template replaces the built-in of its name; the chat folder's wins.
    assert (prompts["explain"].source, prompts["explain"].body) == (
        "yours",
        "Explain like I'm five.",
    )
    assert prompts["summary"].description == "Summarize a DataFrame (project)"
    with pytest.raises(TypeError):
        prompts["x"] = prompts["fix"]  # type: ignore[index]


def test_xdg_config_home_and_the_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_prompts_dir() == (
        tmp_path / "livechat" / "prompts",
        "$XDG_CONFIG_HOME/livechat/prompts",
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder, label = user_prompts_dir()
    assert folder == tmp_path / "home" / ".config" / "livechat" / "prompts"
    assert label == "~/.config/livechat/prompts"


def test_a_bad_file_is_refused_once_and_the_others_still_load(tmp_path, user_dir):
    chat = tmp_path / "chat_logs"
    write(chat / "prompts", "good.md", "Good {{x}}")
    write(chat / "prompts", "bad.md", "---\nname: bad\ncolour: red\n---\nBody")
    write(chat / "prompts", "twin.md", "---\nname: good\n---\nAnother")
    problems: list[str] = []
    lib = library(chat, problems)
    assert "good" in lib.templates() and "bad" not in lib.templates()
    assert problems == [
        "2 prompt templates were not loaded: bad.md in the chat folder's prompts, line 3: "
        "unknown key 'colour' (a template has name, description, context); "
        "twin.md in the chat folder's prompts: the name 'good' is taken by good.md"
    ]
    assert str(tmp_path) not in problems[0]  # a label, never a path
    write(chat / "prompts", "later.md", "Later one")
    assert "later" in lib.templates()
    assert len(problems) == 1  # the same refusals are not reported again


def test_the_persons_templates_are_capped(tmp_path, user_dir, monkeypatch):
    monkeypatch.setattr(prompt_templates, "MAX_TEMPLATES", 3)
    for i in range(5):
        write(user_dir, f"t{i}.md", f"Template {i}")
    problems: list[str] = []
    prompts = library(tmp_path / "chat_logs", problems).templates()
    assert [n for n in prompts if n[1:].isdigit()] == ["t0", "t1", "t2"]
    assert "t3.md in $XDG_CONFIG_HOME/livechat/prompts: more than 3 templates" in problems[0]


def test_many_refusals_are_summed_up_in_the_banner(tmp_path, user_dir):
    for i in range(5):
        write(user_dir, f"bad{i}.md", "---\nname: x\n")
    problems: list[str] = []
    library(tmp_path / "chat_logs", problems).templates()
    assert problems[0].startswith("5 prompt templates were not loaded: bad0.md in ")
    assert problems[0].count("no closing '---'") == 3
    assert problems[0].endswith("; and 2 more (the log lists them)")


def test_files_are_read_again_only_when_they_changed(tmp_path, user_dir, monkeypatch):
    chat = tmp_path / "chat_logs"
    path = write(chat / "prompts", "a.md", "First")
    lib = library(chat)
    assert lib.refresh() is True
    reads: list[Path] = []
    real = prompt_templates.read_template
    monkeypatch.setattr(
        prompt_templates, "read_template", lambda p, *a: reads.append(p) or real(p, *a)
    )
    assert lib.refresh() is False and reads == []
    path.write_text("Second, longer", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert lib.refresh() is True
    assert lib.templates()["a"].body == "Second, longer"
    path.unlink()
    assert lib.refresh() is True and "a" not in lib.templates()


# -- the widget


def test_chat_prompts_and_the_trait_which_holds_no_path(tmp_path, user_dir):
    write(tmp_path / "logs" / "prompts", "summary.md", SUMMARY)
    widget = make_widget(tmp_path)
    assert list(widget.prompts) == ["doc", "explain", "fix", "tests", "summary"]
    assert widget.prompts["summary"].render(df="df", column="region").startswith("Summarize df")
    by_name = {p["name"]: p for p in widget.prompt_templates}
    assert by_name["summary"] == {
        "name": "summary",
        "description": "Summarize a DataFrame for a report",
        "body": "Summarize {{df}} by {{ column }}; then {{df}} again.",
        "placeholders": ["df", "column"],
        "context": ["recent cells"],
        "source": "yours",
    }
    assert by_name["explain"]["source"] == "built-in"
    assert str(tmp_path) not in json.dumps(widget.prompt_templates)
    assert widget.error == ""


def test_the_page_asks_and_the_trait_follows_the_folder(tmp_path, user_dir):
    widget = make_widget(tmp_path)
    assert [p["name"] for p in widget.prompt_templates] == ["doc", "explain", "fix", "tests"]
    write(tmp_path / "logs" / "prompts", "review.md", "---\nname: review\n---\nReview {{cell}}")
    browser(widget, type="refresh_prompts")
    assert [p["name"] for p in widget.prompt_templates][-1] == "review"
    write(tmp_path / "logs" / "prompts", "oops.md", "---\nname: oops\n")
    browser(widget, type="refresh_prompts")
    assert widget.error == (
        "A prompt template was not loaded: oops.md in the chat folder's prompts, line 1: "
        "the front matter has no closing '---' line"
    )
    browser(widget, type="dismiss_error")
    browser(widget, type="refresh_prompts")
    widget.prompts  # noqa: B018 - Python reads the folders too
    assert widget.error == ""  # shown once


def test_a_bad_file_at_start_is_shown_in_the_banner(tmp_path, user_dir):
    write(user_dir, "bad.md", b"\xff\xfe")
    widget = make_widget(tmp_path)
    assert widget.error == (
        "A prompt template was not loaded: bad.md in $XDG_CONFIG_HOME/livechat/prompts, "
        "line 1: not UTF-8 text"
    )
    assert [p["name"] for p in widget.prompt_templates] == ["doc", "explain", "fix", "tests"]


def test_the_built_ins_ship_in_the_package():
    from importlib.resources import files

    folder = files("livechat_widget.prompts")  # a package: hatch's only-packages keeps it
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".md")) == [
        "doc.md",
        "explain.md",
        "fix.md",
        "tests.md",
    ]
