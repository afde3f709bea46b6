"""A reply whose kernel dies mid-stream (kill -9, a page closed mid-reply): its text so
far is on disk as it streams, and the next kernel to show the chat saves it as an
interrupted reply that offers Retry — never a bare prompt merged into the next turn."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from widget_doubles import ScriptedClient, browser, csv_rows, make_widget, settle

from livechat_widget import folders as folders_module
from livechat_widget.csv_storage import CsvStore
from livechat_widget.reply_keeper import INTERRUPTED
from livechat_widget.reply_lock import ReplyLock

REPO = Path(__file__).resolve().parents[1]

# A kernel streaming an endless reply into `logs`, killed by the test (a real process,
# so the operating system drops its reply lock as it would for a dead kernel).
STREAMING_KERNEL = textwrap.dedent(
    """
    import asyncio, sys
    from livechat_widget.providers.base import BaseClient
    from livechat_widget.providers.events import TextDelta
    from livechat_widget.widget import ChatWidget

    class Endless(BaseClient):
        provider, model = "endless", "endless-1"

        async def _generate(self, messages, state):
            i = 0
            while True:
                await asyncio.sleep(0.02)
                yield TextDelta(f"w{i} ")
                i += 1

        def describe(self, model=None):
            return "endless"

    async def main():
        chat = ChatWidget(Endless(), store=sys.argv[1], user_id="ada")
        await chat.ask("Tell me everything")

    asyncio.run(main())
    """
)


def wait_for(condition, what: str, timeout: float = 60.0):
    """Poll ``condition`` until it returns something true (bounded: a bug fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def kept_text(tmp_path: Path, chat_id: str) -> str:
    return "".join(
        r["content"] for r in csv_rows(tmp_path, chat_id, partial=True) if r["role"] == "partial"
    )


async def test_a_kernel_killed_mid_reply_keeps_the_text_and_the_next_one_offers_retry(tmp_path):
    logs = tmp_path / "logs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    kernel = subprocess.Popen([sys.executable, "-c", STREAMING_KERNEL, str(logs)], env=env)
    try:
        path = wait_for(lambda: next(logs.glob("*.csv"), None), "the chat file")
        chat_id = path.stem
        wait_for(lambda: len(kept_text(tmp_path, chat_id)) > 20, "the reply's text on disk")
    finally:
        kernel.send_signal(signal.SIGKILL)
        kernel.wait()
    on_disk = kept_text(tmp_path, chat_id)
    assert on_disk.startswith("w0 w1 w2 ")
    assert [r["role"] for r in csv_rows(tmp_path, chat_id)] == ["user"]  # no reply row yet

    folders_module._FOLDERS.clear()  # a new kernel: everything from the files
    client = ScriptedClient(pieces=["Sure."])
    widget = make_widget(tmp_path, client)
    assert widget.active_chat_id == chat_id
    last = widget.messages[-1]
    assert (last["role"], last["content"], last["status"]) == ("assistant", on_disk, "error")
    assert last["error"] == INTERRUPTED and last["error_kind"] == "interrupted"
    rows = csv_rows(tmp_path, chat_id)
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "Tell me everything"),
        ("assistant", on_disk),
        ("status", f"error: {INTERRUPTED}"),
        ("error_kind", "interrupted"),
    ]

    await widget.ask("And then?")  # a turn of its own, after the kept text
    sent = [(m["role"], m["content"]) for m in client.requests[-1]]
    assert sent == [
        ("user", "Tell me everything"),
        ("assistant", on_disk),
        ("user", "And then?"),
    ]


async def test_retry_answers_the_interrupted_prompt_again(tmp_path):
    store = CsvStore(tmp_path / "logs")
    chat_id = str(uuid.uuid4())
    store.create(chat_id)
    store.append(chat_id, "user", "Question?", user_id="ada")
    store.append(chat_id, "partial", "", user_id="ada")  # the reply began; nothing came
    widget = make_widget(tmp_path, ScriptedClient(pieces=["Answer."]))
    assert widget.messages[-1]["error_kind"] == "interrupted"
    browser(widget, type="retry", chat_id=chat_id)
    await settle(widget)
    shown = [(m["role"], m["content"], m["version"], m["versions"]) for m in widget.messages]
    assert shown == [("user", "Question?", 1, 1), ("assistant", "Answer.", 2, 2)]


async def test_a_reply_still_streaming_in_another_kernel_is_left_alone(tmp_path):
    store = CsvStore(tmp_path / "logs")
    chat_id = str(uuid.uuid4())
    store.create(chat_id)
    store.append(chat_id, "user", "Question?", user_id="ada")
    store.append(chat_id, "partial", "Part of", user_id="ada")
    other = ReplyLock.take(store.root, chat_id)  # as a live kernel elsewhere holds it
    try:
        widget = make_widget(tmp_path)
        assert [m["role"] for m in widget.messages] == ["user"]
        assert [r["role"] for r in csv_rows(tmp_path, chat_id)] == ["user"]
    finally:
        other.release()
    widget.select(chat_id)  # that kernel died since: now it is saved as interrupted
    assert widget.messages[-1]["content"] == "Part of"


async def test_a_prompt_without_a_reply_that_began_is_not_touched(tmp_path):
    """A file whose last message is a prompt but no reply began (an import, a file from
    before replies left a mark) is shown as it is."""
    store = CsvStore(tmp_path / "logs")
    chat_id = str(uuid.uuid4())
    store.create(chat_id)
    store.append(chat_id, "user", "Question?", user_id="ada")
    widget = make_widget(tmp_path)
    assert widget.active_chat_id == chat_id and len(widget.messages) == 1
    assert [r["role"] for r in csv_rows(tmp_path, chat_id, partial=True)] == ["user"]


async def test_the_text_is_kept_while_it_streams_then_the_reply_row_follows(tmp_path):
    gate = asyncio.Event()
    widget = make_widget(tmp_path, ScriptedClient(pieces=["Hel", "lo"], gate=gate))
    task = asyncio.ensure_future(widget.ask("hi"))
    for _ in range(600):  # the keeper writes every half second
        await asyncio.sleep(0.05)
        chat_id = widget.active_chat_id
        if chat_id and kept_text(tmp_path, chat_id) == "Hel":
            break
    else:
        raise AssertionError("the text so far never reached the file")
    gate.set()
    await task
    rows = csv_rows(tmp_path, chat_id, partial=True)
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "hi"),
        ("partial", ""),
        ("partial", "Hel"),
        ("assistant", "Hello"),
    ]
    folders_module._FOLDERS.clear()
    again = make_widget(tmp_path)  # an answered prompt: nothing to recover
    assert [m["content"] for m in again.messages] == ["hi", "Hello"]
    assert len(csv_rows(tmp_path, chat_id, partial=True)) == 4
