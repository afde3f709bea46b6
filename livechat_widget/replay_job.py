"""A replay running: each (turn, client) pair is one request, at most ``concurrency``
at a time, on the running asyncio loop, with a progress bar (tqdm: a widget in a
notebook, text elsewhere).

It ends cleanly however it is ended. ``job.stop()``, Ctrl+C in a notebook (the
awaiting cell's task is cancelled) or a KeyboardInterrupt while awaiting cancel the
requests in flight; every row that finished is kept, the others are ``stopped``, and
the awaited value is the table so far. A request that fails marks its own row
(``finish`` "error" and the provider's message) and the others go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .chat_settings import ChatSettings
from .csv_storage import StorageError
from .prices import PriceTable, reply_cost
from .providers.base import ChatClient
from .redaction import Redactor
from .replay_code import code_runs
from .replay_fork import write_fork
from .replay_turns import Turn, turn_request
from .reply_usage import reply_usage
from .streaming import Outcome, Reply, stream_reply

if TYPE_CHECKING:
    from .replay_frame import ReplayFrame

log = logging.getLogger(__name__)

ANSWERED = ("complete", "length")


@dataclass(frozen=True)
class Unit:
    """One request of a replay: a turn sent to one of the clients."""

    turn: Turn
    label: str
    client: ChatClient


def _ignore(*_: Any) -> None:
    """A replay streams into no view: deltas and snapshots go nowhere."""


def _uncancel() -> None:
    uncancel = getattr(asyncio.current_task(), "uncancel", None)
    if uncancel is not None:  # Python 3.11+
        uncancel()


def blank_row(unit: Unit) -> dict[str, Any]:
    """A row of the result before its request ended (``finish`` "stopped")."""
    return {
        "chat_id": unit.turn.chat_id,
        "turn": unit.turn.turn,
        "client": unit.label,
        "model": unit.client.model,
        "ttft_ms": None,
        "tokens_per_s": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "cost": None,
        "finish": "stopped",
        "error": "",
        "reply_chars": 0,
        "code_ok": None,
        "reply": "",
        "original_reply": unit.turn.original_reply,
        "fork_chat_id": "",
    }


class ReplayJob:
    """A replay (``livechat_widget.replay``): ``await job`` for its table;
    ``job.stop()`` ends it keeping what finished; ``job.result()`` is the table so far.
    It starts at once when made on a running loop (a notebook), else when awaited."""

    def __init__(
        self,
        units: Sequence[Unit],
        defaults: ChatSettings,
        prices: PriceTable,
        *,
        concurrency: int,
        run_code: bool,
        progress: bool,
    ) -> None:
        self.units = list(units)
        self.defaults = defaults
        self.prices = prices
        self.concurrency = concurrency
        self.run_code = run_code
        self.progress = progress
        self._rows: dict[int, dict[str, Any]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a script: it starts when awaited (asyncio.run(job.wait()))
        self.start()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "done" if self.done() else "running"
        return f"<ReplayJob {len(self._rows)}/{len(self.units)} rows, {state}>"

    def start(self) -> asyncio.Task[None]:
        """Start it on the running loop (once); the task that runs it."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    def done(self) -> bool:
        return self._task is not None and self._task.done()

    def stop(self) -> bool:
        """Cancel the requests in flight and those not started; the rows that finished
        are kept. False if it had ended already."""
        running = not self.done()
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        return running

    def result(self) -> ReplayFrame:
        """The table so far: the rows that finished, the others ``stopped``."""
        from .replay_frame import result_frame

        rows = (self._rows.get(i) or blank_row(unit) for i, unit in enumerate(self.units))
        return result_frame(rows)

    async def wait(self) -> ReplayFrame:
        """Run to the end (or until stopped) and return the table. Cancelled while
        waiting (Ctrl+C in a notebook) or interrupted, it stops the replay and returns
        the table with what finished."""
        task = self.start()
        try:
            await asyncio.shield(task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.stop()
            _uncancel()
            await task  # the requests end at once: they were cancelled
        return self.result()

    def __await__(self) -> Generator[Any, None, ReplayFrame]:
        return self.wait().__await__()

    async def _run(self) -> None:
        from tqdm.auto import tqdm

        limit = asyncio.Semaphore(self.concurrency)
        bar = tqdm(total=len(self.units), desc="replay", unit="reply", disable=not self.progress)
        try:
            if not self._stopped:
                self._tasks = [
                    asyncio.create_task(self._one(i, unit, limit, bar))
                    for i, unit in enumerate(self.units)
                ]
            await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            bar.close()

    async def _one(self, index: int, unit: Unit, limit: asyncio.Semaphore, bar: Any) -> None:
        async with limit:
            if self._stopped:
                return
            try:
                self._rows[index] = await self._replay(unit)
            except Exception as exc:  # a bug must not take the other rows with it
                log.exception("replaying a turn failed")
                error = f"The replay failed unexpectedly ({type(exc).__name__}: {exc})."
                self._rows[index] = {**blank_row(unit), "finish": "error", "error": error}
        bar.update(1)

    async def _replay(self, unit: Unit) -> dict[str, Any]:
        """Send one turn to one client; its row (and its fork, when it said something)."""
        row = blank_row(unit)
        client, redact = unit.client, Redactor(unit.turn.store, unit.client)
        request = turn_request(unit.turn, client, self.defaults)
        if request is None:
            return {**row, "finish": "error", "error": "There is no message to answer."}
        reply = Reply(unit.turn.chat_id, unit.turn.turn + 1)
        reply.model = client.model
        outcome = await stream_reply(
            client, request.history, reply, _ignore, _ignore, request.options
        )
        outcome.error = redact(outcome.error)
        stats = outcome.stats
        usage = reply_usage(client.model, stats, request.history, outcome.text, outcome.reasoning)
        cost = (
            None
            if usage.estimated
            else reply_cost(usage, client, self.prices.for_model(usage.model))
        )
        usage = replace(usage, cost=cost)
        row.update(
            ttft_ms=usage.ttft_ms,
            tokens_per_s=usage.tokens_per_s,
            prompt_tokens=None if stats is None else stats.prompt_tokens,
            completion_tokens=None if stats is None else stats.completion_tokens,
            cost=cost,
            finish=outcome.status,
            error=outcome.error,
            reply_chars=len(outcome.text),
            reply=outcome.text,
        )
        if outcome.text or outcome.status in ANSWERED:
            row["fork_chat_id"], problem = self._fork(unit, outcome, usage)
            row["error"] = "; ".join(e for e in (row["error"], problem) if e)
        if self.run_code and outcome.status in ANSWERED:
            row["code_ok"] = await self._code_ok(outcome.text)
        return row

    def _fork(self, unit: Unit, outcome: Outcome, usage: Any) -> tuple[str, str]:
        try:
            return write_fork(unit.turn, unit.label, outcome, usage), ""
        except (StorageError, OSError, ValueError) as exc:
            log.error("could not write the fork of chat %s: %s", unit.turn.chat_id, exc)
            return "", f"The reply could not be saved as a chat: {exc}"

    async def _code_ok(self, text: str) -> bool | None:
        try:
            return await code_runs(text)
        except asyncio.CancelledError:  # stopped while its code ran: the reply stands
            _uncancel()
            return None
