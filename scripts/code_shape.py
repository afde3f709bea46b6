"""List the modules of livechat_widget over 500 lines and its functions over 80; exit 1
if there are any. One module per concern, functions a reader can hold in mind: the test
command runs this, so the layout cannot grow back without someone deciding it should.

    python3 scripts/code_shape.py
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "livechat_widget"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def offenders() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT.parent)
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(
                        f"{name}:{node.lineno}: {node.name}() is {length} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    return found


def main() -> int:
    found = offenders()
    for line in found:
        print(line)
    print(f"{len(found)} module(s) or function(s) over the limits in {ROOT.name}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
