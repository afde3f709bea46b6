"""How URLs and durations appear in messages: no credentials, no query strings, and
waits in the words a person would use."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["clock", "duration", "join_url", "netloc", "safe_url"]


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # a port that is not a number
        return None


def safe_url(url: str) -> str:
    """The URL without credentials or query (an Azure key can sit in the query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = _port(parts)
    where = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, where, parts.path.rstrip("/"), "", ""))


def netloc(url: str) -> str:
    """Host and port, the way messages name a server."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = _port(parts)
    return f"{host}:{port}" if port else host


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``/path``, keeping a query string (Azure's api-version)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


def duration(seconds: float) -> str:
    """ "3 seconds", "2 minutes", "1.5 hours"."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        n = max(1, round(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    if seconds < 3600:
        n = round(seconds / 60)
        return f"{n} minute{'s' if n != 1 else ''}"
    hours = seconds / 3600
    if abs(hours - round(hours)) < 0.05:
        n = round(hours)
        return f"{n} hour{'s' if n != 1 else ''}"
    return f"{hours:.1f} hours"


def clock(seconds: float) -> str:
    """ " (after 14:05 UTC)" for a long wait, so the person knows when to come back."""
    if seconds < 600:
        return ""
    when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return f" (after {when:%H:%M} UTC)"
