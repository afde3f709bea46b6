"""Per-chat settings: the model, system prompt, temperature and max tokens a chat uses.

A chat follows the defaults (constructor, environment, ``livechat`` options) until the
person changes something; each change is a ``settings`` event row whose content is a
JSON object of the keys changed (``null``: back to the default). Later rows override
earlier ones, so reading a chat's rows in order gives its settings. No I/O here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .prices import Prices, PricesError
from .providers.messages import ModelMessage
from .refusals import Refused

log = logging.getLogger(__name__)

FIELDS = (
    "model",
    "system_prompt",
    "temperature",
    "max_tokens",
    "tools",
    "tool_steps",
    "prices",
    "max_cost",
    "context_window",
)
# Kept in settings rows but not a setting of the panel: the tools the person allowed
# for the whole chat ("Allow for this chat" on a call that asked for consent).
ALLOWED_TOOLS = "allowed_tools"
DEFAULT_TOOL_STEPS = 10
MAX_TOOL_STEPS = 50
MAX_MODEL_CHARS = 200
MAX_SYSTEM_PROMPT_CHARS = 100_000
MAX_TEMPERATURE = 2.0  # OpenAI's range is 0..2; a client may allow less (Anthropic: 1)
MAX_TOKENS_LIMIT = 1_000_000
MAX_CONTEXT_WINDOW = 100_000_000

# A model name typed by hand: letters, digits and the punctuation real names use
# ("gpt-4o-mini", "llama3.2:1b", "meta-llama/Llama-3.1-8B", "claude-haiku-4-5@2025").
_PLAIN_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*\Z")
_URL_LIKE = re.compile(r"^\s*(//|[A-Za-z][A-Za-z0-9+.-]*://)|://")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SettingsError(Refused):
    """A setting that cannot be used; the text is fit to show as is."""


@dataclass(frozen=True)
class ChatSettings:
    """``model`` "" means the client's own model; ``None`` numbers leave the choice to
    the provider."""

    model: str = ""
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    tools: bool = True  # the model is offered the widget's tools
    tool_steps: int = DEFAULT_TOOL_STEPS  # model requests per reply, at most
    # Cost and the context window (prices.py, context_window.py); None: not set.
    # {"input_per_mtok", "output_per_mtok"}; left out of the hash (a dict has none)
    prices: dict[str, float] | None = field(default=None, hash=False)
    max_cost: float | None = None  # dollars this chat may cost; a send past it is refused
    context_window: int | None = None  # tokens; else what the provider says

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


# -- checks (each returns the value to store, or raises SettingsError)


def check_model(value: object, listed: Sequence[str] = ()) -> str:
    """A name from the provider's list, or a plain name of at most 200 characters;
    never a URL (where requests go is the kernel's business)."""
    if not isinstance(value, str):
        raise SettingsError("The model must be a name.")
    name = value.strip()
    if not name:
        raise SettingsError("The model name is empty.")
    if len(name) > MAX_MODEL_CHARS:
        raise SettingsError(f"The model name is too long (at most {MAX_MODEL_CHARS} characters).")
    if _URL_LIKE.search(name) or _CONTROL.search(name):
        raise SettingsError("The model must be a name, not a URL.")
    if name not in listed and not _PLAIN_MODEL.match(name):
        raise SettingsError(
            "That model name has characters model names do not use; pick one from the list "
            "or type a name like gpt-4o-mini."
        )
    return name


def check_system_prompt(value: object) -> str:
    if not isinstance(value, str):
        raise SettingsError("The system prompt must be text.")
    if len(value) > MAX_SYSTEM_PROMPT_CHARS:
        raise SettingsError(
            f"The system prompt is too long ({len(value):,} characters; "
            f"at most {MAX_SYSTEM_PROMPT_CHARS:,})."
        )
    return value


def check_temperature(value: object, limit: float = MAX_TEMPERATURE) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError("The temperature must be a number.")
    if not 0 <= value <= limit:
        raise SettingsError(f"The temperature must be between 0 and {limit:g}.")
    return float(value)


def check_max_tokens(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError("Max tokens must be a whole number.")
    if not 1 <= value <= MAX_TOKENS_LIMIT:
        raise SettingsError(f"Max tokens must be between 1 and {MAX_TOKENS_LIMIT:,}.")
    return value


def check_tools(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise SettingsError("Tools is on or off (true or false).")


def check_tool_steps(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError("Tool steps must be a whole number.")
    if not 1 <= value <= MAX_TOOL_STEPS:
        raise SettingsError(f"Tool steps must be between 1 and {MAX_TOOL_STEPS}.")
    return value


def check_prices(value: object) -> dict[str, float] | None:
    """Dollars per million tokens, ``{"input_per_mtok": x, "output_per_mtok": y}``."""
    if value is None:
        return None
    try:
        return Prices.of(value).as_dict()
    except PricesError as exc:
        raise SettingsError(str(exc)) from None


def check_max_cost(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError("The budget (max_cost) must be a number of dollars.")
    if value < 0:
        raise SettingsError("The budget (max_cost) must not be below zero.")
    return float(value)


def check_context_window(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError("The context window must be a whole number of tokens.")
    if not 1 <= value <= MAX_CONTEXT_WINDOW:
        raise SettingsError(
            f"The context window must be between 1 and {MAX_CONTEXT_WINDOW:,} tokens."
        )
    return value


CHECKS = {
    "prices": check_prices,
    "max_cost": check_max_cost,
    "context_window": check_context_window,
}


def check_changes(
    changes: Mapping[str, Any], *, listed: Sequence[str] = (), max_temperature: float = 2.0
) -> dict[str, Any]:
    """The given settings checked; ``model``/``system_prompt`` None are left out."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise SettingsError(f"Unknown setting {sorted(unknown)[0]!r}.")
    out: dict[str, Any] = {}
    if changes.get("model") is not None:
        out["model"] = check_model(changes["model"], listed)
    if changes.get("system_prompt") is not None:
        out["system_prompt"] = check_system_prompt(changes["system_prompt"])
    if "temperature" in changes:
        out["temperature"] = check_temperature(changes["temperature"], max_temperature)
    if "max_tokens" in changes:
        out["max_tokens"] = check_max_tokens(changes["max_tokens"])
    if "tools" in changes:
        out["tools"] = check_tools(changes["tools"])
    if "tool_steps" in changes:
        out["tool_steps"] = check_tool_steps(changes["tool_steps"])
    out.update({k: check(changes[k]) for k, check in CHECKS.items() if k in changes})
    return out


def allowed_tools_from_records(records: Iterable[Sequence[str]]) -> frozenset[str]:
    """The tools the person allowed for the whole chat (``allowed_tools`` in its
    ``settings`` rows; each row holds the whole list)."""
    allowed: frozenset[str] = frozenset()
    for record in records:
        if record[2] != "settings" or ALLOWED_TOOLS not in record[3]:
            continue
        try:
            names = json.loads(record[3]).get(ALLOWED_TOOLS)
        except (ValueError, AttributeError):
            continue
        if isinstance(names, list):
            allowed = frozenset(n for n in names if isinstance(n, str))
    return allowed


# -- rows


def settings_content(changes: Mapping[str, Any]) -> str:
    """The content of a ``settings`` row."""
    return json.dumps(dict(changes), ensure_ascii=False, sort_keys=True)


def overrides_from_records(records: Iterable[Sequence[str]]) -> dict[str, Any]:
    """A chat's own settings from its ``settings`` rows (later rows win; a ``null``
    value drops the key). A row or value that does not check out is skipped."""
    overrides: dict[str, Any] = {}
    for record in records:
        if record[2] != "settings":
            continue
        try:
            obj = json.loads(record[3])
            if not isinstance(obj, dict):
                raise SettingsError("not a JSON object")
            nulls = [k for k in FIELDS if k in obj and obj[k] is None]
            # A file is trusted less than a caller, but a model it names was chosen from
            # a list once: allow any name that is not a URL.
            model = obj.pop("model", None)
            checked = check_changes({k: v for k, v in obj.items() if k in FIELDS})
            if model is not None:
                checked["model"] = check_model(model, [str(model)])
        except (ValueError, TypeError) as exc:
            log.warning("skipped a settings row that cannot be used (%s)", exc)
            continue
        for key in nulls:
            overrides.pop(key, None)
        overrides.update({k: v for k, v in checked.items() if v is not None})
    return overrides


def resolve(defaults: ChatSettings, overrides: Mapping[str, Any]) -> ChatSettings:
    return replace(defaults, **{k: v for k, v in overrides.items() if k in FIELDS})


# -- defaults


def defaults_from_env(
    environ: Mapping[str, str] | None = None,
    *,
    model: str | None = None,
    system_prompt: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> ChatSettings:
    """Settings of new chats: the arguments given, else ``LIVECHAT_SYSTEM_PROMPT``,
    ``LIVECHAT_TEMPERATURE``, ``LIVECHAT_MAX_TOKENS`` (the model variables choose the
    client, whose model is the default). Raises SettingsError naming a bad variable."""
    env = os.environ if environ is None else environ

    def number(name: str, parse: type[Any]) -> Any:
        raw = (env.get(name) or "").strip()
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number.") from None

    def checked(name: str, check: Any, value: Any) -> Any:
        try:
            return check(value)
        except SettingsError as exc:
            raise SettingsError(f"{name}: {exc}") from None

    if temperature is None:
        temperature = checked(
            "LIVECHAT_TEMPERATURE", check_temperature, number("LIVECHAT_TEMPERATURE", float)
        )
    if max_tokens is None:
        max_tokens = checked(
            "LIVECHAT_MAX_TOKENS", check_max_tokens, number("LIVECHAT_MAX_TOKENS", int)
        )
    if system_prompt is None:
        system_prompt = env.get("LIVECHAT_SYSTEM_PROMPT") or ""
    return ChatSettings(
        model=check_model(model, [model]) if model else "",
        system_prompt=check_system_prompt(system_prompt),
        temperature=check_temperature(temperature),
        max_tokens=check_max_tokens(max_tokens),
    )


def request_options(settings: ChatSettings, client_model: str) -> dict[str, Any]:
    """The keyword arguments of ``client.stream()`` for these settings: only what is set
    (a client that takes none still works for a chat that sets none)."""
    options: dict[str, Any] = {}
    if settings.model and settings.model != client_model:
        options["model"] = settings.model
    if settings.temperature is not None:
        options["temperature"] = settings.temperature
    if settings.max_tokens is not None:
        options["max_tokens"] = settings.max_tokens
    return options


def with_system_prompt(settings: ChatSettings, history: list[ModelMessage]) -> list[ModelMessage]:
    """The history the model is sent, the chat's system prompt first."""
    if not settings.system_prompt.strip():
        return history
    return [ModelMessage.of_text("system", settings.system_prompt), *history]
