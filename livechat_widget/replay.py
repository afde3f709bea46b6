"""Replay past conversations against other models: ``livechat_widget.replay``.

Each replayed turn sends a candidate client exactly what the chat's model was sent for
it — the branch shown up to that user message, its ``context`` rows and files, the
chat's settings as they were then (replay_turns.py) — and keeps the candidate's reply
as a new chat forked from the original (replay_fork.py; the original is only read).
The result is a pandas DataFrame (replay_frame.py), one row per (turn, client).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .chat_data import require_pandas
from .chat_settings import defaults_from_env
from .csv_format import CHAT_ID_PATTERN
from .csv_storage import CsvStore
from .prices import prices_from_env
from .providers.base import ChatClient, check_client
from .replay_job import ReplayJob, Unit
from .replay_turns import Which, chat_turns

MAX_CONCURRENCY = 16
DEFAULT_FOLDER = "chat_logs"


def replay(
    chats: Any,
    clients: Mapping[str, ChatClient],
    *,
    turns: Which = "last",
    concurrency: int = 4,
    folder: CsvStore | str | os.PathLike[str] | None = None,
    run_code: bool = False,
    progress: bool = True,
) -> ReplayJob:
    """Send past turns of ``chats`` to each of ``clients`` again; ``await`` the job
    for a DataFrame with one row per (turn, client) (docs/replay.md lists its columns).

    ``chats``: a ``read_chats()`` DataFrame (its ``chat_id`` column), chat ids, or
    paths of chat CSV files. ``clients``: ``{label: client}``. ``turns``: ``"last"``
    (each chat's last user message) or ``"all"`` (every user message of the branch
    shown, each with only what came before it). ``concurrency``: requests at a time
    (1 to 16). ``folder``: where chat ids are looked up (default: the DataFrame's
    folder, else ``chat_logs``). ``run_code``: run each reply's Python blocks in a
    fresh Python process (``code_ok``); code runs only when asked. ``progress``: the
    progress bar. Every bad argument is refused here, before any request is sent.
    """
    require_pandas()
    labelled = _clients(clients)
    if turns not in ("last", "all"):
        raise ValueError(f'turns must be "last" or "all", not {turns!r}')
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency must be a whole number, not {concurrency!r}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
    units = [
        Unit(turn, label, client)
        for store, chat_id in _sources(chats, folder)
        for turn in chat_turns(store, chat_id, turns)
        for label, client in labelled.items()
    ]
    if not units:
        raise ValueError("nothing to replay: those chats have no user message")
    return ReplayJob(
        units,
        defaults_from_env(),
        prices_from_env(),
        concurrency=concurrency,
        run_code=bool(run_code),
        progress=bool(progress),
    )


def _clients(clients: object) -> dict[str, ChatClient]:
    if not isinstance(clients, Mapping):
        raise TypeError(
            'clients must be a dict of labels and clients, e.g. {"local": ..., "hosted": ...}'
        )
    if not clients:
        raise ValueError("clients is empty: give at least one {label: client}")
    out: dict[str, ChatClient] = {}
    for label, client in clients.items():
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"each client needs a label (a non-empty string), not {label!r}")
        out[label.strip()] = check_client(client)
    return out


def _sources(chats: object, folder: object) -> list[tuple[CsvStore, str]]:
    """(store, chat id) of each chat named, in order, each once; ValueError naming the
    first that is not a chat."""
    items: Iterable[object]
    if hasattr(chats, "columns") and hasattr(chats, "attrs"):  # a DataFrame
        frame: Any = chats
        if "chat_id" not in frame.columns:
            raise ValueError("the DataFrame has no chat_id column (read_chats() makes one)")
        folder = folder if folder is not None else frame.attrs.get("folder")
        items = frame["chat_id"].drop_duplicates().tolist()
    elif isinstance(chats, (str, os.PathLike)):
        items = [chats]
    elif isinstance(chats, Iterable):
        items = list(chats)
    else:
        raise TypeError(f"chats must be a DataFrame, chat ids or paths, not {type(chats).__name__}")
    store = folder if isinstance(folder, CsvStore) else CsvStore(folder or DEFAULT_FOLDER)  # type: ignore[arg-type]
    found: dict[tuple[Path, str], tuple[CsvStore, str]] = {}
    for item in items:
        source = _source(item, store)
        found.setdefault((source[0].root.resolve(), source[1]), source)
    if not found:
        raise ValueError("no chats to replay")
    return list(found.values())


def _source(item: object, store: CsvStore) -> tuple[CsvStore, str]:
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"a chat is named by its id or the path of its file, not {item!r}")
    text = os.fspath(item)
    if CHAT_ID_PATTERN.fullmatch(text):
        if not store.exists(text):
            raise ValueError(f"no chat {text!r} in {str(store.root)!r} (pass folder=...)")
        return store, text
    path = Path(text)
    if path.suffix == ".csv" and CHAT_ID_PATTERN.fullmatch(path.stem):
        if not path.is_file():
            raise ValueError(f"no chat file {text!r}")
        return CsvStore(path.parent), path.stem
    raise ValueError(f"{text!r} is neither a chat id nor the path of a chat's CSV file")
