"""MCP servers' tools in the chat, through the official ``mcp`` SDK (an optional extra:
``pip install 'livechat-widget[mcp]'``; mcp 1.9+ and 2.x both work).

How to use (in the kernel's running loop, e.g. a notebook cell with top-level await)::

    from livechat_widget.tools.mcp_config import load_config
    from livechat_widget.tools.mcp_servers import McpServers

    servers = McpServers(toolbox, report=print)
    await servers.add_all(load_config("mcp.json"))   # or config_from_env()
    servers.servers                                  # {"files": "running", ...}
    await servers.aclose()                           # stops every server

Each server's tools join the toolbox as ``mcp:<server>`` tools that need the person's
consent for every call; a name another tool already has becomes ``<server>_<tool>``.

The SDK's context managers (the transport, the session) must be entered and left in
one task. So each server lives in one long-lived task of its own that opens them,
serves calls handed over through a queue (each answered through a future, from any
thread or loop), pings the server now and then, and closes them. A server that cannot
start, or stops mid-chat, is reported through ``report`` (with the last lines it wrote
to stderr, minus any env or header value); its tools leave the toolbox and a call in
flight returns an error result. Nothing here raises into the caller for a server's
failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from ..code_run import _clip
from .mcp_config import ServerConfig
from .output import _with_images
from .toolbox import Tool, Toolbox, ToolOutput

__all__ = ["INSTALL_HINT", "McpServers"]

INSTALL_HINT = "MCP servers need the mcp package: pip install 'livechat-widget[mcp]'"
CONNECTION_CLOSED = -32000  # the JSON-RPC error code the SDK gives calls on a lost connection
STDERR_LINES = 5
_IMAGE_TYPES = {"image/png", "image/jpeg"}
_log = logging.getLogger(__name__)


def _sdk() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return mcp


@dataclass
class _Call:
    tool: str
    arguments: dict[str, Any]
    answer: concurrent.futures.Future[ToolOutput]


class McpServers:
    """The MCP servers of one toolbox: started by ``add``, stopped by ``aclose``."""

    def __init__(
        self,
        toolbox: Toolbox,
        report: Callable[[str], None],
        *,
        call_timeout: float = 60.0,
        start_timeout: float = 30.0,
        ping_interval: float = 15.0,
    ) -> None:
        _sdk()
        self.toolbox = toolbox
        self.report = report
        self.call_timeout = call_timeout
        self.start_timeout = start_timeout
        self.ping_interval = ping_interval
        self._servers: dict[str, _Server] = {}

    @property
    def servers(self) -> dict[str, str]:
        """Each server's state: starting, running, failed, stopped (it died) or closed."""
        return {name: server.state for name, server in self._servers.items()}

    async def add(self, config: ServerConfig) -> list[str]:
        """Start ``config``'s server and add its tools; their names in the toolbox.
        A server that cannot start is reported and gives no tools."""
        old = self._servers.get(config.name)
        if old is not None and old.state in ("starting", "running"):
            self._report(f"MCP server '{config.name}' is already {old.state}.")
            return []
        server = _Server(config, self)
        self._servers[config.name] = server
        return await server.start()

    async def add_all(self, configs: Iterable[ServerConfig]) -> list[str]:
        """Start several servers side by side; the names of all the tools added."""
        names = await asyncio.gather(*(self.add(config) for config in configs))
        return [name for group in names for name in group]

    async def remove(self, name: str) -> None:
        """Stop one server and take its tools out of the toolbox."""
        server = self._servers.pop(name, None)
        if server is not None:
            await server.close()

    async def aclose(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        await asyncio.gather(*(server.close() for server in servers))

    def _report(self, text: str) -> None:
        try:
            self.report(text)
        except Exception:  # the caller's callback must not end a server's task
            _log.exception("The MCP report callback failed on: %s", text)

    def __repr__(self) -> str:
        states = ", ".join(f"{n}: {s}" for n, s in self.servers.items())
        return f"McpServers({states or 'none'})"


class _Server:
    """One server and the task that owns its connection."""

    def __init__(self, config: ServerConfig, owner: McpServers) -> None:
        self.config = config
        self.owner = owner
        self.state = "starting"
        self.source = f"mcp:{config.name}"
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[_Call | None] = asyncio.Queue()
        self.started: asyncio.Future[list[str]] = self.loop.create_future()
        self.stop_reason = ""  # why the connection was lost, once it was
        self.errlog: IO[str] | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> list[str]:
        self.task = self.loop.create_task(self._main(), name=f"mcp server {self.config.name}")
        return await asyncio.shield(self.started)

    async def close(self) -> None:
        task, was = self.task, self.state
        if task is None or task.done():
            self._settle("closed")
            return
        self.state = "closed"
        if was == "starting":
            task.cancel()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, None)
        # The stdio transport's own shutdown is bounded (stdin closed, then terminate,
        # then kill); past this the task is cancelled.
        done, _ = await asyncio.wait({task}, timeout=15)
        if not done:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutput:
        if self.state != "running":
            return self._error(f"The MCP server '{self.config.name}' is {self.state}.")
        answer: concurrent.futures.Future[ToolOutput] = concurrent.futures.Future()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, _Call(tool, arguments, answer))
        return await asyncio.wrap_future(answer)

    # --- the server's own task -------------------------------------------------

    async def _main(self) -> None:
        import anyio

        failure: BaseException | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                session = await self._connect(stack)
                # Only around requests: a timeout scope must not enclose the
                # transport's own task groups, which stay open past it.
                with anyio.fail_after(self.owner.start_timeout):
                    await session.initialize()
                    listed = await _list_tools(session)
                self._started(listed)
                await self._serve(session)
        except Exception as exc:  # the SDK's task groups raise ExceptionGroups
            failure = exc
        finally:
            self._finished(failure)

    async def _connect(self, stack: contextlib.AsyncExitStack) -> Any:
        mcp = _sdk()
        from .._version import __version__

        config = self.config
        if config.command is not None:
            # Outlives the stack: a report after the end quotes it (_finished closes it).
            self.errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
            # mcp 1.x replaces the environment with ``env`` where 2.x adds to it: the
            # SDK's safe defaults (PATH, HOME, ...) are given either way, nothing else
            # of the kernel's environment (its API keys, say).
            from mcp.client.stdio import get_default_environment

            env = {**get_default_environment(), **config.env} if config.env else None
            params = mcp.StdioServerParameters(
                command=config.command, args=list(config.args), env=env, cwd=config.cwd
            )
            streams = await stack.enter_async_context(mcp.stdio_client(params, self.errlog))
        else:
            streams = await _open_http(stack, str(config.url), dict(config.headers))
        info = mcp.types.Implementation(name="livechat-widget", version=__version__)
        return await stack.enter_async_context(
            mcp.ClientSession(streams[0], streams[1], client_info=info)
        )

    def _started(self, listed: list[Any]) -> None:
        names = []
        for mcp_tool in listed:
            name = self._tool_name(str(mcp_tool.name))
            self.owner.toolbox.add(self._tool(name, mcp_tool))
            names.append(name)
        self.state = "running"
        if not self.started.done():
            self.started.set_result(names)

    async def _serve(self, session: Any) -> None:
        import anyio

        async with anyio.create_task_group() as group:
            group.start_soon(self._watch, session, group.cancel_scope)
            while True:
                call = await self.queue.get()
                if call is None:  # close()
                    group.cancel_scope.cancel()
                    return
                group.start_soon(self._call, session, call, group.cancel_scope)

    async def _watch(self, session: Any, scope: Any) -> None:
        """Ping now and then: a server that exited between calls is noticed."""
        import anyio

        while True:
            await anyio.sleep(self.owner.ping_interval)
            try:
                with anyio.fail_after(self.owner.call_timeout):
                    await session.send_ping()
            except TimeoutError:
                continue  # busy, not gone
            except Exception as exc:
                if _connection_lost(exc):
                    self._lost(exc, scope)
                    return

    async def _call(self, session: Any, call: _Call, scope: Any) -> None:
        import anyio

        if call.answer.cancelled():
            return
        output = self._error(f"The MCP server '{self.config.name}' stopped during the call.")
        try:
            with anyio.CancelScope() as own:
                # The caller gave up (Stop): the request is cancelled with it.
                call.answer.add_done_callback(
                    lambda f: self.loop.call_soon_threadsafe(own.cancel) if f.cancelled() else None
                )
                with anyio.fail_after(self.owner.call_timeout):
                    result = await session.call_tool(call.tool, call.arguments)
                output = _output_of(result)
        except TimeoutError:
            output = self._error(
                f"The MCP tool '{call.tool}' of server '{self.config.name}' gave no answer "
                f"within {self.owner.call_timeout:g} s."
            )
        except Exception as exc:
            if _connection_lost(exc):
                self._lost(exc, scope)
            else:
                output = self._error(f"The MCP server '{self.config.name}' failed the call: {exc}")
        finally:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                if not call.answer.done():
                    call.answer.set_result(output)

    def _lost(self, exc: BaseException, scope: Any) -> None:
        if not self.stop_reason:
            self.stop_reason = _describe(exc)
        scope.cancel()

    def _finished(self, failure: BaseException | None) -> None:
        """The task's end, however it came: tools out, calls answered, told why."""
        name, was = self.config.name, self.state
        if was == "starting":
            why = _describe(failure) if failure is not None else "it ended before its tools listed"
            self._settle("failed")
            self.owner._report(f"MCP server '{name}' could not start: {why}{self._stderr()}")
        elif was == "running":
            why = self.stop_reason or (_describe(failure) if failure else "the connection ended")
            self._settle("stopped")
            self.owner._report(f"MCP server '{name}' stopped: {why}{self._stderr()}")
        else:
            self._settle(was)
        if self.errlog is not None:
            self.errlog.close()
        if not self.started.done():
            self.started.set_result([])

    def _settle(self, state: str) -> None:
        self.state = state
        self.owner.toolbox.remove_source(self.source)
        while not self.queue.empty():
            call = self.queue.get_nowait()
            if call is not None and not call.answer.done():
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    call.answer.set_result(self._error(f"The MCP server is {state}."))

    def _tool_name(self, wanted: str) -> str:
        clean = re.sub(r"[^A-Za-z0-9_-]", "_", wanted)[:64] or "tool"
        if clean not in self.owner.toolbox:
            return clean
        server = re.sub(r"[^A-Za-z0-9_-]", "_", self.config.name)
        candidate = f"{server}_{clean}"[:64]
        n = 2
        while candidate in self.owner.toolbox:
            suffix = f"_{n}"
            candidate = f"{server}_{clean}"[: 64 - len(suffix)] + suffix
            n += 1
        return candidate

    def _tool(self, name: str, mcp_tool: Any) -> Tool:
        remote = str(mcp_tool.name)
        schema = dict(_field(mcp_tool, "input_schema", "inputSchema") or {})
        schema.setdefault("type", "object")
        description = mcp_tool.description or getattr(mcp_tool, "title", None) or ""

        async def run(arguments: dict[str, Any]) -> ToolOutput:
            return await self.call(remote, arguments)

        return Tool(
            name=name,
            description=description
            or f"The tool '{remote}' of the MCP server '{self.config.name}'.",
            parameters=schema,
            run=run,
            needs_consent=True,
            source=self.source,
        )

    def _stderr(self) -> str:
        """The last lines the server wrote to stderr, with every secret blanked out."""
        if self.errlog is None or self.errlog.closed:
            return ""
        self.errlog.flush()
        self.errlog.seek(0)
        lines = [line.rstrip() for line in self.errlog.read().splitlines() if line.strip()]
        text = "\n".join(lines[-STDERR_LINES:])[-1000:]
        for secret in [*self.config.env.values(), *self.config.headers.values()]:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return f"\nIts last output:\n{text}" if text else ""

    def _error(self, text: str) -> ToolOutput:
        return ToolOutput(text, is_error=True)


async def _open_http(stack: contextlib.AsyncExitStack, url: str, headers: dict[str, str]) -> Any:
    from mcp.client import streamable_http

    modern: Any = getattr(streamable_http, "streamable_http_client", None)
    if modern is not None:  # mcp 2 (and late 1.x): headers live on the HTTP client
        from mcp.shared._httpx_utils import create_mcp_http_client

        client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
        return await stack.enter_async_context(modern(url, http_client=client))
    legacy: Any = getattr(streamable_http, "streamablehttp_client")  # noqa: B009 - mcp 1.x
    return await stack.enter_async_context(legacy(url, headers=headers))


async def _list_tools(session: Any) -> list[Any]:
    result = await session.list_tools()
    tools = list(result.tools)
    for _ in range(50):  # a server that keeps paging is cut off
        cursor = _field(result, "next_cursor", "nextCursor")
        if not cursor:
            break
        try:
            from mcp.types import PaginatedRequestParams

            result = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        except TypeError:  # mcp 1.9 takes the cursor itself
            result = await session.list_tools(cursor=cursor)
        tools.extend(result.tools)
    return tools


def _field(item: Any, name: str, v1_name: str) -> Any:
    """A field by its mcp 2 name, else by its mcp 1 (camelCase) one."""
    return getattr(item, name, getattr(item, v1_name, None))


def _output_of(result: Any) -> ToolOutput:
    texts: list[str] = []
    images: list[str] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            texts.append(str(item.text))
        elif kind == "image" and _field(item, "mime_type", "mimeType") in _IMAGE_TYPES:
            images.append(str(item.data))
        elif kind in ("image", "audio"):
            texts.append(f"({_field(item, 'mime_type', 'mimeType')} {kind} left out)")
        elif kind == "resource":
            resource = item.resource
            text = getattr(resource, "text", None)
            texts.append(str(text) if text is not None else f"(a resource: {resource.uri})")
        elif kind == "resource_link":
            texts.append(f"(a link to {item.uri})")
    structured = _field(result, "structured_content", "structuredContent")
    if not texts and structured is not None:
        texts.append(json.dumps(structured, ensure_ascii=False))
    output = _with_images(_clip("\n".join(texts)) or "(no output)", images)
    is_error = bool(_field(result, "is_error", "isError"))
    return ToolOutput(output.text, output.images, is_error)


def _connection_lost(exc: BaseException) -> bool:
    import anyio

    leaf = _leaf(exc)
    code = getattr(getattr(leaf, "error", None), "code", None)
    lost = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream)
    return code == CONNECTION_CLOSED or isinstance(leaf, lost)


def _leaf(exc: BaseException) -> BaseException:
    """The first real exception inside the ExceptionGroups anyio's task groups raise."""
    inner = getattr(exc, "exceptions", None)  # BaseExceptionGroup (a backport on 3.10)
    while isinstance(inner, tuple) and inner and isinstance(inner[0], BaseException):
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def _describe(exc: BaseException) -> str:
    leaf = _leaf(exc)
    if isinstance(leaf, FileNotFoundError):
        return f"the command {leaf.filename or ''} was not found.".replace("  ", " ")
    if isinstance(leaf, PermissionError):
        return f"the command {leaf.filename or ''} may not be run (permission denied)."
    if isinstance(leaf, TimeoutError):
        return "no answer to the MCP handshake in time."
    if getattr(getattr(leaf, "error", None), "code", None) == CONNECTION_CLOSED:
        return "its connection closed (the server exited)."
    return f"{type(leaf).__name__}: {leaf}" if str(leaf) else type(leaf).__name__
