"""From a provider's error to an :class:`~.errors.AIError`: the rules are a table.

An error is described as a :class:`Problem` (HTTP status, the provider's type, code
and message). :data:`RULES` is tried in order and the first rule whose predicate
holds gives the error class and the message template. Order matters: a 429 saying
``insufficient_quota`` is out of credit (not rate-limited, and not worth a retry), a
404 naming a model is a missing model (not a wrong URL). Machine-readable facts
(status, type, code) are matched first; a few message phrases are matched only
where providers send nothing better (Anthropic's credit balance, llama.cpp's context
size).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._format import clock, duration
from .errors import (
    AIError,
    AuthenticationFailed,
    ContentFiltered,
    ContextTooLong,
    ImagesUnsupported,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    ToolsUnsupported,
)

__all__ = [
    "RULES",
    "ErrorContext",
    "ErrorInfo",
    "Problem",
    "Rule",
    "classify",
    "clean_detail",
    "error_info",
    "problem_from_response",
    "problem_in_stream",
    "redact",
    "rule_for",
]

_SECRET_RES = (
    re.compile(r"\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_\-*]{6,}"),
    re.compile(r"(?i)(bearer\s+)\S+"),
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_HTML_STARTS = (b"<!doctype", b"<html", b"<head", b"<body")


class ErrorInfo(NamedTuple):
    """What an error body says, as strings ("" when it does not say)."""

    message: str
    type: str
    code: str
    request_id: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def error_info(obj: Any) -> ErrorInfo:
    """Message, type, code and request id from the error bodies servers send: OpenAI's
    ``{"error": {...}}``, older vLLM's unwrapped ``{"object": "error", ...}``,
    Anthropic's ``{"type": "error", "error": {...}, "request_id": ...}``, Ollama's
    ``{"error": "..."}``, FastAPI's ``{"detail": ...}``."""
    if isinstance(obj, str):
        return ErrorInfo(obj, "", "")
    if not isinstance(obj, Mapping):
        return ErrorInfo("", "", "")
    request_id = _text(obj.get("request_id"))
    inner = obj.get("error")
    if isinstance(inner, str):
        return ErrorInfo(inner, _text(obj.get("type")), _text(obj.get("code")), request_id)
    if isinstance(inner, Mapping):
        obj = inner
        request_id = request_id or _text(obj.get("request_id"))
    message = obj.get("message")
    if message is None:
        detail = obj.get("detail")
        if isinstance(detail, str):
            message = detail
        elif isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
            message = "; ".join(str(d.get("msg", "")) for d in detail[:3])
    etype = obj.get("type")
    if etype == "error":  # Anthropic's envelope, not the kind of error
        etype = ""
    return ErrorInfo(_text(message), _text(etype), _text(obj.get("code")), request_id)


def redact(text: str, api_key: str | None) -> str:
    """``text`` without the API key or anything that looks like one."""
    if api_key and len(api_key) >= 4:
        text = text.replace(api_key, "[redacted]")
    for pattern in _SECRET_RES:
        text = pattern.sub(r"\1[redacted]", text)
    return text


def clean_detail(message: str, api_key: str | None) -> str:
    """A provider's message, cleaned for display: one short line, no secrets."""
    message = _CONTROL_RE.sub(" ", redact(message, api_key)).strip()
    message = " ".join(message.split())
    if len(message) > 300:
        message = message[:297].rstrip() + "..."
    return message


@dataclass(frozen=True)
class Problem:
    """One error as the provider described it. ``detail`` is its message, cleaned."""

    status: int | None
    info: ErrorInfo
    detail: str = ""
    html: bool = False
    reason: str = ""
    retry_after: float | None = None
    in_stream: bool = False
    request_id: str = ""
    tools: bool = False  # the request offered tools
    images: bool = False  # the request carried images
    _kind: str = field(init=False, repr=False, compare=False)
    _said: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kind", f"{self.info.type} {self.info.code}".lower())
        object.__setattr__(self, "_said", self.detail.lower())

    def kind(self, *fragments: str) -> bool:
        """The provider's type or code contains one of ``fragments``."""
        return any(f in self._kind for f in fragments)

    def says(self, *fragments: str) -> bool:
        """The provider's message contains one of ``fragments`` (lower case)."""
        return any(f in self._said for f in fragments)

    @property
    def names_a_model(self) -> bool:
        return self.says("model") or self.kind("model")


@dataclass(frozen=True)
class ErrorContext:
    """What the messages name: who answered, which model, where, which key setting."""

    who: str
    model: str
    netloc: str
    base_url: str  # without credentials or query
    endpoint: str  # likewise
    ollama: bool = False
    key_hint: str = "LIVECHAT_API_KEY"


class Rule(NamedTuple):
    """When ``applies`` holds, the error is ``error(template.format(**fields))``."""

    name: str
    applies: Callable[[Problem], bool]
    error: type[AIError]
    template: str


# What servers say when a request offers tools they cannot take (lower case): Ollama
# ("<model> does not support tools"), vLLM without --enable-auto-tool-choice,
# llama.cpp's server without --jinja, OpenRouter (a 404: "No endpoints found that
# support tool use"), Azure's older API versions, and the generic wordings.
_TOOLS_REFUSED = (
    "does not support tool",
    "do not support tool",
    "tool choice requires --enable-auto-tool-choice",
    "tools param requires --jinja",
    "support tool use",
    "function calling is not supported",
    "tool calling is not supported",
    "tools are not supported",
    "tools is not supported",
    "unrecognized request argument supplied: tools",
)

# What servers say when a request carries images a model cannot take (lower case):
# OpenAI and Azure (400 "Invalid content type. image_url is only supported by certain
# models."), Ollama (a capability check: "<model> does not support vision"; a runner
# without a projector: "this model is missing data required for image input"; its
# Anthropic-compatible API: "this model does not support image input"), vLLM ("<model>
# is not a multimodal model"), llama.cpp's server without --mmproj (500 "image input is
# not supported by this server", later "image input is not supported - hint: ..."),
# OpenRouter (404 "No endpoints found that support image input").
_IMAGES_REFUSED = (
    "image_url is only supported by certain models",
    "does not support image",
    "does not support vision",
    "missing data required for image input",
    "is not a multimodal model",
    "image input is not supported",
    "support image input",
)

#: Tried in order; the last rule always applies. Template fields: see ``_fields``.
RULES: tuple[Rule, ...] = (
    Rule(
        "error page",
        lambda p: p.html,
        ProviderError,
        "{netloc} returned an error page{status_text} instead of an API response. A proxy "
        "or gateway in front of the model is failing or the base URL is wrong ({base_url}). "
        "Try again in a moment.",
    ),
    Rule(
        "out of credit",
        lambda p: (
            p.status == 402
            or p.kind("insufficient_quota", "billing")
            or p.says("credit balance", "insufficient_quota")
        ),
        QuotaExceeded,
        "{who} says the account has no credit or quota left{status_text}. Add credit or "
        "raise the spending limit in the provider's billing settings.{said}",
    ),
    Rule(
        "content filter",
        lambda p: p.kind("content_filter", "content_policy") or p.says("content_filter"),
        ContentFiltered,
        "{who}'s content filter blocked this request{status_text}. Rephrase the message "
        "and try again.{said}",
    ),
    Rule(
        "bad key",
        lambda p: p.status == 401 or p.kind("authentication", "invalid_api_key"),
        AuthenticationFailed,
        "{who} rejected the API key{status_text}. Check the key ({key_hint}) and that it is "
        "still active.{said}",
    ),
    Rule(
        "no permission",
        lambda p: p.status == 403 or p.kind("permission"),
        AuthenticationFailed,
        "{who} refused access{status_text}: the API key is not allowed to use {model!r} or "
        "this endpoint. Check the key's permissions and the model name.{said}",
    ),
    Rule(
        "tools refused",
        lambda p: (
            p.tools
            and (p.in_stream or p.status in (400, 404, 422, 500))
            and p.says(*_TOOLS_REFUSED)
        ),
        ToolsUnsupported,
        "{who} does not accept tools for {model!r}{status_text}: tools are turned off for "
        "this chat, and it goes on without them.{said}",
    ),
    Rule(
        "images refused",
        lambda p: (
            p.images
            and (p.in_stream or p.status in (400, 404, 422, 500))
            and p.says(*_IMAGES_REFUSED)
        ),
        ImagesUnsupported,
        "{model} does not take images: send the message without them, or choose a model "
        "that does.{said}",
    ),
    Rule(
        "unknown model",
        lambda p: (
            p.kind("model_not_found")
            or ((p.status == 404 or p.kind("not_found")) and p.names_a_model)
        ),
        ModelNotFound,
        "The model {model!r} was not found at {netloc}.{model_hint}{said}",
    ),
    Rule(
        "wrong URL",
        lambda p: p.status == 404,
        ProviderError,
        "{netloc} has no endpoint at {endpoint} (HTTP 404). Check the base URL: for most "
        "servers it ends in /v1.{said}",
    ),
    Rule(
        "rate limit",
        lambda p: p.status == 429 or p.kind("rate_limit"),
        RateLimited,
        "{who} is rate-limiting requests{status_text}. {when}{said}",
    ),
    Rule(
        "overloaded",
        lambda p: p.status == 529 or p.kind("overloaded"),
        ProviderError,
        "{who} is overloaded{status_text}. Try again in a minute.{said}",
    ),
    Rule(
        "context too long",
        lambda p: (
            p.kind("context_length", "exceed_context")
            or p.says("context length", "context window", "context size", "input is too long")
            or (p.says("too long") and p.says("prompt"))
        ),
        ContextTooLong,
        "The conversation is too long for {model!r}{status_text}: it no longer fits the "
        "model's context. Continue with the oldest turns left out, or start a new chat."
        "{said}",
    ),
    Rule(
        "error in the stream",
        lambda p: p.in_stream,
        ProviderError,
        "{who} reported an error while writing the reply. Try again.{said}",
    ),
    Rule(
        "server error",
        lambda p: p.status is not None and p.status >= 500,
        ProviderError,
        "{who} had a server error{status_text}. Try again in a moment.{said}",
    ),
    Rule(
        "rejected",
        lambda p: True,
        ProviderError,
        "{who} rejected the request{status_text}.{said}",
    ),
)


def _fields(problem: Problem, ctx: ErrorContext) -> dict[str, Any]:
    status, reason, wait = problem.status, problem.reason, problem.retry_after
    if ctx.ollama:
        model_hint = f" Download it with `ollama pull {ctx.model}`."
    else:
        model_hint = " Check the model name (LIVECHAT_MODEL) and that your account can use it."
    if wait is not None:
        when = f"Try again in {duration(wait)}{clock(wait)}."
    else:
        when = "Wait a minute and try again."
    return {
        "who": ctx.who,
        "model": ctx.model,
        "netloc": ctx.netloc,
        "base_url": ctx.base_url,
        "endpoint": ctx.endpoint,
        "key_hint": ctx.key_hint,
        "status_text": f" (HTTP {status}{' ' + reason if reason else ''})" if status else "",
        "said": f' The provider said: "{problem.detail}"' if problem.detail else "",
        "model_hint": model_hint,
        "when": when,
    }


def rule_for(problem: Problem) -> Rule:
    """The first rule of :data:`RULES` that applies to ``problem``."""
    return next(r for r in RULES if r.applies(problem))


def classify(problem: Problem, ctx: ErrorContext) -> AIError:
    """The error the first applicable rule of :data:`RULES` makes of ``problem``."""
    rule = rule_for(problem)
    info = problem.info
    return rule.error(
        rule.template.format(**_fields(problem, ctx)),
        status_code=problem.status,
        retry_after=problem.retry_after,
        code=info.code or None,
        type=info.type or None,
        request_id=problem.request_id or info.request_id or None,
    )


def problem_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    retry_after: float | None = None,
    api_key: str | None = None,
    tools: bool = False,
    images: bool = False,
) -> Problem:
    """A :class:`Problem` from an HTTP error response (its body read up to a limit) to
    a request that offered tools if ``tools`` and carried images if ``images``."""
    ctype = headers.get("content-type", "").lower()
    head = body[:512].lstrip().lower()
    html = "html" in ctype or head.startswith(_HTML_STARTS)
    info = ErrorInfo("", "", "")
    if not html and body:
        try:
            info = error_info(json.loads(body))
        except ValueError:
            text = body.decode("utf-8", "replace").strip()
            info = ErrorInfo(text.splitlines()[0] if text else "", "", "")
    request_id = headers.get("x-request-id") or headers.get("request-id") or ""
    return Problem(
        status,
        info,
        clean_detail(info.message, api_key),
        html=html,
        reason=reason,
        retry_after=retry_after,
        request_id=request_id,
        tools=tools,
        images=images,
    )


def problem_in_stream(
    info: ErrorInfo, api_key: str | None = None, *, tools: bool = False, images: bool = False
) -> Problem:
    """A :class:`Problem` from an error object sent inside a stream (or a JSON answer)."""
    detail = clean_detail(info.message, api_key)
    return Problem(None, info, detail, in_stream=True, tools=tools, images=images)
