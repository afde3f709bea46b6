"""Browser end-to-end fixtures: real servers on free 127.0.0.1 ports, Debian Chromium.

Every test gets its own servers, started as subprocesses and stopped by PID:

* ``fake_provider`` — the OpenAI-compatible streaming server of tests/fake_provider.py;
* ``start_livechat(*args)`` — the ``livechat`` command itself, with a temporary
  chat_logs folder and ``--provider openai --base-url <fake provider>``;
* ``start_lab()`` — JupyterLab with a temporary config/data/runtime/settings dir, a
  token, no browser, a root folder holding copies of the repository's notebooks, and
  kernels whose environment points at the fake provider and a temporary chat_logs.

Browser: Playwright's sync API driving /usr/bin/chromium (never a downloaded browser).
``shot(page, name)`` saves a screenshot into ./artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_provider import FakeProvider  # tests/ is on sys.path: tests/conftest.py is there

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous waits for conditions (2 shared cores; cold kernels). Not time limits on the
# behaviour under test: a condition that holds returns at once.
SERVER_START_S = 240
UI_WAIT_MS = 120_000

PROVIDER_VARS = (
    "LIVECHAT_PROVIDER",
    "LIVECHAT_BASE_URL",
    "LIVECHAT_MODEL",
    "LIVECHAT_API_KEY",
    "LIVECHAT_CHAT_LOGS",
    "LIVECHAT_THEME",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "ANTHROPIC_API_KEY",
    "OLLAMA_HOST",
    "JPY_SESSION_NAME",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any provider settings or Voila traces."""
    env = {
        k: v for k, v in os.environ.items() if k not in PROVIDER_VARS and not k.startswith("VOILA_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def provider_env(fake_provider) -> dict[str, str]:
    """Kernels' settings that point the widget at the fake provider."""
    return {
        "LIVECHAT_PROVIDER": "openai",
        "LIVECHAT_BASE_URL": fake_provider.base_url,
        "LIVECHAT_MODEL": "fake-model",
        "LIVECHAT_API_KEY": "test-key",
    }


def jupyter_server_env(home: Path, chat_logs: Path, fake_provider) -> dict[str, str]:
    """A Jupyter server of its own: config, runtime, settings and IPython folders under
    ``home``, chats in ``chat_logs``, kernels pointed at the fake provider."""
    return clean_env(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        LIVECHAT_CHAT_LOGS=str(chat_logs),
        **provider_env(fake_provider),
    )


def jupyter_server_argv(module: str, port: int, token: str, root: Path, *extra: str) -> list[str]:
    """``python -m jupyterlab`` / ``notebook`` on 127.0.0.1 with a token, no browser."""
    argv = [
        sys.executable, "-m", module,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        *extra,
    ]  # fmt: skip
    if os.geteuid() == 0:  # containers and CI run as root
        argv.append("--allow-root")
    return argv


def _children(pid: int) -> list[int]:
    """Direct children of pid (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Server:
    """A server subprocess whose output goes to a log file; stopped by PID."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log: Path):
        self.name = name
        self.log_path = log
        self._log = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, text=True
        )
        self.pid = self.proc.pid

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, pattern: str, within: float = SERVER_START_S) -> re.Match:
        deadline = time.monotonic() + within
        while True:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited ({self.proc.returncode}) before {pattern!r}:\n"
                    + self.output[-5000:]
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {pattern!r} yet:\n{self.output[-5000:]}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGINT) -> int | None:
        """Ask the server to stop (it shuts its kernels down), then make sure, by PID."""
        if self.proc.poll() is None:
            kernels = _children(self.pid)
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            for pid in kernels:  # anything the server did not stop itself
                deadline = time.monotonic() + 10
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if _alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self._log.close()
        return self.proc.returncode


def wait_http_ok(url: str, within: float = SERVER_START_S, server: Server | None = None) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if server is not None and server.proc.poll() is not None:
            raise AssertionError(f"{server.name} exited:\n{server.output[-5000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200")
        time.sleep(0.25)


# ------------------------------------------------------------------ servers


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


class Livechat:
    def __init__(self, server: Server, url: str, chat_logs: Path):
        self.server, self.url, self.chat_logs = server, url, chat_logs

    def csv_files(self) -> list[Path]:
        return sorted(self.chat_logs.glob("*.csv"))


@pytest.fixture
def start_livechat(tmp_path, fake_provider) -> Iterator[Callable[..., Livechat]]:
    """Start ``livechat`` (the console script's module) pointed at the fake provider."""
    started: list[Server] = []

    def start(*args: str, chat_logs: Path | None = None, env: dict | None = None) -> Livechat:
        port = free_port()
        logs = chat_logs or tmp_path / f"chat_logs_{len(started)}"
        argv = [
            sys.executable, "-m", "livechat_widget.app",
            "--no-browser",
            "--port", str(port),
            "--chat-logs", str(logs),
            "--provider", "openai",
            "--base-url", fake_provider.base_url,
            "--model", "fake-model",
            *args,
        ]  # fmt: skip
        server = Server(
            "livechat",
            argv,
            env=clean_env(LIVECHAT_API_KEY="test-key", **(env or {})),
            cwd=tmp_path,
            log=tmp_path / f"livechat_{len(started)}.log",
        )
        started.append(server)
        url = server.wait_for_output(r"is serving the chat at (http://\S+)").group(1)
        return Livechat(server, url, logs)

    yield start
    for server in started:
        server.stop(signal.SIGINT)


class Lab:
    def __init__(self, server: Server, base: str, token: str, root: Path, chat_logs: Path):
        self.server, self.base, self.token = server, base, token
        self.root, self.chat_logs = root, chat_logs

    def url(self, path: str) -> str:
        return f"{self.base}{path}?token={self.token}"


LAB_SETTINGS = {
    # No news/update toasts over the right sidebar (and no network attempts).
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@pytest.fixture
def start_lab(tmp_path, fake_provider) -> Iterator[Callable[[], Lab]]:
    started: list[Server] = []

    def start() -> Lab:
        home = tmp_path / "lab"
        root = home / "root"
        root.mkdir(parents=True)
        for notebook in ("demo.ipynb", "sidebar.ipynb"):
            shutil.copy(REPO / "notebooks" / notebook, root / notebook)
        settings = home / "settings"
        for rel, value in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        chat_logs = home / "chat_logs"
        port, token = free_port(), secrets.token_hex(16)
        env = jupyter_server_env(home, chat_logs, fake_provider)
        argv = jupyter_server_argv(
            "jupyterlab",
            port,
            token,
            root,
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
        )
        server = Server("jupyterlab", argv, env=env, cwd=root, log=tmp_path / "lab.log")
        started.append(server)
        base = f"http://127.0.0.1:{port}/"
        server.wait_for_output(rf"http://127\.0\.0\.1:{port}/")
        wait_http_ok(f"{base}api/status?token={token}", server=server)
        return Lab(server, base, token, root, chat_logs)

    yield start
    for server in started:
        server.stop(signal.SIGTERM)


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser():
    # Module scope, not session: while Playwright's sync API is active, an asyncio
    # loop counts as running in this thread, which breaks pytest-asyncio tests that
    # run after the browser suites.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser):
    """new_context(**options) -> a BrowserContext (1280x800 by default), closed after."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        context.set_default_timeout(UI_WAIT_MS)
        # The Voila lab template links stylesheets on a CDN; there is no network here.
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request):
    """shot(page, name): save a screenshot to artifacts/<test>-<n>-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    count = 0

    def take(page, name: str, **kwargs) -> Path:
        nonlocal count
        count += 1
        path = ARTIFACTS / f"{test}-{count:02d}-{name}.png"
        # let CSS transitions (drawer slide, fade-ins) finish; infinite animations
        # such as the streaming caret are not transitions
        page.wait_for_function(
            "document.getAnimations().every(a => !(a instanceof CSSTransition)"
            " || a.playState !== 'running')"
        )
        page.screenshot(path=str(path), **kwargs)
        return path

    return take


def pytest_collection_modifyitems(config, items):
    """Everything here needs a browser and real servers: `pytest -m "not e2e"` skips it."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
