"""import_chats(): this project's JSON export and ChatGPT's conversations.json into new
CSV chats; bad input writes nothing; a partly valid file imports what is valid."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest
from widget_doubles import make_widget, settle

from livechat_widget import ChatImportError, ChatImportWarning, chat_import, import_chats
from livechat_widget.chat_export import export_chat
from livechat_widget.chat_registry import ChatRegistry
from livechat_widget.csv_storage import CsvStore, StorageError

FIXTURES = Path(__file__).parent / "fixtures"
CHATGPT = FIXTURES / "chatgpt_conversations.json"


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def export_document(**chat) -> dict:
    return {"format": "livechat-widget", "version": 1, "exported_at": "", "chats": [chat]}


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


ROW = {"timestamp": "2026-01-02T03:04:05.678Z", "user_id": "ada", "role": "user", "content": "hi"}


# -- round trip ----------------------------------------------------------------------


async def test_export_json_then_import_gives_the_same_messages(tmp_path):
    widget = make_widget(tmp_path)
    await widget.ask('First question, with "quotes", commas,\nnew lines and 😀')
    await settle(widget)
    chat_id = widget.active_chat_id
    widget.session.registry.store.append(chat_id, "context", "x = 42", user_id="ada")
    await widget.ask("Second question")
    await settle(widget)
    widget.session.registry.append(chat_id, "assistant", "cut", status="length")
    widget.rename(chat_id, "Round trip")
    source = widget.session.registry.store
    exported = tmp_path / "chat.json"
    exported.write_text(widget.export(format="json"), encoding="utf-8")

    other = tmp_path / "other"
    (new_id,) = import_chats(exported, other)
    assert new_id != chat_id
    copy = CsvStore(other)
    assert copy.load(new_id) == source.load(chat_id)  # every row, byte for byte
    registry = ChatRegistry(copy)
    # (a fresh read of the source: the raw `context` row above went behind its cache,
    # and a `context` row belongs to the user message after it)
    assert registry.messages(new_id) == ChatRegistry(source).messages(chat_id)
    assert registry.get(new_id).title == "Round trip"
    # and the export of the import is the export of the original (but for its id)
    again = json.loads(export_chat(copy, new_id, "json").text)["chats"][0]
    original = json.loads(widget.export(format="json"))["chats"][0]
    assert again["rows"] == original["rows"] and again["title"] == original["title"]


async def test_imported_chats_show_in_a_widget_on_that_folder(tmp_path):
    widget = make_widget(tmp_path)  # folder tmp_path / "logs"
    assert widget.chats == []
    ids = import_chats(
        write_json(tmp_path / "e.json", export_document(id="x", title="t", rows=[ROW])),
        tmp_path / "logs",
    )
    assert [c.id for c in widget.chats] == ids
    widget.select(ids[0])
    assert [m["content"] for m in widget.messages] == ["hi"]


# -- ChatGPT's conversations.json ------------------------------------------------------


def test_chatgpt_export_imports_the_current_branch(tmp_path):
    with pytest.warns(ChatImportWarning) as caught:
        result = import_chats(CHATGPT, tmp_path / "logs", user_id="ada")
    (chat_id,) = result  # conversations 2 and 3 cannot be imported
    first_reply = json.loads(CHATGPT.read_text())[0]["mapping"]["a1"]["message"]["content"]
    first_reply = first_reply["parts"][0]
    store = CsvStore(tmp_path / "logs")
    rows = [(r.role, r.content) for r in store.load(chat_id)]
    assert rows == [
        ("title", "Decorators in Python"),
        ("user", "What is a decorator?"),
        (
            "assistant",
            json.loads(CHATGPT.read_text())[0]["mapping"]["a1"]["message"]["content"]["parts"][0],
        ),
        ("user", "Show one with functools.wraps"),  # the edited branch, not the abandoned one
        ("assistant", "Here it is: `functools.wraps` keeps the name and"),
        ("status", "length"),  # finish_details max_tokens
        ("user", "What is in this picture?"),  # its image part is left out
        ("assistant", "A cat <b>sleeping</b>."),
    ]
    loaded = store.load(chat_id)
    assert loaded[1].timestamp == "2024-11-25T02:00:10.000Z"  # create_time, in UTC
    assert loaded[0].timestamp <= loaded[1].timestamp  # the title row starts the chat
    assert {r.user_id for r in loaded} == {"ada"}
    assert ChatRegistry(store).get(chat_id).title == "Decorators in Python"
    skipped = result.skipped
    assert len(skipped) == 3
    assert skipped[0].startswith("conversation 1 'Decorators in Python': imported without")
    assert "non-text parts" in skipped[0]
    assert "conversation 2 'A broken tree'" in skipped[1] and "current_node" in skipped[1]
    assert "conversation 3 'Only a system prompt'" in skipped[2] and "no text" in skipped[2]
    assert "A broken tree" in str(caught[0].message)


def test_chatgpt_export_in_its_zip(tmp_path):
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("chat.html", "<html></html>")
        z.write(CHATGPT, "conversations.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChatImportWarning)
        assert len(import_chats(archive, tmp_path / "logs")) == 1


def test_unknown_author_roles_are_left_out_and_reported(tmp_path):
    conversations = json.loads(CHATGPT.read_text())[:1]
    conversations[0]["mapping"]["u1"]["message"]["author"]["role"] = "wizard"
    with pytest.warns(ChatImportWarning, match="unknown role 'wizard'"):
        (chat_id,) = import_chats(write_json(tmp_path / "c.json", conversations), tmp_path / "l")
    roles = [r.role for r in CsvStore(tmp_path / "l").load(chat_id)]
    assert roles[:2] == ["title", "assistant"]


def test_odd_shapes_in_a_conversation_are_skipped_not_crashed_on(tmp_path):
    """Whatever the JSON holds, the answer is an import or a ChatImportError."""
    base = json.loads(CHATGPT.read_text())[0]
    odd_values = [None, 3, "x", [], {}, [1], {"a": 1}, True]
    paths = [
        ("current_node",),
        ("mapping", "u1"),
        ("mapping", "u1", "message"),
        ("mapping", "u1", "message", "author"),
        ("mapping", "u1", "message", "author", "role"),
        ("mapping", "u1", "message", "content"),
        ("mapping", "u1", "message", "content", "parts"),
        ("mapping", "u1", "message", "content", "content_type"),
        ("mapping", "u1", "message", "create_time"),
        ("mapping", "u1", "message", "metadata"),
        ("mapping", "u1", "message", "recipient"),
        ("mapping", "a3", "parent"),
        ("mapping", "a2b", "message", "metadata", "finish_details"),
        ("title",),
    ]
    for path in paths:
        for value in odd_values:
            conversation = json.loads(json.dumps(base))
            target = conversation
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            source = write_json(tmp_path / "c.json", [conversation])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ChatImportWarning)
                    import_chats(source, tmp_path / "logs")
            except ChatImportError:
                pass


# -- bad input writes nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "livechat-widget", "version": 1, "chats": [', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"hello": "world"}', "neither a livechat-widget export .* nor a ChatGPT"),
        ("[1, 2, 3]", "neither"),
        ('"just a string"', "neither"),
        ("[]", "nothing to import"),
        ('{"format": "livechat-widget", "version": 2, "chats": []}', "newer livechat-widget"),
        ('{"format": "livechat-widget", "version": "1", "chats": []}', 'no valid "version"'),
        ('{"format": "livechat-widget", "version": 1}', 'no "chats" list'),
        ('{"format": "livechat-widget", "version": 1, "chats": []}', "nothing to import"),
        ("[" * 100_000 + "]" * 100_000, "JSON|nested"),
    ],
)
def test_a_file_that_is_not_an_export_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "in.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ChatImportError, match=message):
        import_chats(path, tmp_path / "logs")
    assert files(tmp_path / "logs") == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**ROW, "role": "Bad Role"}, "row 1 has an invalid role 'Bad Role'"),
        ({**ROW, "role": ""}, "invalid role"),
        ({**ROW, "role": 3}, "no text 'role'"),
        ({**ROW, "timestamp": "yesterday"}, "malformed timestamp"),
        ({**ROW, "content": None}, "no text 'content'"),
        ("a row", "row 1 is not an object"),
    ],
)
def test_a_chat_with_a_bad_row_is_not_imported(tmp_path, row, message):
    path = write_json(tmp_path / "in.json", export_document(id="x", title="Bad", rows=[row]))
    with pytest.raises(ChatImportError, match=message):
        import_chats(path, tmp_path / "logs")
    assert files(tmp_path / "logs") == []


def test_a_chatgpt_file_with_only_bad_conversations_writes_nothing(tmp_path):
    conversations = json.loads(CHATGPT.read_text())[1:]  # the broken tree, the system prompt
    with pytest.raises(ChatImportError, match="nothing to import.*current_node.*no text"):
        import_chats(write_json(tmp_path / "c.json", conversations), tmp_path / "logs")
    cyclic = json.loads(CHATGPT.read_text())[:1]
    cyclic[0]["mapping"]["client-created-root"]["parent"] = "a3"
    with pytest.raises(ChatImportError, match="message tree is broken"):
        import_chats(write_json(tmp_path / "c.json", cyclic), tmp_path / "logs")
    assert files(tmp_path / "logs") == []


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    assert chat_import.MAX_IMPORT_BYTES == 256 * 1024 * 1024
    path = shutil.copy(CHATGPT, tmp_path / "conversations.json")
    size = Path(path).stat().st_size
    with pytest.raises(ChatImportError, match=f"too big to import \\({size:,} bytes"):
        import_chats(path, tmp_path / "logs", max_bytes=size - 1)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", "[" + " " * 5_000_000 + "]")  # a small zip, big inside
    assert archive.stat().st_size < 100_000
    with pytest.raises(ChatImportError, match="conversations.json in export.zip is too big"):
        import_chats(archive, tmp_path / "logs", max_bytes=1_000_000)
    with pytest.raises(ChatImportError, match="cannot read"):
        import_chats(tmp_path / "missing.json", tmp_path / "logs")
    assert files(tmp_path / "logs") == []


# -- partly valid ----------------------------------------------------------------------


def test_a_partly_valid_export_imports_the_valid_chats_and_reports_the_rest(tmp_path):
    document = export_document(id="a", title="Good", rows=[ROW])
    document["chats"] += [
        {"id": "b", "title": "Bad role", "rows": [ROW, {**ROW, "role": "DROP TABLE"}]},
        {"id": "c", "title": "Empty", "rows": []},
        "not a chat",
        {"id": "d", "title": "Also good", "rows": [{**ROW, "content": "second"}]},
    ]
    with pytest.warns(ChatImportWarning, match="imported 2 chat\\(s\\).*left out 3"):
        result = import_chats(write_json(tmp_path / "e.json", document), tmp_path / "logs")
    assert len(result) == 2
    contents = [CsvStore(tmp_path / "logs").load(i)[0].content for i in result]
    assert contents == ["hi", "second"]
    assert result.skipped == [
        "chat 2 'Bad role': row 2 has an invalid role 'DROP TABLE' (lowercase letters, digits, _)",
        "chat 3 'Empty': it has no rows",
        'chat 4: not a chat (an object with a "rows" list expected)',
    ]


def test_a_write_failure_part_way_removes_what_the_import_wrote(tmp_path, monkeypatch):
    document = export_document(id="a", title="One", rows=[ROW])
    document["chats"].append({"id": "b", "title": "Two", "rows": [ROW]})
    real = chat_import._write_file
    calls = []

    def fail_on_the_second(store, chat_id, records):
        calls.append(chat_id)
        if len(calls) == 2:
            raise StorageError("cannot write: disk full")
        real(store, chat_id, records)

    monkeypatch.setattr(chat_import, "_write_file", fail_on_the_second)
    (tmp_path / "logs").mkdir()
    with pytest.raises(StorageError, match="disk full"):
        import_chats(write_json(tmp_path / "e.json", document), tmp_path / "logs")
    assert files(tmp_path / "logs") == []
