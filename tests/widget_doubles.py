"""Test doubles for the widget: a scripted client (a ChatClient, as the providers
are) and helpers that drive a ChatWidget exactly as the browser does."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

from livechat_widget.providers.base import BaseClient, ReplyStream
from livechat_widget.providers.errors import ToolsUnsupported
from livechat_widget.providers.events import TextDelta, ToolCallDelta
from livechat_widget.providers.messages import ModelMessage, as_model_messages
from livechat_widget.widget import ChatWidget


class ScriptedStream(ReplyStream):
    """Yields scripted text pieces, then finishes or raises (a real ReplyStream, so a
    reply is measured as the providers' are); records whether it was closed."""

    def __init__(
        self,
        client: ScriptedClient,
        pieces: list[str],
        delay: float,
        fail: Exception | None,
        finish_reason: str,
        gate: asyncio.Event | None,
    ) -> None:
        self.pieces, self.delay, self.fail, self.gate = pieces, delay, fail, gate
        self._finish_reason = finish_reason
        self.closed = False
        super().__init__(client, ScriptedStream._run)

    async def _run(self):
        for i, text in enumerate(self.pieces):
            if i == 1 and self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delay)
            yield TextDelta(text)
        if self.fail is not None:
            raise self.fail
        self.finish_reason = self.provider_finish_reason = self._finish_reason

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


class ScriptedClient(BaseClient):
    """A ChatClient with scripted replies; ``requests`` holds what each reply was sent,
    as ``{"role", "content"}`` dicts."""

    provider, model = "scripted", "scripted-1"
    supports_tools = False  # text only: tests of tool calls use their own clients

    def __init__(
        self,
        pieces=("Hel", "lo", " there"),
        delay=0.0,
        fail=None,
        finish_reason="stop",
        gate=None,
        on_request=None,
    ) -> None:
        self.pieces, self.delay, self.fail = list(pieces), delay, fail
        self.finish_reason, self.gate, self.on_request = finish_reason, gate, on_request
        self.requests: list[list[dict[str, str]]] = []
        self.options: list[dict[str, object]] = []
        self.streams: list[ScriptedStream] = []

    def stream(self, messages, **options):
        """``options``: a chat's settings (model, temperature, max_tokens), when set."""
        self.requests.append([m.to_dict() for m in as_model_messages(messages)])
        self.options.append(options)
        if self.on_request:
            self.on_request(messages)
        stream = ScriptedStream(
            self, self.pieces, self.delay, self.fail, self.finish_reason, self.gate
        )
        self.streams.append(stream)
        return stream

    def describe(self, model=None) -> str:
        return "scripted model"


Step = tuple[str, list[tuple[str, str, str]]]  # text, calls (id, name, arguments)


class ToolScript(BaseClient):
    """Answers each request with the next scripted step: some text, then tool calls
    (arguments streamed in three pieces), finishing for them; the last step is text."""

    provider, model = "scripted", "tool-script"

    def __init__(self, *steps: Step, refuse_tools: int = 0) -> None:
        self.steps = list(steps)
        self.requests: list[list[ModelMessage]] = []
        self.offered: list[list[str]] = []
        self.refuse_tools = refuse_tools  # requests with tools refused first

    def describe(self, model=None) -> str:
        return "tool script"

    async def _generate(self, messages, state):
        tools = [spec.name for spec in state.options.tools]
        if tools and self.refuse_tools:
            self.refuse_tools -= 1
            raise ToolsUnsupported("This server does not take tools.")
        self.requests.append(list(messages))
        self.offered.append(tools)
        text, calls = self.steps.pop(0) if self.steps else ("Done.", [])
        if text:
            yield TextDelta(text)
        for index, (call_id, name, arguments) in enumerate(calls):
            yield ToolCallDelta(index, call_id, name)
            third = max(1, len(arguments) // 3)
            for at in range(0, len(arguments), third):
                yield ToolCallDelta(index, arguments=arguments[at : at + third])
        state.finish_reason = "tool_calls" if calls else "stop"


def make_widget(tmp_path: Path, client: Any = None, **kwargs: Any) -> ChatWidget:
    widget = ChatWidget(
        client or ScriptedClient(), store=tmp_path / "logs", user_id="ada", **kwargs
    )
    widget.wire: list[dict[str, Any]] = []  # type: ignore[attr-defined]
    widget.comm.send = lambda data=None, metadata=None, buffers=None: widget.wire.append(data)
    return widget


def browser(widget: ChatWidget, **msg: Any) -> None:
    """Deliver a message exactly as the front end's model.send() does."""
    widget._handle_custom_msg(msg, [])


def custom(widget: ChatWidget, kind: str) -> list[dict[str, Any]]:
    return [
        m["content"]
        for m in widget.wire
        if m.get("method") == "custom" and m["content"]["type"] == kind
    ]


def answer(widget: ChatWidget, request: str) -> dict[str, Any] | None:
    """The custom message answering request ``request`` (None if none came yet)."""
    found = [
        m["content"]
        for m in widget.wire
        if m.get("method") == "custom" and m["content"].get("request") == request
    ]
    assert len(found) <= 1, f"request {request!r} was answered {len(found)} times"
    return found[0] if found else None


async def answered(widget: ChatWidget, request: str) -> dict[str, Any]:
    """Wait (bounded) for the answer to request ``request``."""
    for _ in range(500):
        found = answer(widget, request)
        if found is not None:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"request {request!r} was never answered")


async def opened(widget: ChatWidget) -> None:
    """Wait until no chat is being read off the event loop (``opening``), bounded."""
    for _ in range(3000):
        if not widget.opening:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the chat never opened")


async def settle(widget: ChatWidget) -> None:
    """Wait until no reply is streaming (bounded, so a bug fails instead of hanging)."""
    for _ in range(3000):
        if not widget.session.replies:
            await asyncio.sleep(0)  # let done-callbacks run
            return
        await asyncio.sleep(0.01)
    raise AssertionError("reply never finished")


def csv_rows(
    tmp_path: Path, chat_id: str, *, usage: bool = False, partial: bool = False
) -> list[dict[str, str]]:
    """The chat's rows; the ``usage`` row written after every reply and the ``partial``
    rows written while it streamed only if asked for (tests/test_chat_settings.py and
    tests/test_interrupted.py check those)."""
    with open(tmp_path / "logs" / f"{chat_id}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    hidden = {role for role, shown in (("usage", usage), ("partial", partial)) if not shown}
    return [r for r in rows if r["role"] not in hidden]
