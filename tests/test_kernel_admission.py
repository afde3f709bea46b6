"""The ``livechat`` app's places for visitor kernels (kernel_admission.py), without Voila:
the cap, the pool within it, and which kernels count as never connected."""

from __future__ import annotations

from livechat_widget.kernel_admission import (
    KERNEL_MB,
    Admission,
    available_memory_mb,
    busy_page,
    current_ticket,
    default_max_kernels,
    memory_notice,
)


def hand_out(admission: Admission, kernel_id: str) -> None:
    ticket = admission.admit()
    assert ticket is not None
    token = current_ticket.set(ticket)
    try:
        admission.hand_out(kernel_id)
    finally:
        current_ticket.reset(token)
        admission.served(ticket)


def test_the_pool_shrinks_as_visitors_take_the_places():
    admission = Admission(max_kernels=4, pool_size=2)
    assert admission.pool_target() == 2
    hand_out(admission, "a")
    hand_out(admission, "b")
    assert admission.pool_target() == 2  # 2 visitors + 2 preheated = 4
    hand_out(admission, "c")
    assert admission.pool_target() == 1
    hand_out(admission, "d")
    assert admission.pool_target() == 0
    assert admission.admit() is None  # a fifth visitor: busy
    admission.forget("a")
    assert admission.pool_target() == 1 and admission.admit() is not None


def test_a_page_being_served_holds_its_place_until_it_ends():
    admission = Admission(max_kernels=1, pool_size=1)
    ticket = admission.admit()
    assert ticket is not None and admission.admit() is None
    admission.served(ticket)  # the request ended without a kernel (an error, a lost client)
    assert admission.admit() is not None


def test_a_kernel_counts_as_unconnected_until_its_page_connects():
    admission = Admission(max_kernels=3, pool_size=1)
    hand_out(admission, "k")
    assert admission.unconnected("k")
    admission.connect("k")
    assert not admission.unconnected("k")
    assert not admission.unconnected("pool-kernel")  # never handed out: not a visitor's
    admission.forget("k")
    assert admission.in_use() == 0


def test_default_cap_from_memory_never_below_the_pool():
    assert default_max_kernels(1, 2000) == 1000 // KERNEL_MB
    assert default_max_kernels(25, 2000) == 26
    assert default_max_kernels(1, None) == 20


def test_available_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000000 kB\nMemAvailable:    2048000 kB\n")
    assert available_memory_mb(meminfo) == 2000
    assert available_memory_mb(tmp_path / "missing") is None


def test_memory_notice_and_busy_page_say_what_they_mean():
    text = memory_notice(25, 100, 4000)
    assert f"25 preheated kernels (--pool) hold about {25 * KERNEL_MB:,} MB" in text
    assert "WARNING" in text  # 100 kernels do not fit in 4,000 MB
    page = busy_page(12)
    assert "The chat is busy" in page and "All 12 places are taken" in page
    assert "Try again" in page
