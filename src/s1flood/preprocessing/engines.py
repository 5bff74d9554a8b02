"""The engine registry: engine name -> engine class, the one module that imports them all.

Engines import only the data model (`s1flood.preprocessing.model`); adding one is its class
and a line in `ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable

from s1flood.errors import InvalidOptionError
from s1flood.preprocessing.model import Engine
from s1flood.preprocessing.python_engine import PythonEngine
from s1flood.preprocessing.snap_engine import SnapEngine

ENGINES: dict[str, Callable[[], Engine]] = {
    PythonEngine.name: PythonEngine,
    SnapEngine.name: SnapEngine,
}
"""Every engine by name, in the order they are offered."""


def engine_name(name: str | None) -> str:
    """The registered engine name a value stands for (case and spaces ignored).

    Args:
        name: the ``engine`` parameter as given.
    """
    key = (name or "").strip().lower()
    if key not in ENGINES:
        raise InvalidOptionError("engine", name, f"use one of {', '.join(ENGINES)}")
    return key


def get_engine(name: str) -> Engine:
    """A new engine of the given name.

    Args:
        name: a registered engine name (see `ENGINES`); raises `InvalidOptionError` otherwise.
    """
    return ENGINES[engine_name(name)]()
