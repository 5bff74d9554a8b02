"""Results as data: the JSON-ready form every step result gives with ``to_dict()``.

A notebook glues it (scrapbook), a CWL tool writes it as ``cwl.output.json`` and an OGC job
returns it, so it holds only JSON types: paths become strings, relative to the output folder
where they sit under it; grids become their `Grid.to_dict` form; enums their value.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

JsonValue = Any
"""A value made of dict, list, str, int, float, bool and None only."""


def relative_path(path: PurePath, base: Path | None) -> str:
    """A path as a string, relative to `base` when it lies under it.

    Args:
        path: the path to render.
        base: the output folder; ``None`` keeps the path as it is.
    """
    if base is not None:
        try:
            return Path(path).resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def to_jsonable(value: object, base: Path | None = None) -> JsonValue:
    """`value` with only JSON types: dataclasses as dicts, paths as (relative) strings.

    Args:
        value: a result, or any nesting of dataclasses, mappings, sequences, paths, enums,
            datetimes and objects with a ``to_dict()`` or ``to_dict(base)`` method.
        base: the output folder that paths are made relative to (``None``: kept as given).
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, base)
    if isinstance(value, PurePath):
        return relative_path(value, base)
    if isinstance(value, datetime | date):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        takes_base = bool(inspect.signature(to_dict).parameters)
        return to_jsonable(to_dict(base) if takes_base else to_dict(), base)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return fields_to_dict(value, base)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item, base) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item, base) for item in value]
    if hasattr(value, "item"):  # numpy scalars
        return to_jsonable(value.item(), base)
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def fields_to_dict(result: object, base: Path | None = None) -> dict[str, JsonValue]:
    """The fields of a dataclass result, each JSON-ready (what a ``to_dict()`` returns).

    Args:
        result: a dataclass instance.
        base: the output folder that paths are made relative to (``None``: kept as given).
    """
    return {
        field.name: to_jsonable(getattr(result, field.name), base)
        for field in dataclasses.fields(result)  # type: ignore[arg-type]
    }


def resolve_path(text: str | None, base: Path | None) -> Path | None:
    """The path a `to_dict` string stands for, resolved against the output folder.

    Args:
        text: a path string from a result dict (relative or absolute), or ``None``.
        base: the output folder relative paths were written against.
    """
    if text is None:
        return None
    path = Path(text)
    return path if path.is_absolute() or base is None else base / path
