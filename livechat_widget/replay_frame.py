"""The result of a replay: a pandas DataFrame, one row per (turn, client), that shows
itself in a notebook as a per-client summary above the table.

Imports pandas (an ImportError saying how to install it when it is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .chat_data import PANDAS_HINT

try:
    import pandas as pd
except ImportError:  # pragma: no cover - the [pandas] extra is missing
    raise ImportError(f"A replay's result needs pandas, not installed: {PANDAS_HINT}") from None

# The columns, in order, with their dtypes ("str": text; pandas 2 keeps it as object).
COLUMNS: dict[str, str] = {
    "chat_id": "str",
    "turn": "int64",  # the user message's id in its chat
    "client": "str",  # the label given in `clients`
    "model": "str",
    "ttft_ms": "float64",
    "tokens_per_s": "float64",
    "prompt_tokens": "Int64",
    "completion_tokens": "Int64",
    "cost": "float64",  # dollars; NaN when no price is known
    "finish": "str",  # complete | length | stopped | error
    "error": "str",  # "" when none
    "reply_chars": "int64",
    "code_ok": "boolean",  # <NA> unless run_code=True and the reply has Python blocks
    "reply": "str",
    "original_reply": "str",
    "fork_chat_id": "str",  # the new chat holding the reply ("" when none was written)
}

SUMMARY_COLUMNS = (
    "client",
    "model",
    "rows",
    "replies",
    "errors",
    "stopped",
    "median_ttft_ms",
    "median_tokens_per_s",
    "total_cost",
)


class ReplayFrame(pd.DataFrame):  # type: ignore[misc]
    """A replay's result: a DataFrame (every pandas operation works) whose notebook
    display adds the per-client summary (``summary()``)."""

    _metadata: list[str] = []

    @property
    def _constructor(self) -> type[ReplayFrame]:
        return ReplayFrame

    def summary(self) -> pd.DataFrame:
        """Per client: rows, replies, errors, stopped, median TTFT and tokens/s, cost."""
        return replay_summary(self)

    def _repr_html_(self) -> str | None:
        table: str | None = super()._repr_html_()
        needs = {"client", "model", "finish", "ttft_ms", "tokens_per_s", "cost"}
        if table is None or not needs <= set(self.columns):
            return table  # a selection without the columns the summary needs
        title = f"<p><b>Replay</b>: {len(self)} row(s); by client:</p>"
        per_client: str = replay_summary(self).to_html(index=False, na_rep="–")
        return title + per_client + "<br>" + table


def replay_summary(result: pd.DataFrame) -> pd.DataFrame:
    """The per-client summary of a replay's result: ``rows``, ``replies`` (complete or
    cut at the length limit), ``errors``, ``stopped``, the median ``ttft_ms`` and
    ``tokens_per_s`` of its replies, and ``total_cost`` (NaN when no reply had a price)."""
    groups = []
    for (client, model), rows in result.groupby(["client", "model"], sort=False):
        answered = rows[rows["finish"].isin(["complete", "length"])]
        groups.append(
            {
                "client": client,
                "model": model,
                "rows": len(rows),
                "replies": len(answered),
                "errors": int((rows["finish"] == "error").sum()),
                "stopped": int((rows["finish"] == "stopped").sum()),
                "median_ttft_ms": answered["ttft_ms"].median(),
                "median_tokens_per_s": answered["tokens_per_s"].median(),
                "total_cost": rows["cost"].sum(min_count=1),
            }
        )
    frame = pd.DataFrame.from_records(groups, columns=list(SUMMARY_COLUMNS))
    return frame.astype({"rows": "int64", "replies": "int64", "errors": "int64"})


def result_frame(rows: Iterable[Mapping[str, Any]]) -> ReplayFrame:
    """The rows (dicts with every column of ``COLUMNS``) as a ReplayFrame."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(COLUMNS))
    dtypes = {name: (str if kind == "str" else kind) for name, kind in COLUMNS.items()}
    return ReplayFrame(frame.astype(dtypes))
