"""Compiled per-pixel kernels (numba, GIL released so blocks run in parallel threads).

Every kernel works on one block and returns or accumulates small results, so the caller
controls memory by its choice of block.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

NODATA_U8 = 255
WATER = 1
DRY = 0

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
I64 = npt.NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def finite_range(values: F32) -> tuple[np.float32, np.float32, int]:
    """Minimum, maximum and count of the non-NaN values of a 2-D block."""
    lo = np.float32(np.inf)
    hi = np.float32(-np.inf)
    count = 0
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            if v == v:
                count += 1
                lo = min(lo, v)
                hi = max(hi, v)
    return lo, hi, count


@numba.njit(cache=True, nogil=True)
def accumulate_histogram(values: F32, edges: F32, counts: I64) -> None:
    """Add the non-NaN values of a 2-D block to `counts`, binned exactly as `np.histogram`.

    `edges` are the float32 bin edges `np.histogram` makes for the same range; the bin
    index is estimated in float32 as numpy does and then corrected against the edges,
    so the counts equal those of `np.histogram(all_values, len(edges) - 1, (lo, hi))`.
    """
    nbins = edges.size - 1
    first = edges[0]
    last = edges[nbins]
    denom = np.float32(last - first)
    scale = np.float32(nbins)
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            if not (v >= first and v <= last):
                continue
            index = int(np.float32(np.float32(v - first) / denom) * scale)
            if index == nbins:
                index -= 1
            if v < edges[index]:
                index -= 1
            elif index != nbins - 1 and v >= edges[index + 1]:
                index += 1
            counts[index] += 1


@numba.njit(cache=True, nogil=True)
def threshold_block(values: F32, threshold: float, out: U8, water_per_row: I64) -> None:
    """Write 1 where value < threshold, 0 where not, 255 where NaN; count water per row."""
    limit = np.float32(threshold)
    rows, cols = values.shape
    for i in range(rows):
        water = 0
        for j in range(cols):
            v = values[i, j]
            if v != v:
                out[i, j] = NODATA_U8
            elif v < limit:
                out[i, j] = WATER
                water += 1
            else:
                out[i, j] = DRY
        water_per_row[i] = water


@numba.njit(cache=True, nogil=True)
def accumulate_mask(mask: U8, water: U16, valid: U16) -> int:
    """Add a 0/1/255 mask block to water and valid counts; return the first invalid value or -1."""
    rows, cols = mask.shape
    for i in range(rows):
        for j in range(cols):
            v = mask[i, j]
            if v == NODATA_U8:
                continue
            if v > WATER:
                return int(v)
            valid[i, j] += 1
            water[i, j] += v
    return -1


@numba.njit(cache=True, nogil=True)
def frequency_classes(
    water: U16,
    valid: U16,
    candidate: float,
    permanent: float,
    frequency: F32,
    classes: U8,
    class_per_row: I64,
) -> None:
    """Frequency = water / valid (NaN where never observed) and its classes; count per row.

    Classes: 0 dry, 1 flood candidate (candidate < f < permanent), 2 permanent (f >= permanent),
    255 nodata. `class_per_row[i, k]` counts class k in row i.
    """
    rows, cols = water.shape
    for i in range(rows):
        for j in range(cols):
            n = valid[i, j]
            if n == 0:
                frequency[i, j] = np.nan
                classes[i, j] = NODATA_U8
                continue
            # classes from the float64 ratio, so 9/10 >= 0.9 holds as it should
            f = water[i, j] / n
            frequency[i, j] = np.float32(f)
            if f >= permanent:
                k = 2
            elif f > candidate:
                k = 1
            else:
                k = 0
            classes[i, j] = k
            class_per_row[i, k] += 1
