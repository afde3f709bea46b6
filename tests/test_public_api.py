"""The lazy public API: every exported name resolves, and `import livechat_widget` stays light."""

from __future__ import annotations

import subprocess
import sys

import livechat_widget


def test_every_exported_name_resolves():
    assert sorted(livechat_widget.__all__) == sorted(livechat_widget._EXPORTS)
    for name in livechat_widget.__all__:
        assert getattr(livechat_widget, name) is not None


def test_import_does_not_load_the_widget_stack():
    code = (
        "import sys, livechat_widget; "
        "print(sorted(m for m in ('anywidget', 'ipywidgets', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
