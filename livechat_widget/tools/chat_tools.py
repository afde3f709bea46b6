"""``chat.tools``: the tools a chat offers the model, as a notebook user sees them.

::

    @chat.tool                         # a function of yours, its schema from its signature
    def churn_rate(segment: str) -> float:
        "The monthly churn rate of one customer segment."

    chat.tools.add(plot_cohort, needs_consent=True)   # asks before each call
    chat.tools                          # list_variables (kernel), ..., churn_rate (python)
    chat.tools.remove("churn_rate")
    await chat.add_mcp_server("files", command="npx", args=["-y", "@mcp/server-fs", "."])

MCP servers start on the kernel's running loop (``add_mcp``): their tools join the
list, each asking for consent; one that cannot start or stops is reported in the chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

from .mcp_config import ServerConfig, load_config
from .schema import tool_from_function
from .toolbox import Tool, Toolbox

__all__ = ["ChatTools"]

log = logging.getLogger(__name__)


class ChatTools:
    """The tools of one chat widget: the kernel's, your functions, MCP servers'."""

    def __init__(self, toolbox: Toolbox, report: Callable[[str], None]) -> None:
        self._toolbox = toolbox
        self._report = report
        self._mcp: Any = None  # McpServers, once a server was added (needs the mcp extra)
        self._starting: set[asyncio.Task[list[str]]] = set()

    def add(
        self,
        fn: Callable[..., Any] | Tool,
        *,
        name: str | None = None,
        description: str | None = None,
        needs_consent: bool = False,
    ) -> Tool:
        """Offer ``fn`` to the model: its JSON schema from its signature, type hints and
        docstring (a ``Tool`` is added as it is). ``needs_consent``: each call waits for
        the person's Allow (or ``ask(approve=...)``). A name already taken is replaced."""
        tool = (
            fn
            if isinstance(fn, Tool)
            else tool_from_function(
                fn, name=name, description=description, needs_consent=needs_consent
            )
        )
        return self._toolbox.add(tool)

    def remove(self, name: str) -> None:
        if name not in self._toolbox:
            raise KeyError(f"no tool named {name!r} (tools: {', '.join(self.names) or 'none'})")
        self._toolbox.remove(name)

    @property
    def names(self) -> list[str]:
        return self._toolbox.names

    def __getitem__(self, name: str) -> Tool:
        tool = self._toolbox.get(name)
        if tool is None:
            raise KeyError(name)
        return tool

    def __contains__(self, name: object) -> bool:
        return name in self._toolbox

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._toolbox)

    def __len__(self) -> int:
        return len(self._toolbox)

    def __repr__(self) -> str:
        if not len(self._toolbox):
            return "ChatTools(none)"
        lines = [
            f"  {t.name} ({t.source or 'python'}{', asks' if t.needs_consent else ''})"
            for t in self._toolbox
        ]
        return "ChatTools(\n" + "\n".join(lines) + "\n)"

    # -- MCP servers

    @property
    def mcp_servers(self) -> dict[str, str]:
        """Each MCP server's state: starting, running, failed, stopped or closed."""
        return dict(self._mcp.servers) if self._mcp is not None else {}

    def add_mcp(self, configs: list[ServerConfig]) -> asyncio.Task[list[str]]:
        """Start MCP servers on the running loop; a task that ends with the names of
        the tools they added (await it, or not: failures are reported in the chat)."""
        if self._mcp is None:
            from .mcp_servers import McpServers  # ImportError: names the extra to install

            self._mcp = McpServers(self._toolbox, self._report)
        task = asyncio.get_running_loop().create_task(self._mcp.add_all(configs))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)
        return task

    def add_mcp_server(self, name: str, **entry: Any) -> asyncio.Task[list[str]]:
        """One server, configured as an ``mcpServers`` entry is: ``command``, ``args``,
        ``env``, ``cwd`` for a stdio server, or ``url`` and ``headers`` for streamable
        HTTP. ValueError (McpConfigError) naming a bad field, before anything starts."""
        given = {k: v for k, v in entry.items() if v is not None}
        return self.add_mcp(load_config({"mcpServers": {name: given}}))

    async def aclose(self) -> None:
        """Stop the MCP servers (their tools leave the list)."""
        if self._mcp is not None:
            await self._mcp.aclose()
