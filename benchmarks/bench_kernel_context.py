"""What the model receives for a 1,000,000-row DataFrame attached with `@df`.

    python benchmarks/bench_kernel_context.py [--rows 1000000] [--repeats 7]

Builds the context text exactly as a send does (``kernel_context.build_context`` in an
IPython shell whose namespace holds ``df``: 1,000,000 rows x 6 columns of ints,
floats, strings, timestamps, booleans and categories) and prints JSON: the size of
the text in bytes and characters, the per-item cap it stays within, and the best and
median time to build it (the time to list the kernel's variables, which the picker
asks for, too). Needs pandas and numpy (the bench extra).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat_widget import kernel_context  # noqa: E402


def timed(fn, repeats: int) -> tuple[object, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    rng = np.random.default_rng(0)
    n = args.rows
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "value": rng.normal(size=n),
            "name": pd.Series([f"item-{i}" for i in range(n)]),
            "when": pd.date_range("2026-01-01", periods=n, freq="s"),
            "flag": rng.integers(0, 2, n).astype(bool),
            "group": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    shell = InteractiveShell.instance()
    shell.user_ns["df"] = df
    text, build = timed(lambda: kernel_context.build_context(["df"]), args.repeats)
    items, listing = timed(kernel_context.offer, args.repeats)
    assert isinstance(text, str)
    print(
        json.dumps(
            {
                "rows": n,
                "columns": df.shape[1],
                "dataframe_memory_bytes": int(df.memory_usage(deep=True).sum()),
                "context_bytes": len(text.encode("utf-8")),
                "context_chars": len(text),
                "item_cap_bytes": kernel_context.ITEM_BYTES,
                "truncated": "[truncated" in text,
                "build_best_ms": round(min(build) * 1000, 2),
                "build_median_ms": round(statistics.median(build) * 1000, 2),
                "offer_best_ms": round(min(listing) * 1000, 2),
                "offered": [vars(i) for i in items if i.name == "df"],  # type: ignore[union-attr]
                "python": sys.version.split()[0],
                "pandas": pd.__version__,
            },
            indent=2,
        )
    )
    print("\n--- the text the model receives ---\n" + text)


if __name__ == "__main__":
    main()
