"""The download cache: one folder (XDG), atomic writes, one writer per entry across processes.

The folder is ``$S1FLOOD_CACHE_DIR``, else ``$XDG_CACHE_HOME/s1flood``, else
``~/.cache/s1flood`` (also when ``$S1FLOOD_CACHE_DIR`` cannot be written: a warning says
so). An entry is written to a temporary file beside it and renamed onto its
name (a reader never sees half a file); while it is written, an exclusive ``fcntl`` lock on
``NAME.lock`` makes every other process (and thread) that wants the same entry wait, then
find it complete. Locks are released by the kernel if a process dies.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from s1flood.atomic import atomic_path

__all__ = ["atomic_path", "cache_dir", "entry_lock", "tool_cache_environment"]

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
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = _cache_root(env.get("S1FLOOD_CACHE_DIR", ""), xdg)
    folder = folder / kind if kind else folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


@functools.lru_cache(maxsize=8)
def _cache_root(shared: str, xdg: str) -> Path:
    """The cache root: ``shared`` if it can be written, else the XDG/HOME one (one warning)."""
    default = Path(xdg) / "s1flood"
    if shared:
        if _writable(Path(shared)):
            return Path(shared)
        log.warning("S1FLOOD_CACHE_DIR %s cannot be written; caching in %s", shared, default)
    return default


def tool_cache_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables that point other tools' caches where a job finds them warm.

    - With ``S1FLOOD_CACHE_DIR`` set (one folder for every job of a workflow run, whose jobs
      each get a fresh HOME), matplotlib's font cache and IPython's profile live there too,
      so only the first job builds them.
    - With ``S1FLOOD_PREBUILT_KERNELS`` set (the images set it: the compiled kernels their
      build made, on a file system that is read-only at run time, where numba would compile
      them again in every job), those are copied into the cache once and ``NUMBA_CACHE_DIR``
      points there.

    Variables already set are kept. Call it before numba is imported.

    Args:
        environ: the environment to read (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    wanted: dict[str, Path] = {}
    if env.get("S1FLOOD_CACHE_DIR"):
        root = cache_dir(environ=env)
        wanted = {"MPLCONFIGDIR": root / "matplotlib", "IPYTHONDIR": root / "ipython"}
    prebuilt = env.get("S1FLOOD_PREBUILT_KERNELS", "")
    if prebuilt and not env.get("NUMBA_CACHE_DIR") and Path(prebuilt).is_dir():
        wanted["NUMBA_CACHE_DIR"] = _copy_kernels(Path(prebuilt), cache_dir("numba", env))
    return {name: str(path) for name, path in wanted.items() if not env.get(name)}


def _copy_kernels(prebuilt: Path, target: Path) -> Path:
    """Copy compiled kernels missing from `target` (each file renamed into place whole)."""
    for source in prebuilt.rglob("*"):
        dest = target / source.relative_to(prebuilt)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(dest) as part:
                shutil.copyfile(source, part)
    return target


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
