"""Which front end this kernel serves, as far as a kernel can tell: whether JupyterLab
(or Notebook 7, built on it) started it for a notebook — where a sidecar panel and
Insert as cell work — or Voila, VS Code, Colab, a terminal.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _ipython() -> Any:
    ip_mod = sys.modules.get("IPython")
    if ip_mod is None:
        return None
    try:
        return ip_mod.get_ipython()
    except Exception:  # pragma: no cover - IPython half-imported
        return None


def lab_unavailable_reason() -> str | None:
    """Why this kernel's front end cannot show a sidecar panel, or None if it can.

    Best effort: a kernel cannot ask its front end what it is. JupyterLab's server
    sets JPY_SESSION_NAME in the kernels it starts for a notebook; the other hosts
    leave recognisable traces.
    """
    env = os.environ
    if any(key.startswith("VOILA_") for key in env):
        return "this is a Voila page"
    ip = _ipython()
    if ip is None:
        return "this is not an IPython kernel"
    if getattr(ip, "kernel", None) is None:
        return "this is a terminal IPython, not a notebook"
    user_ns = getattr(ip, "user_ns", {}) or {}
    if "__vsc_ipynb_file__" in user_ns or "VSCODE_PID" in env or "VSCODE_CWD" in env:
        return "this notebook runs in VS Code"
    if "google.colab" in sys.modules:
        return "this notebook runs in Google Colab"
    if not env.get("JPY_SESSION_NAME"):
        return "this kernel was not started by JupyterLab"
    return None
