"""Helper for tests/test_csv_storage.py: one OS process appending rows to one chat.

    python _storage_writer.py ROOT CHAT_ID TAG COUNT GO_FILE

Waits until GO_FILE exists (so that two writers start together), then appends COUNT
rows whose content is built by ``content(TAG, i)``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat_widget.csv_storage import CsvStore  # noqa: E402


def content(tag: str, i: int) -> str:
    # Multi-line, quoted, multi-byte and long enough that a torn or interleaved write shows.
    return f'{tag}:{i}:start, "quoted" \u00e9\U0001f680\nsecond line\r\n' + tag * 150 + f":{i}:end"


def main() -> int:
    root, chat_id, tag, count, go = sys.argv[1:6]
    store = CsvStore(root)
    deadline = time.monotonic() + 30
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.001)
    for i in range(int(count)):
        store.append(chat_id, "user" if i % 2 else "assistant", content(tag, i), user_id=tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
