"""Attached files: what may be attached (sniffed from the bytes), the limits, the
content-addressed store beside each chat, the `attachment` rows before the user row,
and what delete and archive do with the files."""

from __future__ import annotations

import csv
import errno
import hashlib
import os

import pytest
from pngs import png

from livechat_widget.attachments import (
    ACCEPTED,
    Attachment,
    AttachmentAltered,
    AttachmentLimits,
    AttachmentMissing,
    AttachmentRefused,
    AttachmentStore,
    check,
    find_attachment,
    problems_summary,
    sniff,
)
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore, StorageError
from livechat_widget.refusals import Refused
from livechat_widget.visitors import visitor_folder

MB = 1024 * 1024


PNG = png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54 + b"PE\x00\x00"
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 24
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def rows(store: CsvStore, chat_id: str) -> list[dict[str, str]]:
    with open(store.path(chat_id), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- sniffing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "media_type"),
    [
        (PNG, "plot.png", "image/png"),
        (JPEG, "photo.jpeg", "image/jpeg"),
        (JPEG, "photo.JPG", "image/jpeg"),
        (GIF, "anim.gif", "image/gif"),
        (WEBP, "pic.webp", "image/webp"),
        (PDF, "report.pdf", "application/pdf"),
        (b"a,b\n1,2\n", "data.csv", "text/csv"),
        (b"a\tb\n1\t2\n", "data.tsv", "text/tab-separated-values"),
        ("héllo\n".encode(), "notes.txt", "text/plain"),
        (b"# Title\n", "README.md", "text/markdown"),
        (b"#!/usr/bin/env python3\nprint(1)\n", "script.py", "text/x-python"),
        (b'{"a": [1, 2]}', "data.json", "application/json"),
        (NOTEBOOK, "analysis.ipynb", "application/x-ipynb+json"),
        (b"\xef\xbb\xbfa,b\n", "excel.csv", "text/csv"),  # a BOM is still UTF-8
        # The bytes decide, not the name:
        (PNG, "not-really.txt", "image/png"),
        (PNG, "screenshot.jpg", "image/png"),
        (PDF, "paper", "application/pdf"),
    ],
)
def test_sniff_finds_the_type_from_the_bytes(data, name, media_type):
    assert sniff(data, name) == media_type


@pytest.mark.parametrize("program", [ELF, PE, MACHO, b"#!/bin/sh\nrm -rf ~\n"])
def test_a_program_named_png_is_refused(program):
    with pytest.raises(AttachmentRefused) as refused:
        sniff(program, "x.png")
    assert str(refused.value) == "x.png is not a PNG image: it looks like a program."


@pytest.mark.parametrize("program", [ELF, PE, MACHO])
def test_a_program_under_any_name_is_refused(program):
    with pytest.raises(AttachmentRefused, match=r"^tool\.txt looks like a program"):
        sniff(program, "tool.txt")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x00\x01\x02binary", "blob.bin", f"blob.bin cannot be attached: only {ACCEPTED}"),
        (b"\x00\x01\x02binary", "blob", "blob cannot be attached: only"),
        (b"PK\x03\x04zip", "archive.zip", "archive.zip cannot be attached"),
        (b"just text", "fake.pdf", "fake.pdf is not a PDF: its contents are something else"),
        (b"just text", "fake.webp", "fake.webp is not a WebP image"),
        (b"MZ is short for Mark Zbikowski\n", "note.png", "note.png is not a PNG image: its"),
        (b"a\x00b", "nul.txt", "nul.txt is not a text file: it holds binary data."),
        (b"caf\xe9", "latin1.csv", "latin1.csv is not UTF-8 text: save it as UTF-8"),
        (b"{nope", "bad.json", "bad.json is not a valid JSON file: Expecting property name"),
        (b"[1, 2", "bad.ipynb", "bad.ipynb is not a valid notebook"),
        (b"", "empty.txt", "empty.txt is empty: there is nothing to attach."),
    ],
)
def test_what_cannot_be_attached_is_refused_with_a_reason(data, name, message):
    with pytest.raises(AttachmentRefused) as refused:
        sniff(data, name)
    assert str(refused.value).startswith(message)
    assert isinstance(refused.value, Refused)


def test_a_text_that_starts_with_mz_is_still_text():
    assert sniff(b"MZ is short for Mark Zbikowski\n", "note.txt") == "text/plain"


def test_a_name_is_shown_without_its_path():
    with pytest.raises(AttachmentRefused, match=r"^evil\.exe cannot be attached"):
        sniff(b"\x00", "/home/ada/secret/evil.exe")


# -- limits --------------------------------------------------------------------------


def test_limits_default_to_what_the_big_providers_take():
    limits = AttachmentLimits()
    assert (limits.file_bytes, limits.message_bytes, limits.count) == (20 * MB, 50 * MB, 10)


def test_check_returns_name_type_and_bytes():
    assert check([("a.png", PNG), ("b.csv", b"x\n")]) == [
        ("a.png", "image/png", PNG),
        ("b.csv", "text/csv", b"x\n"),
    ]


def test_a_60_mb_file_is_refused_and_nothing_is_saved(tmp_path):
    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    files = AttachmentStore(store.root)
    big = b"%PDF-" + b"\x00" * (60 * MB - 5)
    with pytest.raises(AttachmentRefused) as refused:
        files.save(chat_id, [("small.png", PNG), ("report.pdf", big)])
    assert str(refused.value) == "report.pdf is 60.0 MB; files up to 20 MB can be attached."
    assert not files.files_dir(chat_id).exists()  # no folder, so no file
    assert rows(store, chat_id) == []  # no row
    assert registry.messages(chat_id) == []


def test_too_many_files_and_too_much_together_are_refused():
    with pytest.raises(AttachmentRefused, match="up to 10 files; this one has 11"):
        check([(f"{n}.txt", b"x") for n in range(11)])
    limits = AttachmentLimits(file_bytes=4, message_bytes=6, count=3)
    with pytest.raises(AttachmentRefused, match="These files come to .*up to 6 bytes of files"):
        check([("a.txt", b"1234"), ("b.txt", b"1234")], limits)


def test_one_bad_file_refuses_the_whole_message(tmp_path):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    with pytest.raises(AttachmentRefused, match="x.png is not a PNG image"):
        files.save(chat_id, [("ok.png", PNG), ("x.png", ELF)])
    assert not files.files_dir(chat_id).exists()


# -- the store -----------------------------------------------------------------------


def test_same_bytes_twice_are_one_file(tmp_path):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    first = files.put(chat_id, "a.png", PNG, "image/png")
    second = files.put(chat_id, "copy of a.png", PNG, "image/png")
    assert first.sha256 == second.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (first.name, second.name) == ("a.png", "copy of a.png")
    stored = sorted(p.name for p in files.files_dir(chat_id).iterdir())
    assert stored == [f"{first.sha256}.png"]  # no temporary file left either
    assert files.read(chat_id, first) == PNG


def test_the_file_on_disk_is_named_by_the_type_not_the_name(tmp_path):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    ((name, media, data),) = check([("../../evil.sh.txt", b"echo hi\n")])
    attachment = files.put(chat_id, name, data, media)
    assert attachment.name == "evil.sh.txt"
    assert files.path(chat_id, attachment).parent == tmp_path / f"{chat_id}.files"
    assert files.path(chat_id, attachment).suffix == ".txt"


def test_missing_and_altered_files_are_found_by_read_and_verify(tmp_path):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    kept, gone, changed = files.save(
        chat_id, [("kept.csv", b"a\n"), ("gone.png", PNG), ("changed.txt", b"before")]
    )
    assert files.verify(chat_id, [kept, gone, changed]) == []
    files.path(chat_id, gone).unlink()
    files.path(chat_id, changed).write_bytes(b"after!")
    with pytest.raises(AttachmentMissing, match="gone.png is missing"):
        files.read(chat_id, gone)
    with pytest.raises(AttachmentAltered, match="changed.txt was changed on disk"):
        files.read(chat_id, changed)
    problems = files.verify(chat_id, [kept, gone, changed, gone])
    assert problems == [
        "gone.png is missing: its file is no longer in the chat folder.",
        "changed.txt was changed on disk after it was attached.",
    ]
    assert problems_summary(problems[:1]).startswith(
        "1 attached file of this chat is missing or changed on disk: gone.png"
    )
    assert problems_summary(problems).startswith("2 attached files of this chat are")
    assert problems_summary([]) == ""
    assert str(tmp_path) not in " ".join(problems)


def test_an_altered_file_of_the_same_size_is_found_too(tmp_path):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    (attachment,) = files.save(chat_id, [("a.txt", b"abc")])
    assert files.verify(chat_id, [attachment]) == []
    path = files.path(chat_id, attachment)
    path.write_bytes(b"abd")
    os.utime(path, ns=(1, 1))  # even with an mtime from the past
    assert files.verify(chat_id, [attachment]) == [
        "a.txt was changed on disk after it was attached."
    ]
    files.put(chat_id, "a.txt", b"abc", "text/plain")  # attaching it again mends it
    assert files.verify(chat_id, [attachment]) == []


def test_an_unwritable_folder_is_a_clear_error_without_a_path(tmp_path, monkeypatch):
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "makedirs", refuse)  # as root, chmod would not stop a write
    with pytest.raises(StorageError) as failed:
        AttachmentStore(tmp_path).save("0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11", [("a.png", PNG)])
    assert str(failed.value) == "cannot save the attached file a.png: Permission denied"


def test_find_attachment_by_its_hash():
    one = Attachment("a.png", "image/png", 3, "a" * 64)
    assert find_attachment([one], "a" * 64) is one
    assert find_attachment([one], "b" * 64) is None


# -- rows ----------------------------------------------------------------------------


def test_attachment_rows_come_right_before_the_user_row_in_one_write(tmp_path, monkeypatch):
    store = CsvStore(tmp_path / "logs")
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    files = AttachmentStore(store.root)
    saved = files.save(chat_id, [("plot.png", PNG), ("data.csv", b"a,b\n1,2\n")])
    writes = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(data) or real_write(fd, data))
    message = registry.append(
        chat_id, "user", "What does this show?", context="x = 1", attachments=saved
    )
    monkeypatch.undo()
    assert len(writes) == 1  # context, both attachments and the user row: one write
    assert [r["role"] for r in rows(store, chat_id)] == [
        "context",
        "attachment",
        "attachment",
        "user",
    ]
    assert message.attachments == tuple(saved)
    registry.append(chat_id, "assistant", "A plot.")
    fresh = ChatRegistry(CsvStore(tmp_path / "logs")).messages(chat_id)
    assert fresh[0].attachments == tuple(saved)
    assert fresh[0].context == "x = 1"
    assert fresh[1].attachments == ()
    assert fresh[0] == registry.messages(chat_id)[0]  # the cache says what the file says


def test_only_a_user_message_carries_files(tmp_path):
    store = CsvStore(tmp_path)
    chat_id = ChatRegistry(store).new().id
    attachment = Attachment("a.png", "image/png", 3, "a" * 64)
    with pytest.raises(ValueError, match="only a user message"):
        store.append(chat_id, "assistant", "hi", attachments=[attachment])


def test_a_chat_with_a_missing_file_still_loads(tmp_path):
    store = CsvStore(tmp_path)
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    files = AttachmentStore(store.root)
    saved = files.save(chat_id, [("plot.png", PNG)])
    registry.append(chat_id, "user", "see", attachments=saved)
    files.path(chat_id, saved[0]).unlink()
    messages = ChatRegistry(CsvStore(tmp_path)).messages(chat_id)
    assert messages[0].attachments == tuple(saved)
    assert len(files.verify(chat_id, messages[0].attachments)) == 1


# -- delete and archive --------------------------------------------------------------


def chat_with_a_file(root):
    store = CsvStore(root)
    registry = ChatRegistry(store)
    chat_id = registry.new().id
    files = AttachmentStore(store.root)
    registry.append(chat_id, "user", "see", attachments=files.save(chat_id, [("a.png", PNG)]))
    return registry, files, chat_id


def test_deleting_a_chat_removes_its_files(tmp_path):
    registry, files, chat_id = chat_with_a_file(tmp_path)
    assert files.files_dir(chat_id).is_dir()
    registry.delete(chat_id)
    assert not files.files_dir(chat_id).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_archiving_a_chat_moves_its_files_beside_it(tmp_path):
    registry, files, chat_id = chat_with_a_file(tmp_path)
    (attachment,) = registry.messages(chat_id)[0].attachments
    archived = registry.archive(chat_id)
    assert not files.files_dir(chat_id).exists()
    moved = archived.with_suffix(".files")
    assert moved.parent == tmp_path / "archive" and moved.name.startswith(chat_id)
    assert (moved / f"{attachment.sha256}.png").read_bytes() == PNG
    assert registry.store.list_chats() == []  # a .files folder is never taken for a chat


def test_a_visitors_files_stay_in_their_folder(tmp_path):
    root = visitor_folder(tmp_path / "logs", "a" * 32)
    registry, files, chat_id = chat_with_a_file(root)
    assert files.files_dir(chat_id).parent == root
    registry.archive(chat_id)
    assert [p.name.endswith(".files") for p in (root / "archive").iterdir()].count(True) == 1
    assert not (tmp_path / "logs" / f"{chat_id}.files").exists()


def test_a_file_in_the_way_of_the_folder_is_a_clear_error(tmp_path):
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    (tmp_path / f"{chat_id}.files").write_text("not a folder")
    with pytest.raises(StorageError) as failed:
        AttachmentStore(tmp_path).save(chat_id, [("a.png", PNG)])
    assert str(failed.value) == "cannot save the attached file a.png: a file is in the way"


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("a.png", ELF, "image/png"),
        ("a.png", PNG, "image/jpeg"),
        ("a.txt", b"{", "application/json"),
    ],
)
def test_put_takes_no_ones_word_for_the_type(tmp_path, name, data, media_type):
    files = AttachmentStore(tmp_path)
    chat_id = "0b6c0f32-7d3e-4d55-9d63-3f4c3f7a2b11"
    with pytest.raises(AttachmentRefused):
        files.put(chat_id, name, data, media_type)
    assert not files.files_dir(chat_id).exists()
