"""What a model is sent: messages made of parts, before any provider's wire shape.

A :class:`ModelMessage` has a role and a tuple of parts: text, tool calls and tool
results, and what the person attached to a user message -- an image
(:class:`ImagePart`), a file shown as text (:class:`FilePart`), a PDF sent whole
(:class:`DocumentPart`). Each provider module translates the parts into its wire
shape, and refuses a part it cannot send by name, before any request is made.
``attachment_parts.parts_for`` makes the attachment parts from a file's bytes.

``client.stream`` also takes the plain ``{"role": ..., "content": "text"}`` dicts of
the README's examples and of a chat's CSV rows: :func:`as_model_messages` turns them
into messages, leaving out rows of other roles (events such as a ``title`` row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, get_args

__all__ = [
    "DocumentPart",
    "FilePart",
    "ImagePart",
    "ModelMessage",
    "Part",
    "Role",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
    "ToolSpec",
    "as_model_messages",
    "carries_images",
    "file_text",
    "unsupported",
]

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset(get_args(Role))
# The roles a plain dict may have: a tool message needs the id of the call it answers
# (a ToolResultPart), which ``{"role", "content"}`` cannot carry.
_DICT_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image, as bytes with its media type ("image/png", ...)."""

    data: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class FilePart:
    """A file the person attached, as the text the model is shown of it (sent as a
    text part framed by :func:`file_text`)."""

    name: str
    media_type: str
    text: str


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A document the model reads itself (a PDF, "application/pdf"), as bytes: an
    Anthropic ``document`` block, an OpenAI ``file`` content part."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """A tool call the assistant made (``arguments``: its JSON text)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    """What a tool call (``tool_call_id``) returned, in a ``tool`` message."""

    tool_call_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and a JSON schema (an
    ``object`` schema) of its arguments. Each provider module writes it in its own
    wire shape (OpenAI ``tools[].function``, Anthropic ``tools[].input_schema``)."""

    name: str
    description: str
    parameters: Mapping[str, Any]


Part: TypeAlias = TextPart | ImagePart | FilePart | DocumentPart | ToolCallPart | ToolResultPart


@dataclass(frozen=True, slots=True)
class ModelMessage:
    role: Role
    parts: tuple[Part, ...]

    @classmethod
    def of_text(cls, role: Role, text: str) -> ModelMessage:
        return cls(role, (TextPart(text),))

    @property
    def text(self) -> str:
        """The message's text parts, joined (other parts left out)."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    def to_dict(self) -> dict[str, str]:
        """``{"role", "content"}`` with the message's text (the form ``client.stream``
        also takes; other parts are left out)."""
        return {"role": self.role, "content": self.text}

    def joined(self, other: ModelMessage, separator: str = "\n\n") -> ModelMessage:
        """This message followed by ``other``'s parts (one turn of the same role);
        adjacent text parts become one, ``separator`` between them."""
        first, then = self.parts, other.parts
        if first and then and isinstance(first[-1], TextPart) and isinstance(then[0], TextPart):
            middle = TextPart(first[-1].text + separator + then[0].text)
            return ModelMessage(self.role, (*first[:-1], middle, *then[1:]))
        return ModelMessage(self.role, (*first, *then))


def as_model_messages(messages: Iterable[ModelMessage | Mapping[str, Any]]) -> list[ModelMessage]:
    """``messages`` as :class:`ModelMessage` objects. A mapping is ``{"role",
    "content"}`` with text content (None: empty) and a system, user or assistant role;
    mappings of other roles are left out. Raises TypeError for content that is not
    text."""
    out: list[ModelMessage] = []
    for message in messages:
        if isinstance(message, ModelMessage):
            out.append(message)
            continue
        role = message.get("role")
        if role not in _DICT_ROLES:
            continue
        content = message.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError(f"message content must be a string, not {type(content).__name__}")
        out.append(ModelMessage.of_text(role, content))
    return out


def carries_images(messages: Iterable[ModelMessage]) -> bool:
    """Whether any of ``messages`` has an :class:`ImagePart` (a refusal that says
    "images" is then about them)."""
    return any(isinstance(p, ImagePart) for m in messages for p in m.parts)


def _attribute(value: str) -> str:
    """``value`` fit to stand between double quotes in :func:`file_text`'s tag."""
    value = " ".join(value.split())
    for raw, escaped in (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;")):
        value = value.replace(raw, escaped)
    return value


def file_text(part: FilePart) -> str:
    """A file as the text a model is sent, the same for every provider::

        <file name="data.csv" type="text/csv">
        a,b
        1,2
        </file>

    The tag's attributes are escaped as XML attributes are; the text is as it is."""
    name, media_type = _attribute(part.name), _attribute(part.media_type)
    return f'<file name="{name}" type="{media_type}">\n{part.text}\n</file>'


def unsupported(part: Part, who: str) -> TypeError:
    """The error for a part ``who`` (a client) cannot send yet."""
    what = type(part).__name__
    return TypeError(f"{who} cannot send a {what} yet; send text parts only.")
