"""The flood record: when, how long and how deep each pixel flooded."""

from s1flood.flood.depth import DepthResult, flood_depth

__all__ = ["DepthResult", "flood_depth"]
