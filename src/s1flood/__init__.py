"""s1flood: flood mapping from Sentinel-1 GRD backscatter.

Water masks from calibrated backscatter (`classify`) and the water-frequency product
from many masks (`aggregate`).
"""

from s1flood._version import __version__
from s1flood.aggregation import AggregationResult, aggregate
from s1flood.backscatter import Units
from s1flood.classification import ClassificationResult, classify
from s1flood.errors import S1FloodError

__all__ = [
    "AggregationResult",
    "ClassificationResult",
    "S1FloodError",
    "Units",
    "__version__",
    "aggregate",
    "classify",
]
