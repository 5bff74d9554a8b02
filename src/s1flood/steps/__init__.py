"""The workflow steps: one function per step, the single source of its parameters.

Every face calls these functions as they are: the command line (each option is a parameter
here, its help taken from the ``Args:`` below), the notebooks (their parameters cell), the CWL
tools (their inputs) and the OGC process (its inputs). Parameters have plain types (str, float,
int, bool, list of str, paths as str or Path); each result has ``to_dict()``.

This module imports nothing heavy: each step imports its implementation when it runs, so the
command line starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s1flood.steps.catalogue import discover, discovery_config, fetch
from s1flood.steps.products import aggregate, simulate
from s1flood.steps.scene import classify, preprocess, process_scene

__all__ = [
    "COMPOSED",
    "STEPS",
    "aggregate",
    "classify",
    "discover",
    "discovery_config",
    "fetch",
    "preprocess",
    "process_scene",
    "simulate",
]

COMPOSED = {"scene": ("preprocess", "classify", "fetch")}
"""Steps whose other parameters are documented in the steps they call."""

STEPS: dict[str, Callable[..., Any]] = {
    "discover": discover,
    "fetch": fetch,
    "preprocess": preprocess,
    "classify": classify,
    "aggregate": aggregate,
    "simulate": simulate,
    "scene": process_scene,
}
"""Step functions by the name of their CLI command."""
