"""JupyterHub for real: the hub (PyPI ``jupyterhub``) with configurable-http-proxy (npm,
``js/node_modules/.bin``), the dummy authenticator and ``SimpleLocalProcessSpawner``
(a home folder per user) on 127.0.0.1, two users. Each user's server runs the livechat
app as a Voila page (Voila's server extension) under the user's URL; the rows carry the
hub user name and neither user's chats reach the other's folder or page.

The hub configuration is the README's "Serving many users" recipe, with test ports,
folders and the fake provider."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_voila_app import assistant, chat_items, message_box, read_rows, root, send, wait_idle

from conftest import REPO, Server, clean_env, free_port, provider_env, wait_http_ok

UI_WAIT_MS = 120_000  # generous waits for conditions (2 shared cores); not time limits
SPAWN_WAIT_S = 300
expect.set_options(timeout=UI_WAIT_MS)

PROXY = REPO / "js" / "node_modules" / ".bin" / "configurable-http-proxy"
APP_PATH = "voila/render/livechat.ipynb"
PASSWORD = secrets.token_hex(8)

HUB_CONFIG = """\
import shutil
from importlib.resources import files

c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{state}/jupyterhub.pid"
c.ConfigurableHTTPProxy.command = ["{proxy}"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.pid_file = "{state}/proxy.pid"

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "{password}"
c.Authenticator.allowed_users = {{"alice", "bob"}}

# A home (working folder) per user; the chats live in it (chat_logs/).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
c.Spawner.args = {args}
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "JUPYTERHUB_SINGLEUSER_APP"]
c.Spawner.environment = {environment}
c.Spawner.start_timeout = {spawn_wait}
c.Spawner.http_timeout = {spawn_wait}


def put_the_app_in_the_home(spawner):
    # The app notebook, served by Voila at /user/<name>/voila/render/livechat.ipynb
    home = spawner.home_dir
    shutil.os.makedirs(home, exist_ok=True)
    app = files("livechat_widget.notebooks").joinpath("app.ipynb")
    shutil.copyfile(app, f"{{home}}/livechat.ipynb")


c.Spawner.pre_spawn_hook = put_the_app_in_the_home

# The test drives the hub's REST API with this token.
c.JupyterHub.services = [{{"name": "livechat-test", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [
    {{"name": "livechat-test", "scopes": ["admin:users", "admin:servers"],
      "services": ["livechat-test"]}}
]
"""


class Hub:
    def __init__(self, server: Server, url: str, token: str, homes: Path) -> None:
        self.server, self.url, self.token, self.homes = server, url, token, homes

    def api(self, method: str, path: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}hub/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def spawn(self, user: str) -> None:
        """Start the user's server and wait until the hub says it is ready."""
        self.api("POST", f"users/{user}/server")
        deadline = time.monotonic() + SPAWN_WAIT_S
        while True:
            server = self.api("GET", f"users/{user}").get("servers", {}).get("", {})
            if server.get("ready"):
                return
            if self.server.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{user}'s server never got ready:\n{self.server.output[-5000:]}"
                )
            time.sleep(0.5)


@pytest.fixture
def hub(tmp_path, fake_provider):
    if not os.access(PROXY, os.X_OK):
        raise AssertionError(f"{PROXY} is missing: run `npm ci` in js/ (the test command does)")
    state, homes = tmp_path / "hub", tmp_path / "homes"
    state.mkdir()
    homes.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    args = ["--allow-root"] if os.geteuid() == 0 else []
    environment = {
        **provider_env(fake_provider),
        # One person per server: their chats are all theirs.
        "LIVECHAT_CHATS": "shared",
        "PYTHONUNBUFFERED": "1",
    }
    config = state / "jupyterhub_config.py"
    config.write_text(
        HUB_CONFIG.format(
            port=port,
            hub_port=free_port(),
            api_port=free_port(),
            state=state,
            proxy=PROXY,
            password=PASSWORD,
            homes=homes,
            args=args,
            environment=environment,
            spawn_wait=SPAWN_WAIT_S,
            token=token,
        )
    )
    server = Server(
        "jupyterhub",
        [sys.executable, "-m", "jupyterhub", "-f", str(config)],
        env=clean_env(),
        cwd=state,
        log=tmp_path / "jupyterhub.log",
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        server.wait_for_output(r"JupyterHub is now running at")
        wait_http_ok(f"{url}hub/api/", server=server)
        yield Hub(server, url, token, homes)
    finally:
        # The hub stops the users' servers (and they their kernels) and the proxy.
        server.stop(signal.SIGTERM)


def log_in(new_context, hub: Hub, user: str) -> Page:
    page = new_context().new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{hub.url}hub/login?next=%2Fhub%2Fhome", timeout=UI_WAIT_MS)
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_url("**/hub/home", timeout=UI_WAIT_MS)
    return page


def open_app(page: Page, hub: Hub, user: str) -> None:
    page.goto(f"{hub.url}user/{user}/{APP_PATH}", timeout=UI_WAIT_MS)
    expect(message_box(page)).to_be_editable()


def test_two_hub_users_each_chat_in_their_own_server(hub, fake_provider, new_context, shot):
    fake_provider.text = lambda request: "Noted: " + request.json["messages"][-1]["content"]
    hub.spawn("alice")
    hub.spawn("bob")

    alice = log_in(new_context, hub, "alice")
    open_app(alice, hub, "alice")
    assert f"/user/alice/{APP_PATH}" in alice.url
    send(alice, "alice's quarterly numbers")
    expect(assistant(alice).last).to_contain_text("Noted: alice's quarterly numbers")
    wait_idle(alice)
    shot(alice, "alice")

    bob = log_in(new_context, hub, "bob")
    open_app(bob, hub, "bob")
    expect(root(bob).locator(".lc-chat-list")).to_contain_text("No chats yet")
    send(bob, "bob's shopping list")
    expect(assistant(bob).last).to_contain_text("Noted: bob's shopping list")
    wait_idle(bob)
    expect(chat_items(bob)).to_have_count(1)
    expect(root(bob).locator(".lc-chat-list")).not_to_contain_text("quarterly")
    search = bob.get_by_role("searchbox", name="Search chats")
    search.fill("quarterly")
    expect(root(bob).get_by_text("No chats match")).to_be_visible()
    shot(bob, "bob")

    # bob cannot open alice's server: the hub refuses him
    response = bob.goto(f"{hub.url}user/alice/{APP_PATH}", timeout=UI_WAIT_MS)
    assert response is not None and response.status == 403
    expect(message_box(bob)).to_have_count(0)

    # each user's chats are in their own home, rows named by the hub user
    alice_rows = read_rows(hub.homes / "alice" / "chat_logs")
    bob_rows = read_rows(hub.homes / "bob" / "chat_logs")
    assert len(alice_rows) == len(bob_rows) == 1
    (alice_chat,) = alice_rows.values()
    (bob_chat,) = bob_rows.values()
    # Every row, the reply's event rows included (the text it kept while streaming, its
    # usage), carries the hub user's name.
    assert {r["user_id"] for r in alice_chat} == {"alice"}
    assert {r["user_id"] for r in bob_chat} == {"bob"}
    for chat in (alice_chat, bob_chat):
        assert [r["role"] for r in chat if r["role"] != "partial"] == ["user", "assistant", "usage"]
        assert "partial" in [r["role"] for r in chat]
    assert "quarterly" not in json.dumps(bob_rows) and "shopping" not in json.dumps(alice_rows)

    # a reload of alice's page finds her chat again
    open_app(alice, hub, "alice")
    expect(chat_items(alice)).to_have_count(1)
    expect(chat_items(alice).first).to_contain_text("alice's quarterly numbers")
    assert alice.errors == []
