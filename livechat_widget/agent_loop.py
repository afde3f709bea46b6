"""The model's tool calls, answered between its requests (streaming.py asks here).

A step's calls are taken in order: each is recorded (a ``tool_call`` row), allowed or
not (consent: the session's ``decide``), run, and its result recorded (a
``tool_result`` row) and shown. Whatever a tool does — raise, return garbage, get
malformed arguments — becomes a failed result the model reads, never a failed reply.
Stop cancels the reply's task wherever it waits: a running call is recorded as
stopped (a kernel tool is interrupted by the page, as Run is), and so is a call that
waited for consent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from .providers.errors import ToolsUnsupported
from .providers.events import ToolCallDelta
from .providers.messages import ModelMessage, Part, TextPart, ToolCallPart, ToolResultPart, ToolSpec
from .streaming import Outcome, Reply, StepEnd
from .tool_rows import CALL_ROLE, RESULT_ROLE, ToolRecord
from .tools.toolbox import Tool, Toolbox, ToolOutput

log = logging.getLogger(__name__)

DENIED = "The person did not allow this call, so it did not run. Go on without it."
STOPPED = "The person stopped the reply while this call ran."
MAX_RESULT_CHARS = 20_000  # what a result may add to the next request

Decide = Callable[[ToolRecord, Tool], Awaitable[bool]]


def step_limit_text(limit: int) -> str:
    return (
        f"The model used all {limit} tool steps this chat allows without answering. "
        f"Send a message to let it go on, or raise “Tool steps” in the chat's settings."
    )


@dataclass
class ToolLoop:
    """One reply's tool steps: the tools it may call and what the session does for
    each call (``decide`` consent, ``journal`` a row, ``changed`` tells the views,
    ``running`` marks kernel code running for Stop, ``refuse`` turns tools off)."""

    toolbox: Toolbox
    decide: Decide
    journal: Callable[[str, ToolRecord], None]
    changed: Callable[[Reply, ToolRecord], None]
    running: Callable[[Reply, ToolRecord | None], None]
    refuse: Callable[[ToolsUnsupported], None]
    max_steps: int = 10

    def specs(self) -> tuple[ToolSpec, ...]:
        return self.toolbox.specs()

    def refused(self, error: ToolsUnsupported) -> None:
        self.refuse(error)

    async def answer(self, end: StepEnd, reply: Reply) -> list[ModelMessage] | Outcome:
        step = 1 + max((c.step for c in reply.tools), default=0)
        offset = len(reply.text)
        start = max((c.offset for c in reply.tools), default=0)
        calls = [
            ToolRecord(
                call_id or f"call_{step}_{n}",
                name,
                arguments,
                step,
                offset,
                *self._traits(name),
            )
            for n, (call_id, name, arguments) in enumerate(assemble(end.calls), 1)
        ]
        for call in calls:
            self._update(reply, call, CALL_ROLE)
        over = step > self.max_steps
        for call in calls:
            if over:
                self._end(reply, call, "stopped", ToolOutput(step_limit_text(self.max_steps)))
            else:
                await self._run(reply, call)
        if over:
            text = step_limit_text(self.max_steps)
            return Outcome(reply.text, reply.reasoning, "error", text, "tool_steps")
        ended = {c.id: c for c in reply.tools}
        said = reply.text[start:offset]
        parts: list[Part] = [TextPart(said)] if said else []
        parts += [ToolCallPart(c.id, c.name, c.arguments) for c in calls]
        results = tuple(
            ToolResultPart(c.id, ended[c.id].content, ended[c.id].status != "ok") for c in calls
        )
        return [ModelMessage("assistant", tuple(parts)), ModelMessage("tool", results)]

    def _traits(self, name: str) -> tuple[str, bool]:
        tool = self.toolbox.get(name)
        return ("", False) if tool is None else (tool.source, tool.needs_consent)

    async def _run(self, reply: Reply, call: ToolRecord) -> None:
        tool = self.toolbox.get(call.name)
        if tool is None:
            known = ", ".join(self.toolbox.names) or "none"
            failed = ToolOutput(f"There is no tool named {call.name!r} (tools: {known}).", (), True)
            self._end(reply, call, "error", failed)
            return
        arguments = parse_arguments(call.arguments)
        if isinstance(arguments, ToolOutput):
            self._end(reply, call, "error", arguments)
            return
        try:
            if tool.needs_consent:
                self._update(reply, replace(call, status="waiting"))
                try:
                    allowed = await self.decide(call, tool)
                except Exception as exc:  # an approve= function that raised: not allowed
                    log.warning("deciding on tool call %s failed", call.id, exc_info=True)
                    why = (
                        f"Approving the call failed ({type(exc).__name__}: {exc}); it did not run."
                    )
                    self._end(reply, call, "denied", ToolOutput(why))
                    return
                if not allowed:
                    self._end(reply, call, "denied", ToolOutput(DENIED))
                    return
            await self._call(reply, call, tool, arguments)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._end(reply, call, "stopped", ToolOutput(STOPPED))
            raise asyncio.CancelledError from None  # Stop ends the whole reply

    async def _call(
        self, reply: Reply, call: ToolRecord, tool: Tool, arguments: dict[str, Any]
    ) -> None:
        self._update(reply, replace(call, status="running"))
        if tool.interruptible:
            self.running(reply, call)
        began = time.perf_counter()
        try:
            output = await tool.run(arguments)
            if not isinstance(output, ToolOutput):
                raise TypeError(f"the tool returned a {type(output).__name__}, not a ToolOutput")
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # the model reads what went wrong; the reply goes on
            log.info("tool %s failed", call.name, exc_info=True)
            output = ToolOutput(f"The tool failed: {type(exc).__name__}: {exc}", (), True)
        finally:
            if tool.interruptible:
                self.running(reply, None)
        ms = round((time.perf_counter() - began) * 1000, 1)
        self._end(reply, call, "error" if output.is_error else "ok", output, ms)

    def _end(
        self,
        reply: Reply,
        call: ToolRecord,
        status: str,
        output: ToolOutput,
        ms: float | None = None,
    ) -> None:
        text = output.text
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + f"\n… [result truncated: {len(text):,} characters]"
        ended = replace(call, status=status, content=text, images=tuple(output.images), ms=ms)
        self._update(reply, ended, RESULT_ROLE)

    def _update(self, reply: Reply, call: ToolRecord, row: str = "") -> None:
        """The call's new state: kept on the reply, written (``row``), shown."""
        known = [i for i, c in enumerate(reply.tools) if c.id == call.id]
        if known:
            reply.tools[known[0]] = call
        else:
            reply.tools.append(call)
        if row:
            try:
                self.journal(row, call)
            except Exception:  # the reply goes on; the page and `done` still show it
                log.exception("could not record tool call %s", call.id)
        self.changed(reply, call)


def assemble(pieces: list[ToolCallDelta]) -> list[tuple[str, str, str]]:
    """The calls a step's ToolCallDelta pieces make: (id, name, JSON arguments) in
    index order; the id "" when the provider gave none."""
    calls: dict[int, list[str]] = {}
    for piece in pieces:
        call = calls.setdefault(piece.index, ["", "", ""])
        call[0] = call[0] or (piece.id or "")
        call[1] = call[1] or (piece.name or "")
        call[2] += piece.arguments
    return [(c[0], c[1], c[2]) for _, c in sorted(calls.items())]


def parse_arguments(text: str) -> dict[str, Any] | ToolOutput:
    """A call's arguments as an object, or the failed result telling the model why not
    (an empty text is no arguments)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        return ToolOutput(
            f"The arguments are not valid JSON ({exc}); the tool did not run. "
            f"Call it again with a JSON object.",
            (),
            True,
        )
    if not isinstance(value, dict):
        return ToolOutput(
            f"The arguments must be a JSON object, not {type(value).__name__}; the tool did "
            f"not run.",
            (),
            True,
        )
    return value
