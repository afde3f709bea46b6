"""Storage benchmarks: each figure beside a baseline measured in the same run.

    python benchmarks/bench_storage.py [--repeats 7] [--dir DIR]

Prints JSON with, for each case, the best and median seconds of both the store and
its baseline (runs interleaved, so background load hits both alike) and the ratio of
the best times:

- load: ``CsvStore.load`` of a 20,000-row chat (~6 MB) vs. a bare ``csv.reader`` pass
  over the same file (target: ratio <= 2);
- registry: ``ChatRegistry(store)`` over 1,000 chats x 50 rows vs. a bare
  ``csv.reader`` pass over the same files (target: ratio <= 2);
- append: ``CsvStore.append`` (O_APPEND write under flock, then fsync) vs. bare
  ``os.write`` + ``fsync`` on an open descriptor, in rows per second
  (target: >= 2,000 rows/s).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat_widget.chat_registry import ChatRegistry  # noqa: E402
from livechat_widget.csv_format import encode_record as _record  # noqa: E402
from livechat_widget.csv_storage import HEADER, CsvStore  # noqa: E402

WORDS = (
    'the quick brown fox jumps over a lazy dog, while "quoted" text, café, naïve, '
    "日本語, emoji 🚀 and numbers 1,234.5 keep the parser honest"
).split()


def _content(rng: random.Random, role: str) -> str:
    if role == "user":
        return " ".join(rng.choices(WORDS, k=rng.randint(5, 25)))
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(5, 15))) for _ in range(rng.randint(4, 10))]
    return "\n".join(lines)


def write_chat(path: Path, rows: int, rng: random.Random) -> int:
    """Write a chat file in the store's format directly (fast); returns its size."""
    parts = [",".join(HEADER) + "\n"]
    t0 = 1_764_000_000
    for i in range(rows):
        role = "user" if i % 2 == 0 else "assistant"
        sec = t0 + i
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{i % 1000:03d}Z"
        parts.append(_record(ts, "bench", role, _content(rng, role)))
    data = "".join(parts).encode()
    path.write_bytes(data)
    return len(data)


def bare_reader(paths: list[Path]) -> None:
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            for _ in csv.reader(f):
                pass


def compare(fn, baseline, repeats: int) -> dict[str, float]:
    mine, base = [], []
    for _ in range(repeats):  # interleaved
        t = time.perf_counter()
        baseline()
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        fn()
        mine.append(time.perf_counter() - t)
    return {
        "seconds_best": round(min(mine), 5),
        "seconds_median": round(statistics.median(mine), 5),
        "baseline_seconds_best": round(min(base), 5),
        "baseline_seconds_median": round(statistics.median(base), 5),
        "ratio": round(min(mine) / min(base), 3),
    }


def bench_load(root: Path, repeats: int, rng: random.Random) -> dict:
    store = CsvStore(root / "load")
    chat = str(uuid.uuid4())
    os.makedirs(store.root, exist_ok=True)
    size = write_chat(store.path(chat), 20_000, rng)
    assert len(store.load(chat)) == 20_000
    result = compare(lambda: store.load(chat), lambda: bare_reader([store.path(chat)]), repeats)
    ratio = result["ratio"]
    return {
        "what": "CsvStore.load of one chat vs bare csv.reader pass",
        "rows": 20_000,
        "bytes": size,
        **result,
        "target": "ratio <= 2",
        "ok": ratio <= 2,
    }


def bench_registry(root: Path, repeats: int, rng: random.Random) -> dict:
    store = CsvStore(root / "registry")
    os.makedirs(store.root, exist_ok=True)
    total = 0
    for _ in range(1000):
        total += write_chat(store.path(str(uuid.uuid4())), 50, rng)
    paths = sorted(store.root.glob("*.csv"))
    assert len(ChatRegistry(store)) == 1000
    result = compare(lambda: ChatRegistry(store), lambda: bare_reader(paths), repeats)
    return {
        "what": "ChatRegistry(store) build vs bare csv.reader pass over the same files",
        "chats": 1000,
        "rows_per_chat": 50,
        "bytes": total,
        **result,
        "target": "ratio <= 2",
        "ok": result["ratio"] <= 2,
    }


def bench_append(root: Path, repeats: int, rng: random.Random, rows: int = 2000) -> dict:
    store = CsvStore(root / "append")
    contents = [_content(rng, "assistant" if i % 2 else "user") for i in range(rows)]
    encoded = [_record("2026-11-25T06:40:01.123Z", "bench", "user", c).encode() for c in contents]
    mine, base = [], []
    for r in range(max(1, repeats // 2)):
        path = root / f"bare-{r}.csv"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        t = time.perf_counter()
        for data in encoded:
            os.write(fd, data)
            os.fsync(fd)
        base.append(rows / (time.perf_counter() - t))
        os.close(fd)
        chat = str(uuid.uuid4())
        t = time.perf_counter()
        for i, content in enumerate(contents):
            store.append(chat, "assistant" if i % 2 else "user", content)
        mine.append(rows / (time.perf_counter() - t))
        assert len(store.load(chat)) == rows
    return {
        "what": "CsvStore.append (O_APPEND write under flock, fsync) vs bare os.write+fsync",
        "rows": rows,
        "rows_per_second_best": round(max(mine)),
        "rows_per_second_median": round(statistics.median(mine)),
        "baseline_rows_per_second_best": round(max(base)),
        "baseline_rows_per_second_median": round(statistics.median(base)),
        "ratio": round(max(mine) / max(base), 3),
        "target": "rows_per_second >= 2000",
        "ok": max(mine) >= 2000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dir", help="where to write the test files (default: a temp dir)")
    args = parser.parse_args(argv)
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-storage-") as tmp:
        root = Path(tmp)
        results = {
            "python": platform.python_version(),
            "load": bench_load(root, args.repeats, rng),
            "registry_build": bench_registry(root, args.repeats, rng),
            "append": bench_append(root, args.repeats, rng),
        }
    results["ok"] = all(results[k]["ok"] for k in ("load", "registry_build", "append"))
    print(json.dumps(results, indent=2))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
