"""nbval (``pytest --nbval-lax``): every notebook (notebooks/ and the app notebook the
package ships, livechat_widget/notebooks/app.ipynb) runs offline, on the demo model,
with its own temporary chat_logs folder.

nbval starts one kernel per notebook, with this process's environment, when the
notebook's first cell is set up. Around that moment the provider variables are
replaced: ``LIVECHAT_PROVIDER=demo`` and ``LIVECHAT_CHAT_LOGS=<temp dir>``, so the
notebooks never call a real model nor write into the repository. The cells that
need a real provider check for one and say so instead. To run them against the
provider configured in your environment, set ``LIVECHAT_NBVAL_REAL_PROVIDER=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

PROVIDER_VARS = (
    "LIVECHAT_PROVIDER",
    "LIVECHAT_BASE_URL",
    "LIVECHAT_MODEL",
    "LIVECHAT_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "ANTHROPIC_API_KEY",
    "OLLAMA_HOST",
)

_chat_logs: dict[str, str] = {}  # notebook path -> its temporary chat_logs folder


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__module__.startswith("nbval")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    if not _is_nbval_cell(item):
        yield
        return
    notebook = str(item.parent.path)
    if notebook not in _chat_logs:
        _chat_logs[notebook] = tempfile.mkdtemp(prefix="livechat-nbval-")
    saved = dict(os.environ)
    os.environ["LIVECHAT_CHAT_LOGS"] = _chat_logs[notebook]
    if not os.environ.get("LIVECHAT_NBVAL_REAL_PROVIDER"):
        for name in PROVIDER_VARS:
            os.environ.pop(name, None)
        os.environ["LIVECHAT_PROVIDER"] = "demo"
    try:
        yield  # nbval starts the notebook's kernel here (first cell only)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder in _chat_logs.values():
        shutil.rmtree(folder, ignore_errors=True)
    _chat_logs.clear()
