"""Preprocessing: Sentinel-1 GRD product to terrain-corrected backscatter on the AOI grid."""

from s1flood.preprocessing.engine import preprocess
from s1flood.preprocessing.engines import ENGINES, get_engine
from s1flood.preprocessing.model import (
    Engine,
    PreprocessOptions,
    PreprocessResult,
    stac_item_path,
)

__all__ = [
    "ENGINES",
    "Engine",
    "PreprocessOptions",
    "PreprocessResult",
    "get_engine",
    "preprocess",
    "stac_item_path",
]
