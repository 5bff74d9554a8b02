"""Radar shadow and layover on a region of the target grid, from its heights and samples.

The direction towards the sensor and the elevation of the line of sight come from the node
mapping of the region (`SensorDirection`); layover marks pixels whose sample does not grow
away from the sensor, shadow the pixels hidden behind terrain above the line of sight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

SHADOW = 1
LAYOVER = 2


@dataclass(frozen=True)
class SensorDirection:
    """How the image sample changes over a region of the map: the way to the sensor.

    ``ds_drow`` and ``ds_dcol`` are samples per map pixel along rows and columns at a fixed
    height, ``ds_dh`` samples per metre of height; ``pixel_m`` the map pixel size.
    """

    ds_drow: float
    ds_dcol: float
    ds_dh: float
    pixel_m: float

    @classmethod
    def of_nodes(
        cls, s0: F64, s1: F64, step: int, dh: float, pixel_m: float
    ) -> SensorDirection | None:
        """The direction from node samples at two heights, or None where it is undefined.

        Args:
            s0: samples of the nodes at the lower height.
            s1: samples of the nodes at the upper height.
            step: node spacing, map pixels.
            dh: the upper minus the lower height, metres.
            pixel_m: map pixel size, metres.
        """
        ds_dcol = float(np.nanmean(np.diff(s0, axis=1))) / step
        ds_drow = float(np.nanmean(np.diff(s0, axis=0))) / step
        ds_dh = float(np.nanmean(s1 - s0)) / dh
        norm = math.hypot(ds_dcol, ds_drow)
        if not (norm > 0 and math.isfinite(norm) and math.isfinite(ds_dh)):
            return None
        return cls(ds_drow, ds_dcol, ds_dh, pixel_m)

    @property
    def norm(self) -> float:
        """Samples per map pixel along the steepest direction at a fixed height."""
        return math.hypot(self.ds_dcol, self.ds_drow)

    @property
    def tan_elevation(self) -> float:
        """Tangent of the line of sight's elevation above the horizontal.

        At a fixed sample, d(height)/d(ground) = |grad S| / |dS/dh| is the wavefront; the line
        of sight is perpendicular to it, rising by |dS/dh| / |grad S| per ground unit.
        """
        return abs(self.ds_dh) / (self.norm / self.pixel_m)

    def look(self) -> tuple[float, float, float]:
        """The unit look vector (towards the sensor) in map axes (x east, y north, z up)."""
        elevation = math.atan(self.tan_elevation)
        # towards the sensor: decreasing sample; map y is minus the row direction
        east = -self.ds_dcol / self.norm
        north = self.ds_drow / self.norm
        return (
            math.cos(elevation) * east,
            math.cos(elevation) * north,
            math.sin(elevation),
        )


def mark_shadow_and_layover(
    heights: F32, sample: F32, direction: SensorDirection, mask: U8
) -> None:
    """Set `mask` to `LAYOVER` and `SHADOW` where the region's terrain lies over or hides.

    Args:
        heights: ellipsoidal heights of the region, metres (NaN: none).
        sample: image sample of every pixel of the region.
        direction: the way to the sensor over the region.
        mask: the region's mask, updated in place (0 where neither).
    """
    norm = direction.norm
    drow, dcol = -direction.ds_drow / norm, -direction.ds_dcol / norm
    rise = direction.tan_elevation * direction.pixel_m
    # no terrain slope steeper than the line of sight or the wavefront: nothing to mark
    wavefront_rise = norm / abs(direction.ds_dh) if direction.ds_dh else math.inf
    if _max_slope_per_px(heights) < 0.9 * min(rise, wavefront_rise):
        return
    _layover(heights, sample, drow, dcol, mask)
    # sweep away from the sensor along the axis closer to the range direction
    if abs(dcol) >= abs(drow):
        _shadow_sweep(heights, -drow / abs(dcol), dcol < 0, rise, mask)
    else:
        transposed = np.ascontiguousarray(mask.T)
        _shadow_sweep(
            np.ascontiguousarray(heights.T), -dcol / abs(drow), drow < 0, rise, transposed
        )
        mask[:] = transposed.T


@numba.njit(cache=True, nogil=True)
def _bilinear(a: F32, y: float, x: float) -> float:
    rows, cols = a.shape
    if not (y >= 0.0 and x >= 0.0 and y <= rows - 1 and x <= cols - 1):
        return math.nan
    i = min(int(y), rows - 2) if rows > 1 else 0
    j = min(int(x), cols - 2) if cols > 1 else 0
    fy = y - i
    fx = x - j
    i1 = min(i + 1, rows - 1)
    j1 = min(j + 1, cols - 1)
    value: float = (
        a[i, j] * (1 - fy) * (1 - fx)
        + a[i, j1] * (1 - fy) * fx
        + a[i1, j] * fy * (1 - fx)
        + a[i1, j1] * fy * fx
    )
    return value


@numba.njit(cache=True, nogil=True)
def _layover(heights: F32, sample: F32, drow: float, dcol: float, mask: U8) -> None:
    """Mark layover: the sample does not grow away from the sensor ((drow, dcol) points to it)."""
    rows, cols = heights.shape
    for i in range(rows):
        for j in range(cols):
            if not math.isfinite(heights[i, j]):
                continue
            near = _bilinear(sample, i + drow, j + dcol)
            if math.isfinite(near) and sample[i, j] - near <= 0.0:
                mask[i, j] = LAYOVER


@numba.njit(cache=True, nogil=True)
def _shadow_sweep(heights: F32, slope: float, ascending: bool, rise: float, mask: U8) -> None:
    """Mark radar shadow in one sweep away from the sensor.

    Lines advance `slope` rows per column; a pixel is shadowed when an earlier pixel of its
    line has a larger ``h + rise * distance`` (terrain above the line of sight). A line's
    pixels are the nearest ones (within half a pixel across the line).
    """
    rows, cols = heights.shape
    offset = math.ceil(abs(slope) * cols) + 1
    n_lines = rows + 2 * offset + 1
    best = np.full(n_lines, -np.inf)
    step = math.sqrt(1.0 + slope * slope) * rise
    for k in range(cols):
        j = k if ascending else cols - 1 - k
        for i in range(rows):
            h = heights[i, j]
            if not math.isfinite(h):
                continue
            line = math.floor(i - k * slope + 0.5) + offset
            q = h + k * step
            if best[line] > q + 0.05:
                if mask[i, j] == 0:
                    mask[i, j] = SHADOW
            elif q > best[line]:
                best[line] = q


@numba.njit(cache=True, nogil=True)
def _max_slope_per_px(heights: F32) -> float:
    """An upper bound of the slope of the bilinear height surface (height per pixel)."""
    rows, cols = heights.shape
    dx = 0.0
    dy = 0.0
    for i in range(rows):
        for j in range(cols):
            h = heights[i, j]
            if j + 1 < cols:
                d = abs(heights[i, j + 1] - h)
                if d > dx:
                    dx = d
            if i + 1 < rows:
                d = abs(heights[i + 1, j] - h)
                if d > dy:
                    dy = d
    return math.sqrt(dx * dx + dy * dy)
