"""Water classification of calibrated backscatter, each scene alone.

`classify` writes a water mask COG (0 dry, 1 water, 255 nodata), a confidence COG, a JSON
sidecar and a histogram PNG. Modules: `thresholds` (Otsu, Kittler-Illingworth, Multi-Otsu on
histograms), `selection` (split-based tile selection, priors, no-water), `reading` (bands,
fusion, smoothing), `exclusion` and `hand` (HAND, slope, masks), `passes` (block passes),
`kernels` (numba), `result`.
"""

from typing import TYPE_CHECKING, Any

from s1flood.classification.result import (
    ClassificationResult,
    change_path,
    confidence_path,
    output_paths,
)
from s1flood.classification.selection import METHODS, PRIOR_THRESHOLDS_DB
from s1flood.classification.thresholds import (
    NBINS,
    Bimodality,
    Histogram,
    bimodality,
    histogram_edges,
    kittler_index,
    multiotsu_thresholds,
    otsu_index,
)

__all__ = [
    "METHODS",
    "NBINS",
    "PRIOR_THRESHOLDS_DB",
    "Bimodality",
    "ClassificationResult",
    "Histogram",
    "bimodality",
    "change_path",
    "classify",
    "confidence_path",
    "histogram_edges",
    "kittler_index",
    "multiotsu_thresholds",
    "otsu_index",
    "output_paths",
]

if TYPE_CHECKING:
    from s1flood.classification.core import classify


def __getattr__(name: str) -> Any:
    """`classify` on first use, so that importing the package stays light (no numba, GDAL)."""
    if name == "classify":
        from s1flood.classification.core import classify

        return classify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
