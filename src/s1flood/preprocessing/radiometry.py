"""Radiometry on the target grid: bilinear resampling to dB, and radiometric terrain correction.

Terrain flattening follows Small (2011): gamma0 = beta0 · A_beta / A_gamma, where A_gamma is
the illuminated area that the DEM facets put into each radar pixel (`flattening_factor`).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from s1flood.preprocessing.geocoding import MappedRegion
from s1flood.preprocessing.product import SarImage
from s1flood.raster import Grid

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]


@numba.njit(cache=True, nogil=True)
def _resample_linear(
    image: F32,
    line0: int,
    sample0: int,
    line: F32,
    sample: F32,
    mask: U8,
    floor: float,
    out: F32,
) -> None:
    """Bilinear samples of `image`, at least `floor` (NaN: none); `resample_to_db` logs them."""
    rows, cols = line.shape
    h, w = image.shape
    lowest = np.float32(floor)
    for i in range(rows):
        for j in range(cols):
            li = line[i, j] - line0
            si = sample[i, j] - sample0
            out[i, j] = np.nan
            if mask[i, j] != 0 or not (li >= 0.0 and si >= 0.0):
                continue
            r = int(li)
            c = int(si)
            if r + 1 >= h or c + 1 >= w:
                if r == h - 1 and c == w - 1 and li == r and si == c:
                    v = image[r, c]
                else:
                    continue
            else:
                fy = li - r
                fx = si - c
                v = (
                    image[r, c] * (1 - fy) * (1 - fx)
                    + image[r, c + 1] * (1 - fy) * fx
                    + image[r + 1, c] * fy * (1 - fx)
                    + image[r + 1, c + 1] * fy * fx
                )
            if math.isfinite(v):
                out[i, j] = max(np.float32(v), lowest)


def resample_to_db(
    image: F32, line0: int, sample0: int, line: F32, sample: F32, mask: U8, floor: float = 1e-5
) -> F32:
    """Bilinear samples of a linear radar window at (line, sample), in dB (NaN: no data).

    The logarithm is numpy's vectorised one over the whole tile (a third of the time of a
    scalar one per pixel in the sampling loop).

    Args:
        image: linear backscatter of the radar window.
        line0: image line of the window's first row.
        sample0: image sample of the window's first column.
        line: image line of every target pixel.
        sample: image sample of every target pixel.
        mask: nonzero where a target pixel has no value (shadow, layover).
        floor: the smallest linear value taken before the logarithm.
    """
    out = np.empty(line.shape, np.float32)
    _resample_linear(
        np.ascontiguousarray(image, dtype=np.float32),
        line0,
        sample0,
        line,
        sample,
        mask,
        floor,
        out,
    )
    np.log10(out, out=out)
    out *= np.float32(10.0)
    return out


@numba.njit(cache=True, nogil=True)
def _splat_area(
    heights: F32,
    line: F32,
    sample: F32,
    line0: int,
    sample0: int,
    pixel_m: float,
    look_x: float,
    look_y: float,
    look_z: float,
    area: F64,
) -> None:
    """Add each map pixel's illuminated area to the radar pixels it falls on (bilinear).

    A map pixel is a facet of the DEM; its area projected on the plane perpendicular to the
    look vector (map x east, y north, z up; towards the sensor) is
    ``pixel² · max(0, (-dh/dx, -dh/dy, 1) · look)`` (Small 2011, terrain flattening).
    """
    rows, cols = heights.shape
    h, w = area.shape
    inv2 = 1.0 / (2.0 * pixel_m)
    for i in range(1, rows - 1):
        for j in range(1, cols - 1):
            li = line[i, j] - line0
            si = sample[i, j] - sample0
            if not (li >= 0.0 and si >= 0.0 and li < h - 1 and si < w - 1):
                continue
            hx = (heights[i, j + 1] - heights[i, j - 1]) * inv2
            hy = (heights[i - 1, j] - heights[i + 1, j]) * inv2  # rows go south
            if not (math.isfinite(hx) and math.isfinite(hy)):
                continue
            projected = -hx * look_x - hy * look_y + look_z
            if projected <= 0.0:
                continue
            a = projected * pixel_m * pixel_m
            r = int(li)
            c = int(si)
            fy = li - r
            fx = si - c
            area[r, c] += a * (1 - fy) * (1 - fx)
            area[r, c + 1] += a * (1 - fy) * fx
            area[r + 1, c] += a * fy * (1 - fx)
            area[r + 1, c + 1] += a * fy * fx


def illuminated_area(
    heights: F32,
    line: F32,
    sample: F32,
    window: tuple[int, int, int, int],
    pixel_m: float,
    look: tuple[float, float, float],
) -> F64:
    """Illuminated area (m²) per radar pixel of `window` (line0, line1, sample0, sample1).

    Args:
        heights: ellipsoidal heights of the map region, metres.
        line: image line of every pixel of the region.
        sample: image sample of every pixel of the region.
        window: the radar window: (first line, end line, first sample, end sample).
        pixel_m: map pixel size, metres.
        look: unit vector towards the sensor in map axes (x east, y north, z up).
    """
    l0, l1, s0, s1 = window
    area = np.zeros((l1 - l0, s1 - s0))
    _splat_area(heights, line, sample, l0, s0, pixel_m, look[0], look[1], look[2], area)
    return area


def flattening_factor(
    sar: SarImage,
    grid: Grid,
    heights: F32,
    region: MappedRegion,
    window: tuple[int, int, int, int],
) -> F32:
    """A_beta / A_gamma (Small 2011) on a radar window: beta0 times it is gamma0 (NaN: none).

    A_gamma is the illuminated area that the DEM facets (map pixels of the tile and its
    margin) put into each radar pixel; A_beta the pixel's slant-range area,
    azimuth spacing x ground range spacing x sin(ellipsoid incidence). Radar pixels that
    the facets light less than 5 % of A_beta are NaN. It depends on the geometry only, so
    every polarisation of a window shares it.

    Args:
        sar: the image (its range and azimuth pixel spacing).
        grid: the target grid (its pixel size).
        heights: ellipsoidal heights of the region `region` maps, metres.
        region: the region's radar coordinates and look vector.
        window: the radar window: (first line, end line, first sample, end sample).
    """
    pixel_m = abs(grid.transform.a)
    area = illuminated_area(heights, region.line, region.sample, window, pixel_m, region.look)
    incidence = math.pi / 2 - math.asin(min(1.0, max(-1.0, region.look[2])))
    azimuth_spacing = float(sar.attrs.get("azimuthPixelSpacing", sar.range_pixel_spacing))
    reference = azimuth_spacing * sar.range_pixel_spacing * math.sin(incidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = reference / area
    factor[area < 0.05 * reference] = np.nan
    return factor.astype(np.float32)
