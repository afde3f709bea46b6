"""Whether a reply's Python code runs: its ```python blocks, in order, in a scratch
namespace — a fresh Python process, never the kernel.

Only when the caller of ``replay(..., run_code=True)`` asked for it: the process is
``sys.executable -I`` (isolated: no user site, no PYTHONPATH, no current folder on the
path), in a new temporary folder that is removed after, with no input, its output
discarded, and killed after ``timeout`` seconds. The blocks share one namespace, as
cells of a notebook do. It is not a sandbox: the code can do what the user running
it can (read files, use the network); run code you would run yourself.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from .code_run import python_blocks

DEFAULT_TIMEOUT = 30.0  # seconds a reply's blocks may run together

# Runs each block of the JSON list in argv[1] in one namespace; exit 1 at the first
# that raises (the traceback goes to stderr, which is discarded).
_RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for number, code in enumerate(json.load(open(sys.argv[1], encoding="utf-8")), 1):
    exec(compile(code, f"<block {number}>", "exec"), namespace)
"""


async def code_runs(text: str, timeout: float = DEFAULT_TIMEOUT) -> bool | None:
    """True if every Python block of ``text`` runs without an error within ``timeout``
    seconds, False if one fails (or time runs out), None when there is no block."""
    blocks = python_blocks(text)
    if not blocks:
        return None
    with tempfile.TemporaryDirectory(prefix="livechat-replay-") as scratch:
        source = Path(scratch) / "blocks.json"
        source.write_text(json.dumps(blocks), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            _RUNNER,
            str(source),
            cwd=scratch,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            code = await asyncio.wait_for(process.wait(), timeout)
        except asyncio.TimeoutError:
            code = None
        finally:  # timed out or cancelled (stop): never leave it running
            if process.returncode is None:
                process.kill()
                await asyncio.shield(process.wait())
    return code == 0
