"""Files sent with a message, through the widget as the page sends them (metadata plus
binary buffers) and from Python: stored under their hashes, refused before anything is
saved, sent to the model as parts, read back for thumbnails."""

from __future__ import annotations

import hashlib

import pytest
from pngs import png
from widget_doubles import csv_rows, make_widget, settle

from livechat_widget.providers.base import BaseClient
from livechat_widget.providers.events import TextDelta
from livechat_widget.providers.messages import FilePart, ImagePart, TextPart


class SeeingClient(BaseClient):
    """Takes images and files; records the parts of each request's last message."""

    provider, model = "seeing", "seeing-1"
    takes_images = takes_files = True

    def __init__(self) -> None:
        self.parts: list[tuple] = []
        self.requests: list[list] = []

    def describe(self, model=None) -> str:
        return "seeing model"

    async def _generate(self, messages, state):
        self.parts.append(messages[-1].parts)
        self.requests.append(messages)
        yield TextDelta("Seen.")
        state.finish_reason = "stop"


def send(widget, text, *files):
    meta = [{"name": n, "media_type": "", "size": len(d)} for n, d in files]
    widget._handle_custom_msg(
        {"type": "send", "text": text, "chat_id": "", "attachments": meta}, [d for _, d in files]
    )


async def test_files_from_the_page_are_stored_sent_and_read_back(tmp_path):
    client = SeeingClient()
    widget = make_widget(tmp_path, client)
    image, table = png(), b"city,temp\nOslo,3.5\n"
    send(widget, "What is in these?", ("plot.png", image), ("data.csv", table))
    await settle(widget)
    chat_id = widget.active_chat_id
    (parts,) = client.parts
    assert parts[0] == TextPart("What is in these?")
    assert parts[1] == ImagePart(image, "image/png")
    assert isinstance(parts[2], FilePart) and "Oslo,3.5" in parts[2].text
    # On disk under their hashes, and as attachment rows right before the user row.
    digest = hashlib.sha256(image).hexdigest()
    assert (tmp_path / "logs" / f"{chat_id}.files" / f"{digest}.png").read_bytes() == image
    roles = [r["role"] for r in csv_rows(tmp_path, chat_id)]
    assert roles[:3] == ["attachment", "attachment", "user"]
    (user,) = [m for m in widget.messages if m["role"] == "user"]
    assert [(a["name"], a["media_type"]) for a in user["attachments"]] == [
        ("plot.png", "image/png"),
        ("data.csv", "text/csv"),
    ]
    # The page asks for a thumbnail's bytes: one buffer, the file itself.
    widget.wire.clear()
    widget.comm.send = lambda data=None, metadata=None, buffers=None: widget.wire.append(
        {**data, "buffers": buffers}
    )
    widget._handle_custom_msg(
        {"type": "load_attachment", "request": "v1-1", "chat_id": chat_id, "sha256": digest}, []
    )
    (answer,) = [m for m in widget.wire if m.get("method") == "custom"]
    assert answer["content"] == {
        "type": "attachment",
        "request": "v1-1",
        "sha256": digest,
        "media_type": "image/png",
    }
    assert bytes(answer["buffers"][0]) == image
    # The model is sent the files again with the next message of the chat.
    send(widget, "And now?")
    await settle(widget)
    assert len(client.parts) == 2


async def test_a_file_the_chat_cannot_take_is_refused_and_nothing_is_saved(tmp_path):
    widget = make_widget(tmp_path, SeeingClient())
    program = b"MZ\x90\x00" + bytes(200)  # a Windows program, named as an image
    send(widget, "look", ("cat.png", program))
    assert "looks like a program" in widget.error
    assert widget.session.chats() == [] and not list((tmp_path / "logs").glob("*.files"))
    widget.error = ""
    big = bytes(60 * 1024 * 1024)
    with pytest.raises(ValueError, match="60"):
        await widget.ask("too big", attachments=[("big.csv", big)])
    assert widget.session.chats() == []
    # A size that does not match the bytes that came: the page must send it again.
    widget._handle_custom_msg(
        {
            "type": "send",
            "text": "x",
            "chat_id": "",
            "attachments": [{"name": "a.png", "media_type": "", "size": 99}],
        },
        [png()],
    )
    assert "arrived incomplete" in widget.error


async def test_a_client_that_takes_no_images_refuses_them_before_saving(tmp_path):
    from widget_doubles import ScriptedClient

    widget = make_widget(tmp_path, ScriptedClient())
    send(widget, "see", ("p.png", png()))
    assert "cannot send images" in widget.error and widget.session.chats() == []


async def test_ask_takes_a_matplotlib_figure_as_a_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    client = SeeingClient()
    widget = make_widget(tmp_path, client)
    figure, axes = plt.subplots()
    axes.plot([1, 2, 3])
    reply = await widget.ask("Explain this plot", attachments=[figure])
    plt.close(figure)
    assert reply["content"] == "Seen."
    image = client.parts[0][1]
    assert isinstance(image, ImagePart) and image.media_type == "image/png"
    assert image.data.startswith(b"\x89PNG")
    with pytest.raises(TypeError, match="context"):
        import pandas as pd

        await widget.ask("x", attachments=[pd.DataFrame({"a": [1]})])


async def test_uploads_off_refuses_files_and_tells_the_page(tmp_path):
    widget = make_widget(tmp_path, SeeingClient(), uploads=False)
    assert widget.uploads["count"] == 0
    send(widget, "see", ("p.png", png()))
    assert "turned off" in widget.error and widget.session.chats() == []


async def test_a_missing_file_is_reported_when_its_chat_is_shown(tmp_path):
    client = SeeingClient()
    widget = make_widget(tmp_path, client)
    send(widget, "keep this", ("p.png", png()))
    await settle(widget)
    chat_id = widget.active_chat_id
    for path in (tmp_path / "logs" / f"{chat_id}.files").iterdir():
        path.write_bytes(b"changed")
    widget.show("")
    widget.show(chat_id)
    assert "missing or changed on disk" in widget.error
    send(widget, "still there?")
    await settle(widget)
    first = client.requests[-1][0]  # the message whose file changed: the model is told
    assert "unavailable" in first.parts[1].text


async def test_the_at_picker_offers_figures_sent_as_image_files(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import Image, display

    shell = InteractiveShell.instance()
    try:
        client = SeeingClient()
        widget = make_widget(tmp_path, client)  # in a kernel: it records cells' images
        shell.execution_count = 12
        display(Image(data=png(3, 3)))  # what a cell showing a plot publishes
        widget._handle_custom_msg({"type": "list_context", "request": "v1-1"}, [])
        items = [m["content"] for m in widget.wire if m.get("method") == "custom"][-1]["items"]
        assert {"name": "figure [12]", "kind": "figure", "detail": "a cell's image"} in items
        widget._handle_custom_msg(
            {"type": "send", "text": "Explain it", "chat_id": "", "context": ["figure [12]"]}, []
        )
        await settle(widget)
        (user,) = [m for m in widget.messages if m["role"] == "user"]
        assert [a["name"] for a in user["attachments"]] == ["figure-12.png"]
        assert user["context"] == []  # a figure is a file, not context text
        assert client.parts[0][1] == ImagePart(png(3, 3), "image/png")
        # From Python the same names work; one no longer kept is refused clearly.
        with pytest.raises(ValueError, match="no longer kept"):
            await widget.ask("again", context=["figure [99]"])
    finally:
        InteractiveShell.clear_instance()
