"""Preprocessing: Sentinel-1 GRD product to terrain-corrected backscatter on the AOI grid."""

from s1flood.preprocessing.engine import (
    ENGINES,
    Engine,
    PreprocessOptions,
    PreprocessResult,
    preprocess,
    stac_item_path,
)

__all__ = [
    "ENGINES",
    "Engine",
    "PreprocessOptions",
    "PreprocessResult",
    "preprocess",
    "stac_item_path",
]
