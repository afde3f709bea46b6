"""The demo model's tool script: which kernel tool it calls next, if any.

Deterministic, so the offline default shows tool calls: a question about the
kernel's data lists the variables, a DataFrame in that list is described, and a
```python block the person asks to run is run. It calls only the built-in kernel
tools (``list_variables``, ``describe_variable``, ``run_python``), and only those the
reply offers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .messages import ModelMessage, ToolCallPart, ToolResultPart

__all__ = ["DemoCall", "calls_so_far", "next_call", "results_of_turn"]

_ABOUT_DATA = re.compile(r"\b(variables?|data|dataframes?|datasets?|kernel|namespace)\b", re.I)
_PYTHON_BLOCK = re.compile(r"```(?:python|py)[ \t]*\n(.*?)```", re.S | re.I)
_RUN = re.compile(r"\brun\b", re.I)
# Kernel context sent with a message (kernel_context.py): the person did not write it.
_CONTEXT = re.compile(r"^The person attached this context.*^</context>\n*", re.S | re.M)


@dataclass(frozen=True, slots=True)
class DemoCall:
    """A tool call of the demo: the text said before it, the tool, its JSON arguments."""

    intro: str
    name: str
    arguments: str


def next_call(messages: Sequence[ModelMessage], tools: Collection[str]) -> DemoCall | None:
    """The call the demo makes in answer to ``messages`` when ``tools`` (names) are
    offered; None: it answers in text."""
    if not messages or not tools:
        return None
    last = messages[-1]
    if last.role == "user":
        return _call_for(last.text, tools)
    if last.role == "tool":
        return _call_after(messages, tools)
    return None


def _call_for(text: str, tools: Collection[str]) -> DemoCall | None:
    text = _CONTEXT.sub("", text)  # only what the person wrote asks for a tool
    block = _PYTHON_BLOCK.search(text)
    if "run_python" in tools and block and _RUN.search(_PYTHON_BLOCK.sub("", text)):
        code = block.group(1).rstrip()
        return DemoCall(
            "I will run this code in your kernel.", "run_python", json.dumps({"code": code})
        )
    if "list_variables" in tools and _ABOUT_DATA.search(text):
        return DemoCall("Let me look at what is in your kernel.", "list_variables", "{}")
    return None


def _call_after(messages: Sequence[ModelMessage], tools: Collection[str]) -> DemoCall | None:
    """After a list of the variables: describe its first DataFrame, once a turn."""
    if "describe_variable" not in tools:
        return None
    answered = results_of_turn(messages)
    if any(name == "describe_variable" for name, _ in answered):
        return None
    latest = {p.tool_call_id for p in messages[-1].parts if isinstance(p, ToolResultPart)}
    for name, result in answered:
        if name != "list_variables" or result.is_error or result.tool_call_id not in latest:
            continue
        frame = first_dataframe(result.content)
        if frame:
            return DemoCall(
                f"`{frame}` is a DataFrame; let me describe it.",
                "describe_variable",
                json.dumps({"name": frame}),
            )
    return None


def first_dataframe(listing: str) -> str | None:
    """The name of the first DataFrame in a list of variables (lines such as
    ``df: DataFrame, 3 rows × 2 columns``): what comes before the first colon of the
    first line that names a DataFrame after it; None when there is none."""
    for line in listing.splitlines():
        head, colon, rest = line.partition(":")
        if not colon or "DataFrame" not in rest:
            continue  # a DataFrame is the type after the name, not a heading's word
        name = head.strip().strip("-*•`'\" ").strip()
        if name.isidentifier():
            return name
    return None


def results_of_turn(messages: Sequence[ModelMessage]) -> list[tuple[str, ToolResultPart]]:
    """The tool results since the last user message, each with the name of the tool
    that gave it ("a tool" when no call of this turn has its id)."""
    start = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1) + 1
    turn = messages[start:]
    names = {p.id: p.name for m in turn for p in m.parts if isinstance(p, ToolCallPart)}
    return [
        (names.get(p.tool_call_id, "a tool"), p)
        for m in turn
        for p in m.parts
        if isinstance(p, ToolResultPart)
    ]


def calls_so_far(messages: Sequence[ModelMessage]) -> int:
    """How many tool calls the conversation holds (the demo numbers its calls on)."""
    return sum(1 for m in messages for p in m.parts if isinstance(p, ToolCallPart))
