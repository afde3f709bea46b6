"""The kernel's own tools: what the ``@`` picker offers, the last error, recent cells
with their outputs, and running Python in the user's namespace.

Reading tools run without asking; ``run_python`` asks for consent every time (unless
the person allowed it for the chat) and runs as Run does (code_run.py): on the main
thread, as a cell would, interruptible by the kernel's interrupt. In the ``livechat``
app the reading tools exist only with ``--allow-kernel-context`` and ``run_python``
only with ``--allow-code`` (the widget passes what it allows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..code_run import RunResult, call_on_main, run_in_kernel
from ..kernel_context import (
    ITEM_BYTES,
    LAST_ERROR,
    RECENT_CELLS,
    ContextUnavailable,
    current_shell,
    describe_item,
    offer,
)
from .toolbox import Tool, ToolOutput

__all__ = ["kernel_tools"]

NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
MAX_OUTPUT_CELLS = 5
OUTPUT_CHARS = 2_000  # one cell's output in recent_cells


async def _list_variables(arguments: dict[str, Any]) -> ToolOutput:
    items = [item for item in offer() if item.name not in (LAST_ERROR, RECENT_CELLS)]
    if not items:
        return ToolOutput("The user namespace holds no variables (modules and functions aside).")
    lines = [f"{i.name}: {i.kind}" + (f", {i.detail}" if i.detail else "") for i in items]
    return ToolOutput("\n".join(lines))


def _describe(item_bytes: int) -> Callable[[dict[str, Any]], Any]:
    async def describe_variable(arguments: dict[str, Any]) -> ToolOutput:
        name = arguments.get("name")
        if not isinstance(name, str) or not name:
            return ToolOutput("Name the variable to describe ('name').", is_error=True)
        if name in (LAST_ERROR, RECENT_CELLS) or name.startswith("_"):
            return ToolOutput(f"{name!r} is not a variable this tool describes.", is_error=True)
        offered = {item.name for item in offer()}
        if name not in offered:
            return ToolOutput(
                f"The kernel offers no variable named {name!r} (list_variables names them).",
                is_error=True,
            )
        return ToolOutput(describe_item(name, item_bytes))

    return describe_variable


def _last_error(item_bytes: int) -> Callable[[dict[str, Any]], Any]:
    async def last_error(arguments: dict[str, Any]) -> ToolOutput:
        try:
            return ToolOutput(describe_item(LAST_ERROR, item_bytes))
        except ContextUnavailable:
            return ToolOutput("No cell has raised an error in this kernel yet.")

    return last_error


def _recent_cells(item_bytes: int) -> Callable[[dict[str, Any]], Any]:
    async def recent_cells(arguments: dict[str, Any]) -> ToolOutput:
        shell = current_shell()
        history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
        outputs = getattr(shell, "user_ns", {}).get("Out", {}) if shell is not None else {}
        numbered = [(n, c) for n, c in enumerate(history) if n and isinstance(c, str) and c.strip()]
        if not numbered:
            return ToolOutput("This kernel has no cell history.")
        parts = []
        for number, cell in numbered[-MAX_OUTPUT_CELLS:]:
            part = f"In [{number}]:\n```python\n{cell.rstrip()}\n```"
            if isinstance(outputs, dict) and number in outputs:
                try:
                    shown = repr(outputs[number])
                except Exception as exc:  # a repr that fails is described, not raised
                    shown = f"<{type(exc).__name__} in repr>"
                if len(shown) > OUTPUT_CHARS:
                    shown = shown[:OUTPUT_CHARS] + " … [output truncated]"
                part += f"\nOut[{number}]:\n```\n{shown}\n```"
            parts.append(part)
        text = "\n\n".join(parts)
        limit = item_bytes * 2
        if len(text.encode("utf-8")) > limit:
            text = text.encode("utf-8")[-limit:].decode("utf-8", "ignore")
            text = "… [earlier cells truncated]\n" + text
        return ToolOutput(text)

    return recent_cells


def run_output(run: RunResult) -> ToolOutput:
    """A run's outcome as the model reads it (its images go to the page)."""
    parts = []
    if run.stdout:
        parts.append(f"Output:\n{run.stdout}")
    if run.result:
        parts.append(f"Result:\n{run.result}")
    if run.images:
        parts.append(f"({len(run.images)} image(s) displayed to the person.)")
    if run.error:
        parts.append(run.error)
    if not parts:
        parts.append("The code ran and printed nothing.")
    return ToolOutput("\n\n".join(parts), tuple(run.images), run.status != "ok")


async def _run_python(arguments: dict[str, Any]) -> ToolOutput:
    code = arguments.get("code")
    if not isinstance(code, str) or not code.strip():
        return ToolOutput("Give the Python to run ('code').", is_error=True)
    run = await call_on_main(lambda: run_in_kernel(-1, code))
    if run.status == "interrupted":
        raise KeyboardInterrupt  # Stop interrupted the kernel: the reply stops too
    return run_output(run)


def kernel_tools(
    *, read: bool = True, run: bool = True, item_bytes: int = ITEM_BYTES
) -> list[Tool]:
    """The built-in tools: the reading ones if ``read``, ``run_python`` if ``run``."""
    tools = []
    if read:
        tools += [
            Tool(
                "list_variables",
                "List the variables in the user's Jupyter kernel: name, type and size "
                "(rows × columns of a DataFrame, length, shape). Never their values.",
                NO_ARGUMENTS,
                _list_variables,
                source="kernel",
            ),
            Tool(
                "describe_variable",
                "Describe one variable of the user's kernel: a DataFrame's columns, dtypes "
                "and first rows; an array's shape and sample; other values' repr (capped).",
                {
                    "type": "object",
                    "properties": {"name": {"type": "string", "description": "The variable."}},
                    "required": ["name"],
                    "additionalProperties": False,
                },
                _describe(item_bytes),
                source="kernel",
            ),
            Tool(
                "last_error",
                "The last exception raised in the user's kernel, with its traceback.",
                NO_ARGUMENTS,
                _last_error(item_bytes),
                source="kernel",
            ),
            Tool(
                "recent_cells",
                "The last cells the user ran in this kernel, oldest first, with the value "
                "each cell's last line produced (its Out[n]) where there was one.",
                NO_ARGUMENTS,
                _recent_cells(item_bytes),
                source="kernel",
            ),
        ]
    if run:
        tools.append(
            Tool(
                "run_python",
                "Run Python code in the user's kernel, in their namespace, as a notebook cell "
                "would (variables it defines stay). Returns what it printed, the value of its "
                "last line, or the error. The user approves each run.",
                {
                    "type": "object",
                    "properties": {"code": {"type": "string", "description": "Python code."}},
                    "required": ["code"],
                    "additionalProperties": False,
                },
                _run_python,
                needs_consent=True,
                source="kernel",
                interruptible=True,
            )
        )
    return tools
