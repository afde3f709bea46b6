"""Notebooks the browser tests open: code cells written as a Jupyter server reads them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def write_notebook(root: Path, name: str, cells: Sequence[str]) -> str:
    """``root/name``: one code cell per source, not run yet, on the Python 3 kernel;
    returns ``name`` (the path JupyterLab opens, relative to its root)."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": KERNELSPEC},
    )
    nbformat.write(nb, root / name)
    return name
