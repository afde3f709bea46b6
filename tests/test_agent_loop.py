"""The agent loop in a widget: tool calls answered between model requests, consent,
failures that become results, Stop, the step limit, rows, and the history rebuilt
after a reload exactly as it was sent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from widget_doubles import ToolScript, browser, csv_rows, custom, make_widget, settle

from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore
from livechat_widget.history import model_history
from livechat_widget.providers.messages import (
    ModelMessage,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    as_model_messages,
)
from livechat_widget.tools.toolbox import Tool, ToolOutput
from livechat_widget.versions import model_messages


def tool(name: str, run: Any, needs_consent: bool = False) -> Tool:
    async def call(arguments: dict[str, Any]) -> ToolOutput:
        return run(**arguments)

    schema = {"type": "object", "properties": {}}
    return Tool(name, f"The {name} tool.", schema, call, needs_consent=needs_consent)


def widget_with(tmp_path, client, *tools: Tool):
    widget = make_widget(tmp_path, client, allow_kernel_context=False, allow_code=False)
    for t in tools:
        widget.session.toolbox.add(t)
    return widget


def rows(tmp_path, chat_id):
    return [(r["role"], r["content"]) for r in csv_rows(tmp_path, chat_id)]


async def test_calls_are_answered_and_the_reply_goes_on_until_it_answers_in_text(tmp_path):
    client = ToolScript(
        ("Let me look.", [("c1", "shapes", '{"table": "df"}'), ("c2", "shapes", "{}")]),
        ("", [("c3", "shapes", '{"table": "other"}')]),
        ("df has 3 rows.", []),
    )
    seen: list[dict[str, Any]] = []

    def shapes(**arguments: Any) -> ToolOutput:
        seen.append(arguments)
        return ToolOutput(f"rows of {arguments.get('table', 'all')}: 3")

    widget = widget_with(tmp_path, client, tool("shapes", shapes))
    reply = await widget.ask("How many rows?")
    assert reply["content"] == "Let me look.df has 3 rows."
    assert reply["status"] == "complete"
    assert seen == [{"table": "df"}, {}, {"table": "other"}]
    assert client.offered == [["shapes"]] * 3
    # The second request carries the first step's text, calls and results.
    second = client.requests[1][1:]
    assert second == [
        ModelMessage(
            "assistant",
            (
                TextPart("Let me look."),
                ToolCallPart("c1", "shapes", '{"table": "df"}'),
                ToolCallPart("c2", "shapes", "{}"),
            ),
        ),
        ModelMessage(
            "tool", (ToolResultPart("c1", "rows of df: 3"), ToolResultPart("c2", "rows of all: 3"))
        ),
    ]
    chat_id = widget.active_chat_id
    roles = [role for role, _ in rows(tmp_path, chat_id)]
    assert roles == ["user"] + ["tool_call", "tool_call", "tool_result", "tool_result"] + [
        "tool_call",
        "tool_result",
        "assistant",
    ]
    calls = reply["tools"]
    assert [(c["id"], c["step"], c["offset"], c["status"]) for c in calls] == [
        ("c1", 1, 12, "ok"),
        ("c2", 1, 12, "ok"),
        ("c3", 2, 12, "ok"),
    ]
    # After a reload, the history the model is sent next is the one it was sent: the
    # third request's messages, then the final text.
    registry = ChatRegistry(CsvStore(tmp_path / "logs"))
    messages = registry.messages(chat_id)
    rebuilt = model_history(model_messages(messages, registry.tree(chat_id)))
    assert rebuilt[:-1] == client.requests[2]
    assert rebuilt[-1] == ModelMessage.of_text("assistant", "df has 3 rows.")
    assert messages[-1].tools[2].content == "rows of other: 3"
    # Each of the three requests is measured in the usage row; the reply's figures sum them.
    usage = messages[-1].usage
    assert usage is not None and len(usage.steps) == 3
    assert [s.reasoning_chars for s in usage.steps] == [0, 0, 0]
    assert all(s.total_ms is not None for s in usage.steps)


async def test_a_tool_that_raises_or_gets_bad_arguments_is_a_failed_result(tmp_path):
    def broken(**arguments: Any) -> ToolOutput:
        raise RuntimeError("disk on fire")

    client = ToolScript(
        ("", [("c1", "broken", "{}"), ("c2", "broken", '{"a": '), ("c3", "nope", "{}")]),
        ("Sorry.", []),
    )
    widget = widget_with(tmp_path, client, tool("broken", broken))
    reply = await widget.ask("Try it")
    assert reply["status"] == "complete" and reply["content"] == "Sorry."
    results = client.requests[1][-1].parts
    assert [r.is_error for r in results] == [True, True, True]
    assert "RuntimeError: disk on fire" in results[0].content
    assert "not valid JSON" in results[1].content
    assert "no tool named 'nope'" in results[2].content
    assert [c["status"] for c in reply["tools"]] == ["error", "error", "error"]


async def test_consent_by_policy_by_callback_and_from_the_page(tmp_path):
    ran: list[str] = []

    def danger(**arguments: Any) -> ToolOutput:
        ran.append("ran")
        return ToolOutput("done")

    steps = [("", [("c1", "danger", "{}")]), ("ok", [])]
    client = ToolScript(*steps, *steps, *steps, *steps)
    widget = widget_with(tmp_path, client, tool("danger", danger, needs_consent=True))

    reply = await widget.ask("go", approve="never")
    assert reply["tools"][0]["status"] == "denied" and ran == []
    assert "did not allow" in client.requests[1][-1].parts[0].content

    asked = []
    reply = await widget.ask("go", approve=lambda call: asked.append(call.name) or True)
    assert (asked, ran, reply["tools"][0]["status"]) == (["danger"], ["ran"], "ok")

    # "ask": the call waits for the page; a tool message shows it waiting.
    before = len(custom(widget, "tool"))
    task = asyncio.ensure_future(widget.ask("go"))
    for _ in range(300):
        waiting = [m for m in custom(widget, "tool")[before:] if m["call"]["status"] == "waiting"]
        if waiting:
            break
        await asyncio.sleep(0.01)
    chat_id = widget.active_chat_id
    assert waiting and waiting[-1]["call"]["needs_consent"] is True
    assert widget.streams[chat_id]["tools"][0]["status"] == "waiting"  # for late views
    browser(widget, type="tool_consent", chat_id=chat_id, call_id="c1", decision="chat")
    reply = await task
    assert reply["tools"][0]["status"] == "ok" and len(ran) == 2
    # Allowed for the chat: the next call runs without asking.
    reply = await widget.ask("go")
    assert reply["tools"][0]["status"] == "ok" and len(ran) == 3
    settings = [json.loads(c) for r, c in rows(tmp_path, chat_id) if r == "settings"]
    assert {"allowed_tools": ["danger"]} in settings


async def test_an_answer_to_no_waiting_call_is_refused_clearly(tmp_path):
    widget = widget_with(tmp_path, ToolScript())
    await widget.ask("hi")
    chat_id = widget.active_chat_id
    browser(widget, type="tool_consent", chat_id=chat_id, call_id="c9", decision="once")
    assert "not waiting" in widget.error
    browser(widget, type="tool_consent", chat_id=chat_id, call_id="c9", decision="yes")
    assert "'once', 'chat' or 'deny'" in widget.error


async def test_stop_while_a_call_waits_or_runs_saves_it_as_stopped(tmp_path):
    started = asyncio.Event()

    async def slow(arguments: dict[str, Any]) -> ToolOutput:
        started.set()
        await asyncio.sleep(30)
        return ToolOutput("never")

    client = ToolScript(("Working.", [("c1", "slow", "{}")]))
    widget = widget_with(tmp_path, client)
    widget.session.toolbox.add(Tool("slow", "Slow.", {"type": "object"}, slow))
    task = asyncio.ensure_future(widget.ask("go"))
    await asyncio.wait_for(started.wait(), 5)
    widget.stop()
    reply = await task
    assert reply["status"] == "stopped" and reply["content"] == "Working."
    assert reply["tools"][0]["status"] == "stopped"
    roles = [r for r, _ in rows(tmp_path, widget.active_chat_id)]
    assert roles[1:4] == ["tool_call", "tool_result", "assistant"]


async def test_the_step_limit_ends_the_reply_with_a_note(tmp_path):
    call = ("", [("c", "shapes", "{}")])
    client = ToolScript(*[call] * 5)
    widget = widget_with(tmp_path, client, tool("shapes", lambda: ToolOutput("3")))
    widget.configure(tool_steps=2)
    reply = await widget.ask("loop forever")
    assert reply["status"] == "error" and "all 2 tool steps" in reply["error"]
    assert [c["status"] for c in reply["tools"]] == ["ok", "ok", "stopped"]
    assert len(client.requests) == 3


async def test_a_server_that_refuses_tools_turns_them_off_for_the_chat(tmp_path):
    client = ToolScript(("Plain answer.", []), refuse_tools=1)
    widget = widget_with(tmp_path, client, tool("shapes", lambda: ToolOutput("3")))
    reply = await widget.ask("hi")
    assert reply["status"] == "complete" and reply["content"] == "Plain answer."
    assert client.offered == [[]]
    assert "does not take tools" in widget.error
    assert widget.chat_settings["tools"] is False
    await widget.ask("again")
    assert client.offered == [[], []]


async def test_tools_off_in_a_chat_offers_none(tmp_path):
    client = ToolScript(("Hi.", []))
    widget = widget_with(tmp_path, client, tool("shapes", lambda: ToolOutput("3")))
    widget.configure(tools=False)
    await widget.ask("hi")
    assert client.offered == [[]]


async def test_a_reload_mid_loop_keeps_the_calls_and_answers_them_as_cut_off(tmp_path):
    # A kernel that died after a call was recorded: the call has no result row.
    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    registry.append(chat_id, "user", "go")
    call = {"id": "c1", "name": "slow", "arguments": "{}", "step": 1, "offset": 3}
    store.append(chat_id, "tool_call", json.dumps(call))
    store.append(chat_id, "partial", "Ok.")
    widget = make_widget(tmp_path, ToolScript(("Fine.", [])))
    widget.select(chat_id)
    (message,) = [m for m in widget.history(chat_id) if m["role"] == "assistant"]
    assert message["error_kind"] == "interrupted" and message["content"] == "Ok."
    assert message["tools"][0]["status"] == "proposed"
    history = model_history(model_messages(*_chat(tmp_path, chat_id)))
    assert history[1:] == [
        ModelMessage("assistant", (TextPart("Ok."), ToolCallPart("c1", "slow", "{}"))),
        ModelMessage(
            "tool",
            (
                ToolResultPart(
                    "c1", "No result was recorded: the reply ended before this tool finished.", True
                ),
            ),
        ),
    ]


def _chat(tmp_path, chat_id):
    registry = ChatRegistry(CsvStore(tmp_path / "logs"))
    return registry.messages(chat_id), registry.tree(chat_id)


async def test_clients_that_take_no_tools_are_sent_none(tmp_path):
    from widget_doubles import ScriptedClient

    client = ScriptedClient()
    client.supports_tools = False
    widget = widget_with(tmp_path, client, tool("shapes", lambda: ToolOutput("3")))
    await widget.ask("hi")
    assert client.options == [{}]
    assert as_model_messages(client.requests[0])[-1].text == "hi"
    await settle(widget)


async def test_read_chats_and_the_exports_carry_the_tool_calls(tmp_path):
    from livechat_widget import read_chats

    client = ToolScript(("Looking.", [("c1", "shapes", '{"table": "df"}')]), ("Three.", []))
    widget = widget_with(tmp_path, client, tool("shapes", lambda table: ToolOutput("3 rows")))
    await widget.ask("How big is df?")
    df = read_chats(tmp_path / "logs")
    (tools,) = df[df.role == "assistant"].tools
    assert [(t["name"], t["status"], t["content"]) for t in tools] == [("shapes", "ok", "3 rows")]
    assert df[df.role == "user"].tools.tolist() == [[]]
    markdown = widget.export(format="markdown")
    assert "**Tool call** `shapes` · ok" in markdown and "3 rows" in markdown
    notebook = json.loads(widget.export(format="ipynb"))
    assert any("**Tool call** `shapes`" in "".join(c["source"]) for c in notebook["cells"])
    document = json.loads(widget.export(format="json"))
    roles = [row["role"] for row in document["chats"][0]["rows"]]
    assert "tool_call" in roles and "tool_result" in roles
