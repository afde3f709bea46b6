"""Tools from a notebook user's side: ``@chat.tool`` functions and MCP servers the
model calls through the chat, and ``livechat --mcp-config``."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from test_mcp_servers import SERVER, wait_until
from widget_doubles import ToolScript, csv_rows, make_widget

from livechat_widget.app import build_env, parse_args
from livechat_widget.tools.toolbox import Tool


def plain(tmp_path, client):
    return make_widget(tmp_path, client, allow_kernel_context=False, allow_code=False)


async def test_a_decorated_function_is_offered_called_and_listed(tmp_path):
    client = ToolScript(("", [("c1", "churn_rate", '{"segment": "pro"}')]), ("2 %.", []))
    chat = plain(tmp_path, client)

    @chat.tool
    def churn_rate(segment: str, months: int = 1) -> float:
        """The monthly churn rate of one customer segment.

        Args:
            segment: The segment's name.
            months: How many months to average.
        """
        return {"pro": 0.02}[segment] * months

    assert churn_rate("pro") == 0.02  # the function itself is unchanged
    assert "churn_rate" in chat.tools and [t.name for t in chat.tools] == ["churn_rate"]
    assert "churn_rate (python)" in repr(chat.tools)
    reply = await chat.ask("What is the churn of pro?")
    assert reply["tools"][0]["status"] == "ok" and reply["tools"][0]["content"] == "0.02"
    (spec,) = client.offered[0:1]
    assert spec == ["churn_rate"]
    chat.tools.remove("churn_rate")
    assert len(chat.tools) == 0
    with pytest.raises(KeyError, match="no tool named"):
        chat.tools.remove("churn_rate")


async def test_a_function_marked_as_needing_consent_asks(tmp_path):
    client = ToolScript(("", [("c1", "wipe", "{}")]), ("Not done.", []))
    chat = plain(tmp_path, client)
    wiped = []

    @chat.tool(needs_consent=True, description="Delete the scratch folder.")
    def wipe() -> str:
        wiped.append(True)
        return "wiped"

    assert chat.tools["wipe"].needs_consent and chat.tools["wipe"].description.startswith("Delete")
    reply = await chat.ask("clean up", approve="never")
    assert reply["tools"][0]["status"] == "denied" and wiped == []


async def test_an_mcp_servers_tool_is_called_by_the_model(tmp_path):
    server = tmp_path / "demo_server.py"
    server.write_text(SERVER)
    client = ToolScript(
        ("", [("c1", "add", '{"a": 2, "b": 40}')]),
        ("It is 42.", []),
        ("", [("c2", "crash", "{}")]),
        ("The server is gone.", []),
    )
    chat = plain(tmp_path, client)
    names = await chat.add_mcp_server("demo", command=sys.executable, args=[str(server)])
    assert {"add", "shout", "crash"} <= set(names)
    assert chat.tools["add"].source == "mcp:demo" and chat.tools["add"].needs_consent
    reply = await chat.ask("What is 2 + 40?", approve="always")
    assert reply["content"] == "It is 42." and reply["tools"][0]["content"] == "42"
    rows = [r for r in csv_rows(tmp_path, chat.active_chat_id) if r["role"] == "tool_call"]
    assert json.loads(rows[0]["content"])["source"] == "mcp:demo"

    # A server that dies mid-chat: the call fails, the chat says so, its tools drop out.
    reply = await chat.ask("Crash it", approve="always")
    assert reply["status"] == "complete" and reply["tools"][0]["status"] == "error"
    await wait_until(lambda: "add" not in chat.tools, "the dead server's tools left")
    assert "MCP server 'demo' stopped" in chat.error
    assert chat.tools.mcp_servers == {"demo": "stopped"}
    chat.close()


async def test_an_mcp_server_that_cannot_start_is_reported_and_the_chat_goes_on(tmp_path):
    chat = plain(tmp_path, ToolScript(("Hello.", [])))
    assert await chat.add_mcp_server("ghost", command=str(tmp_path / "no-such-server")) == []
    assert "MCP server 'ghost' could not start" in chat.error
    assert (await chat.ask("hi"))["content"] == "Hello."
    with pytest.raises(ValueError, match="ghost"):
        chat.add_mcp_server("ghost")  # neither a command nor a URL: refused before it starts


async def test_livechat_mcp_config_is_the_only_way_the_app_starts_servers(tmp_path, monkeypatch):
    config = tmp_path / "mcp.json"
    server = tmp_path / "demo_server.py"
    server.write_text(SERVER)
    entry = {"command": sys.executable, "args": [str(server)]}
    config.write_text(json.dumps({"mcpServers": {"demo": entry}}))
    env = build_env(parse_args(["--mcp-config", str(config)]), {})
    assert env["LIVECHAT_MCP_CONFIG"] == str(config.resolve())
    assert "LIVECHAT_MCP_CONFIG" not in build_env(parse_args([]), {"LIVECHAT_MCP_CONFIG": "x"})
    # A visitor kernel started with it: the widget starts the servers itself.
    monkeypatch.setenv("LIVECHAT_MCP_CONFIG", env["LIVECHAT_MCP_CONFIG"])
    chat = plain(tmp_path, ToolScript())
    await wait_until(lambda: "shout" in chat.tools, "the configured server's tools")
    assert isinstance(chat.tools["shout"], Tool)
    chat.close()
    await asyncio.sleep(0.1)


async def test_a_bad_mcp_config_is_shown_and_nothing_else_breaks(tmp_path, monkeypatch):
    config = tmp_path / "mcp.json"
    config.write_text('{"mcpServers": {"x": {"args": "not a list"}}}')
    monkeypatch.setenv("LIVECHAT_MCP_CONFIG", str(config))
    chat = plain(tmp_path, ToolScript(("Hi.", [])))
    assert "MCP servers were not started" in chat.error and "'x'" in chat.error
    assert (await chat.ask("hi"))["content"] == "Hi."


async def test_both_providers_over_http_a_malformed_call_is_answered_as_a_failed_result(
    tmp_path, fp
):
    from fake_provider import anthropic_reply, anthropic_tool_use, openai_reply, openai_tool_calls

    from livechat_widget.providers.anthropic import AnthropicClient
    from livechat_widget.providers.openai import OpenAICompatibleClient

    def shapes(table: str) -> str:
        """Rows of a table."""
        return f"{table}: 3 rows"

    clients = {
        "openai": OpenAICompatibleClient(fp.base_url, "fake-model", "sk-test"),
        "anthropic": AnthropicClient("claude-fake", "sk-test", base_url=fp.url),
    }
    for name, client in clients.items():
        calls = [("c1", "shapes", '{"table": "df"}'), ("c2", "shapes", '{"table": ')]
        if name == "openai":
            fp.script(openai_tool_calls(calls, "Checking."), openai_reply("df has 3 rows."))
        else:
            fp.script(anthropic_tool_use(calls[:1], "Checking."), anthropic_reply("df has 3 rows."))
        chat = plain(tmp_path / name, client)
        chat.tools.add(shapes)
        reply = await chat.ask("How big is df?")
        assert reply["content"] == "Checking.df has 3 rows.", name
        follow_up = fp.requests[-1].json
        if name == "openai":
            results = [m for m in follow_up["messages"] if m["role"] == "tool"]
            assert [r["content"] for r in results][0] == "df: 3 rows"
            assert "not valid JSON" in results[1]["content"]
            assert [c["status"] for c in reply["tools"]] == ["ok", "error"]
        else:
            (block,) = follow_up["messages"][-1]["content"]
            assert block == {"type": "tool_result", "tool_use_id": "c1", "content": "df: 3 rows"}
        await client.aclose()
