"""Files written whole or not at all: a temporary name beside the target, renamed when done.

Every temporary beside a target ``out.tif`` belongs to a group named by a random token,
``.out.tif.<token>.lock`` plus ``.out.tif.<token>.part`` (and what GDAL derives from it, such as
``.part.ovr.tmp``) or ``.stage.tif``. The writer holds an exclusive `flock` on the group's lock
file while the group lives, so a writer killed by SIGKILL leaves an unlocked group: the next
write of the same target removes it (`clear_stale`), while a live writer's group, in this
process or any other, even in another container on the same file system, stays locked and is
never touched. Finished targets take the permissions the process's umask gives (as GDAL and
ordinary tools do), not `mkstemp`'s 0600.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

from s1flood.errors import DiskFullError

log = logging.getLogger(__name__)

_umask_guard = threading.Lock()


def process_umask() -> int:
    """The process's file-creation mask, read without changing it (Linux), else by os.umask."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _umask_guard:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def output_mode() -> int:
    """The mode a new regular file gets from ``open()`` under the current umask (e.g. 0644)."""
    return 0o666 & ~process_umask()


def _stale_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(path.name)}\.([0-9a-f]{{8}})\.(lock|new|part|stage\.tif)")


class TempGroup:
    """Temporaries of one write of `target`, owned under one locked ``.lock`` file.

    Args:
        target: the file the temporaries stand in for (their folder is its folder).
    """

    def __init__(self, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self._fd, self.token = self._create_locked(target)
        self.lock = self._file(".lock")

    @staticmethod
    def _create_locked(target: Path) -> tuple[int, str]:
        """A new lock file, locked before it takes its ``.lock`` name (no unlocked moment)."""
        while True:
            token = secrets.token_hex(4)
            new = target.with_name(f".{target.name}.{token}.new")
            try:
                fd = os.open(new, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                os.rename(new, target.with_name(f".{target.name}.{token}.lock"))
            except FileNotFoundError:  # a cleaner took it, unlocked, for a dead writer's
                os.close(fd)
                continue
            return fd, token

    def _file(self, suffix: str) -> Path:
        return self.target.with_name(f".{self.target.name}.{self.token}{suffix}")

    def path(self, suffix: str) -> Path:
        """A temporary name of this group (not created), e.g. ``.part`` or ``.stage.tif``.

        Args:
            suffix: the name's ending; GDAL picks nothing from it (drivers are explicit).
        """
        return self._file(suffix)

    def release(self) -> None:
        """Remove every file of the group, the lock last, then unlock."""
        if self._fd < 0:
            return
        try:
            _remove_group(self.target.parent, f".{self.target.name}.{self.token}.", self.lock)
        finally:
            os.close(self._fd)
            self._fd = -1


def _remove_group(folder: Path, prefix: str, lock: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix) and entry.path != str(lock):
                Path(entry.path).unlink(missing_ok=True)
    lock.unlink(missing_ok=True)


def clear_stale(target: Path) -> list[str]:
    """Remove the temporaries of earlier writes of `target` whose writer is gone.

    A group is stale when nobody holds its lock (its writer died) or its lock file is gone
    (the writer died while removing it); a ``.new`` file when nobody holds it (a live writer
    that had not locked it yet finds it gone and starts another). Returns the names removed.

    Args:
        target: the output about to be written.
    """
    pattern = _stale_pattern(target)
    try:
        names = os.listdir(target.parent)
    except FileNotFoundError:
        return []
    tokens = {m.group(1) for m in map(pattern.match, names) if m}
    removed: list[str] = []
    for token in tokens:
        prefix = f".{target.name}.{token}."
        if _take_stale(target.parent, prefix):
            removed.extend(n for n in names if n.startswith(prefix))
    if removed:
        log.info("removed stale temporaries of %s: %s", target.name, ", ".join(sorted(removed)))
    return removed


def _take_stale(folder: Path, prefix: str) -> bool:
    """Remove group `prefix` if no live writer holds it; True if it was removed."""
    lock = folder / f"{prefix}lock"
    new = folder / f"{prefix}new"
    if not lock.exists() and new.exists():
        lock = new
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        _remove_group(folder, prefix, lock)
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        _remove_group(folder, prefix, lock)
        return True
    finally:
        os.close(fd)


FULL_BELOW_BYTES = 1 << 20
"""A write that failed where less than this is free failed for want of space."""


def raise_if_disk_full(exc: BaseException, folder: Path) -> None:
    """Raise `DiskFullError` for `folder` when `exc` (a failed write there) is a full disk.

    An ``OSError`` with ``ENOSPC`` anywhere in the chain is one; GDAL and libtiff say only
    "IO error writing", so a failed write where the file system has almost nothing free
    (`FULL_BELOW_BYTES`) counts as one too.

    Args:
        exc: the exception the write raised.
        folder: the folder written to.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            raise DiskFullError(folder) from exc
        cause = cause.__cause__ or cause.__context__
    try:
        stat = os.statvfs(folder)
    except OSError:
        return
    if stat.f_bavail * stat.f_frsize < FULL_BELOW_BYTES:
        raise DiskFullError(folder) from exc


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    Stale temporaries of earlier, killed writes of `path` are removed first. On an exception
    the temporary file is removed and `path` is left as it was. The finished file gets the
    umask's permissions.

    Args:
        path: the file to create or replace.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(path)
    group = TempGroup(path)
    tmp = group.path(".part")
    try:
        tmp.touch(mode=0o600)
        yield tmp
        os.chmod(tmp, output_mode())
        os.replace(tmp, path)
    except Exception as exc:
        raise_if_disk_full(exc, path.parent)
        raise
    finally:
        group.release()


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file atomically.

    Args:
        path: the file to create or replace.
        text: its whole content (UTF-8).
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
