"""The kernel/browser contract is written three times: the typed payloads in Python
(livechat_widget/wire.py, validated by protocol.py), the TypeScript types the front end
is checked against (js/types.ts) and the document (docs/protocol.md). A field added,
renamed or removed on one side only fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_type_hints

import pytest

from livechat_widget import protocol, wire, wire_commands

REPO = Path(__file__).resolve().parents[1]
TYPES_TS = (REPO / "js" / "types.ts").read_text(encoding="utf-8")
PROTOCOL_MD = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")

# Python TypedDict -> the name of the same shape in js/types.ts and docs/protocol.md
SHAPES = {
    "ChatSummary": "ChatSummary",
    "MessagePayload": "Message",
    "Stream": "Stream",
    "SearchHit": "SearchHit",
    "Stats": "Stats",
    "DeltaMsg": "DeltaMsg",
    "DoneMsg": "DoneMsg",
    "ExportMsg": "ExportMsg",
    "MathChunkMsg": "MathChunkMsg",
    "ContextChip": "ContextChip",
    "CodeRunPayload": "CodeRun",
    "ContextItem": "ContextItem",
    "StaleItem": "StaleItem",
    "RunningCode": "RunningCode",
    "UsagePayload": "Usage",
    "UsageTotals": "UsageTotals",
    "ChatSettingsPayload": "ChatSettings",
    "SearchResultsMsg": "SearchResultsMsg",
    "ContextItemsMsg": "ContextItemsMsg",
    "ModelListMsg": "ModelListMsg",
    "RefusedMsg": "RefusedMsg",
    "ToolCallPayload": "ToolCall",
    "ToolMsg": "ToolMsg",
    "AttachmentPayload": "Attachment",
    "AttachmentMsg": "AttachmentMsg",
    "PromptPayload": "PromptPayload",
    "ContextGauge": "ContextGauge",
    "Draft": "Draft",
    "CompareChoice": "CompareChoice",
    "ComparePane": "ComparePane",
    "CompareState": "CompareState",
    "CompareDeltaMsg": "CompareDeltaMsg",
}


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def _braced(text: str, start: int) -> str:
    """The text between the brace at or after ``start`` and its matching brace."""
    open_at = text.index("{", start)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at + 1 : i]
    raise ValueError("unbalanced braces")


def _fields(body: str) -> dict[str, str]:
    """Top-level ``name: type`` fields of a TS object type body (nested bodies kept)."""
    body = _strip_comments(body)
    fields, depth, current = {}, 0, ""
    for ch in body + ";":
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch in ";," and depth == 0:
            if ":" in current:
                name, kind = current.split(":", 1)
                fields[name.strip().rstrip("?")] = kind.strip()
            current = ""
        else:
            current += ch
    return fields


def ts_shape(name: str) -> dict[str, str]:
    match = re.search(rf"export interface {name}\b", TYPES_TS)
    assert match, f"js/types.ts has no interface {name}"
    return _fields(_braced(TYPES_TS, match.end()))


def md_shape(name: str) -> dict[str, str]:
    match = re.search(rf"type {name} = ", PROTOCOL_MD)
    assert match, f"docs/protocol.md has no `type {name} = {{...}}`"
    return _fields(_braced(PROTOCOL_MD, match.end()))


def md_custom_message(kind: str) -> dict[str, str]:
    match = re.search(rf'\{{ type: "{kind}"[, ]', PROTOCOL_MD)
    assert match, f"docs/protocol.md does not show the {kind!r} message"
    return _fields(_braced(PROTOCOL_MD, match.start()))


def py_fields(typed_dict: type) -> set[str]:
    return set(get_type_hints(typed_dict))


@pytest.mark.parametrize("py_name", sorted(SHAPES))
def test_payload_fields_agree(py_name):
    fields = py_fields(getattr(wire, py_name))
    assert set(ts_shape(SHAPES[py_name])) == fields, "js/types.ts"
    if py_name.endswith("Msg"):  # kernel -> browser custom messages
        doc = md_custom_message(re.sub(r"(?<!^)(?=[A-Z])", "_", py_name[:-3]).lower())
    else:
        doc = md_shape(SHAPES[py_name])
    assert set(doc) == fields, "docs/protocol.md"


def test_nested_stats_fields_agree():
    totals = py_fields(wire.StatsTotals)
    assert set(_fields(ts_shape("Stats")["totals"].strip("{} "))) == totals
    assert set(_fields(md_shape("Stats")["totals"].strip("{} "))) == totals
    point = py_fields(wire.StatsPoint)
    assert set(ts_shape("StatsPoint")) == point
    recent = md_shape("Stats")["recent"]
    assert set(_fields(recent[recent.index("{") + 1 : recent.rindex("}")])) == point


def test_traits_agree_with_the_widget_and_both_documents():
    from livechat_widget.widget import ChatWidget

    synced = {
        name
        for name, trait in ChatWidget.class_traits(sync=True).items()
        if not name.startswith("_")
    }
    synced -= {"layout", "tabbable", "tooltip", "comm", "keys", "log"}  # ipywidgets' own
    assert synced == set(wire.TRAITS)
    assert set(ts_shape("Traits")) == set(wire.TRAITS), "js/types.ts Traits"
    table = PROTOCOL_MD.split("## Synced traits", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))
    assert documented == set(wire.TRAITS), "docs/protocol.md traits table"


def ts_commands() -> dict[str, set[str]]:
    union = TYPES_TS.split("export type Command =", 1)[1].split(";\n\n", 1)[0]
    commands = {}
    for body in re.findall(r"\{([^{}]*)\}", union):
        fields = _fields(body)
        kind = fields.pop("type").strip('"')
        commands[kind] = set(fields)
    return commands


def md_commands() -> dict[str, set[str]]:
    table = PROTOCOL_MD.split("## Browser -> kernel", 1)[1].split("\n## ", 1)[0]
    commands = {}
    for kind, fields in re.findall(r"^\| `(\w+)` \| ([^|]*)\|", table, flags=re.M):
        commands[kind] = set(re.findall(r"`(\w+)(?::[^`]*)?`", fields))
    return commands


def test_browser_messages_agree():
    python = {kind: py_fields(shape) - {"type"} for kind, shape in wire_commands.COMMANDS.items()}
    assert set(protocol.COMMANDS) == set(python), "protocol.py validates every message"
    assert ts_commands() == python, "js/types.ts Command"
    assert md_commands() == python, "docs/protocol.md"


def test_the_parsers_return_what_the_typed_commands_say():
    chat = "11111111-1111-4111-8111-111111111111"
    samples = {"text": "hi", "chat_id": chat, "title": "T", "query": "q", "before": 3}
    samples |= {"message_id": 0, "version": 1}
    samples |= {"format": "json", "request": "r1"}
    samples["secret"] = "0123456789abcdef0123456789abcdef"
    samples |= {"context": ["df"], "code": "x = 6 * 7"}
    samples |= {"model": "m-1", "system_prompt": "", "temperature": 0.5, "max_tokens": 10}
    samples |= {"view": "v1", "shift_ms": 2.5}
    samples |= {"tools": True, "tool_steps": 4, "call_id": "call_1", "decision": "once"}
    samples |= {"attachments": [{"name": "a.png", "media_type": "image/png", "size": 3}]}
    samples |= {"sha256": "a" * 64, "names": ["df"]}
    samples |= {"prices": {"input_per_mtok": 1, "output_per_mtok": 2}, "max_cost": 0.5}
    samples |= {"context_window": 4096}
    samples |= {"candidates": ["m-1", "m-2"], "blind": True, "pane": 1}
    for kind, shape in wire_commands.COMMANDS.items():
        fields = py_fields(shape) - {"type"}
        command = protocol.parse_command({"type": kind, **{f: samples[f] for f in fields}})
        assert command.type == kind


def test_the_contract_test_fails_when_one_side_changes(monkeypatch):
    """Guard against a test that cannot fail: rename a field on the TS side only."""
    global TYPES_TS
    original = TYPES_TS
    TYPES_TS = original.replace("  message_count: number;", "  messages_count: number;")
    try:
        with pytest.raises(AssertionError):
            test_payload_fields_agree("ChatSummary")
    finally:
        TYPES_TS = original
