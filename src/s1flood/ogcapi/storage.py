"""The job database's TinyDB storage: a kill never leaves it half-written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tinydb

from s1flood.atomic import write_text_atomic

__all__ = ["AtomicJSONStorage"]


class AtomicJSONStorage(tinydb.Storage):
    """TinyDB storage that reads the file afresh and replaces it whole on each write.

    Args:
        path: the database file (created empty if missing).
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any] | None:
        """The database, or None when the file is missing or empty."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(text) if text.strip() else None

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file with `data` (atomically).

        Args:
            data: the whole database.
        """
        write_text_atomic(self.path, json.dumps(data))
