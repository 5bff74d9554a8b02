"""A user-given reference water raster (any grid), read window by window on the output grid.

E.g. a JRC Global Surface Water occurrence COG (percent) with threshold 50, or a 0/1 mask
with threshold 0.5; warped nearest onto the aggregation grid, its nodata (and outside its
extent) left to the series' own rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from s1flood.errors import InvalidOptionError
from s1flood.raster import Grid, open_raster, reading, warped_onto

NO_VALUE = -3.0e38
"""The warped raster's value where the source has no data (below any threshold)."""


def check_overlap(path: Path, grid: Grid) -> None:
    """Refuse a reference raster that does not overlap the output grid (one line).

    Args:
        path: the reference water raster.
        grid: the aggregation's output grid.
    """
    with open_raster(path) as dataset:
        left, bottom, right, top = transform_bounds(
            dataset.crs, grid.crs.to_wkt(), *dataset.bounds, densify_pts=21
        )
    g_left, g_bottom, g_right, g_top = grid.bounds
    if not all(math.isfinite(v) for v in (left, bottom, right, top)) or (
        left >= g_right or right <= g_left or bottom >= g_top or top <= g_bottom
    ):
        raise InvalidOptionError(
            "reference_water",
            str(path),
            f"does not overlap the masks' grid (its bounds in the grid's CRS "
            f"{left:.0f}, {bottom:.0f}, {right:.0f}, {top:.0f}; the grid's "
            f"{g_left:.0f}, {g_bottom:.0f}, {g_right:.0f}, {g_top:.0f})",
        )


class ReferenceReader:
    """One thread's reader of the reference raster on the output grid (nearest)."""

    def __init__(self, path: Path, grid: Grid, threshold: float) -> None:
        self.path = path
        self.threshold = threshold
        self.dataset: DatasetReader = open_raster(path)
        self.vrt: WarpedVRT = warped_onto(
            self.dataset,
            grid,
            Resampling.nearest,
            NO_VALUE,
            src_nodata=self.dataset.nodata,
            dtype="float32",
        )

    def read(self, window: Window, out: npt.NDArray[np.uint8]) -> None:
        """Reference water of `window` into `out`: 1 at or above the threshold, 0 below.

        255 where the raster has no value.

        Args:
            window: the window of the output grid.
            out: the block to fill (window's shape).
        """
        with reading(self.path):
            values = self.vrt.read(1, window=window, masked=True)
        known = ~np.ma.getmaskarray(values) & (values.data > NO_VALUE / 2)
        out[...] = np.where(known, (values.data >= self.threshold).astype(np.uint8), 255)

    def close(self) -> None:
        """Close the raster."""
        self.vrt.close()
        self.dataset.close()
