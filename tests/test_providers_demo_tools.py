"""The demo model's tool script: list the variables, describe a DataFrame, run a
```python block; then say what the tools returned. Without tools it is unchanged."""

from __future__ import annotations

import json
import time

from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.demo_tools import first_dataframe
from livechat_widget.providers.events import FinishEvent, StreamEvent, TextDelta, ToolCallDelta
from livechat_widget.providers.messages import (
    ModelMessage,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
)

NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
CODE = {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}
TOOLS = (
    ToolSpec(
        "list_variables", "List the kernel's variables.", {"type": "object", "properties": {}}
    ),
    ToolSpec("describe_variable", "Describe one variable.", NAME),
    ToolSpec("run_python", "Run Python code in the kernel.", CODE),
)
LISTING = "Variables (2):\n- sales: DataFrame, 3 rows × 2 columns\n- n: int = 3"


async def reply(
    messages: list[ModelMessage], tools: tuple[ToolSpec, ...] = TOOLS, pace: float = 0
) -> tuple[str, list[tuple[str | None, str | None, str]], FinishEvent]:
    """The text, the calls (id, name, arguments) and the finish of one demo reply."""
    events: list[StreamEvent] = [
        e async for e in DemoClient(pace=pace).stream(messages, tools=tools)
    ]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    calls: dict[int, tuple[str | None, str | None, str]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            call_id, name, arguments = calls.get(e.index, (None, None, ""))
            calls[e.index] = (call_id or e.id, name or e.name, arguments + e.arguments)
    finish = events[-1]
    assert isinstance(finish, FinishEvent)
    return text, [calls[i] for i in sorted(calls)], finish


def answered(
    call: tuple[str | None, str | None, str], result: str, said: str = ""
) -> list[ModelMessage]:
    """The assistant's call and the tool message answering it."""
    call_id, name, arguments = call
    assert call_id and name
    parts = (
        (TextPart(said), ToolCallPart(call_id, name, arguments))
        if said
        else (ToolCallPart(call_id, name, arguments),)
    )
    return [
        ModelMessage("assistant", parts),
        ModelMessage("tool", (ToolResultPart(call_id, result),)),
    ]


async def test_list_then_describe_then_text() -> None:
    chat = [ModelMessage.of_text("user", "Which DataFrames are in my kernel?")]
    text, calls, finish = await reply(chat)
    assert text == "Let me look at what is in your kernel."
    assert calls == [("call_demo_1", "list_variables", "{}")]
    assert finish == FinishEvent("tool_calls", "tool_calls")

    chat += answered(calls[0], LISTING, text)
    text, calls, finish = await reply(chat)
    assert calls == [("call_demo_2", "describe_variable", '{"name": "sales"}')]
    assert "`sales`" in text and finish.reason == "tool_calls"

    chat += answered(calls[0], "   region  total\n0  north     10\n1  south     12")
    text, calls, finish = await reply(chat)
    assert calls == [] and finish == FinishEvent("stop", "stop")
    assert "**list_variables**" in text and "**describe_variable**" in text
    assert "- sales: DataFrame, 3 rows × 2 columns" in text
    assert "   region  total" in text  # in a fenced block, so its columns stay aligned
    assert "demo model" in text and "OPENAI_API_KEY" in text and "LIVECHAT_BASE_URL" in text


async def test_a_list_without_a_dataframe_is_answered_in_text() -> None:
    chat = [ModelMessage.of_text("user", "show me the variables")]
    _, calls, _ = await reply(chat)
    chat += answered(calls[0], "n: int = 3\nname: str = 'x'")
    text, calls, finish = await reply(chat)
    assert calls == [] and finish.reason == "stop"
    assert "n: int = 3" in text


async def test_describe_is_called_once_a_turn() -> None:
    chat = [ModelMessage.of_text("user", "what data do I have?")]
    _, calls, _ = await reply(chat)
    chat += answered(calls[0], LISTING)
    _, calls, _ = await reply(chat)
    chat += answered(calls[0], "a DataFrame")
    # Suppose the loop asked for the variables again: no second describe this turn.
    chat += answered(("call_demo_3", "list_variables", "{}"), LISTING)
    _, calls, finish = await reply(chat)
    assert calls == [] and finish.reason == "stop"
    # A new question is a new turn: it starts over, with ids going on.
    chat.append(ModelMessage.of_text("user", "and now the kernel?"))
    _, calls, _ = await reply(chat)
    assert calls == [("call_demo_4", "list_variables", "{}")]


async def test_run_python_runs_the_fenced_block() -> None:
    ask = "Please run this:\n\n```python\nimport math\nprint(math.pi)\n```\n"
    text, calls, finish = await reply([ModelMessage.of_text("user", ask)])
    assert text == "I will run this code in your kernel."
    assert calls == [
        ("call_demo_1", "run_python", json.dumps({"code": "import math\nprint(math.pi)"}))
    ]
    assert finish.reason == "tool_calls"
    # A block without "run", or "run" without a block, is not run.
    _, calls, _ = await reply([ModelMessage.of_text("user", "```python\nx = 1\n```")])
    assert calls == []
    _, calls, _ = await reply([ModelMessage.of_text("user", "How do I run a notebook?")])
    assert calls == []


async def test_a_failed_call_is_said_to_have_failed() -> None:
    chat = [
        ModelMessage.of_text("user", "Run it: ```python\n1/0\n```"),
        ModelMessage("assistant", (ToolCallPart("call_demo_1", "run_python", "{}"),)),
        ModelMessage("tool", (ToolResultPart("call_demo_1", "ZeroDivisionError", is_error=True),)),
    ]
    text, calls, _ = await reply(chat)
    assert calls == [] and "**run_python** (it failed)" in text and "ZeroDivisionError" in text


async def test_only_offered_tools_are_called_and_no_tools_is_todays_reply() -> None:
    ask = [ModelMessage.of_text("user", "What variables are in the kernel?")]
    _, calls, _ = await reply(ask, (TOOLS[2],))
    assert calls == []  # list_variables is not offered
    text, calls, finish = await reply(ask, ())
    assert calls == [] and finish == FinishEvent("stop", "stop")
    assert text == DemoClient.reply_text(ask)
    assert "> What variables are in the kernel?" in text


async def test_the_tool_call_keeps_the_pace() -> None:
    start = time.monotonic()
    _, calls, _ = await reply([ModelMessage.of_text("user", "list my variables")], pace=50)
    # 8 words and 2 call pieces: 9 intervals at 50 pieces per second.
    assert calls and time.monotonic() - start >= 0.17


def test_first_dataframe() -> None:
    assert first_dataframe("df: DataFrame, 3 rows × 2 columns") == "df"
    assert first_dataframe("x: int\n* `frame`: DataFrame (2 × 2)\nother: DataFrame") == "frame"
    assert first_dataframe("DataFrames: none\nsales: DataFrame") == "sales"
    assert first_dataframe("nothing here") is None


def test_kernel_context_sent_with_a_message_asks_for_no_tool():
    # Recent cells hold ```python blocks and the word "run": the person wrote neither.
    from livechat_widget.providers.demo_tools import next_call
    from livechat_widget.providers.messages import ModelMessage

    context = (
        "The person attached this context from their Jupyter kernel:\n\n"
        '<context name="df" kind="DataFrame">\n3 rows\n</context>\n\n'
        '<context name="recent cells" kind="cells">\nthe last 2 cells run, oldest first:\n\n'
        "```python\nx = 1\n```\n</context>\n\n"
    )
    tools = ["run_python", "list_variables"]
    asked = [ModelMessage.of_text("user", context + "Which city is wetter?")]
    assert next_call(asked, tools) is None
    asked = [ModelMessage.of_text("user", context + "What variables do I have?")]
    assert next_call(asked, tools).name == "list_variables"
