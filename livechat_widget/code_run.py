"""Running a code block of a reply in the kernel's user namespace, at the person's request.

The code runs through IPython's ``run_cell(store_history=False)``: as if typed in a
cell (same namespace, display hooks, matplotlib's inline figures) but without adding
to the notebook or the kernel's history. Its stdout/stderr, its result, its error and
the PNG images it displays are captured and returned as a ``RunResult``.

It runs on the kernel's main thread, like a cell: the kernel's main shell is busy
meanwhile (a cell run then waits for it). That is what makes interrupting it reliable:
Jupyter's interrupt (the widget's Stop calls it through the front end's kernel
connection, as the notebook's Interrupt button does) sends SIGINT, which Python delivers
to the main thread only, where it raises KeyboardInterrupt in the running code — even
inside ``time.sleep`` or a blocking C call that checks for signals. JupyterLab 4.6 sends
widget messages over a kernel subshell (another thread, ipykernel 7), so a run asked for
there is handed to the main thread's loop (``on_main_thread``); the widget keeps
handling messages meanwhile. Without subshells the run happens inside the message's
handler on the main thread, and the widget handles no other message until it ends.
The limit: code stuck in a C call that never checks for signals cannot be interrupted,
only the kernel restarted.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from .kernel_context import QUIET, current_shell, describe_error
from .refusals import Refused

T = TypeVar("T")

MAX_OUTPUT_CHARS = 20_000  # per stream (stdout, result, error)
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000  # base64 text of one PNG
PYTHON_LANGS = frozenset({"python", "py", "python3", "ipython", "ipython3"})

# A fenced block (``` or ~~~, three or more) with its info string; the same fences
# CommonMark (and so the widget's markdown renderer) accepts at the start of a line.
_FENCE = re.compile(
    r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)"
    r"(?:^ {0,3}(?P=fence)[`~]*[ \t]*$|\Z)",
    re.M | re.S,
)


class RunRefused(Refused):
    """A run that cannot happen (not allowed, not a block of that reply, one running)."""


@dataclass
class RunResult:
    message_id: int
    code: str
    status: str = "ok"  # "ok" | "error" | "interrupted"
    stdout: str = ""
    result: str = ""
    error: str = ""
    images: list[str] = field(default_factory=list)  # base64 PNG

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> RunResult | None:
        """The run a ``code_run`` row holds; None if the row is malformed."""
        try:
            data = json.loads(text)
            run = RunResult(
                int(data["message_id"]),
                str(data["code"]),
                str(data.get("status", "ok")),
                str(data.get("stdout", "")),
                str(data.get("result", "")),
                str(data.get("error", "")),
                [str(i) for i in data.get("images", [])],
            )
        except (ValueError, KeyError, TypeError):
            return None
        return run


def python_blocks(markdown: str) -> list[str]:
    """The code of every Python fenced block in ``markdown``, in order."""
    blocks = []
    for match in _FENCE.finditer(markdown):
        lang = (match.group("info").split() or [""])[0].lower()
        if lang in PYTHON_LANGS:
            indent = len(match.group("indent"))
            lines = match.group("body").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            blocks.append("\n".join(_dedent(line, indent) for line in lines))
    return blocks


def _dedent(line: str, width: int) -> str:
    strip = len(line) - len(line.lstrip(" "))
    return line[min(strip, width) :]


def same_code(a: str, b: str) -> bool:
    return a.rstrip() == b.rstrip()


def _clip(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n… [output truncated: {len(text):,} characters]"


def on_main_thread(task: Callable[[], None]) -> None:
    """Call ``task`` on the kernel's main thread: now if this is it, else on its loop."""
    if threading.current_thread() is threading.main_thread():
        task()
        return
    loop = getattr(getattr(current_shell(), "kernel", None), "io_loop", None)
    if loop is None:
        raise RunRefused("Code can only run on the kernel's main thread, which is unreachable.")
    loop.add_callback(task)


async def call_on_main(task: Callable[[], T]) -> T:
    """``task()`` on the kernel's main thread (as a cell runs), awaited from any loop:
    called right here when this is the main thread (the loop waits, as for a cell)."""
    if threading.current_thread() is threading.main_thread():
        return task()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = task()
        except BaseException as exc:  # noqa: BLE001 - handed back to the awaiting task
            loop.call_soon_threadsafe(_settle, done, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, done, result, None)

    on_main_thread(run)
    return await done


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the awaiting task was stopped meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def run_in_kernel(message_id: int, code: str) -> RunResult:
    """Run ``code`` as a cell would (without history) and capture what it produced."""
    from IPython.utils import capture

    capture_output: Any = capture.capture_output  # untyped
    shell = current_shell()
    if shell is None:
        raise RunRefused("Code can only run inside an IPython kernel.")
    run = RunResult(message_id, code)
    on_main = threading.current_thread() is threading.main_thread()
    saved = signal.getsignal(signal.SIGINT) if on_main else None
    try:
        if on_main:  # Jupyter's interrupt (SIGINT) raises KeyboardInterrupt in the code
            signal.signal(signal.SIGINT, signal.default_int_handler)
        setattr(shell, QUIET, True)  # the chat's own run: no "Ask livechat" (error_hook.py)
        with capture_output(stdout=True, stderr=True, display=True) as captured:
            outcome: Any = shell.run_cell(code, store_history=False, silent=False)
    except KeyboardInterrupt:  # arrived outside the code itself
        run.status, run.error = "interrupted", "KeyboardInterrupt: the run was interrupted."
        return run
    finally:
        setattr(shell, QUIET, False)
        if on_main and saved is not None:
            signal.signal(signal.SIGINT, saved)
    run.stdout = _clip(captured.stdout + captured.stderr)
    # display() calls were captured; the value of the last line went to the display
    # hook (which `capture_output` does not see) and is on the outcome.
    formatted = [output.data for output in captured.outputs]
    if outcome.result is not None:
        formatted.append(shell.display_formatter.format(outcome.result)[0])
    texts = []
    for data in formatted:
        png = data.get("image/png")
        if isinstance(png, str) and len(png) <= MAX_IMAGE_BYTES and len(run.images) < MAX_IMAGES:
            run.images.append(png)
        elif "text/plain" in data:
            texts.append(str(data["text/plain"]))
    run.result = _clip("\n".join(texts))
    error = outcome.error_before_exec or outcome.error_in_exec
    if error is not None:
        run.status = "interrupted" if isinstance(error, KeyboardInterrupt) else "error"
        run.error = _clip(describe_error(error))
    return run
