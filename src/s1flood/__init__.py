"""s1flood: flood mapping from Sentinel-1 GRD backscatter.

The workflow steps, each one function with plain parameters whose result has ``to_dict()``:
`discover` scenes, `fetch` one, `preprocess` it to sigma0 on the AOI's grid, `classify` it
into a water mask, `aggregate` many masks into water frequency; `process_scene` does fetch,
preprocess and classify for one scene, `simulate` writes products with known truth.

Importing the package is light: result types are imported from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from s1flood._version import __version__
from s1flood.errors import S1FloodError
from s1flood.steps import (
    aggregate,
    classify,
    discover,
    fetch,
    preprocess,
    process_scene,
    simulate,
)

if TYPE_CHECKING:
    from s1flood.aggregation import AggregationResult
    from s1flood.backscatter import Units
    from s1flood.classification import ClassificationResult
    from s1flood.discovery import DiscoveryResult, FetchResult
    from s1flood.preprocessing import PreprocessResult
    from s1flood.scene import SceneResult
    from s1flood.synthetic.simulate import SimulationResult

_LAZY = {
    "AggregationResult": "s1flood.aggregation",
    "ClassificationResult": "s1flood.classification",
    "DiscoveryResult": "s1flood.discovery",
    "FetchResult": "s1flood.discovery",
    "PreprocessResult": "s1flood.preprocessing",
    "SceneResult": "s1flood.scene",
    "SimulationResult": "s1flood.synthetic.simulate",
    "Units": "s1flood.backscatter",
}

__all__ = [
    "AggregationResult",
    "ClassificationResult",
    "DiscoveryResult",
    "FetchResult",
    "PreprocessResult",
    "S1FloodError",
    "SceneResult",
    "SimulationResult",
    "Units",
    "__version__",
    "aggregate",
    "classify",
    "discover",
    "fetch",
    "preprocess",
    "process_scene",
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Result types, imported from their module when first asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 's1flood' has no attribute {name!r}")
