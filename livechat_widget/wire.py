"""The typed payloads of the kernel/browser contract (docs/protocol.md, js/types.ts).

Every trait item and custom message the kernel sends is built here, so its shape is
written once; ``tests/test_wire_contract.py`` fails when a field is added, renamed or
removed here without the same change in ``js/types.ts`` and ``docs/protocol.md``.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from .attachment_rows import Attachment
from .chat_registry import ChatInfo
from .chat_registry import SearchHit as ChatSearchHit
from .chat_settings import ChatSettings
from .code_run import RunResult
from .csv_storage import Message
from .kernel_context import parse_context
from .prompt_templates import PromptPayload as PromptPayload  # the `prompt_templates` trait
from .tool_rows import ToolRecord
from .versions import ShownMessage
from .wire_compare import CompareChoice as CompareChoice  # the compare traits and message
from .wire_compare import CompareDeltaMsg as CompareDeltaMsg
from .wire_compare import ComparePane as ComparePane
from .wire_compare import CompareState as CompareState

Role = Literal["user", "assistant", "system"]
Status = Literal["complete", "stopped", "length", "error"]
ErrorKind = Literal["", "context_length", "interrupted", "tool_steps"]


# Kernel context and code runs
class ContextChip(TypedDict):
    name: str
    kind: str
    text: str  # exactly the block of the context text the model received


class StaleItem(TypedDict):
    """A variable sent as context that changed in the kernel since (stale_context.py)."""

    name: str
    change: str  # in plain words: "1,203 fewer rows, new column `tenure_bucket`"
    gone: bool  # no longer in the kernel: Refresh cannot send it


class CodeRunPayload(TypedDict):
    code: str
    status: str  # "ok" | "error" | "interrupted"
    stdout: str
    result: str
    error: str
    images: list[str]  # base64 PNG


# Tool calls (tools/, agent_loop.py): one card per call in a reply.
ToolStatus = Literal["proposed", "waiting", "running", "ok", "error", "denied", "stopped"]


class ToolCallPayload(TypedDict):
    id: str
    name: str
    arguments: str  # the JSON text the model wrote (it may be malformed)
    step: int  # the model request that made the call, from 1
    offset: int  # where in the reply's text the call was made (the card's place)
    status: str  # ToolStatus: proposed, waiting (for consent), running, ok, ...
    needs_consent: bool
    source: str  # "kernel" | "python" | "mcp:<server>"
    code: str  # the Python it runs ("" for tools that run none)
    content: str  # the result as the model received it ("" before it ended)
    images: list[str]  # base64 PNG shown under the result
    ms: float | None  # how long it ran


class AttachmentPayload(TypedDict):
    """A file sent with a user message; its bytes come with ``load_attachment``."""

    name: str
    media_type: str  # sniffed from the bytes
    size: int
    sha256: str


class ContextItem(TypedDict):
    name: str
    kind: str
    detail: str  # size or shape; never a value


class Draft(TypedDict):
    """A ready message for the composer ("Ask livechat"): each view applies it once."""

    id: int  # increases; a view applies each id once
    text: str  # "" = no draft
    context: list[ContextChip]  # chips put in the composer, with the text they attach


class RunningCode(TypedDict):
    chat_id: str  # "" = nothing running
    message_id: int
    code: str


class ChatSummary(TypedDict):
    id: str
    title: str
    updated_at: str
    message_count: int


class UsagePayload(TypedDict):
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool
    ttft_ms: float | None
    tokens_per_s: float | None
    cost: float | None  # dollars (prices.py); None: no price known


class MessagePayload(TypedDict):
    id: int
    role: str
    content: str
    timestamp: str
    status: str
    error: str
    error_kind: str
    version: int  # which version of its turn this message is, from 1 ...
    versions: int  # ... of how many (edits of a user message, regenerated replies)
    context: list[ContextChip]  # a user message: the kernel context sent with it
    runs: list[CodeRunPayload]  # an assistant message: its code blocks' runs, oldest first
    reasoning: str
    usage: UsagePayload | None
    tools: list[ToolCallPayload]  # an assistant message: its tool calls, in order
    attachments: list[AttachmentPayload]  # a user message: the files sent with it


class Stream(TypedDict):
    message_id: int
    text: str
    reasoning: str
    seq: int
    tools: list[ToolCallPayload]


class ToolMsg(TypedDict):
    """A tool call of a streaming reply changed (proposed, waiting, running, ended)."""

    type: Literal["tool"]
    chat_id: str
    message_id: int
    call: ToolCallPayload


class SearchHit(TypedDict):
    chat_id: str
    title: str
    snippet: str


class StatsPoint(TypedDict):
    ttft_ms: float | None
    tokens_per_s: float | None
    outcome: str


class StatsTotals(TypedDict):
    replies: int
    completed: int
    stopped: int
    errors: int
    tokens: int


class UsageTotals(TypedDict):
    replies: int
    prompt_tokens: int
    completion_tokens: int
    estimated: int
    cost: float | None  # dollars summed over the replies with a price; None: none had one


class ContextGauge(TypedDict):
    """How full the active chat's next request would be (context_window.py)."""

    tokens: int  # what the next request would send: system prompt and history
    window: int | None  # the model's context window; None: unknown (no gauge)
    estimated: bool  # ``tokens`` is estimated from the text, not the provider's count


class Stats(TypedDict):
    recent: list[StatsPoint]
    totals: StatsTotals
    chat: UsageTotals  # the active chat's replies, from its usage rows
    overall: UsageTotals  # every chat in the folder


class ChatSettingsPayload(TypedDict):
    model: str
    system_prompt: str
    temperature: float | None
    max_tokens: int | None
    tools: bool  # the model is offered tools in this chat
    tool_steps: int  # model requests per reply at most (a tool round trip each)
    prices: dict[str, float] | None  # {input_per_mtok, output_per_mtok}; None: default
    max_cost: float | None  # dollars this chat may cost; None: no budget
    context_window: int | None  # tokens; None: the provider's


class DeltaMsg(TypedDict):
    type: Literal["delta"]
    chat_id: str
    message_id: int
    seq: int
    text: str
    reasoning: str


class DoneMsg(TypedDict):
    type: Literal["done"]
    chat_id: str
    message_id: int
    seq: int
    text: str
    reasoning: str
    status: str
    error: str
    error_kind: str


# Answers to requests (commands that carry a ``request`` id): sent on the comm, so every
# view of the widget receives them; only the view that made the request (the id is its
# own) uses one, and a view drops an answer to a request it has since given up.
class SearchResultsMsg(TypedDict):
    """The answer to ``search``."""

    type: Literal["search_results"]
    request: str
    query: str
    hits: list[SearchHit]


class ContextItemsMsg(TypedDict):
    """The answer to ``list_context``: what the kernel offers now (never values)."""

    type: Literal["context_items"]
    request: str
    items: list[ContextItem]


class ModelListMsg(TypedDict):
    """The answer to ``list_models`` (``error`` "" when the provider answered)."""

    type: Literal["model_list"]
    request: str
    names: list[str]
    error: str


class RefusedMsg(TypedDict):
    """A request that could not be answered; ``error`` is also shown in the banner."""

    type: Literal["refused"]
    request: str
    error: str


class ExportMsg(TypedDict):
    """An exported chat for the view that asked (its file's bytes are the one buffer)."""

    type: Literal["export"]
    chat_id: str
    request: str
    format: str
    filename: str
    mime: str


class AttachmentMsg(TypedDict):
    """The answer to ``load_attachment``; buffers[0] is the file's bytes."""

    type: Literal["attachment"]
    request: str
    sha256: str
    media_type: str


class MathChunkMsg(TypedDict):
    """The answer to `load_math`; buffers[0] is the math chunk (static/math.js)."""

    type: Literal["math_chunk"]
    request: str


# The synced traits (name -> payload type), for the contract test and the docs.
TRAITS: dict[str, str] = {
    "title": "str",
    "height": "str",
    "theme": "str",
    "model_label": "str",
    "chats": "list[ChatSummary]",
    "active_chat_id": "str",
    "messages": "list[MessagePayload]",
    "has_older": "bool",
    "streams": "dict[str, Stream]",
    "busy": "bool",
    "error": "str",
    "stats": "Stats",
    # Private chats per browser: the view sends its browser's secret (`claim`).
    "per_browser": "bool",
    # Kernel context and code runs
    "allow_kernel_context": "bool",
    "allow_code": "bool",
    "running_code": "RunningCode",
    # Variables of the active chat's context that changed since the model saw them.
    "stale_context": "list[StaleItem]",
    "chat_settings": "ChatSettingsPayload",
    # Insert as cell (insert_cell.py): ipylab's front end answered in this page.
    "can_insert_cell": "bool",
    # A chat whose file is read off the kernel's event loop before it shows ("" = none).
    "opening": "str",
    # Chat files in the folder that could not be read (left as they are; the log says why).
    "unreadable": "int",
    # Files the page may attach to one message ({file_bytes, message_bytes, count};
    # count 0: attaching is off, e.g. `livechat --no-uploads`).
    "uploads": "UploadLimits",
    # The composer's `/` templates (prompt_templates.py): never a path.
    "prompt_templates": "list[PromptPayload]",
    # How full the active chat's next request would be against the model's window.
    "context_gauge": "ContextGauge",
    # A ready message for the composer ("Ask livechat" under an error; text "" = none).
    "draft": "Draft",
    # Compare (compare.py): the configured clients; the open comparisons by chat id.
    "compare_choices": "list[CompareChoice]",
    "compares": "dict[str, CompareState]",
}


def message_payload(message: Message, version: int = 1, versions: int = 1) -> MessagePayload:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "timestamp": message.timestamp,
        "status": message.status,
        "error": message.error,
        "error_kind": message.error_kind,
        "version": version,
        "versions": versions,
        "context": [
            {"name": b.name, "kind": b.kind, "text": b.text} for b in parse_context(message.context)
        ],
        "runs": [run_payload(r) for r in map(RunResult.from_json, message.runs) if r is not None],
        "reasoning": message.reasoning,
        "usage": None if message.usage is None else usage_payload(message.usage.payload()),
        "tools": [tool_payload(call) for call in message.tools],
        "attachments": [attachment_payload(a) for a in message.attachments],
    }


def shown_payload(shown: ShownMessage) -> MessagePayload:
    return message_payload(shown.message, shown.version, shown.versions)


def search_hit(hit: ChatSearchHit) -> SearchHit:
    return {"chat_id": hit.chat.id, "title": hit.chat.title, "snippet": hit.snippet}


def done_message(chat_id: str, seq: int, message: MessagePayload) -> DoneMsg:
    """The end of a reply's stream: its whole text and how it ended (``message``, saved)."""
    return {
        "type": "done",
        "chat_id": chat_id,
        "message_id": message["id"],
        "seq": seq,
        "text": message["content"],
        "reasoning": message["reasoning"],
        "status": message["status"],
        "error": message["error"],
        "error_kind": message["error_kind"],
    }


def usage_payload(usage: dict[str, Any]) -> UsagePayload:
    return {
        "model": usage["model"],
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "estimated": usage["estimated"],
        "ttft_ms": usage["ttft_ms"],
        "tokens_per_s": usage["tokens_per_s"],
        "cost": usage.get("cost"),
    }


def usage_totals_payload(totals: dict[str, Any]) -> UsageTotals:
    return {
        "replies": totals["replies"],
        "prompt_tokens": totals["prompt_tokens"],
        "completion_tokens": totals["completion_tokens"],
        "estimated": totals["estimated"],
        "cost": totals.get("cost"),
    }


def settings_payload(settings: ChatSettings) -> ChatSettingsPayload:
    return {
        "model": settings.model,
        "system_prompt": settings.system_prompt,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "tools": settings.tools,
        "tool_steps": settings.tool_steps,
        "prices": None if settings.prices is None else dict(settings.prices),
        "max_cost": settings.max_cost,
        "context_window": settings.context_window,
    }


def attachment_payload(attachment: Attachment) -> AttachmentPayload:
    return {
        "name": attachment.name,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def tool_payload(call: ToolRecord) -> ToolCallPayload:
    return {
        "id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "step": call.step,
        "offset": call.offset,
        "status": call.status,
        "needs_consent": call.needs_consent,
        "source": call.source,
        "code": call.code,
        "content": call.content,
        "images": list(call.images),
        "ms": call.ms,
    }


def run_payload(run: RunResult) -> CodeRunPayload:
    return {
        "code": run.code,
        "status": run.status,
        "stdout": run.stdout,
        "result": run.result,
        "error": run.error,
        "images": run.images,
    }


NOT_RUNNING: RunningCode = {"chat_id": "", "message_id": -1, "code": ""}
NO_DRAFT: Draft = {"id": 0, "text": "", "context": []}


def chat_summary(info: ChatInfo) -> ChatSummary:
    return {
        "id": info.id,
        "title": info.title,
        "updated_at": info.updated_at,
        "message_count": info.message_count,
    }


def empty_stats() -> Stats:
    none = {"replies": 0, "prompt_tokens": 0, "completion_tokens": 0, "estimated": 0, "cost": None}
    return {
        "recent": [],
        "totals": {"replies": 0, "completed": 0, "stopped": 0, "errors": 0, "tokens": 0},
        "chat": usage_totals_payload(none),
        "overall": usage_totals_payload(none),
    }
