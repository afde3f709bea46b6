"""The errors cells raised lately, and the context block "Ask livechat" attaches for one.

The exception hook (error_help.py) records each error with the cell's number and code:
the last few, in memory (an exception keeps its frames alive, so few). The block for
``error [12]`` holds the traceback, the cell's code and the local variables of the
innermost frame of the person's own code (not the standard library's, a package's or
IPython's), each described as the `@` picker describes a variable, capped; the values of
names that look like secrets are withheld, and wherever else such a value appears.
"""

from __future__ import annotations

import ast
import functools
import linecache
import re
import sys
import sysconfig
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from .kernel_context import (
    ITEM_BYTES,
    Block,
    ContextUnavailable,
    Item,
    add_source,
    current_shell,
    cut,
    describe_error,
    describe_value,
    is_offerable,
)

__all__ = ["KEPT", "PREFIX", "ErrorLog", "block_for", "error_log", "last_block", "looks_secret"]

PREFIX = "error ["  # "error [12]": a name no variable can have
KEPT = 5  # errors remembered
LOCALS = 20  # variables described at most
LOCAL_BYTES = 1024  # each
TRACEBACK_BYTES = 3 * 1024
CELL_BYTES = 2 * 1024
WITHHELD = "<withheld>"

SECRET_NAME = re.compile(
    r"key|token|secret|passw(?:or)?d|pwd|credential|auth|private|cookie|session_id", re.I
)
# `api_key = "sk-..."` in code: the literal is withheld too.
_SECRET_LITERAL = re.compile(
    r"""(\b\w*(?:key|token|secret|passw(?:or)?d|pwd|credential|auth|private|cookie)\w*"""
    r"""\s*[:=]\s*[rbuRBUfF]{0,2})(['"]{1,3})(.*?)\2""",
    re.I,
)
_OWN_DIR = str(Path(__file__).resolve().parent)
_CELL_FILE = re.compile(r"^<ipython-input-|/ipykernel_\d+/|^<cell-|^<string>$")


def looks_secret(name: str) -> bool:
    """A variable whose name says it holds a secret (api_key, token, password, ...)."""
    return SECRET_NAME.search(name) is not None


@dataclass(frozen=True)
class CellError:
    count: int  # the cell's execution count
    error: BaseException
    source: str  # the cell's code

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.count}]"


class ErrorLog:
    """The last ``KEPT`` errors of one kernel's cells."""

    def __init__(self) -> None:
        self.errors: deque[CellError] = deque(maxlen=KEPT)

    def record(self, count: int, error: BaseException, source: str) -> CellError:
        kept = [e for e in self.errors if e.count != count]  # a cell run without history
        self.errors.clear()
        self.errors.extend(kept)
        entry = CellError(count, error, source)
        self.errors.append(entry)
        return entry

    def latest(self) -> CellError | None:
        return self.errors[-1] if self.errors else None

    def get(self, name: str) -> CellError | None:
        return next((e for e in self.errors if e.name == name), None)

    def offered(self) -> list[Item]:
        latest = self.latest()
        return [] if latest is None else [Item(latest.name, "error", type(latest.error).__name__)]

    def describe(self, name: str) -> Block | None:
        if not name.startswith(PREFIX):
            return None
        entry = self.get(name)
        if entry is None:
            raise ContextUnavailable(
                f"{name!r} is no longer kept: only the last {KEPT} errors are."
            )
        return Block(name, "error", error_block(entry))


def error_log(create: bool = False) -> ErrorLog | None:
    """This kernel's log (made when ``create``)."""
    shell = current_shell()
    log: ErrorLog | None = getattr(shell, "_livechat_errors", None)
    if log is None and create and shell is not None:
        log = shell._livechat_errors = ErrorLog()
    return log


class _KeptErrors:
    """The running kernel's kept errors, as an ``ItemSource`` of kernel_context."""

    def offered(self) -> list[Item]:
        log = error_log()
        return log.offered() if log is not None else []

    def describe(self, name: str) -> Block | None:
        log = error_log()
        if log is None:
            return None
        return log.describe(name)


add_source(_KeptErrors())  # `error [12]` resolves wherever context is built


def cell_number(shell: Any, tb: TracebackType | None, running: bool) -> int:
    """The execution count of the cell that raised: IPython's own map of cell files to
    numbers (what labels a traceback's "Cell In[12]"), from the outermost cell frame.
    Without one, the shell's count: IPython 8 raises that number while the cell runs
    (``running``) and moves on after it; IPython 9 moves on before the cell runs."""
    cells = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if isinstance(cells, dict):
        for frame in _frames(tb):
            number = cells.get(frame.f_code.co_filename)
            if isinstance(number, int):
                return number
    count = int(getattr(shell, "execution_count", 1) or 1)
    return count if running else max(0, count - 1)


def cell_source(shell: Any, count: int, tb: TracebackType | None) -> str:
    """The code of the cell that raised: from the history, else from its frame's file."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None) or []
    frame = _cell_frame(tb)
    if frame is not None:
        lines = linecache.getlines(frame.f_code.co_filename)
        if lines:
            return "".join(lines)
    if 0 < count < len(history) and isinstance(history[count], str):
        return str(history[count])
    return ""


def _cell_frame(tb: TracebackType | None) -> FrameType | None:
    for frame in _frames(tb):
        if _CELL_FILE.search(frame.f_code.co_filename.replace("\\", "/")):
            return frame
    return None


def _frames(tb: TracebackType | None) -> list[FrameType]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """The standard library's and the installed packages' folders, and this package's."""
    paths = sysconfig.get_paths()
    dirs = {paths.get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")} - {""}
    return tuple(str(Path(d).resolve()) + "/" for d in dirs) + (_OWN_DIR + "/",)


def is_user_code(filename: str) -> bool:
    """A notebook cell or a file of the person's own, not the standard library, an
    installed package, IPython's machinery or this package."""
    name = filename.replace("\\", "/")
    if _CELL_FILE.search(name):
        return True
    if name.startswith("<") or "/site-packages/" in name or "/dist-packages/" in name:
        return False
    if "/IPython/" in name or "/ipykernel/" in name:
        return False
    resolved = str(Path(filename).resolve())
    return not resolved.startswith(_library_dirs())


def user_frame(tb: TracebackType | None) -> FrameType | None:
    """The innermost frame of the person's own code in the traceback, if any."""
    frames = [f for f in _frames(tb) if is_user_code(f.f_code.co_filename)]
    return frames[-1] if frames else None


def _names_in(source: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    except (SyntaxError, ValueError):  # IPython syntax (magics): the frame's names only
        return set()


def _frame_locals(frame: FrameType, source: str) -> dict[str, Any]:
    """A function's locals; for a cell's own frame (module level, where locals are the
    whole namespace) only the names the cell's code uses."""
    values = dict(frame.f_locals)
    if frame.f_locals is not frame.f_globals:
        return values
    used = set(frame.f_code.co_names) | set(frame.f_code.co_varnames) | _names_in(source)
    return {
        name: value
        for name, value in values.items()
        if name in used and is_offerable(name, value, {})
    }


def _describe_local(name: str, value: Any) -> str:
    if looks_secret(name):
        return f"- {name}: {type(value).__name__} (value withheld: the name looks like a secret)"
    try:
        text = describe_value(value)
    except Exception as exc:  # a value whose repr fails is still named
        text = f"{type(value).__name__} (could not be described: {type(exc).__name__})"
    head, _, rest = cut(text, LOCAL_BYTES).partition("\n")
    if rest and "\n" not in rest and len(rest) <= 80:  # "int:\n3" -> "int: 3"
        return f"- {name}: {head} {rest}"
    lines = [f"- {name}: {head}", *(f"  {line}" if line else "" for line in rest.split("\n"))]
    return "\n".join(lines).rstrip()


def _secrets(values: dict[str, Any]) -> list[str]:
    return [v for n, v in values.items() if looks_secret(n) and isinstance(v, str) and len(v) >= 4]


def _withhold(text: str, secrets: list[str]) -> str:
    text = _SECRET_LITERAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{WITHHELD}{m.group(2)}", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, WITHHELD)
    return text


def _locals_section(frame: FrameType, source: str, budget: int) -> tuple[str, list[str]]:
    values = _frame_locals(frame, source)
    if frame.f_locals is frame.f_globals:
        heading = f"Variables the cell uses (it raised at line {frame.f_lineno}):"
    else:
        heading = (
            f"Local variables of {frame.f_code.co_name}() at line {frame.f_lineno}, "
            "the innermost frame of your code:"
        )
    lines = [heading]
    used = len(heading.encode("utf-8"))
    names = sorted(values, key=str.lower)
    for i, name in enumerate(names[:LOCALS]):
        line = _describe_local(name, values[name])
        if used + len(line.encode("utf-8")) + 1 > budget:
            lines.append(f"… and {len(names) - i} more not shown")
            break
        lines.append(line)
        used += len(line.encode("utf-8")) + 1
    else:
        if len(names) > LOCALS:
            lines.append(f"… and {len(names) - LOCALS} more not shown")
    if not names:
        lines.append("(none)")
    return "\n".join(lines), _secrets(values)


def error_block(entry: CellError, limit: int = ITEM_BYTES) -> str:
    """The context text of one error: traceback, the cell's code, the frame's locals."""
    error = entry.error
    parts = [cut(describe_error(error), TRACEBACK_BYTES)]
    if entry.source.strip():
        code = cut(entry.source.rstrip(), CELL_BYTES)
        parts.append(f"The cell that raised (cell [{entry.count}]):\n```python\n{code}\n```")
    secrets: list[str] = []
    frame = user_frame(error.__traceback__)
    if frame is not None:
        used = sum(len(p.encode("utf-8")) + 2 for p in parts)
        section, secrets = _locals_section(frame, entry.source, max(256, limit - used - 64))
        parts.append(section)
    return cut(_withhold("\n\n".join(parts), secrets), limit)


def block_for(name: str) -> str:
    """The block of the kept error ``name`` ("error [12]"); ValueError if not kept."""
    log = error_log()
    block = log.describe(name) if log is not None else None
    if block is None:
        raise ValueError(f"{name!r} is not an error this kernel kept.")
    return block.text


def last_block() -> str:
    """The block "Ask livechat" would attach for the last error of this kernel: the one
    the hook kept, else IPython's last error (``sys.last_value``); ValueError if none."""
    shell = current_shell()
    if shell is None:
        raise ValueError("error_context() needs an IPython kernel (a notebook, JupyterLab, ...).")
    log = error_log()
    latest = log.latest() if log is not None else None
    last = getattr(sys, "last_value", None)
    if latest is not None and (last is None or last is latest.error):
        return error_block(latest)
    if isinstance(last, BaseException):
        count = cell_number(shell, last.__traceback__, running=False)
        source = cell_source(shell, count, last.__traceback__)
        return error_block(CellError(count, last, source))
    raise ValueError("There has been no error in this kernel yet.")
