"""What one reply cost and how fast it came: the ``usage`` event row after a reply.

The token counts are the provider's when it reported them; otherwise they are
estimated from the text (about four characters a token) and marked ``estimated``.
The times are the reply stream's own measurement (``ReplyStats``), the one its
telemetry event carries. No I/O here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .providers.base import ReplyStats
    from .providers.messages import ModelMessage

CHARS_PER_TOKEN = 4  # a common rule of thumb for English text and BPE tokenizers


@dataclass(frozen=True, slots=True)
class StepUsage:
    """One model request of a reply that called tools (its ``usage`` row's ``steps``)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_ms: float | None
    tokens_per_s: float | None
    total_ms: float | None
    reasoning_chars: int  # this request's share of the reply's reasoning, in order

    @classmethod
    def of(cls, stats: ReplyStats, reasoning_chars: int) -> StepUsage:
        return cls(
            _count(stats.prompt_tokens),
            _count(stats.completion_tokens),
            _number(stats.ttft_ms),
            _number(stats.tokens_per_s),
            _number(stats.total_ms),
            reasoning_chars,
        )

    @classmethod
    def from_dict(cls, obj: object) -> StepUsage | None:
        if not isinstance(obj, dict):
            return None
        return cls(
            _count(obj.get("prompt_tokens")),
            _count(obj.get("completion_tokens")),
            _number(obj.get("ttft_ms")),
            _number(obj.get("tokens_per_s")),
            _number(obj.get("total_ms")),
            _count(obj.get("reasoning_chars")) or 0,
        )


@dataclass(frozen=True, slots=True)
class Usage:
    model: str  # the model that wrote the reply (as requested)
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool  # a count above is an estimate, not the provider's
    ttft_ms: float | None  # from the request to the first piece
    tokens_per_s: float | None
    # A reply that called tools: each model request's own figures (the ones above are
    # their sums; ttft is the first request's). Written only when there were several.
    steps: tuple[StepUsage, ...] = ()
    # Dollars (prices.py), from the counts above (estimated ones too); None: no price.
    cost: float | None = None

    def to_json(self) -> str:
        data = asdict(self)
        if not self.steps:
            del data["steps"]  # rows of replies without tools are as they always were
        if self.cost is None:
            del data["cost"]  # a reply with no price: the row is as it always was
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, content: str) -> Usage | None:
        """The usage a row holds; None when it is not a usage object."""
        try:
            obj = json.loads(content)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        return cls(
            model=str(obj.get("model") or ""),
            prompt_tokens=_count(obj.get("prompt_tokens")),
            completion_tokens=_count(obj.get("completion_tokens")),
            estimated=obj.get("estimated") is True,
            ttft_ms=_number(obj.get("ttft_ms")),
            tokens_per_s=_number(obj.get("tokens_per_s")),
            steps=_steps(obj.get("steps")),
            cost=_cost(obj.get("cost")),
        )

    def payload(self) -> dict[str, Any]:
        return asdict(self)


def _steps(value: object) -> tuple[StepUsage, ...]:
    steps = (StepUsage.from_dict(item) for item in value) if isinstance(value, list) else ()
    return tuple(step for step in steps if step is not None)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return round(float(value), 1)


def _cost(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def reply_usage(
    model: str,
    stats: ReplyStats | None,
    prompt: Sequence[ModelMessage],
    text: str,
    reasoning: str,
    steps: Sequence[StepUsage] = (),
) -> Usage:
    """The usage of a finished reply, from the stream's ``stats`` (None: the reply
    never started streaming) and, for counts the provider did not report, the text;
    ``steps``: each model request's, when the reply made several (tool calls)."""
    prompt_tokens = None if stats is None else _count(stats.prompt_tokens)
    completion_tokens = None if stats is None else _count(stats.completion_tokens)
    estimated = False
    if prompt_tokens is None:
        prompt_tokens = estimate_tokens("".join(m.text for m in prompt))
        estimated = True
    if completion_tokens is None:
        completion_tokens = estimate_tokens(reasoning + text)
        estimated = True
    ttft_ms = None if stats is None else stats.ttft_ms
    rate = None if stats is None else stats.tokens_per_s
    return Usage(
        model,
        prompt_tokens,
        completion_tokens,
        estimated,
        _number(ttft_ms),
        _number(rate),
        tuple(steps) if len(steps) > 1 else (),
    )


Totals = dict[str, Any]  # replies, prompt_tokens, completion_tokens, estimated, cost


def usage_totals(usages: Iterable[Usage]) -> Totals:
    """Replies, prompt and completion tokens summed; ``estimated`` counts the replies
    whose counts were estimated; ``cost`` sums the replies with a known cost (None
    when none has one; replies without a price add nothing)."""
    totals: Totals = {
        "replies": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "estimated": 0,
        "cost": None,
    }
    for usage in usages:
        add_usage(totals, usage)
    return totals


def add_usage(totals: Totals, usage: Usage) -> None:
    totals["replies"] += 1
    totals["prompt_tokens"] += usage.prompt_tokens or 0
    totals["completion_tokens"] += usage.completion_tokens or 0
    totals["estimated"] += usage.estimated
    if usage.cost is not None:
        totals["cost"] = (totals["cost"] or 0.0) + usage.cost


def merge_totals(totals: Totals, more: Totals) -> None:
    """Add the totals ``more`` (another chat's) to ``totals``."""
    for key, value in more.items():
        if key == "cost":
            if value is not None:
                totals["cost"] = (totals["cost"] or 0.0) + value
        else:
            totals[key] += value
