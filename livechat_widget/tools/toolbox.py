"""What a tool is to the chat, and the set of them a widget offers.

A :class:`Tool` is a name, a description, a JSON schema of its arguments and an async
``run(arguments) -> ToolOutput``. Where it came from (``source``: "kernel", "python",
"mcp:<server>") decides nothing by itself; ``needs_consent`` does: such a tool runs
only after the person allowed that call (consent.py). A tool that raises is a failed
result the model is told about, never a failed reply (agent_loop.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..providers.messages import ToolSpec

__all__ = ["MAX_TOOLS", "TOOL_NAME", "Tool", "ToolOutput", "Toolbox"]

#: Tool names every provider accepts (OpenAI: ^[a-zA-Z0-9_-]{1,64}$).
TOOL_NAME = r"[A-Za-z0-9_-]{1,64}"
MAX_TOOLS = 128  # OpenAI's limit per request


@dataclass(frozen=True)
class ToolOutput:
    """What a tool returned: text for the model, PNG images (base64) for the page,
    ``is_error`` when the tool failed (the text then says why)."""

    text: str
    images: tuple[str, ...] = ()
    is_error: bool = False


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: Mapping[str, Any]  # a JSON schema with "type": "object"
    run: Callable[[dict[str, Any]], Awaitable[ToolOutput]]
    needs_consent: bool = False
    source: str = "python"  # "kernel" | "python" | "mcp:<server name>"
    #: It runs code in the kernel's main thread: Stop interrupts the kernel for it.
    interruptible: bool = False

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)


@dataclass
class Toolbox:
    """The tools one widget offers, by name (a later ``add`` of a name replaces it).
    ``on_change`` callbacks run after every add or remove (the page's list follows)."""

    _tools: dict[str, Tool] = field(default_factory=dict)
    on_change: list[Callable[[], None]] = field(default_factory=list)

    def add(self, tool: Tool) -> Tool:

        if not re.fullmatch(TOOL_NAME, tool.name):
            raise ValueError(
                f"A tool name is 1 to 64 letters, digits, '_' or '-'; not {tool.name!r}."
            )
        if tool.name not in self._tools and len(self._tools) >= MAX_TOOLS:
            raise ValueError(f"A chat offers at most {MAX_TOOLS} tools.")
        self._tools[tool.name] = tool
        self._changed()
        return tool

    def remove(self, name: str) -> None:
        if self._tools.pop(name, None) is not None:
            self._changed()

    def remove_source(self, source: str) -> None:
        """Drop every tool of one source (an MCP server that stopped)."""
        names = [n for n, t in self._tools.items() if t.source == source]
        for name in names:
            del self._tools[name]
        if names:
            self._changed()

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec() for tool in self._tools.values())

    def _changed(self) -> None:
        for callback in list(self.on_change):
            callback()

    def __repr__(self) -> str:
        return f"Toolbox({', '.join(self._tools) or 'empty'})"
