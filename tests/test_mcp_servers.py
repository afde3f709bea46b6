"""MCP servers' tools (tools/mcp_servers.py, mcp_config.py) against a real stdio MCP
server written with the SDK's own server API, run with this Python."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap

import pytest

from livechat_widget.tools import Tool, Toolbox, ToolOutput
from livechat_widget.tools.mcp_config import McpConfigError, config_from_env, load_config
from livechat_widget.tools.mcp_servers import McpServers  # the test extra installs mcp

SERVER = textwrap.dedent(
    '''
    import os
    import sys

    try:  # mcp 2
        from mcp.server.mcpserver import MCPServer as FastMCP
    except ImportError:  # mcp 1.x
        from mcp.server.fastmcp import FastMCP

    app = FastMCP("demo")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def shout(text: str) -> str:
        """The text in capitals."""
        return text.upper()

    @app.tool()
    def secret() -> str:
        """Whether the server got its env."""
        return os.environ.get("DEMO_TOKEN", "none")

    @app.tool()
    def crash() -> str:
        """Exit at once, as a server that dies would."""
        print("crashing on purpose", file=sys.stderr, flush=True)
        os._exit(1)

    if __name__ == "__main__":
        app.run()
    '''
)


@pytest.fixture
def server_file(tmp_path):
    path = tmp_path / "demo_server.py"
    path.write_text(SERVER)
    return path


def demo_config(server_file, **extra):
    return {
        "mcpServers": {"demo": {"command": sys.executable, "args": [str(server_file)], **extra}}
    }


async def wait_until(condition, what: str) -> None:
    for _ in range(3000):  # a hang guard, not a timing requirement
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_stdio_server_offers_its_tools_and_answers_calls(server_file):
    toolbox, reports = Toolbox(), []
    servers = McpServers(toolbox, reports.append)
    try:
        env = {"DEMO_TOKEN": "s3cret-value"}
        added = await servers.add(load_config(demo_config(server_file, env=env))[0])
        assert added == ["add", "shout", "secret", "crash"] == toolbox.names
        assert servers.servers == {"demo": "running"} and reports == []
        add = toolbox.get("add")
        assert add is not None
        assert (add.source, add.needs_consent, add.description) == (
            "mcp:demo",
            True,
            "Add two integers.",
        )
        assert add.parameters["type"] == "object"
        assert add.parameters["required"] == ["a", "b"]
        assert await add.run({"a": 2, "b": 40}) == ToolOutput("42")
        shout = toolbox.get("shout")
        assert shout is not None and (await shout.run({"text": "hi"})).text == "HI"
        secret = toolbox.get("secret")
        assert secret is not None and (await secret.run({})).text == "s3cret-value"
        wrong = await add.run({"a": "x"})  # the server's own validation
        assert wrong.is_error and wrong.text
        assert "s3cret" not in repr(servers) + repr(load_config(demo_config(server_file, env=env)))
    finally:
        await servers.aclose()
    assert toolbox.names == [] and servers.servers == {}


async def test_names_taken_by_other_tools_get_the_server_prefix(server_file):
    async def run(arguments):
        return ToolOutput("mine")

    toolbox = Toolbox()
    toolbox.add(Tool("add", "My own add.", {"type": "object"}, run))
    servers = McpServers(toolbox, print)
    try:
        added = await servers.add(load_config(demo_config(server_file))[0])
        assert added == ["demo_add", "shout", "secret", "crash"]
        mine, theirs = toolbox.get("add"), toolbox.get("demo_add")
        assert mine is not None and theirs is not None
        assert (await theirs.run({"a": 1, "b": 1})).text == "2"
        assert (await mine.run({})).text == "mine"
    finally:
        await servers.aclose()
    assert toolbox.names == ["add"]


async def test_a_server_that_cannot_start_is_reported_and_nothing_breaks(server_file):
    toolbox, reports = Toolbox(), []
    servers = McpServers(toolbox, reports.append)
    config = {
        "mcpServers": {
            "ghost": {"command": "no-such-mcp-server-command"},
            "quits": {
                "command": sys.executable,
                "args": [
                    "-c",
                    "import os,sys; print('bad token', os.environ['T'], file=sys.stderr)",
                ],
                "env": {"T": "tok-12345"},
            },
            "demo": {"command": sys.executable, "args": [str(server_file)]},
        }
    }
    try:
        added = await servers.add_all(load_config(config))
        assert added == toolbox.names == ["add", "shout", "secret", "crash"]
        assert servers.servers == {"ghost": "failed", "quits": "failed", "demo": "running"}
        assert sorted(reports) == [
            "MCP server 'ghost' could not start: the command no-such-mcp-server-command "
            "was not found.",
            "MCP server 'quits' could not start: its connection closed (the server exited).\n"
            "Its last output:\nbad token ***",
        ]
        add = toolbox.get("add")
        assert add is not None and (await add.run({"a": 1, "b": 2})).text == "3"
    finally:
        await servers.aclose()


async def test_a_server_that_dies_mid_call_is_reported_and_its_tools_leave(server_file):
    toolbox, reports = Toolbox(), []
    servers = McpServers(toolbox, reports.append)
    try:
        await servers.add(load_config(demo_config(server_file))[0])
        crash = toolbox.get("crash")
        assert crash is not None
        out = await crash.run({})
        assert out.is_error and out.text == "The MCP server 'demo' stopped during the call."
        await wait_until(lambda: servers.servers["demo"] == "stopped", "the server stopped")
        assert toolbox.names == []
        assert reports == [
            "MCP server 'demo' stopped: its connection closed (the server exited).\n"
            "Its last output:\ncrashing on purpose"
        ]
        # A tool object the agent loop still holds answers, without raising.
        again = await crash.run({})
        assert again.is_error and again.text == "The MCP server 'demo' is stopped."
    finally:
        await servers.aclose()


async def test_a_server_killed_between_calls_is_noticed(server_file):
    toolbox, reports = Toolbox(), []
    servers = McpServers(toolbox, reports.append, ping_interval=0.05)
    try:
        await servers.add(load_config(demo_config(server_file))[0])
        # Crash it without waiting for the answer: the next ping finds it gone.
        crash = toolbox.get("crash")
        assert crash is not None
        call = asyncio.ensure_future(crash.run({}))
        await wait_until(lambda: servers.servers["demo"] == "stopped", "the ping noticed")
        assert (await call).is_error
        assert toolbox.names == [] and len(reports) == 1
    finally:
        await servers.aclose()


async def test_a_call_that_takes_too_long_times_out(tmp_path):
    slow = tmp_path / "slow_server.py"
    slow.write_text(
        SERVER.replace(
            'if __name__ == "__main__":',
            "@app.tool()\nasync def nap() -> str:\n    import anyio\n    await anyio.sleep(3600)\n"
            '    return "rested"\n\nif __name__ == "__main__":',
        )
    )
    toolbox = Toolbox()
    servers = McpServers(toolbox, print, call_timeout=0.2)
    try:
        await servers.add(load_config(demo_config(slow))[0])
        nap = toolbox.get("nap")
        assert nap is not None
        out = await nap.run({})
        assert out == ToolOutput(
            "The MCP tool 'nap' of server 'demo' gave no answer within 0.2 s.", is_error=True
        )
        add = toolbox.get("add")
        assert add is not None and (await add.run({"a": 1, "b": 1})).text == "2"  # still up
    finally:
        await servers.aclose()


def test_config_errors_name_the_server_and_the_field(tmp_path):
    not_json = tmp_path / "broken.json"
    not_json.write_text('{"mcpServers": {')
    with pytest.raises(McpConfigError, match=r"broken\.json is not JSON: .*line 1"):
        load_config(not_json)
    with pytest.raises(McpConfigError, match=r"missing\.json cannot be read"):
        load_config(tmp_path / "missing.json")
    with pytest.raises(McpConfigError, match='has no "mcpServers" object'):
        load_config({"servers_typo": {}})
    bad = {
        "mcpServers": {
            "empty": {},
            "args": {"command": "x", "args": "--flag"},
            "env": {"command": "x", "env": {"TOKEN": 123}},
            "both": {"command": "x", "url": "https://e.com/mcp"},
            "ftp": {"url": "ftp://e.com"},
            "old": {"url": "https://e.com/sse", "type": "sse"},
            "off": {"command": 1, "disabled": True},
        }
    }
    with pytest.raises(McpConfigError) as caught:
        load_config(bad)
    assert str(caught.value) == (
        "MCP config: "
        'Server \'empty\': has neither "command" (a program to run) nor "url" (an HTTP endpoint). '
        "Server 'args': \"args\" must be a list of strings, not '--flag'. "
        "Server 'env': \"env\" values must be strings; TOKEN is not. "
        'Server \'both\': has both "command" and "url"; give one. '
        "Server 'ftp': \"url\" must be an http:// or https:// address, not 'ftp://e.com'. "
        "Server 'old': the old SSE transport is not supported; use the server's streamable "
        "HTTP URL."
    )


def test_config_shapes_and_the_environment_variable(tmp_path, monkeypatch):
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {
                        "command": "npx",
                        "args": ["-y", "srv"],
                        "env": {"K": "v"},
                        "cwd": "/",
                    },
                    "remote": {
                        "url": "https://e.com/mcp",
                        "headers": {"Authorization": "Bearer t"},
                    },
                    "ignored": {"command": "x", "disabled": True},
                }
            }
        )
    )
    monkeypatch.delenv("LIVECHAT_MCP_CONFIG", raising=False)
    assert config_from_env() == []
    monkeypatch.setenv("LIVECHAT_MCP_CONFIG", str(path))
    files, remote = config_from_env()
    assert (files.name, files.command, files.args, dict(files.env), files.cwd) == (
        "files",
        "npx",
        ("-y", "srv"),
        {"K": "v"},
        "/",
    )
    assert (remote.transport, remote.url, dict(remote.headers)) == (
        "http",
        "https://e.com/mcp",
        {"Authorization": "Bearer t"},
    )
    assert "Bearer" not in repr(remote) and "'v'" not in repr(files)
    assert files.describe() == "npx -y srv" and load_config(path.read_text()) == [files, remote]
    monkeypatch.setenv("LIVECHAT_MCP_CONFIG", str(tmp_path / "nowhere.json"))
    with pytest.raises(McpConfigError, match="LIVECHAT_MCP_CONFIG names .*nowhere.json"):
        config_from_env()


def test_without_the_mcp_package_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp", None)  # import mcp now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'livechat-widget\[mcp\]'"):
        McpServers(Toolbox(), print)
