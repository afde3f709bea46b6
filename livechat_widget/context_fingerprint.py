"""What a context item looked like when the model saw it, and how it changed since.

``fingerprint(value)`` is a small JSON-able dict — kind, shape, columns and dtypes, and
a hash of a bounded sample of the values (a hash of the whole value for small
objects) — cheap for a 10-million-row frame and never raising: a value whose length or
hash fails gets a coarse fingerprint (its kind). ``describe_change(old, new)`` says in
plain words what differs ("1,203 fewer rows, new column `tenure_bucket`").

Pure: no I/O; pandas and numpy are recognised by duck typing (kernel_context.py) and
never imported here.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from typing import Any

from .kernel_context import _is_dataframe, _is_ndarray, _is_series

Fingerprint = dict[str, Any]

MISSING: Fingerprint = {"kind": "missing"}  # the name is no longer in the kernel
EDGE_ROWS = 25  # rows hashed at each end of a frame, series or array
STRIDE_ROWS = 100  # rows hashed at even steps between them
MAX_COLUMNS = 200  # columns (names and dtypes) recorded; more are counted
MAX_NAME_CHARS = 100
PLAIN_ITEMS = 10_000  # containers of plain values up to this many (nested) are hashed whole
PLAIN_CHARS = 10_000  # ... when each of their strings is at most this long
SMALL_CHARS = 1_000_000  # strings/bytes up to this long are hashed whole
SHOWN = 3  # names listed in a change before "and N more"


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
    return digest.hexdigest()[:32]


def _sample_positions(rows: int) -> list[int]:
    """Row positions to hash: both ends and an even stride between (bounded)."""
    if rows <= 2 * EDGE_ROWS + STRIDE_ROWS:
        return list(range(rows))
    step = max(1, rows // STRIDE_ROWS)
    picked = set(range(EDGE_ROWS)) | set(range(0, rows, step)) | set(range(rows - EDGE_ROWS, rows))
    return sorted(picked)


def _pandas_hash(sample: Any) -> str:
    pandas = sys.modules.get("pandas")
    hasher = getattr(getattr(pandas, "util", None), "hash_pandas_object", None)
    try:
        if hasher is None:
            raise TypeError("no pandas hasher")
        return _digest(hasher(sample, index=True).to_numpy().tobytes())
    except Exception:  # unhashable cells (lists, dicts): their text instead
        return _digest(sample.to_csv())


def _frame_hash(sample: Any) -> str:
    """A frame's sample: numbers as one block of bytes (fast however wide), else by
    pandas' per-column hash."""
    try:
        values = sample.to_numpy()
        if values.dtype.kind in "biufc":
            return _digest(values.tobytes(), _pandas_hash(sample.index))
    except Exception:  # an extension type numpy cannot hold: pandas' hash below
        pass
    return _pandas_hash(sample)


def _name(value: Any) -> str:
    return str(value)[:MAX_NAME_CHARS]


def _frame(df: Any) -> Fingerprint:
    rows, cols = (int(n) for n in df.shape)
    dtypes = list(df.dtypes.items())[:MAX_COLUMNS]
    sample = df.iloc[_sample_positions(rows)]
    return {
        "kind": "DataFrame",
        "rows": rows,
        "column_count": cols,
        "columns": [_name(c) for c, _ in dtypes],
        "dtypes": [str(d) for _, d in dtypes],
        "sample": _frame_hash(sample),
    }


def _series(series: Any) -> Fingerprint:
    rows = len(series)
    sample = series.iloc[_sample_positions(rows)]
    return {
        "kind": "Series",
        "rows": rows,
        "dtype": str(series.dtype),
        "sample": _pandas_hash(sample),
    }


def _array(array: Any) -> Fingerprint:
    size = int(array.size)
    flat = array.flat  # reads elements in place: no copy of a big array
    sample = flat[_sample_positions(size)] if size else array
    if array.dtype.hasobject:
        data = repr(sample.tolist())[:SMALL_CHARS]
    else:
        data = sample.tobytes()
    return {
        "kind": "ndarray",
        "shape": [int(n) for n in array.shape],
        "dtype": str(array.dtype),
        "sample": _digest(data),
    }


def _small(value: Any) -> Fingerprint:
    kind = type(value).__name__
    if isinstance(value, (str, bytes)):
        n = len(value)
        ends = (value,) if n <= SMALL_CHARS else (value[:SMALL_CHARS], value[-SMALL_CHARS:])
        return {"kind": kind, "length": n, "hash": _digest(*ends)}
    if value is None or isinstance(value, (bool, int, float, complex)):
        return {"kind": kind, "hash": _digest(repr(value))}
    out: Fingerprint = {"kind": kind, "length": len(value)}  # no len(): coarse
    if isinstance(value, _CONTAINERS) and _plain(value, [PLAIN_ITEMS]):
        out["hash"] = _digest(repr(value))  # bounded: plain values, few of them
    return out


_SCALARS = (str, bytes, int, float, complex, bool, type(None))
_CONTAINERS = (list, tuple, dict, set, frozenset)


def _plain(value: Any, budget: list[int]) -> bool:
    """Whether ``value`` holds only scalars and containers of them, within ``budget``
    items in all (a dict of DataFrames is not: its repr would cost too much)."""
    budget[0] -= 1
    if budget[0] < 0:
        return False
    if isinstance(value, (str, bytes)):
        return len(value) <= PLAIN_CHARS
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, dict):
        return all(_plain(k, budget) and _plain(v, budget) for k, v in value.items())
    return isinstance(value, _CONTAINERS) and all(_plain(v, budget) for v in value)


def fingerprint(value: Any) -> Fingerprint:
    """The fingerprint of ``value``: bounded work, never raises."""
    try:
        if _is_dataframe(value):
            return _frame(value)
        if _is_series(value):
            return _series(value)
        if _is_ndarray(value):
            return _array(value)
        return _small(value)
    except Exception:  # len(), shape or repr() failed: what can be said cheaply
        return {"kind": type(value).__name__}


# -- describing a change


def _article(kind: str) -> str:
    vowel = kind[:1].lower() in "aeiou" or kind.startswith("nd")  # "an ndarray"
    return f"an {kind}" if vowel else f"a {kind}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:SHOWN])
    more = len(names) - SHOWN
    return f"{shown} and {more:,} more" if more > 0 else shown


def _rows(old: int, new: int, unit: tuple[str, str] = ("row", "rows")) -> list[str]:
    """["1,203 fewer rows"], ["1 more row"] or [] (same count)."""
    n = abs(new - old)
    if n == 0:
        return []
    return [f"{n:,} {'fewer' if new < old else 'more'} {unit[0] if n == 1 else unit[1]}"]


def _frame_changes(old: Fingerprint, new: Fingerprint) -> list[str]:
    parts = _rows(old.get("rows", 0), new.get("rows", 0))
    before = dict(zip(old.get("columns", []), old.get("dtypes", []), strict=False))
    after = dict(zip(new.get("columns", []), new.get("dtypes", []), strict=False))
    added = [c for c in after if c not in before]
    removed = [c for c in before if c not in after]
    if added:
        parts.append(("new column " if len(added) == 1 else "new columns ") + _names(added))
    if removed:
        parts.append(
            ("column " if len(removed) == 1 else "columns ") + _names(removed) + " removed"
        )
    retyped = [c for c in after if c in before and before[c] != after[c]]
    parts += [f"dtype of `{c}` {before[c]} → {after[c]}" for c in retyped[:SHOWN]]
    if len(retyped) > SHOWN:
        parts.append(f"{len(retyped) - SHOWN:,} more dtypes changed")
    if not added and not removed and list(before) != list(after):
        parts.append("columns reordered")
    return parts


def describe_change(old: Fingerprint, new: Fingerprint) -> str:
    """What differs between two fingerprints of one name, in plain words ("" if none)."""
    if old == new:
        return ""
    kind, was = str(new.get("kind", "")), str(old.get("kind", ""))
    if kind == MISSING["kind"]:
        return "no longer in the kernel"
    if kind != was:
        return f"now {_article(kind)} (was {_article(was)})"
    parts: list[str] = []
    if kind == "DataFrame":
        parts = _frame_changes(old, new)
    elif kind == "Series":
        parts = _rows(old.get("rows", 0), new.get("rows", 0))
        if old.get("dtype") != new.get("dtype"):
            parts.append(f"dtype {old.get('dtype')} → {new.get('dtype')}")
    elif kind == "ndarray":
        if old.get("shape") != new.get("shape"):
            parts.append(f"shape {_shape(old)} → {_shape(new)}")
        if old.get("dtype") != new.get("dtype"):
            parts.append(f"dtype {old.get('dtype')} → {new.get('dtype')}")
    elif "length" in old and "length" in new:
        unit = ("character", "characters") if kind == "str" else ("item", "items")
        unit = ("byte", "bytes") if kind == "bytes" else unit
        parts = _rows(old["length"], new["length"], unit)
    if parts:
        return ", ".join(parts)
    return "values changed" if "sample" in new else "value changed"


def _shape(fp: Fingerprint) -> str:
    shape = fp.get("shape", [])
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
