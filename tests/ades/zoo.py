"""A stand-in for the ``zoo`` module the ZOO-Project kernel injects into a service's Python.

The runners read the status constants and call ``update_status``; every call is recorded, so
a test can show the progress a ZOO kernel would have reported.
"""

from __future__ import annotations

from typing import Any

SERVICE_SUCCEEDED = 3
SERVICE_FAILED = 4

progress: list[tuple[int, str]] = []
"""Every ``update_status`` call: (progress, the message the runner set in conf["lenv"])."""


def update_status(conf: dict[str, Any], percent: int) -> None:
    """Record a status update as the ZOO kernel would report it."""
    progress.append((int(percent), str(conf.get("lenv", {}).get("message", ""))))


def _(text: str) -> str:
    """The kernel's translation function: the text as it is."""
    return text
