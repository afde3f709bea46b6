"""Private chats per browser (the ``livechat`` app in ``--chats per-browser`` mode).

Each browser keeps a random 128-bit secret (``localStorage``) and sends it when its
view connects (a ``claim`` message). The kernel keeps that browser's chats in
``<chat folder>/visitors/<sha256 of the secret>/``: the folder is named by a hash, so
the secret itself is never written anywhere, and nobody who can list the folders can
derive a secret from them. A secret cannot be guessed (2**128 of them), so a browser
reaches only its own folder, whatever chat ids it names.

This is not a login: whoever holds the secret (the same browser profile, or someone
who copied its storage) sees those chats, and clearing the browser's storage loses the
way back to them (the files stay on disk).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path
from typing import Literal

VISITORS_DIR = "visitors"
SECRET_PATTERN = re.compile(r"[0-9a-f]{32}\Z")  # 128 bits, lowercase hex

ChatsMode = Literal["shared", "per-browser"]
CHATS_MODES: tuple[ChatsMode, ...] = ("shared", "per-browser")


def visitor_folder(root: str | Path, secret: str) -> Path:
    """The folder of the chats of the browser holding ``secret`` (validated first)."""
    if not isinstance(secret, str) or not SECRET_PATTERN.match(secret):
        raise ValueError("a visitor secret is 32 lowercase hex digits")
    return Path(root) / VISITORS_DIR / hashlib.sha256(secret.encode("ascii")).hexdigest()


def is_loopback(host: str) -> bool:
    """True when ``host`` accepts connections from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def default_chats_mode(host: str) -> ChatsMode:
    """Private chats whenever others can reach the app; one shared list on loopback."""
    return "shared" if is_loopback(host) else "per-browser"
