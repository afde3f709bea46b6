"""Fingerprints of context items and the words for how they changed
(livechat_widget/context_fingerprint.py): pure functions, no kernel."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from livechat_widget import context_fingerprint
from livechat_widget.context_fingerprint import MISSING, describe_change, fingerprint


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {"customer": range(2000), "age": np.linspace(20.0, 70.0, 2000), "plan": ["a", "b"] * 1000}
    )


def change(old: object, new: object) -> str:
    return describe_change(fingerprint(old), fingerprint(new))


def test_a_frame_is_kind_shape_columns_dtypes_and_a_sample_hash(df):
    fp = fingerprint(df)
    assert fp["kind"] == "DataFrame" and fp["rows"] == 2000 and fp["column_count"] == 3
    assert fp["columns"] == ["customer", "age", "plan"]
    assert fp["dtypes"] == ["int64", "float64", str(df["plan"].dtype)]
    assert fp == fingerprint(df.copy())  # the same values, the same fingerprint
    assert json.loads(json.dumps(fp)) == fp  # it survives the chat file


def test_dropped_rows_and_a_new_column_are_named(df):
    after = df.iloc[:797].copy()
    after["tenure_bucket"] = "new"
    assert change(df, after) == "1,203 fewer rows, new column `tenure_bucket`"
    assert change(df.iloc[:10], df.iloc[:11]) == "1 more row"


def test_a_removed_column_and_a_changed_dtype_are_named(df):
    assert change(df, df.drop(columns=["plan"])) == "column `plan` removed"
    retyped = df.assign(age=df["age"].astype("int64"))
    assert change(df, retyped) == "dtype of `age` float64 → int64"


def test_values_changed_with_the_same_shape(df):
    edited = df.copy()
    edited.loc[0, "age"] = -1.0
    assert change(df, edited) == "values changed"
    small = pd.DataFrame({"x": [1, 2, 3]})
    assert change(small, pd.DataFrame({"x": [1, 9, 3]})) == "values changed"


def test_series_and_arrays(df):
    assert change(df["age"], df["age"].iloc[:-5]) == "5 fewer rows"
    assert change(df["age"], df["age"].astype("float32")) == "dtype float64 → float32"
    assert change(np.zeros(3), np.zeros((3, 2))) == "shape (3,) → (3, 2)"
    assert change(np.zeros(3), np.ones(3)) == "values changed"
    assert change(np.zeros(3), np.zeros(3, dtype="int8")) == "dtype float64 → int8"
    objects = np.array([1, "a"], dtype=object)
    assert fingerprint(objects) == fingerprint(objects.copy())


def test_small_objects_are_hashed_whole():
    assert fingerprint({"a": 1}) == fingerprint({"a": 1})
    assert change({"a": 1}, {"a": 2}) == "value changed"
    assert change([1, 2], [1, 2, 3]) == "1 more item"
    assert change("abc", "a") == "2 fewer characters"
    assert change(b"ab", b"abc") == "1 more byte"
    assert change(3, 4) == "value changed"
    assert change(3, 3) == ""


def test_a_new_kind_and_a_missing_name():
    assert change(pd.DataFrame({"x": [1]}), [1]) == "now a list (was a DataFrame)"
    assert change(7, np.zeros(2)) == "now an ndarray (was an int)"
    assert describe_change(fingerprint([1]), dict(MISSING)) == "no longer in the kernel"


def test_many_new_columns_are_summarised():
    before = pd.DataFrame({"a": [1]})
    after = before.assign(b=1, c=2, d=3, e=4, f=5)
    assert change(before, after) == "new columns `b`, `c`, `d` and 2 more"


class Broken:
    def __len__(self) -> int:
        raise RuntimeError("no length")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BrokenFrame:
    """Looks like a pandas DataFrame to duck typing, and fails on every use."""

    __module__ = "pandas.core.frame"
    dtypes = columns = None

    def head(self) -> None:
        raise RuntimeError("no head")

    @property
    def shape(self) -> tuple[int, int]:
        raise RuntimeError("no shape")


def test_failing_objects_get_a_coarse_fingerprint():
    assert fingerprint(Broken()) == {"kind": "Broken"}
    assert fingerprint(BrokenFrame()) == {"kind": "BrokenFrame"}
    assert fingerprint(object()) == {"kind": "object"}  # no len(): its kind alone
    assert change(Broken(), Broken()) == ""  # nothing to compare: never stale


BOUND = 2 * context_fingerprint.EDGE_ROWS + context_fingerprint.STRIDE_ROWS


@pytest.mark.parametrize("column", [np.zeros(10_000_000, dtype="int64"), ["x"] * 2_000_000])
def test_a_huge_frame_hashes_a_bounded_sample(monkeypatch, column):
    seen: list[int] = []  # the rows of every frame, series or index hashed
    real_pandas, real_digest = pd.util.hash_pandas_object, context_fingerprint._digest

    def pandas_spy(obj, **kwargs):
        seen.append(len(obj))
        return real_pandas(obj, **kwargs)

    def digest_spy(*parts):
        seen.extend(len(p) // 8 for p in parts)  # rows of int64 values or uint64 hashes
        return real_digest(*parts)

    monkeypatch.setattr(pd.util, "hash_pandas_object", pandas_spy)
    monkeypatch.setattr(context_fingerprint, "_digest", digest_spy)
    big = pd.DataFrame({"x": column})
    fp = fingerprint(big)
    assert fp["rows"] == len(column)
    assert seen and max(seen) <= BOUND
    # the stride reaches the middle: a change there is seen
    big.iloc[len(column) // 2, 0] = "y" if isinstance(column, list) else 1
    assert fingerprint(big)["sample"] != fp["sample"]


def test_a_wide_numeric_frame_sees_a_change_in_any_column():
    wide = pd.DataFrame(np.zeros((300, 500)))
    edited = wide.copy()
    edited.iloc[0, 499] = 1.0
    assert change(wide, edited) == "values changed"
    assert change(wide, wide.set_axis(wide.index + 1)) == "values changed"  # the index too
    assert len(fingerprint(wide)["columns"]) == context_fingerprint.MAX_COLUMNS


def test_a_huge_string_and_a_big_list_stay_bounded():
    text = "x" * (3 * context_fingerprint.SMALL_CHARS)
    assert fingerprint(text)["length"] == len(text)
    many = list(range(context_fingerprint.PLAIN_ITEMS))
    assert fingerprint(many) == {"kind": "list", "length": len(many)}  # no hash of it all
    assert "hash" in fingerprint(many[:-1])
    nested = {"a": [1, 2, {"b": ("x", None, 2.5)}]}
    assert "hash" in fingerprint(nested) and change(nested, {"a": [1, 2, {"b": ()}]})


def test_a_container_of_objects_is_not_hashed_through_their_reprs(df):
    frames = {"first": df, "second": df}
    assert fingerprint(frames) == {"kind": "dict", "length": 2}
    long_text = ["x" * (context_fingerprint.PLAIN_CHARS + 1)]
    assert fingerprint(long_text) == {"kind": "list", "length": 1}


def test_pandas_is_not_needed(monkeypatch):
    """Without pandas loaded, other values still get their fingerprints."""
    import sys

    monkeypatch.delitem(sys.modules, "pandas")
    assert fingerprint([1, 2])["length"] == 2
