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
def prepare_db(values: F32, db: F32, nodata: float, has_nodata: bool, linear: bool) -> int:
    """Finish dB conversion in place; return the number of valid pixels.

    For linear input `db` holds `np.log10(values)` and is scaled by 10; for dB input it is
    filled from `values`. Invalid pixels (NaN, ±inf, nodata, non-positive linear) become NaN.
    Branch-free, so that it vectorises.
    """
    nodata32 = np.float32(nodata)
    ten = np.float32(10)
    nan = np.float32(np.nan)
    inf = np.float32(np.inf)
    count = 0
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            valid = (np.abs(v) < inf) & ~(has_nodata & (v == nodata32))
            if linear:
                valid = valid & (v > 0)
                d = db[i, j] * ten
            else:
                d = v
            db[i, j] = d if valid else nan
            count += valid
    return count


@numba.njit(cache=True, nogil=True)
def accumulate_histogram(values: F32, edges: F32, counts: I64) -> None:
    """Add the non-NaN values of a 2-D block to `counts`, binned exactly as `np.histogram`.

    `edges` are the float32 bin edges `np.histogram` makes for the same range. The bin is
    estimated arithmetically, then settled by comparison with the edges (bin k holds
    edges[k] <= v < edges[k + 1], the last bin also its right edge), which is where
    `np.histogram` puts every value.
    """
    nbins = edges.size - 1
    first = edges[0]
    last = edges[nbins]
    inverse_width = np.float32(nbins / (np.float64(last) - np.float64(first)))
    rows, cols = values.shape
    estimate = np.empty(cols, dtype=np.int32)
    for i in range(rows):
        row = values[i]
        # a vectorisable first guess per row, then the exact settling per value
        for j in range(cols):
            v = row[j]
            inside = v >= first and v <= last
            guess = int((v - first) * inverse_width) if inside else -1
            estimate[j] = guess if guess < nbins else nbins - 1
        for j in range(cols):
            index = estimate[j]
            if index < 0:
                continue
            v = row[j]
            while index > 0 and v < edges[index]:
                index -= 1
            while index < nbins - 1 and v >= edges[index + 1]:
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
def accumulate_mask(mask: U8, water: U16, valid: U16) -> bool:
    """Add a 0/1/255 mask block to water and valid counts; True if it holds any other value.

    Branch-free, so that it vectorises.
    """
    rows, cols = mask.shape
    invalid = False
    for i in range(rows):
        for j in range(cols):
            v = mask[i, j]
            observed = v != NODATA_U8
            water[i, j] += v == WATER
            valid[i, j] += observed
            invalid |= observed & (v > WATER)
    return invalid


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
