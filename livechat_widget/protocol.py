"""The messages the browser sends, one typed command each (docs/protocol.md, and
js/types.ts's ``Command`` union, which a test keeps equal to this).

Everything from the browser is untrusted: a message becomes a command only when every
field has the right type and size; anything else raises ``ProtocolError`` with a text
fit for the error banner. No filesystem or network work happens here. Each command
class parses its own message (``from_msg``); controller.py holds what each one does.
Commands that expect an answer (``Request``) carry the id the asking view matches it by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .attachment_rows import SHA256
from .chat_export import FORMATS
from .chat_settings import (
    CHECKS,
    SettingsError,
    check_max_tokens,
    check_model,
    check_system_prompt,
    check_temperature,
    check_tool_steps,
    check_tools,
)
from .protocol_compare import Compare as Compare  # the Compare commands
from .protocol_compare import CompareKeep as CompareKeep
from .protocol_fields import (
    _REQUEST_ID,
    MAX_CALL_ID_CHARS,
    MAX_CODE_CHARS,
    MAX_QUERY_CHARS,
    MAX_TEXT_CHARS,
    AttachmentMeta,
    Msg,
    _attachments,
    _chat_id,
    _count,
    _names,
    _request_id,
    _string,
    _text,
)
from .protocol_fields import Command as Command  # the base of every command
from .protocol_fields import ProtocolError as ProtocolError  # raised to the callers
from .text_cleaning import MAX_TITLE_CHARS
from .visitors import SECRET_PATTERN

# -- the commands


@dataclass(frozen=True)
class Request(Command):
    """A command answered by a message to the view that asked (matched by ``request``)."""

    request: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Command:
        return cls(_request_id(msg, cls.type.replace("_", " ")))


@dataclass(frozen=True)
class ChatCommand(Command):
    """A command about one chat, named by its id."""

    chat_id: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Command:
        return cls(chat_id=_chat_id(msg))


@dataclass(frozen=True)
class Send(Command):
    type = "send"
    text: str = ""
    chat_id: str = ""  # "" = the active chat, or a new one
    context: tuple[str, ...] = ()  # names of kernel context items
    attachments: tuple[AttachmentMeta, ...] = ()  # one per buffer of the message
    files: tuple[tuple[str, bytes], ...] = ()  # (name, bytes): with_buffers

    def with_buffers(self, buffers: Sequence[bytes | memoryview]) -> Send:
        """The command with the message's buffers as its files: one per attachment,
        each as long as the page said."""
        if len(buffers) != len(self.attachments):
            raise ProtocolError("The attached files did not all arrive: send them again.")
        files = []
        for meta, buffer in zip(self.attachments, buffers, strict=True):
            data = bytes(buffer)
            if len(data) != meta.size:
                raise ProtocolError(f"{meta.name} arrived incomplete: attach it again.")
            files.append((meta.name, data))
        return replace(self, files=tuple(files))

    @classmethod
    def from_msg(cls, msg: Msg) -> Send:
        return cls(
            _text(msg, "text", limit=MAX_TEXT_CHARS),
            _chat_id(msg, optional=True),
            _names(msg.get("context", [])),
            _attachments(msg.get("attachments", [])),
        )


@dataclass(frozen=True)
class LoadAttachment(Request):
    """The bytes of one file of a chat's messages, for the view that asked."""

    type = "load_attachment"
    chat_id: str = ""
    sha256: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> LoadAttachment:
        digest = msg.get("sha256")
        if not isinstance(digest, str) or not SHA256.fullmatch(digest):
            raise ProtocolError("That file id is not valid.")
        return cls(_request_id(msg, "attachment"), _chat_id(msg), digest)


@dataclass(frozen=True)
class Stop(ChatCommand):
    type = "stop"


@dataclass(frozen=True)
class Regenerate(ChatCommand):
    type = "regenerate"


@dataclass(frozen=True)
class Retry(ChatCommand):
    type = "retry"


@dataclass(frozen=True)
class RetryShorter(ChatCommand):
    type = "retry_shorter"


@dataclass(frozen=True)
class TrimHistory(ChatCommand):
    type = "trim_history"  # leave the oldest turns out of what the model is sent


@dataclass(frozen=True)
class SelectChat(ChatCommand):
    type = "select_chat"


@dataclass(frozen=True)
class Delete(ChatCommand):
    type = "delete"


@dataclass(frozen=True)
class Clear(ChatCommand):
    type = "clear"


@dataclass(frozen=True)
class NewChat(Command):
    type = "new_chat"


@dataclass(frozen=True)
class DismissError(Command):
    type = "dismiss_error"


@dataclass(frozen=True)
class RefreshPrompts(Command):
    """The `/` menu opened: the kernel reads the prompt folders again if they changed."""

    type = "refresh_prompts"


@dataclass(frozen=True)
class Rename(Command):
    type = "rename"
    chat_id: str = ""
    title: str = ""  # whitespace runs collapsed

    @classmethod
    def from_msg(cls, msg: Msg) -> Rename:
        title = _text(msg, "title", limit=MAX_TITLE_CHARS)
        return cls(_chat_id(msg), " ".join(title.split()))


@dataclass(frozen=True)
class Search(Request):
    type = "search"
    query: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Search:
        query = _text(msg, "query", limit=MAX_QUERY_CHARS, allow_empty=True)
        return cls(_request_id(msg, "search"), query)


@dataclass(frozen=True)
class LoadOlder(Command):
    type = "load_older"
    chat_id: str = ""
    before: int = 0  # the id of the oldest message the view shows

    @classmethod
    def from_msg(cls, msg: Msg) -> LoadOlder:
        why = "load_older needs the id of the oldest message shown."
        return cls(_chat_id(msg), _count(msg, "before", 0, why))


@dataclass(frozen=True)
class Edit(Command):
    """Whether the message exists (a user message of that chat) is the session's check."""

    type = "edit"
    chat_id: str = ""
    message_id: int = 0
    text: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Edit:
        return cls(
            _chat_id(msg),
            _count(msg, "message_id", 0),
            _text(msg, "text", limit=MAX_TEXT_CHARS),
        )


@dataclass(frozen=True)
class SelectVersion(Command):
    type = "select_version"
    chat_id: str = ""
    message_id: int = 0
    version: int = 1

    @classmethod
    def from_msg(cls, msg: Msg) -> SelectVersion:
        return cls(_chat_id(msg), _count(msg, "message_id", 0), _count(msg, "version", 1))


@dataclass(frozen=True)
class Export(Request):
    type = "export"
    chat_id: str = ""
    format: str = "markdown"

    @classmethod
    def from_msg(cls, msg: Msg) -> Export:
        kind = msg.get("format")
        if kind not in FORMATS:
            raise ProtocolError("Export as markdown, json or ipynb.")
        return cls(_request_id(msg, "export"), _chat_id(msg), str(kind))


@dataclass(frozen=True)
class Claim(Command):
    """Private chats per browser (visitors.py): the browser's secret, once per view."""

    type = "claim"
    secret: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Claim:
        secret = msg.get("secret")
        if not isinstance(secret, str) or not SECRET_PATTERN.match(secret):
            raise ProtocolError("This browser's chat key is not valid; reload the page.")
        return cls(secret)


@dataclass(frozen=True)
class LoadMath(Request):
    type = "load_math"


@dataclass(frozen=True)
class ListContext(Request):
    type = "list_context"


@dataclass(frozen=True)
class ListModels(Request):
    type = "list_models"


@dataclass(frozen=True)
class CodeBlock(Command):
    """A Python block of a reply, named by its text (the kernel uses the block as stored)."""

    chat_id: str = ""
    message_id: int = 0
    code: str = ""

    @classmethod
    def from_msg(cls, msg: Msg) -> Command:
        why = f"{cls.type} needs the id of the reply the code is in."
        return cls(
            _chat_id(msg),
            _count(msg, "message_id", 0, why),
            _text(msg, "code", limit=MAX_CODE_CHARS),
        )


@dataclass(frozen=True)
class RunCode(CodeBlock):
    type = "run_code"


@dataclass(frozen=True)
class InsertCell(CodeBlock):
    type = "insert_cell"


@dataclass(frozen=True)
class Configure(Command):
    """A chat's settings from the panel. Whether a model name that is not a plain name
    is one the provider lists is the session's check (it has the list); here: a name of
    at most 200 characters, never a URL; numbers in range."""

    type = "configure"
    chat_id: str = ""  # "" = the active chat, or a new one
    settings: Mapping[str, Any] = field(default_factory=dict)  # checked values

    @classmethod
    def from_msg(cls, msg: Msg) -> Configure:
        try:
            model = _string(msg, "model").strip()
            settings: dict[str, Any] = {
                "model": check_model(model, [model]),
                "system_prompt": check_system_prompt(_string(msg, "system_prompt")),
                "temperature": check_temperature(msg.get("temperature")),
                "max_tokens": check_max_tokens(msg.get("max_tokens")),
            }
            # Tool settings came later: a page that does not send them changes neither.
            if "tools" in msg:
                settings["tools"] = check_tools(msg.get("tools"))
            if "tool_steps" in msg:
                settings["tool_steps"] = check_tool_steps(msg.get("tool_steps"))
            # Cost and the context window: optional too (prices, max_cost, context_window).
            settings.update({k: check(msg[k]) for k, check in CHECKS.items() if k in msg})
        except SettingsError as exc:
            raise ProtocolError(str(exc)) from None
        return cls(_chat_id(msg, optional=True), settings)


@dataclass(frozen=True)
class FrameSync(Command):
    """The page's wish to receive deltas earlier or later, within half a frame."""

    type = "frame_sync"
    view: str = ""
    shift_ms: float = 0.0

    @classmethod
    def from_msg(cls, msg: Msg) -> FrameSync:
        shift = msg.get("shift_ms")
        if not isinstance(shift, (int, float)) or isinstance(shift, bool) or not -10 <= shift <= 10:
            raise ProtocolError("frame_sync needs a shift of -10 to 10 ms.")
        view = msg.get("view")
        if not isinstance(view, str) or not _REQUEST_ID.match(view):
            raise ProtocolError("frame_sync needs the id of the view that asks.")
        return cls(view, float(shift))


@dataclass(frozen=True)
class ToolConsent(Command):
    """The person's answer to a tool call waiting for consent (session_tools.py)."""

    type = "tool_consent"
    chat_id: str = ""
    call_id: str = ""
    decision: str = ""  # once | chat | deny

    @classmethod
    def from_msg(cls, msg: Msg) -> ToolConsent:
        call_id = _text(msg, "call_id", limit=MAX_CALL_ID_CHARS)
        decision = msg.get("decision")
        if decision not in ("once", "chat", "deny"):
            raise ProtocolError("A tool consent is 'once', 'chat' or 'deny'.")
        return cls(_chat_id(msg), call_id, decision)


@dataclass(frozen=True)
class IgnoreStale(ChatCommand):
    """Hide stale context items of a chat until their values change again."""

    type = "ignore_stale"
    names: tuple[str, ...] = ()  # as a send's context names (stale_context.py checks them)

    @classmethod
    def from_msg(cls, msg: Msg) -> IgnoreStale:
        if "names" not in msg:
            raise ProtocolError("ignore_stale needs the names of the items to ignore.")
        names = _names(msg["names"])
        if not names:
            raise ProtocolError("ignore_stale needs at least one name.")
        return cls(chat_id=_chat_id(msg), names=names)


COMMANDS: dict[str, type[Command]] = {
    cls.type: cls
    for cls in (
        Send,
        Stop,
        Regenerate,
        Retry,
        RetryShorter,
        TrimHistory,
        NewChat,
        SelectChat,
        Rename,
        Delete,
        Clear,
        Search,
        LoadOlder,
        DismissError,
        Edit,
        SelectVersion,
        Export,
        Claim,
        LoadMath,
        ListContext,
        RunCode,
        Configure,
        ListModels,
        InsertCell,
        FrameSync,
        ToolConsent,
        LoadAttachment,
        RefreshPrompts,
        IgnoreStale,
        Compare,
        CompareKeep,
    )
}


def request_id(msg: object) -> str:
    """The valid request id of a message that may be malformed ("" when it has none)."""
    request = msg.get("request") if isinstance(msg, dict) else None
    return request if isinstance(request, str) and _REQUEST_ID.match(request) else ""


def parse_command(msg: object) -> Command:
    """Validate one browser message; raise ProtocolError if anything is off."""
    if not isinstance(msg, dict):
        raise ProtocolError("The browser sent a message that is not an object.")
    kind = msg.get("type")
    command = COMMANDS.get(kind) if isinstance(kind, str) else None
    if command is None:
        shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
        raise ProtocolError(f"Unknown message type {shown!r}.")
    return command.from_msg(msg)
