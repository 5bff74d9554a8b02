"""The download cache: one folder (XDG), atomic writes, one writer per entry across processes.

The folder is ``$S1FLOOD_CACHE_DIR``, else ``$XDG_CACHE_HOME/s1flood``, else
``~/.cache/s1flood``. An entry is written to a temporary file beside it and renamed onto its
name (a reader never sees half a file); while it is written, an exclusive ``fcntl`` lock on
``NAME.lock`` makes every other process (and thread) that wants the same entry wait, then
find it complete. Locks are released by the kernel if a process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from s1flood.atomic import atomic_path

__all__ = ["atomic_path", "cache_dir", "entry_lock"]

log = logging.getLogger(__name__)
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def cache_dir(kind: str = "", environ: Mapping[str, str] | None = None) -> Path:
    """The cache folder (created), or its ``kind`` subfolder (``dem``, ``orbits``).

    Args:
        kind: a subfolder name, or empty for the cache root.
        environ: the environment to read ``S1FLOOD_CACHE_DIR`` / ``XDG_CACHE_HOME`` from
            (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    root = env.get("S1FLOOD_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(xdg) / "s1flood"
    folder = base / kind if kind else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def entry_lock(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of a cache entry (``PATH.lock``), waiting for other holders.

    Args:
        path: the cache entry (the lock file is beside it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _guard:
        local = _thread_locks.setdefault(key, threading.Lock())
    with local:  # flock is per open file: threads of one process wait here
        lock_path = path.with_name(path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
