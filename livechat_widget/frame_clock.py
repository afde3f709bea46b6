"""When coalesced deltas leave the kernel: on a grid of the page's frames.

A token waits twice before it is painted: in the kernel until the next delta, and in
the page until the next animation frame. With the two clocks free-running, the waits
add up to two frames at worst. The page measures how long each delta waited for its
frame and asks (``frame_sync``) to shift this grid so deltas arrive just before it
paints; then a token waits about one frame in all (js/frame_sync.ts).

One grid per widget: every reply of it follows the same page. Several pages (two
tabs on one kernel) have unrelated frames, so the grid follows one of them, the
*leader*, until it has been silent for LEADER_TIMEOUT.

The grid also keeps the page's message rate: a tick sends only while fewer than
BUDGET messages went out in the last second, counting the two status messages
ipykernel publishes for each ``frame_sync`` it receives. A tick over budget rests (its
pieces wait for the next one).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

FRAME = 1 / 60  # s: the grid's period, one frame of a 60 Hz page (two of a 120 Hz one)
BUDGET = 60  # kernel-to-page messages in any second while a reply streams: one a frame
# What the page receives as a reply starts, within its first second: the status
# messages of the command that started it and two state syncs (the person's message,
# the reply's start).
START_MESSAGES = 4
LEADER_TIMEOUT = 2.0  # s without a frame_sync before another page may lead


class FrameClock:
    """A grid of ticks ``origin + k * FRAME``; ``shift`` moves its phase."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self.origin = now()
        self.leader = ""
        self._leader_heard = -math.inf
        self._sent: deque[float] = deque()  # when the last second's messages went out

    def tick_after(self, after: float, last_tick: int) -> tuple[int, float]:
        """The first tick at or after `after` that comes after tick `last_tick`:
        (its number, its time)."""
        k = max(math.ceil((after - self.origin) / FRAME), last_tick + 1)
        return k, self.origin + k * FRAME

    def take_slot(self) -> bool:
        """Count a message about to be sent, unless the last second's budget is spent."""
        now = self._now()
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        if len(self._sent) >= BUDGET:
            return False
        self._sent.append(now)
        return True

    def count_sent(self, messages: int = 1) -> None:
        """Count messages the page receives besides the grid's (status, state syncs)."""
        self._sent.extend([self._now()] * messages)

    def shift(self, view: str, seconds: float) -> bool:
        """Move the grid `seconds` later (earlier if negative), at most half a frame, if
        `view` leads or no page has led for LEADER_TIMEOUT. True if it moved."""
        now = self._now()
        self.count_sent(2)  # ipykernel's busy and idle for the frame_sync message
        if view != self.leader and now - self._leader_heard < LEADER_TIMEOUT:
            return False
        self.leader, self._leader_heard = view, now
        self.origin += max(-FRAME / 2, min(FRAME / 2, seconds))
        return True
