"""What the stats panel shows of one session's replies: the recent ones' speed and how
each ended, and the totals; token sums come from the chats' ``usage`` rows."""

from __future__ import annotations

from collections import deque

from .reply_usage import Usage
from .wire import Stats, StatsPoint, UsageTotals, empty_stats

RECENT_STATS = 20  # replies shown in the stats panel's chart


class SessionStats:
    """This session's replies only (another view's replies count in its own)."""

    def __init__(self) -> None:
        self.recent: deque[StatsPoint] = deque(maxlen=RECENT_STATS)
        self.totals = empty_stats()["totals"]

    def count(self, status: str, usage: Usage) -> None:
        """A reply ended with ``status`` (complete, length, stopped, error)."""
        totals = self.totals
        totals["replies"] += 1
        totals["tokens"] += usage.completion_tokens or 0
        if status in ("complete", "length"):
            name = "completed"
            totals["completed"] += 1
        elif status == "stopped":
            name = "stopped"
            totals["stopped"] += 1
        else:
            name = "error"
            totals["errors"] += 1
        self.recent.append(
            {"ttft_ms": usage.ttft_ms, "tokens_per_s": usage.tokens_per_s, "outcome": name}
        )

    def payload(self, chat: UsageTotals, overall: UsageTotals) -> Stats:
        return {
            "recent": list(self.recent),
            "totals": self.totals.copy(),
            "chat": chat,
            "overall": overall,
        }
