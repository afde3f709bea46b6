"""Configuration values of the HTTP clients: timeouts and the retry policy as small
frozen value objects (checked when made, so a typo fails at construction, not at the
first reply), and the default endpoints. Imports no HTTP code."""

from __future__ import annotations

import math
import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_ANTHROPIC_BASE_URL",
    "DEFAULT_ANTHROPIC_MODEL",
    "DEFAULT_OLLAMA_BASE_URL",
    "DEFAULT_OLLAMA_MODEL",
    "DEFAULT_OPENAI_BASE_URL",
    "DEFAULT_OPENAI_MODEL",
    "RetryPolicy",
    "Timeouts",
]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5"
DEFAULT_OLLAMA_BASE_URL = "http://localhost:11434/v1"
DEFAULT_OLLAMA_MODEL = "llama3.2"


def _seconds(name: str, value: object, *, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if math.isnan(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")


@dataclass(frozen=True)
class Timeouts:
    """``connect``: seconds to open a connection. ``read``: the longest wait for any
    byte, the first included (a reasoning model, or one being loaded, may think for
    minutes before it writes). ``total``: the whole reply, retries included; ``None``
    means no limit."""

    connect: float = 10.0
    read: float = 120.0
    total: float | None = None

    def __post_init__(self) -> None:
        _seconds("connect timeout", self.connect, positive=True)
        _seconds("read timeout", self.read, positive=True)
        if self.total is not None:
            _seconds("total timeout", self.total, positive=True)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries before the first piece of a reply (never after: nothing is replayed
    once a token was shown). The n-th retry waits ``Retry-After`` when the provider
    sent one, else a uniformly random time in ``[0, min(backoff_max, backoff_base *
    2**n)]`` ("full jitter"). A provider asking for more than ``max_retry_wait``
    seconds is not waited for. ``random(a, b)`` draws the jitter; inject one to make
    the waits deterministic (tests, simulations)."""

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_wait: float = 60.0
    random: Callable[[float, float], float] = field(
        default=_random.uniform, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"max_retries must be an int, not {type(self.max_retries).__name__}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        _seconds("backoff_base", self.backoff_base, positive=False)
        _seconds("backoff_max", self.backoff_max, positive=False)
        _seconds("max_retry_wait", self.max_retry_wait, positive=False)
        if not callable(self.random):
            raise TypeError("random must be a callable random(a, b) -> float")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first)."""
        return self.random(0.0, min(self.backoff_max, self.backoff_base * 2**retry))
