"""The grid deltas leave the kernel on (frame_clock.py): its ticks, its message budget
and the page that may shift it."""

from __future__ import annotations

import pytest

from livechat_widget.frame_clock import BUDGET, FRAME, LEADER_TIMEOUT, FrameClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_next_tick_is_on_the_grid_and_after_the_last_one():
    now = FakeTime()
    clock = FrameClock(now)
    k, at = clock.tick_after(100.0 + 2.5 * FRAME, last_tick=-1)
    assert k == 3 and at == pytest.approx(100.0 + 3 * FRAME)
    # A tick already used is never used twice, even when asked for an earlier time.
    k2, at2 = clock.tick_after(100.0, last_tick=k)
    assert k2 == 4 and at2 == pytest.approx(100.0 + 4 * FRAME)


def test_the_budget_refuses_a_slot_until_a_second_has_passed():
    now = FakeTime()
    clock = FrameClock(now)
    for _ in range(BUDGET):
        assert clock.take_slot()
        now.t += 0.001
    assert not clock.take_slot()  # the whole budget went out within the last second
    now.t = 100.0 + 1.0 + 0.0005  # the first message is now over a second old
    assert clock.take_slot()
    assert not clock.take_slot()


def test_messages_sent_without_a_slot_count_against_the_budget():
    now = FakeTime()
    clock = FrameClock(now)
    clock.count_sent(BUDGET - 1)
    assert clock.take_slot()
    assert not clock.take_slot()


def test_a_page_shifts_the_grid_by_at_most_half_a_frame():
    now = FakeTime()
    clock = FrameClock(now)
    assert clock.shift("view-a", 0.004)
    assert clock.origin == pytest.approx(100.004)
    assert clock.shift("view-a", -1.0)  # clamped
    assert clock.origin == pytest.approx(100.004 - FRAME / 2)


def test_one_page_leads_until_it_falls_silent():
    now = FakeTime()
    clock = FrameClock(now)
    assert clock.shift("view-a", 0.002)
    now.t += LEADER_TIMEOUT / 2
    assert not clock.shift("view-b", 0.005)  # another tab: its frames are not ours
    assert clock.origin == pytest.approx(100.002)
    now.t += LEADER_TIMEOUT + 0.1
    assert clock.shift("view-b", 0.005)
    assert clock.leader == "view-b"


def test_each_frame_sync_costs_the_page_two_status_messages():
    now = FakeTime()
    clock = FrameClock(now)
    clock.shift("view-a", 0.001)
    clock.shift("view-b", 0.001)  # refused, but ipykernel still published its status
    for _ in range(BUDGET - 4):
        assert clock.take_slot()
    assert not clock.take_slot()
