"""The wire shapes of Compare (compare.py): the ``compares`` trait and the
``compare_delta`` message (re-exported by wire.py, held to js/types.ts and
docs/protocol.md by tests/test_wire_contract.py)."""

from __future__ import annotations

from typing import Literal, TypedDict


class CompareChoice(TypedDict):
    """A configured compare client (``ChatWidget(compare_clients=...)``): its label and
    model, never its base URL or key."""

    label: str
    model: str


class ComparePane(TypedDict):
    """One candidate's reply in a comparison. In blind mode ``label`` is "Model A"...
    and ``model`` "" until the person keeps one."""

    label: str
    model: str
    text: str  # covered by compare_delta messages up to the state's seq
    reasoning: str
    status: str  # streaming | complete | stopped | length | error
    error: str
    message_id: int | None  # the saved version, once saved
    ttft_ms: float | None
    tokens_per_s: float | None
    tokens: int | None
    cost: float | None
    finished: int  # 0 while streaming; 1 for the first to end, 2 for the next...


class CompareState(TypedDict):
    """A comparison of a chat, streaming or waiting for Keep."""

    chat_id: str
    seq: int  # of the last compare_delta the texts cover
    blind: bool
    streaming: bool
    panes: list[ComparePane]


class PaneDelta(TypedDict):
    pane: int
    text: str
    reasoning: str


class CompareDeltaMsg(TypedDict):
    """New pieces of every pane that has some, at most one message a frame in all."""

    type: Literal["compare_delta"]
    chat_id: str
    seq: int
    panes: list[PaneDelta]
