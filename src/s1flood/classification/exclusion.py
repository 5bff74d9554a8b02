"""Pixels left out of the classification: high above drainage, steep, or flagged by a mask.

Excluded pixels become nodata (255) in the water mask, not dry, so a water frequency stays
water / valid. Both rasters are read onto the backscatter grid (nearest neighbour for the
mask, bilinear for the DEM) and held in memory for the scene: the DEM as float32 plus about
30 bytes per pixel while HAND is computed.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from s1flood.classification.hand import height_above_drainage, slope_degrees
from s1flood.raster import GDAL_ENV, Grid, open_raster

log = logging.getLogger(__name__)

CHANNEL_AREA_KM2 = 0.5
"""Contributing area from which a DEM cell is a drainage channel for HAND."""
EXCLUDED = 1


def read_on_grid(path: Path, grid: Grid, resampling: Resampling) -> npt.NDArray[np.float32]:
    """Band 1 of a raster on `grid`, NaN where it has no data.

    Args:
        path: a georeferenced raster.
        grid: the target grid.
        resampling: how values are resampled.
    """
    with rasterio.Env(**GDAL_ENV), open_raster(path) as src:
        if Grid.of(src).same_as(grid):
            values = src.read(1, masked=True)
        else:
            with WarpedVRT(
                src,
                crs=grid.crs.to_wkt(),
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=resampling,
            ) as vrt:
                values = vrt.read(1, masked=True)
    return np.ma.filled(values.astype(np.float32), np.nan)


def _pixel_metres(grid: Grid) -> tuple[float, float]:
    t = grid.transform
    if grid.crs.is_geographic:
        lat = math.radians(t.f + t.e * grid.height / 2)
        return abs(t.a) * 111_320.0 * math.cos(lat), abs(t.e) * 110_540.0
    factor = grid.crs.axis_info[0].unit_conversion_factor if grid.crs.axis_info else 1.0
    return abs(t.a) * factor, abs(t.e) * factor


def exclusion_mask(
    grid: Grid,
    dem: Path | None,
    exclusion: Path | None,
    hand_max_m: float,
    slope_max_deg: float,
) -> tuple[npt.NDArray[np.uint8] | None, dict[str, int]]:
    """1 where a pixel is excluded (HAND or slope above the limits, or flagged), else 0.

    Returns None (and no counts) when neither a DEM nor an exclusion raster is given.

    Args:
        grid: the backscatter grid.
        dem: a DEM (m), or None.
        exclusion: a raster whose non-zero pixels are left out (e.g. radar shadow/layover).
        hand_max_m: pixels higher than this above the nearest drainage are left out (m).
        slope_max_deg: pixels steeper than this are left out (degrees).
    """
    if dem is None and exclusion is None:
        return None, {}
    excluded = np.zeros((grid.height, grid.width), dtype=np.uint8)
    counts: dict[str, int] = {}
    if dem is not None:
        heights = read_on_grid(dem, grid, Resampling.bilinear)
        px, py = _pixel_metres(grid)
        channel_cells = max(50, round(CHANNEL_AREA_KM2 * 1e6 / (px * py)))
        hand = height_above_drainage(heights, channel_cells)
        high = hand > hand_max_m
        steep = slope_degrees(heights, px, py) > slope_max_deg
        counts["hand"] = int(high.sum())
        counts["slope"] = int(steep.sum())
        excluded[high | steep] = EXCLUDED
        log.info(
            "HAND > %g m: %d px; slope > %g°: %d px",
            hand_max_m,
            high.sum(),
            slope_max_deg,
            steep.sum(),
        )
    if exclusion is not None:
        flagged = read_on_grid(exclusion, grid, Resampling.nearest)
        marked = np.isfinite(flagged) & (flagged != 0)
        counts["mask"] = int(marked.sum())
        excluded[marked] = EXCLUDED
    return excluded, counts
