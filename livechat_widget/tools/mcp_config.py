"""Which MCP servers to start, read from the JSON other MCP clients write.

The shape of Claude Desktop's and Cursor's ``mcpServers`` (VS Code's ``servers`` too)::

    {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."],
                  "env": {"TOKEN": "..."}, "cwd": "/some/folder"},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ..."}}
    }}

A server has a ``command`` (run over stdio) or a ``url`` (streamable HTTP). Keys other
clients add (``autoApprove``, ``alwaysAllow``, ...) are ignored; ``"disabled": true``
leaves a server out. Env values and headers are secrets: no repr or message shows them.
``LIVECHAT_MCP_CONFIG`` may name such a file (``config_from_env()``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ENV_VAR", "McpConfigError", "ServerConfig", "config_from_env", "load_config"]

ENV_VAR = "LIVECHAT_MCP_CONFIG"
_HTTP_TYPES = {"http", "streamable-http", "streamable_http", "streamableHttp"}


class McpConfigError(ValueError):
    """An MCP configuration that cannot be used; the message names the server and field."""


@dataclass(frozen=True)
class ServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    def describe(self) -> str:
        """Where the server is, for messages: the command or URL, never env or headers."""
        if self.command is not None:
            return " ".join([self.command, *self.args])
        return str(self.url)


def load_config(source: str | Path | Mapping[str, Any]) -> list[ServerConfig]:
    """The servers of a config: a mapping, a path to a JSON file, or JSON text (a str
    starting with ``{``). Raises McpConfigError listing every problem found."""
    where = "MCP config"
    if isinstance(source, Mapping):
        data: Any = source
    else:
        text, where = _read(source)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise McpConfigError(
                f"{where} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
    servers = _servers_of(data, where)
    configs: list[ServerConfig] = []
    problems: list[str] = []
    for name, entry in servers.items():
        try:
            config = _server(str(name), entry)
        except McpConfigError as exc:
            problems.append(str(exc))
        else:
            if config is not None:
                configs.append(config)
    if problems:
        raise McpConfigError(f"{where}: " + " ".join(problems))
    return configs


def config_from_env() -> list[ServerConfig]:
    """The servers of the file ``LIVECHAT_MCP_CONFIG`` names; none when it is unset."""
    path = os.environ.get(ENV_VAR, "").strip()
    if not path:
        return []
    if not Path(path).expanduser().is_file():
        raise McpConfigError(f"{ENV_VAR} names {path}, which is not a file.")
    return load_config(Path(path))


def _read(source: str | Path) -> tuple[str, str]:
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return source, "MCP config"
    path = Path(source).expanduser()
    try:
        return path.read_text(encoding="utf-8"), f"MCP config {path}"
    except OSError as exc:
        raise McpConfigError(f"MCP config {path} cannot be read: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise McpConfigError(f"MCP config {path} is not UTF-8 text.") from None


def _servers_of(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise McpConfigError(f'{where} must be a JSON object with "mcpServers".')
    key = "mcpServers" if "mcpServers" in data else "servers" if "servers" in data else None
    if key is None:
        raise McpConfigError(f'{where} has no "mcpServers" object.')
    servers = data[key]
    if not isinstance(servers, Mapping):
        raise McpConfigError(f'{where}: "{key}" must be an object of servers by name.')
    return servers


def _server(name: str, entry: Any) -> ServerConfig | None:
    def bad(text: str) -> McpConfigError:
        return McpConfigError(f"Server '{name}': {text}")

    if not isinstance(entry, Mapping):
        raise bad("must be an object with a command or a url.")
    if entry.get("disabled") is True:
        return None
    kind = entry.get("type", entry.get("transport"))
    if kind == "sse":
        raise bad("the old SSE transport is not supported; use the server's streamable HTTP URL.")
    command, url = entry.get("command"), entry.get("url")
    if command is None and url is None:
        raise bad('has neither "command" (a program to run) nor "url" (an HTTP endpoint).')
    if command is not None and url is not None:
        raise bad('has both "command" and "url"; give one.')
    if kind is not None and kind != "stdio" and kind not in _HTTP_TYPES:
        raise bad(f'"type" is {kind!r}; it can be "stdio" or "http".')
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise bad(f'"url" must be an http:// or https:// address, not {_shown(url)}.')
        return ServerConfig(name, url=url, headers=_strings(entry, "headers", bad))
    if not isinstance(command, str) or not command.strip():
        raise bad(f'"command" must be a program name or path, not {_shown(command)}.')
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise bad(f'"args" must be a list of strings, not {_shown(args)}.')
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise bad(f'"cwd" must be a folder path, not {_shown(cwd)}.')
    env = _strings(entry, "env", bad)
    return ServerConfig(name, command=command, args=tuple(args), env=env, cwd=cwd)


def _strings(entry: Mapping[str, Any], key: str, bad: Any) -> dict[str, str]:
    value = entry.get(key, {})
    if not isinstance(value, Mapping):
        raise bad(f'"{key}" must be an object of names to strings.')
    wrong = [str(k) for k, v in value.items() if not isinstance(v, str)]
    if wrong:  # the names only: the values may be secrets
        raise bad(f'"{key}" values must be strings; {", ".join(wrong)} is not.')
    return dict(value)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
