"""Attached files in exports and imports: the JSON export embeds them (base64, by hash)
and an import writes them back, hash-checked, into the new chat's folder; a notebook
carries images as cell attachments; Markdown names every file."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import nbformat
import pytest
from test_attachments import PNG

from livechat_widget.attachments import AttachmentStore
from livechat_widget.chat_export import export_chat
from livechat_widget.chat_import import ChatImportError, import_chats
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore

CSV = b"a,b\n1,2\n"


def chat_with_files(root):
    store = CsvStore(root)
    registry = ChatRegistry(store)
    chat_id = registry.new("Plots").id
    files = AttachmentStore(store.root)
    saved = files.save(chat_id, [("plot.png", PNG), ("data_1.csv", CSV)])
    registry.append(chat_id, "user", "What is this?", attachments=saved, user_id="ada")
    registry.append(chat_id, "assistant", "A plot of the data.", user_id="ada")
    again = files.save(chat_id, [("plot again.png", PNG)])  # the same bytes: one file
    registry.append(chat_id, "user", "And this?", attachments=again, user_id="ada")
    return store, files, chat_id, saved + again


def test_json_export_embeds_each_file_once(tmp_path):
    store, _, chat_id, saved = chat_with_files(tmp_path / "logs")
    (chat,) = json.loads(export_chat(store, chat_id, "json").text)["chats"]
    assert sorted(chat["files"]) == sorted({a.sha256 for a in saved})
    png = chat["files"][saved[0].sha256]
    assert png == {"media_type": "image/png", "data": base64.b64encode(PNG).decode()}
    assert [r["role"] for r in chat["rows"]].count("attachment") == 3


def test_export_json_then_import_into_a_new_folder_keeps_the_files(tmp_path):
    store, _, chat_id, saved = chat_with_files(tmp_path / "logs")
    path = tmp_path / "chat.json"
    path.write_text(export_chat(store, chat_id, "json").text, encoding="utf-8")
    (new_id,) = import_chats(path, tmp_path / "other")
    copy_store = CsvStore(tmp_path / "other")
    messages = ChatRegistry(copy_store).messages(new_id)
    attachments = [a for m in messages for a in m.attachments]
    assert attachments == saved  # names, types, sizes and hashes
    files = AttachmentStore(tmp_path / "other")
    assert files.verify(new_id, attachments) == []
    assert [files.read(new_id, a) for a in attachments] == [PNG, CSV, PNG]
    assert sorted(p.name for p in files.files_dir(new_id).iterdir()) == sorted(
        f"{a.sha256}.{ext}" for a, ext in zip(saved[:2], ("png", "csv"), strict=True)
    )


def exported(tmp_path):
    store, _, chat_id, saved = chat_with_files(tmp_path / "logs")
    return json.loads(export_chat(store, chat_id, "json").text), saved


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f, png: f[png].update(data=base64.b64encode(b"x" + PNG).decode()), "hash"),
        (lambda f, png: f[png].update(data="not base64!"), "not valid base64"),
        (lambda f, png: f.update({png: "nope"}), 'no "data"'),
    ],
)
def test_a_file_that_does_not_match_its_hash_imports_nothing(tmp_path, change, message):
    document, saved = exported(tmp_path)
    change(document["chats"][0]["files"], saved[0].sha256)
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ChatImportError, match=f"attached file plot.png .*{message}"):
        import_chats(path, tmp_path / "other")
    assert not (tmp_path / "other").exists()  # no chat, no file, no folder


def test_a_file_under_a_false_type_is_refused(tmp_path):
    document, saved = exported(tmp_path)
    rows = document["chats"][0]["rows"]
    exe = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
    digest = hashlib.sha256(exe).hexdigest()
    row = next(r for r in rows if r["role"] == "attachment")
    row["content"] = json.dumps(
        {"name": "x.png", "media_type": "image/png", "size": len(exe), "sha256": digest}
    )
    document["chats"][0]["files"][digest] = {
        "media_type": "image/png",
        "data": base64.b64encode(exe).decode(),
    }
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ChatImportError, match=r"x\.png is not of the type its row names"):
        import_chats(path, tmp_path / "other")


def test_a_file_missing_from_the_export_is_reported_and_the_chat_imported(tmp_path):
    document, saved = exported(tmp_path)
    second = copy.deepcopy(document["chats"][0])
    del document["chats"][0]["files"][saved[1].sha256]
    document["chats"].append(second)
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.warns(UserWarning, match="without 1 attached file that is not in the export"):
        result = import_chats(path, tmp_path / "other")
    assert len(result) == 2
    files = AttachmentStore(tmp_path / "other")
    first = [
        a
        for m in ChatRegistry(CsvStore(tmp_path / "other")).messages(result[0])
        for a in m.attachments
    ]
    assert files.verify(result[0], first) == [
        "data_1.csv is missing: its file is no longer in the chat folder."
    ]


def test_an_export_from_before_attachments_imports_as_before(tmp_path):
    document, _ = exported(tmp_path)
    for chat in document["chats"]:
        del chat["files"]
        chat["rows"] = [r for r in chat["rows"] if r["role"] != "attachment"]
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (new_id,) = import_chats(path, tmp_path / "other")
    assert not AttachmentStore(tmp_path / "other").files_dir(new_id).exists()


def test_ipynb_export_carries_images_as_cell_attachments(tmp_path):
    store, files, chat_id, saved = chat_with_files(tmp_path / "logs")
    notebook = nbformat.reads(export_chat(store, chat_id, "ipynb").text, as_version=4)
    nbformat.validate(notebook)
    first = next(c for c in notebook.cells if "What is this?" in c.source)
    assert first.attachments == {"plot.png": {"image/png": base64.b64encode(PNG).decode()}}
    assert "![plot.png](attachment:plot.png)" in first.source
    assert "- Attached: data\\_1.csv (text/csv, 8 bytes)" in first.source
    second = next(c for c in notebook.cells if "And this?" in c.source)
    assert "(attachment:plot-again.png)" in second.source
    assert list(second.attachments) == ["plot-again.png"]
    replies = [c for c in notebook.cells if "A plot of the data." in c.source]
    assert "attachments" not in replies[0]


def test_ipynb_export_of_two_images_of_one_name_keeps_both(tmp_path):
    store = CsvStore(tmp_path)
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    saved = AttachmentStore(tmp_path).save(
        chat_id, [("image.png", PNG), ("image.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")]
    )
    registry.append(chat_id, "user", "two", attachments=saved)
    notebook = nbformat.reads(export_chat(store, chat_id, "ipynb").text, as_version=4)
    nbformat.validate(notebook)
    (cell,) = [c for c in notebook.cells if "attachments" in c]
    renamed = f"{saved[1].sha256[:8]}-image.png"  # another image of that name
    assert sorted(cell.attachments) == sorted(["image.png", renamed])
    assert cell.attachments[renamed] == {"image/gif": "R0lGODlhAQABAAAAADs="}
    assert f"![image.png](attachment:{renamed})" in cell.source


def test_a_missing_image_is_named_not_embedded(tmp_path):
    store, files, chat_id, saved = chat_with_files(tmp_path / "logs")
    files.path(chat_id, saved[0]).unlink()
    notebook = nbformat.reads(export_chat(store, chat_id, "ipynb").text, as_version=4)
    first = next(c for c in notebook.cells if "What is this?" in c.source)
    assert "attachments" not in first
    assert "- Attached: plot.png (image/png," in first.source
    (chat,) = json.loads(export_chat(store, chat_id, "json").text)["chats"]
    assert list(chat["files"]) == [saved[1].sha256]  # the export goes on without it


def test_markdown_export_names_each_file_under_its_message(tmp_path):
    store, _, chat_id, _ = chat_with_files(tmp_path / "logs")
    text = export_chat(store, chat_id, "markdown").text
    assert "What is this?\n\n- Attached: plot.png (image/png, " in text
    assert "- Attached: data\\_1.csv (text/csv, 8 bytes)" in text
    assert "And this?\n\n- Attached: plot again.png (image/png," in text
    assert "base64" not in text and "attachment:" not in text
