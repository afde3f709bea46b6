"""Tools the model may call: the kernel's own (kernel_tools.py), the person's Python
functions (schema.py), and MCP servers' (mcp_servers.py), all held in a Toolbox."""

from .toolbox import Tool, Toolbox, ToolOutput

__all__ = ["Tool", "ToolOutput", "Toolbox"]
