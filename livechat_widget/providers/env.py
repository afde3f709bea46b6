"""The client the environment asks for. Importing this module imports no HTTP code
(the client classes are imported when a client is made), so the ``livechat``
command can offer :data:`PROVIDERS` without paying for httpx."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .config import (
    DEFAULT_ANTHROPIC_BASE_URL,
    DEFAULT_ANTHROPIC_MODEL,
    DEFAULT_OLLAMA_MODEL,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_MODEL,
)

if TYPE_CHECKING:
    from .base import BaseClient

__all__ = ["PROVIDERS", "client_from_env", "ollama_base_url"]

#: The values LIVECHAT_PROVIDER (and ``livechat --provider``) accept.
PROVIDERS = ("openai", "anthropic", "ollama", "demo")


def ollama_base_url(host: str) -> str:
    """``OLLAMA_HOST`` ("0.0.0.0:11434", "localhost", "http://box:11434") as a /v1 URL."""
    host = host.strip()
    if "://" not in host:
        host = "http://" + host
    parts = urlsplit(host)
    hostname = parts.hostname or "localhost"
    if hostname in ("0.0.0.0", "::"):
        hostname = "localhost"  # a listen address; connect locally
    if ":" in hostname:
        hostname = f"[{hostname}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme or "http", f"{hostname}:{port or 11434}", path, "", ""))


def client_from_env(environ: Mapping[str, str] | None = None, **kwargs: Any) -> BaseClient:
    """The client the environment asks for.

    - ``LIVECHAT_PROVIDER``: ``openai`` | ``anthropic`` | ``ollama`` | ``demo``. When
      unset: ``LIVECHAT_BASE_URL``, ``LIVECHAT_API_KEY`` or ``OPENAI_API_KEY`` select
      an OpenAI-compatible server, else ``ANTHROPIC_API_KEY`` selects Anthropic, else
      the offline ``DemoClient``.
    - ``LIVECHAT_BASE_URL`` (else ``OPENAI_BASE_URL`` / ``OLLAMA_HOST`` / the
      provider's default), ``LIVECHAT_MODEL`` (else a default per provider),
      ``LIVECHAT_API_KEY`` (else ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY``).

    Extra keyword arguments (``timeouts``, ``retry``, ...) go to the client's constructor.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    provider = get("LIVECHAT_PROVIDER").lower()
    if provider and provider not in PROVIDERS:
        raise ValueError(f"LIVECHAT_PROVIDER={provider!r} is not one of {', '.join(PROVIDERS)}")
    base_url, model, key = get("LIVECHAT_BASE_URL"), get("LIVECHAT_MODEL"), get("LIVECHAT_API_KEY")
    if not provider:
        if base_url or key or get("OPENAI_API_KEY"):
            provider = "openai"
        elif get("ANTHROPIC_API_KEY"):
            provider = "anthropic"
        else:
            provider = "demo"
    if provider == "demo":
        from .demo import DemoClient

        return DemoClient(**kwargs)
    if provider == "anthropic":
        from .anthropic import AnthropicClient

        return AnthropicClient(
            model or DEFAULT_ANTHROPIC_MODEL,
            key or get("ANTHROPIC_API_KEY") or None,
            base_url=base_url or get("ANTHROPIC_BASE_URL") or DEFAULT_ANTHROPIC_BASE_URL,
            **kwargs,
        )
    from .openai import OpenAICompatibleClient

    if provider == "ollama":
        url = base_url or ollama_base_url(get("OLLAMA_HOST") or "localhost:11434")
        return OpenAICompatibleClient(
            url, model or DEFAULT_OLLAMA_MODEL, key or None, provider="ollama", **kwargs
        )
    url = base_url or get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
    # No model named for a server of one's own: ask it which model it serves.
    default = DEFAULT_OPENAI_MODEL if url.rstrip("/") == DEFAULT_OPENAI_BASE_URL else None
    return OpenAICompatibleClient(
        url, model or default, key or get("OPENAI_API_KEY") or None, **kwargs
    )
