"""What a visitor kernel of the ``livechat`` app carries: the app notebook's imports load
no part of Voila's server, and the kernel starts without the debugger and jedi."""

from __future__ import annotations

import json
import subprocess
import sys

from livechat_widget.app import APP_NOTEBOOK
from livechat_widget.visitor_kernel import LAUNCH, UNREACHABLE, lean_argv
from livechat_widget.visitor_wait import query_url, wait_for_request

# Voila's server side, which `from voila.utils import wait_for_request` used to load
# into every visitor kernel (43 MB of its 121 MB).
SERVER_SIDE = ("voila", "jupyter_server", "jupyterlab_server", "nbconvert", "jsonschema")


def run_python(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_app_notebooks_imports_load_no_server_side_module():
    source = "".join(json.loads(APP_NOTEBOOK.read_text())["cells"][0]["source"])
    loaded = run_python(
        "import sys, json\n"
        + source  # outside a preheated kernel wait_for_request returns at once
        + "\ntops = {m.split('.')[0] for m in sys.modules}"
        + f"\nprint(json.dumps(sorted(tops & {set(SERVER_SIDE)!r})))"
    )
    assert loaded == []


def test_the_launch_program_starts_ipykernel_without_debugger_and_jedi():
    program = LAUNCH.replace("kernelapp.launch_new_instance()\n", "")
    found = run_python(
        program
        + "import ipykernel.ipkernel, ipykernel.debugger as d, IPython.core.completer as c, json\n"
        + "print(json.dumps([d._is_debugpy_available, c.JEDI_INSTALLED,"
        + f" [m for m in {UNREACHABLE!r} if sys.modules.get(m)]]))"
    )
    assert found == [False, False, []]


def test_lean_argv_replaces_only_ipykernel_launcher():
    argv = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert lean_argv(argv) == ["/usr/bin/python3", "-c", LAUNCH, "-f", "{connection_file}"]
    other = ["/opt/julia", "-i", "kernel.jl", "{connection_file}"]
    assert lean_argv(other) == other


def test_wait_for_request_returns_at_once_outside_a_preheated_kernel(monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    assert query_url({}) is None
    wait_for_request()  # returns


def test_query_url_is_voilas():
    env = {
        "VOILA_PREHEAT": "True",
        "VOILA_APP_IP": "10.0.0.5",
        "VOILA_APP_PORT": "9000",
        "VOILA_SERVER_URL": "/app/",
        "VOILA_KERNEL_ID": "k1",
    }
    assert query_url(env) == "ws://10.0.0.5:9000/app/voila/query/k1"
