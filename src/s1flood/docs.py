"""Parameter documentation read from the step functions' ``Args:`` docstring sections.

The docstring of a step function is the single source of its parameters' documentation: the
command line's help, the notebooks' parameter comments and the CWL ``doc`` fields come from
here (or are tested against it).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

_ENTRY = re.compile(r"^(?P<name>\*{0,2}\w+)(?: \([^)]*\))?:\s*(?P<text>.*)$")


def parameter_docs(function: Callable[..., Any]) -> dict[str, str]:
    """Each parameter's description from a Google-style ``Args:`` section, one line each.

    Args:
        function: a function whose docstring has an ``Args:`` section.
    """
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    docs: dict[str, str] = {}
    try:
        start = lines.index("Args:") + 1
    except ValueError:
        return docs
    indent: int | None = None
    current = ""
    for line in lines[start:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent:
            break
        match = _ENTRY.match(line.strip())
        if depth == indent and match:
            current = match["name"]
            docs[current] = match["text"].strip()
        elif current:
            docs[current] = f"{docs[current]} {line.strip()}"
    return docs


def summary(function: Callable[..., Any]) -> str:
    """The first line of a function's docstring.

    Args:
        function: any documented function.
    """
    lines = inspect.cleandoc(function.__doc__ or "").splitlines()
    return lines[0] if lines else ""
