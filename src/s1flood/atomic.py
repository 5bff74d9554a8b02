"""Files written whole or not at all: a temporary name beside the target, renamed when done."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    On an exception the temporary file is removed and `path` is left as it was.

    Args:
        path: the file to create or replace.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file atomically.

    Args:
        path: the file to create or replace.
        text: its whole content (UTF-8).
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
