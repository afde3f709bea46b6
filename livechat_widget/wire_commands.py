"""Browser -> kernel: the shape of each message type the page sends (validated in
protocol.py; ``tests/test_wire_contract.py`` holds them to js/types.ts and
docs/protocol.md)."""

from __future__ import annotations

from typing import Literal, TypedDict


class AttachmentMeta(TypedDict):
    """What the page says of a file it sends; its bytes are the message's buffer at
    the same index. The kernel checks the size against the bytes and sniffs the type."""

    name: str
    media_type: str  # the browser's guess (File.type), never trusted
    size: int


class SendCmd(TypedDict):
    type: Literal["send"]
    text: str
    chat_id: str
    context: list[str]  # optional: names from `context_items`
    attachments: list[AttachmentMeta]  # optional: one per buffer of the message


class ChatCmd(TypedDict):
    """stop, regenerate, retry, retry_shorter, trim_history, select_chat, delete, clear."""

    type: str
    chat_id: str


class RenameCmd(TypedDict):
    type: Literal["rename"]
    chat_id: str
    title: str


class SearchCmd(TypedDict):
    type: Literal["search"]
    query: str
    request: str


class LoadOlderCmd(TypedDict):
    type: Literal["load_older"]
    chat_id: str
    before: int


class EditCmd(TypedDict):
    type: Literal["edit"]
    chat_id: str
    message_id: int
    text: str


class SelectVersionCmd(TypedDict):
    type: Literal["select_version"]
    chat_id: str
    message_id: int
    version: int


class ExportCmd(TypedDict):
    type: Literal["export"]
    chat_id: str
    format: str
    request: str


class BareCmd(TypedDict):
    """new_chat, dismiss_error, refresh_prompts."""

    type: str


class LoadAttachmentCmd(TypedDict):
    """The bytes of a file of a message (answered with an `attachment` message)."""

    type: Literal["load_attachment"]
    request: str
    chat_id: str
    sha256: str


class RequestCmd(TypedDict):
    """load_math, list_context, list_models: answered to the view that asked."""

    type: str
    request: str


class ClaimCmd(TypedDict):
    """Private chats per browser: the browser's 128-bit secret, 32 lowercase hex digits."""

    type: Literal["claim"]
    secret: str


class RunCodeCmd(TypedDict):
    type: Literal["run_code"]
    chat_id: str
    message_id: int
    code: str


class ConfigureCmd(TypedDict):
    type: Literal["configure"]
    chat_id: str
    model: str
    system_prompt: str
    temperature: float | None
    max_tokens: int | None
    tools: bool  # the model is offered tools in this chat
    tool_steps: int  # 1..50 model requests per reply (both optional: left out, unchanged)
    # Optional too (left out: unchanged; null: back to the default):
    prices: dict[str, float] | None  # {input_per_mtok, output_per_mtok}, dollars, >= 0
    max_cost: float | None  # dollars, >= 0
    context_window: int | None  # tokens, > 0


class InsertCellCmd(TypedDict):
    """Insert as cell: the stored block goes into a new cell below the active one."""

    type: Literal["insert_cell"]
    chat_id: str
    message_id: int
    code: str


class ToolConsentCmd(TypedDict):
    """The person's answer to a tool call that waits for consent."""

    type: Literal["tool_consent"]
    chat_id: str
    call_id: str
    decision: Literal["once", "chat", "deny"]


class FrameSyncCmd(TypedDict):
    """Deltas timed to the page's frames (frame_clock.py): shift the grid later by
    shift_ms (earlier if negative)."""

    type: Literal["frame_sync"]
    view: str
    shift_ms: float


class IgnoreStaleCmd(TypedDict):
    """Hide these stale context items until their values change again."""

    type: Literal["ignore_stale"]
    chat_id: str
    names: list[str]


class CompareCmd(TypedDict):
    """Put a message to 2-4 candidates at once (compare clients' labels or model names)."""

    type: Literal["compare"]
    text: str
    chat_id: str
    candidates: list[str]
    blind: bool  # optional: hide the models' names until one is kept


class CompareKeepCmd(TypedDict):
    """Keep pane ``pane``'s reply of the chat's comparison (the others stay versions)."""

    type: Literal["compare_keep"]
    chat_id: str
    pane: int


COMMANDS: dict[str, type] = {
    "send": SendCmd,
    "stop": ChatCmd,
    "regenerate": ChatCmd,
    "retry": ChatCmd,
    "retry_shorter": ChatCmd,
    "trim_history": ChatCmd,
    "new_chat": BareCmd,
    "select_chat": ChatCmd,
    "rename": RenameCmd,
    "delete": ChatCmd,
    "clear": ChatCmd,
    "search": SearchCmd,
    "load_older": LoadOlderCmd,
    "dismiss_error": BareCmd,
    "edit": EditCmd,
    "select_version": SelectVersionCmd,
    # Chats as data
    "export": ExportCmd,
    "claim": ClaimCmd,
    "load_math": RequestCmd,
    # Kernel context and code runs
    "list_context": RequestCmd,
    "ignore_stale": IgnoreStaleCmd,
    "run_code": RunCodeCmd,
    "configure": ConfigureCmd,
    "list_models": RequestCmd,
    "insert_cell": InsertCellCmd,
    "frame_sync": FrameSyncCmd,
    "tool_consent": ToolConsentCmd,
    "load_attachment": LoadAttachmentCmd,
    "refresh_prompts": BareCmd,
    "compare": CompareCmd,
    "compare_keep": CompareKeepCmd,
}
