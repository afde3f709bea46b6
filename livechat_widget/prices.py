"""What a reply costs: prices per million tokens, from the person's overrides or from
the ``genai-prices`` table (``pip install 'livechat-widget[prices]'``), in US dollars.

Where a price comes from, first that applies:

1. the chat's own ``prices`` setting (``chat.configure(prices={...})``);
2. ``LIVECHAT_PRICES``: JSON, either one price for every model,
   ``{"input_per_mtok": 1.0, "output_per_mtok": 2.0}``, or a price per model name,
   ``{"my-model": {...}, "*": {...}}`` (``"*"``: every model not named);
3. genai-prices' bundled snapshot (never fetched at run time), for the provider the
   client's host names (api.openai.com, api.anthropic.com, OpenRouter, Groq, Mistral,
   DeepSeek, ...), else for the model name alone; never for a server on this machine
   or a private network, nor for the demo model: a local model has no list price.

No price: the cost is None and nothing shows it. No I/O here.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PRICE_FIELDS = ("input_per_mtok", "output_per_mtok")
EVERY_MODEL = "*"
INSTALL_HINT = "for list prices, install livechat-widget[prices]"


class PricesError(ValueError):
    """A price that cannot be used; the text names what is wrong."""


class PricedClient(Protocol):
    """What a price lookup needs of a client."""

    @property
    def provider(self) -> str: ...
    @property
    def base_url(self) -> str: ...


@dataclass(frozen=True)
class Prices:
    """US dollars per million input (prompt) and output (completion) tokens."""

    input_per_mtok: float
    output_per_mtok: float

    @classmethod
    def of(cls, value: object, where: str = "prices") -> Prices:
        """Prices from ``{"input_per_mtok": x, "output_per_mtok": y}`` (or Prices);
        PricesError naming the bad field otherwise."""
        if isinstance(value, Prices):
            return value
        if not isinstance(value, Mapping):
            raise PricesError(
                f"{where} must be an object like "
                '{"input_per_mtok": 1.0, "output_per_mtok": 2.0} (dollars per million tokens).'
            )
        unknown = sorted(str(k) for k in value if k not in PRICE_FIELDS)
        if unknown:
            fields = " and ".join(PRICE_FIELDS)
            raise PricesError(f"{where}: unknown field {unknown[0]!r} (use {fields}).")
        numbers = [_price(value.get(name), f"{where}.{name}") for name in PRICE_FIELDS]
        return cls(*numbers)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6

    def as_dict(self) -> dict[str, float]:
        return {"input_per_mtok": self.input_per_mtok, "output_per_mtok": self.output_per_mtok}


def _price(value: object, name: str) -> float:
    if value is None:
        raise PricesError(f"{name} is missing: give dollars per million tokens.")
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):  # type: ignore[arg-type]
        raise PricesError(f"{name} must be a number (dollars per million tokens), not {value!r}.")
    if value < 0:  # type: ignore[operator]
        raise PricesError(f"{name} must not be negative.")
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PriceTable:
    """The ``LIVECHAT_PRICES`` overrides: per model name, ``"*"`` for the rest."""

    models: Mapping[str, Prices] = field(default_factory=dict)

    def for_model(self, model: str) -> Prices | None:
        return self.models.get(model) or self.models.get(EVERY_MODEL)


def parse_price_table(value: object, where: str = "LIVECHAT_PRICES") -> PriceTable:
    """One price for every model, or a price per model name (see the module docstring)."""
    if isinstance(value, Mapping) and value and set(value) <= set(PRICE_FIELDS):
        return PriceTable({EVERY_MODEL: Prices.of(value, where)})
    if not isinstance(value, Mapping):
        raise PricesError(f"{where} must be a JSON object.")
    models = {str(name): Prices.of(prices, f"{where}[{name!r}]") for name, prices in value.items()}
    return PriceTable(models)


def prices_from_env(environ: Mapping[str, str] | None = None) -> PriceTable:
    """``LIVECHAT_PRICES`` (empty table when unset); PricesError when it is malformed."""
    env = os.environ if environ is None else environ
    raw = (env.get("LIVECHAT_PRICES") or "").strip()
    if not raw:
        return PriceTable()
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise PricesError(f"LIVECHAT_PRICES is not valid JSON ({exc}).") from None
    return parse_price_table(obj)


def override(chat_prices: Mapping[str, Any] | None, table: PriceTable, model: str) -> Prices | None:
    """The person's price for ``model`` in a chat: the chat's setting, else the table's."""
    if chat_prices:
        return Prices.of(chat_prices)
    return table.for_model(model)


def price(
    model: str,
    client: PricedClient,
    input_tokens: int,
    output_tokens: int,
    overrides: Prices | None = None,
) -> float | None:
    """Dollars for these tokens of ``model`` through ``client``; None: no price known."""
    if overrides is not None:
        return overrides.cost(input_tokens, output_tokens)
    return list_price(model, client, input_tokens, output_tokens)


def reply_cost(usage: Any, client: PricedClient, overrides: Prices | None = None) -> float | None:
    """The cost of a reply's ``usage`` (a reply_usage.Usage); None when unknown."""
    if usage.prompt_tokens is None and usage.completion_tokens is None:
        return None
    cost = price(
        usage.model, client, usage.prompt_tokens or 0, usage.completion_tokens or 0, overrides
    )
    return None if cost is None else round(cost, 10)


def list_price(
    model: str, client: PricedClient, input_tokens: int, output_tokens: int
) -> float | None:
    """genai-prices' price (its bundled snapshot); None when it is not installed, the
    server is local or private, or it knows neither the provider nor the model."""
    if not model or client.provider == "demo" or _local(client):
        return None
    try:
        from genai_prices import Usage, calc_price
    except ImportError:
        return None
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    if client.base_url:  # the provider its host names (api.openai.com, openrouter.ai, ...)
        try:
            return float(calc_price(usage, model, provider_api_url=client.base_url).total_price)
        except (LookupError, ValueError, TypeError) as exc:
            log.debug("no list price for %s at its provider (%s)", model, exc)
    try:  # a host the table does not know (a proxy, a gateway): the model name alone
        return float(calc_price(usage, model).total_price)
    except (LookupError, ValueError, TypeError) as exc:
        log.debug("no list price for %s (%s)", model, exc)
    return None


def _local(client: PricedClient) -> bool:
    """A server on this machine or a private network (llama.cpp, Ollama, vLLM, ...)."""
    if client.provider == "ollama":
        return True
    host = (urlsplit(client.base_url).hostname or "").lower() if client.base_url else ""
    if not host:
        return False
    if host == "localhost" or host.endswith((".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a bare name: a machine on this network
    return address.is_private or address.is_loopback or address.is_link_local


def money(value: float) -> str:
    """Dollars as the page shows them: "$0.0012", "$1.25"."""
    if value >= 1:
        return f"${value:,.2f}"
    if 0 < value < 0.0001:
        return "<$0.0001"
    return f"${value:.4f}"
