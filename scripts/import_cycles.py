"""List the import cycles between the modules of livechat_widget; exit 1 if any.

Every import counts — at the top, inside a function, under ``TYPE_CHECKING`` — since
each is an arrow a reader has to follow. The test command runs this; it prints nothing
but a count when the package has no cycle.

    python3 scripts/import_cycles.py [--graph]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "livechat_widget"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``module`` imports, anywhere in its file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module, path)
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target not in known:
                continue
            # `from . import x` imports the module x when there is one.
            subs = {f"{target}.{alias.name}" for alias in node.names}
            found.update(subs & known or {target})
    found.discard(module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    names = module_names()
    graph = {name: imports_of(name, path, set(names)) for name, path in names.items()}
    if "--graph" in argv:
        for name in sorted(graph):
            print(f"{name} -> {', '.join(sorted(graph[name])) or '-'}")
    found = cycles(graph)
    for component in found:
        inside = {m: sorted(graph[m] & set(component)) for m in component}
        print("cycle: " + "; ".join(f"{m} -> {', '.join(t)}" for m, t in inside.items()))
    print(f"{len(found)} import cycle(s) among {len(names)} modules of {PACKAGE}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
