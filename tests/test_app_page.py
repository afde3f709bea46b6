"""The app page's template (livechat_widget/share/jupyter/voila/templates/livechat) is
found by Voila the way `livechat` starts it, and its script speaks the anywidget
release the kernel runs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from anywidget.widget import _ANYWIDGET_SEMVER_VERSION

from livechat_widget import app

ROOT = Path(__file__).resolve().parents[1]


def test_voila_finds_the_template_through_the_jupyter_path_livechat_sets(monkeypatch):
    from voila.paths import collect_static_paths, collect_template_paths

    env = app.build_env(app.parse_args([]), {"JUPYTER_PATH": "/elsewhere"})
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(app.JUPYTER_DATA), "/elsewhere"]
    monkeypatch.setenv("JUPYTER_PATH", env["JUPYTER_PATH"])
    template = app.JUPYTER_DATA / "voila" / "templates" / "livechat"
    assert str(template) in collect_template_paths(["voila", "nbconvert"], "livechat", prune=True)
    assert str(template / "static") in collect_static_paths(["voila", "nbconvert"], "livechat")
    assert (template / "index.html.j2").is_file()


def test_without_jupyter_path_only_the_package_folder_is_added():
    env = app.build_env(app.parse_args([]), {})
    assert env["JUPYTER_PATH"] == str(app.JUPYTER_DATA)


@pytest.mark.parametrize(("page", "template"), [("app", "livechat"), ("lab", "lab")])
def test_page_option_picks_the_template(page, template):
    argv = app.voila_argv(app.parse_args(["--page", page]))
    assert f"--template={template}" in argv


def test_the_page_script_speaks_the_kernels_anywidget_release():
    # What Python's anywidget sends as _model_module_version, e.g. "~0.11.*" ...
    release = re.fullmatch(r"~(\d+\.\d+)\.\*", _ANYWIDGET_SEMVER_VERSION)
    assert release, _ANYWIDGET_SEMVER_VERSION
    # ... is the release js/app_page resolves and the npm anywidget it bundles.
    source = (ROOT / "js" / "app_page" / "widget_classes.ts").read_text(encoding="utf-8")
    assert f'ANYWIDGET_VERSION = "{release.group(1)}"' in source
    lock = json.loads((ROOT / "js" / "package-lock.json").read_text(encoding="utf-8"))
    bundled = lock["packages"]["node_modules/anywidget"]["version"]
    assert bundled.startswith(release.group(1) + "."), bundled
