"""Passing a step's parameters on to the function that implements it, by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def arguments_for(step: Callable[..., Any], values: dict[str, Any]) -> dict[str, Any]:
    """The keyword-only parameters of `step` that `values` has, with their values.

    Args:
        step: a step function.
        values: candidate arguments by name (e.g. the caller's ``locals()``).
    """
    parameters = inspect.signature(step).parameters.values()
    return {
        p.name: values[p.name] for p in parameters if p.kind == p.KEYWORD_ONLY and p.name in values
    }
