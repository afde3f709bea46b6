"""The math chunk (KaTeX + fonts) travels to the browser on the widget's comm (js/math.ts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import livechat_widget.controller as widget_module
from tests.widget_doubles import browser, make_widget


def _capture(widget: Any) -> list[tuple[dict[str, Any], list[Any]]]:
    sent: list[tuple[dict[str, Any], list[Any]]] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(
        (data, list(buffers or []))
    )
    return sent


def test_load_math_answers_with_the_chunk_as_a_buffer(tmp_path: Path) -> None:
    widget = make_widget(tmp_path)
    sent = _capture(widget)
    browser(widget, type="load_math", request="m1")
    answers = [(d["content"], b) for d, b in sent if d.get("method") == "custom"]
    assert len(answers) == 1
    content, buffers = answers[0]
    assert content == {"type": "math_chunk", "request": "m1"}
    chunk = (widget_module._STATIC / "math.js").read_bytes()
    assert len(buffers) == 1 and bytes(buffers[0]) == chunk
    assert b"renderTex" in chunk and b"KaTeX_Main" in chunk  # the entry's export, its fonts
    assert widget.error == ""


def test_a_missing_chunk_is_a_clear_error_not_a_crash(tmp_path: Path, monkeypatch: Any) -> None:
    widget = make_widget(tmp_path)
    sent = _capture(widget)
    monkeypatch.setattr(widget_module, "_STATIC", tmp_path / "no-static")
    browser(widget, type="load_math", request="m1")
    answers = [d["content"] for d, _ in sent if d.get("method") == "custom"]
    assert answers == [{"type": "refused", "request": "m1", "error": widget.error}]
    assert "without math support" in widget.error


def test_load_math_takes_no_fields_from_the_browser(tmp_path: Path) -> None:
    widget = make_widget(tmp_path)
    sent = _capture(widget)
    browser(widget, type="load_math", request="m2", path="/etc/passwd")
    (content, buffers) = next((d["content"], b) for d, b in sent if d.get("method") == "custom")
    assert content == {"type": "math_chunk", "request": "m2"} and len(buffers) == 1
