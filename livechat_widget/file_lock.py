"""Advisory whole-file locks for the chat files, on every OS Python runs on, and the
directory fsync that makes a new file's name durable.

POSIX systems lock with ``fcntl.flock``, which also keeps writers in other processes
(another kernel on the same folder) apart. Where ``fcntl`` does not exist (Windows) the
files can still be used from one process: a warning says once that several processes
writing the same chat folder are not kept apart there.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SHARED = 1
EXCLUSIVE = 2
AVAILABLE = fcntl is not None
_warned = False


def lock(fd: int, kind: int) -> None:
    """Block until ``fd``'s file is locked (``SHARED`` or ``EXCLUSIVE``); the lock goes
    with the descriptor when it is closed."""
    global _warned
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX if kind == EXCLUSIVE else fcntl.LOCK_SH)
    elif not _warned:
        _warned = True
        warnings.warn(
            "this platform has no fcntl file locking: chat files are safe to use from one "
            "process, but two kernels writing the same chat folder are not kept apart",
            RuntimeWarning,
            stacklevel=3,
        )


def try_lock(fd: int) -> bool:
    """Lock ``fd``'s file exclusively if no one holds it; False (at once) if someone
    does. Without fcntl (Windows) every try succeeds: one process per folder there."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def fsync_dir(path: Path) -> None:
    """Make the names in a directory durable (a new or renamed file's entry); a
    filesystem that cannot is left as it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_whole(temporary: Path, path: Path, data: bytes) -> None:
    """Make ``path`` hold ``data``: written whole and fsynced under ``temporary`` (a new
    file), then renamed over ``path``, so no reader ever sees part of it."""
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
