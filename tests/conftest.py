"""Shared fixtures: the fake provider, and a deterministic jitter source for retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_provider import FakeProvider


@pytest.fixture(autouse=True)
def no_personal_prompts(tmp_path_factory, monkeypatch):
    """Widgets read prompt templates from $XDG_CONFIG_HOME/livechat/prompts: never the
    developer's own (a broken one would show in every test's banner)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg_config")))


@pytest.fixture
def fp() -> Iterator[FakeProvider]:
    """A fake model provider: a real HTTP server on 127.0.0.1 (tests/fake_provider.py)."""
    with FakeProvider() as provider:
        yield provider


class MaxJitter(list[tuple[float, float]]):
    """A ``RetryPolicy(random=...)`` source that always draws the upper bound and
    records each ``(low, high)`` it was asked for, so backoffs are deterministic."""

    def __call__(self, low: float, high: float) -> float:
        self.append((low, high))
        return high


@pytest.fixture
def max_jitter() -> MaxJitter:
    """Pass as ``RetryPolicy(random=max_jitter)``; compare it to the expected calls."""
    return MaxJitter()
