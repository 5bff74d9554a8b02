"""Pixels left out of the classification: high above drainage, steep, or flagged by a mask.

Excluded pixels become nodata (255) in the water mask, not dry, so a water frequency stays
water / valid. Both rasters are read onto the backscatter grid (nearest neighbour for the
mask, bilinear for the DEM) tile by tile: `TILE` x `TILE` pixels with `HALO` pixels around
them for HAND and slope (about 35 bytes per pixel of the haloed tile while HAND is computed),
so a scene's DEM is never held whole; only the exclusion mask is (one byte per pixel).
HAND is computed per haloed tile: the drainage a cell reaches is found within `HALO` pixels
beyond its tile (a grid of one tile plus its halo is computed at once, exactly as before).
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
from rasterio.windows import Window

from s1flood.classification.hand import height_above_drainage, slope_degrees
from s1flood.raster import GDAL_ENV, Grid, open_raster

log = logging.getLogger(__name__)

CHANNEL_AREA_KM2 = 0.5
"""Contributing area from which a DEM cell is a drainage channel for HAND."""
EXCLUDED = 1


TILE = 1024
HALO = 512


def read_on_grid(
    path: Path, grid: Grid, resampling: Resampling, window: Window | None = None
) -> npt.NDArray[np.float32]:
    """Band 1 of a raster on `grid` (or a window of it), NaN where it has no data.

    Args:
        path: a georeferenced raster.
        grid: the target grid.
        resampling: how values are resampled.
        window: the part of the grid to read; default all of it.
    """
    with rasterio.Env(**GDAL_ENV), open_raster(path) as src:
        if Grid.of(src).same_as(grid):
            values = src.read(1, masked=True, window=window)
        else:
            with WarpedVRT(
                src,
                crs=grid.crs.to_wkt(),
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=resampling,
            ) as vrt:
                values = vrt.read(1, masked=True, window=window)
    return np.ma.filled(values.astype(np.float32), np.nan)


def _tiles(grid: Grid) -> list[tuple[Window, Window]]:
    """(haloed window, core within it) of every tile; one tile when the grid is small."""
    if grid.width <= TILE + 2 * HALO and grid.height <= TILE + 2 * HALO:
        whole = Window(0, 0, grid.width, grid.height)
        return [(whole, whole)]
    out = []
    for row in range(0, grid.height, TILE):
        for col in range(0, grid.width, TILE):
            r0, c0 = max(0, row - HALO), max(0, col - HALO)
            r1 = min(grid.height, row + TILE + HALO)
            c1 = min(grid.width, col + TILE + HALO)
            rows, cols = min(TILE, grid.height - row), min(TILE, grid.width - col)
            out.append((Window(c0, r0, c1 - c0, r1 - r0), Window(col - c0, row - r0, cols, rows)))
    return out


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
        counts["hand"] = counts["slope"] = 0
        px, py = _pixel_metres(grid)
        channel_cells = max(50, round(CHANNEL_AREA_KM2 * 1e6 / (px * py)))
        for window, core in _tiles(grid):
            heights = read_on_grid(dem, grid, Resampling.bilinear, window)
            inner = (
                slice(core.row_off, core.row_off + core.height),
                slice(core.col_off, core.col_off + core.width),
            )
            high = height_above_drainage(heights, channel_cells)[inner] > hand_max_m
            steep = slope_degrees(heights, px, py)[inner] > slope_max_deg
            del heights
            counts["hand"] += int(high.sum())
            counts["slope"] += int(steep.sum())
            top, left = window.row_off + core.row_off, window.col_off + core.col_off
            target = excluded[top : top + core.height, left : left + core.width]
            target[high | steep] = EXCLUDED
        log.info(
            "HAND > %g m: %d px; slope > %g°: %d px",
            hand_max_m,
            counts["hand"],
            slope_max_deg,
            counts["slope"],
        )
    if exclusion is not None:
        counts["mask"] = 0
        for window, _ in _tiles_plain(grid):
            flagged = read_on_grid(exclusion, grid, Resampling.nearest, window)
            marked = np.isfinite(flagged) & (flagged != 0)
            counts["mask"] += int(marked.sum())
            rows = slice(window.row_off, window.row_off + window.height)
            excluded[rows][marked] = EXCLUDED
    return excluded, counts


def _tiles_plain(grid: Grid) -> list[tuple[Window, None]]:
    """Row bands of `TILE` rows covering the grid (no halo)."""
    return [
        (Window(0, row, grid.width, min(TILE, grid.height - row)), None)
        for row in range(0, grid.height, TILE)
    ]
