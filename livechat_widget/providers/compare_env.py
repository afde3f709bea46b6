"""Compare's other clients from the environment: ``LIVECHAT_COMPARE`` (``livechat
--compare``) holds ``NAME=BASE_URL`` or ``NAME=BASE_URL#MODEL`` entries separated by
spaces, each an OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI...). Their key,
if they need one, is ``LIVECHAT_COMPARE_API_KEY`` (the main client's key is never sent
to another server). The page sees the names and models only."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from .base import ChatClient

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z")


def parse_compare(value: str) -> list[tuple[str, str, str]]:
    """(name, base URL, model — "" to ask the server) of each entry; ValueError says
    which entry is wrong and how."""
    found: list[tuple[str, str, str]] = []
    for entry in value.split():
        name, sep, rest = entry.partition("=")
        url, _, model = rest.partition("#")
        if not sep or not NAME.match(name):
            raise ValueError(
                f"--compare {entry!r}: write NAME=BASE_URL or NAME=BASE_URL#MODEL, the name "
                "1-40 letters, digits, '.', '_' or '-'"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"--compare {entry!r}: the base URL must start with http:// or https://"
            )
        if any(name == other for other, _, _ in found):
            raise ValueError(f"--compare: the name {name!r} is used twice")
        found.append((name, url, model))
    return found


def compare_clients_from_env(environ: Mapping[str, str] | None = None) -> dict[str, ChatClient]:
    """The clients ``LIVECHAT_COMPARE`` names, by name ({} when it is unset)."""
    env = os.environ if environ is None else environ
    entries = parse_compare(env.get("LIVECHAT_COMPARE") or "")
    if not entries:
        return {}
    from .openai import OpenAICompatibleClient

    key = (env.get("LIVECHAT_COMPARE_API_KEY") or "").strip() or None
    return {name: OpenAICompatibleClient(url, model or None, key) for name, url, model in entries}
