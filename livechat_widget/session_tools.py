"""A session's side of tool calls: which reply gets tools, who decides a call that
needs consent, and where each call's rows and states go.

Consent, in order: a tool that needs none runs; one the person allowed for the whole
chat ("Allow for this chat", a ``settings`` row) runs; otherwise the reply's policy
decides — ``"always"``, ``"never"``, a callable (``chat.ask(..., approve=fn)``), or
``"ask"``: the call waits, shown as a card with Allow once / Allow for this chat /
Deny, until a page answers (``tool_consent``) or the reply is stopped.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

from .agent_loop import ToolLoop
from .chat_registry import ChatRegistry
from .chat_settings import ChatSettings
from .providers.base import ChatClient, takes_tools
from .providers.errors import ToolsUnsupported
from .refusals import Refused
from .streaming import Reply
from .tool_rows import CALL_ROLE, ToolRecord, call_row, result_row
from .tools.toolbox import Tool, Toolbox


class ToolListener(Protocol):
    def tool_changed(self, reply: Reply, call: ToolRecord) -> None: ...
    def tool_running(self, reply: Reply, call: ToolRecord | None) -> None: ...


class ToolSession(Protocol):
    """What tool calls need of a chat session (session.py)."""

    client: ChatClient
    toolbox: Toolbox
    registry: ChatRegistry

    @property
    def listener(self) -> ToolListener: ...
    def allow_tool(self, chat_id: str, name: str) -> None: ...
    def tools_refused(self, chat_id: str, why: str) -> None: ...


__all__ = ["Approve", "ToolCall", "answer_consent", "check_approve", "tool_loop"]

POLICIES = ("ask", "always", "never")
DECISIONS = ("once", "chat", "deny")


@dataclass(frozen=True)
class ToolCall:
    """A call an ``approve=`` callback is asked about; it returns True to allow it."""

    id: str
    name: str
    arguments: dict[str, Any]
    code: str  # the Python it runs ("" for tools that run none)
    source: str  # "kernel" | "python" | "mcp:<server>"
    chat_id: str


Approve: TypeAlias = Literal["ask", "always", "never"] | Callable[[ToolCall], Any]


def check_approve(approve: object) -> Approve:
    """``approve`` if it is a policy name or a callable; ValueError otherwise."""
    if callable(approve) or approve in POLICIES:
        return approve  # type: ignore[return-value]
    raise ValueError(
        f"approve must be 'ask', 'always', 'never' or a function of the call, not {approve!r}"
    )


class ConsentRefused(Refused):
    """An answer to a call that does not wait for one."""


def answer_consent(replies: dict[str, Reply], chat_id: str, call_id: str, decision: str) -> None:
    """The person's answer to a waiting call (any view of the chat may give it)."""
    reply = replies.get(chat_id)
    waiting = reply.waiting.get(call_id) if reply is not None else None
    if waiting is None or waiting.done():
        raise ConsentRefused("That tool call is not waiting for an answer any more.")
    waiting.set_result(decision)


def tool_loop(
    session: ToolSession, reply: Reply, settings: ChatSettings, approve: Approve
) -> ToolLoop | None:
    """The tool steps of ``reply``, or None when it gets no tools: the chat turned
    them off, the widget offers none, or the client cannot take them."""
    if not settings.tools or not len(session.toolbox) or not takes_tools(session.client):
        return None
    chat_id = reply.chat_id

    async def decide(call: ToolRecord, tool: Tool) -> bool:
        if call.name in session.registry.allowed_tools(chat_id) or approve == "always":
            return True
        if approve == "never":
            return False
        if callable(approve):
            return await _ask_callback(approve, call, chat_id)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        reply.waiting[call.id] = future
        try:
            decision = await future
        finally:
            reply.waiting.pop(call.id, None)
        if decision == "chat":
            session.allow_tool(chat_id, call.name)
        return decision != "deny"

    def journal(role: str, call: ToolRecord) -> None:
        content = call_row(call) if role == CALL_ROLE else result_row(call)
        session.registry.append_tool(chat_id, role, content)

    def refuse(error: ToolsUnsupported) -> None:
        session.tools_refused(chat_id, error.user_message)

    return ToolLoop(
        session.toolbox,
        decide,
        journal,
        session.listener.tool_changed,
        session.listener.tool_running,
        refuse,
        settings.tool_steps,
    )


async def _ask_callback(approve: Callable[[ToolCall], Any], call: ToolRecord, chat_id: str) -> bool:
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = {}
    question = ToolCall(
        call.id,
        call.name,
        arguments if isinstance(arguments, dict) else {},
        call.code,
        call.source,
        chat_id,
    )
    answer = approve(question)
    if inspect.isawaitable(answer):
        answer = await answer
    return bool(answer)
