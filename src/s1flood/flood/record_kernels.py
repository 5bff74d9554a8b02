"""Compiled kernels of the flood record (numba, GIL released): one window at a time.

A window's observations are packed two bits per pixel and observation (0 nodata, 1 dry,
2 water), pixel-major, so that `flood_record` walks each pixel's series in time order with
the window's memory bounded by rows x width x observations / 4 bytes.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

NODATA_U8 = 255
NODATA_U16 = 65535
CODE_DRY = 1
CODE_WATER = 2
CODE_UNCHANGED = 3
"""Water that the change rule says is not new (not darker than the pre-event reference)."""
UNCHANGED_WATER_VALUE = 3
PRE_EVENT = 0
"""Observation kinds: before ``event_start`` (reference only), in the event (every product),
without a time (counts, flood_count and flood_extent only)."""
EVENT = 1
UNTIMED = 2
PER_OBSERVATION = 5
"""Columns of the per-observation sums (km²): valid, water, flooded, reference water
observed, reference water observed as water."""

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


@numba.njit(cache=True, nogil=True)
def merge_masks(merged: U8, other: U8) -> bool:
    """Merge a second mask of one acquisition into `merged` (water, else dry, else nodata).

    Returns True if `other` holds a value other than 0, 1 and 255.
    """
    rows, cols = merged.shape
    invalid = False
    for i in range(rows):
        for j in range(cols):
            v = other[i, j]
            if v == NODATA_U8:
                continue
            invalid |= v > 1
            if merged[i, j] == NODATA_U8 or v == 1:
                merged[i, j] = v
    return invalid


@numba.njit(cache=True, nogil=True)
def pack_observation(
    mask: U8, index: int, packed: U8, water: U16, valid: U16, marked: bool
) -> bool:
    """Add observation `index` (a 0/1/255 mask block) to the packed series and the counts.

    With `marked`, value 3 is water the change rule found unchanged (`mark_unchanged`).
    Returns True if the mask holds another value.
    """
    byte = index >> 2
    shift = (index & 3) * 2
    rows, cols = mask.shape
    invalid = False
    for i in range(rows):
        for j in range(cols):
            v = mask[i, j]
            if v == NODATA_U8:
                continue
            invalid |= v > 1 and not (marked and v == UNCHANGED_WATER_VALUE)
            wet = v == 1
            code = CODE_WATER if wet else CODE_DRY
            if v == UNCHANGED_WATER_VALUE:
                code = CODE_UNCHANGED
            packed[i, j, byte] |= code << shift
            water[i, j] += v != 0
            valid[i, j] += 1
    return invalid


@numba.njit(cache=True, nogil=True)
def flood_record(
    packed: U8,
    days: I32,
    kinds: U8,
    given: U8,
    use_given: bool,
    event_mode: bool,
    permanent: float,
    pre_fraction: float,
    area_per_row: F64,
    reference: U8,
    extent: U8,
    count: U16,
    first: U16,
    last: U16,
    duration_min: U16,
    duration_max: U16,
    episodes: U8,
    per_observation: F64,
) -> None:
    """The flood record of a window from its packed, time-ordered observations.

    Reference water per pixel: the given raster where it has a value (`given` 0/1, 255
    none, when `use_given`); else with `event_mode` water in at least `pre_fraction` of the
    valid pre-event observations; else water in at least `permanent` of all valid ones.
    Flooded = water and not reference water, in an ``EVENT`` (or ``UNTIMED``) observation.

    Writes per pixel: reference (0/1, 255 never seen), extent (0/1, 255 no eligible valid
    observation), flood count, first/last flooded day, duration_min = last - first,
    duration_max = first dry after the last flood - last dry before the first (65535
    where the window never saw it dry on that side), episodes (wet runs between valid dry
    observations); adds each observation's areas (km²) to `per_observation`.
    """
    rows, cols, _ = packed.shape
    n = days.size
    codes = np.empty(n, dtype=np.uint8)
    for i in range(rows):
        area = area_per_row[i]
        for j in range(cols):
            all_w = 0
            all_v = 0
            pre_w = 0
            pre_v = 0
            for k in range(n):
                c = (packed[i, j, k >> 2] >> ((k & 3) * 2)) & 3
                codes[k] = c
                if c:
                    all_v += 1
                    all_w += c >= CODE_WATER
                    if kinds[k] == PRE_EVENT:
                        pre_v += 1
                        pre_w += c >= CODE_WATER
            r = NODATA_U8
            if use_given and given[i, j] != NODATA_U8:
                r = 1 if given[i, j] else 0
            elif event_mode and pre_v > 0:
                r = 1 if pre_w / pre_v >= pre_fraction else 0
            elif all_v > 0:
                r = 1 if all_w / all_v >= permanent else 0
            reference[i, j] = r
            first_day = -1
            last_day = -1
            dry_before = -1
            dry_after = -1
            previous_wet = False
            runs = 0
            flooded = 0
            eligible = 0
            for k in range(n):
                c = codes[k]
                if c == 0:
                    continue
                per_observation[k, 0] += area
                water = c >= CODE_WATER
                if water:
                    per_observation[k, 1] += area
                if r == 1:
                    per_observation[k, 3] += area
                    if water:
                        per_observation[k, 4] += area
                kind = kinds[k]
                if kind == PRE_EVENT:
                    if not water:
                        dry_before = days[k]
                    previous_wet = False
                    continue
                eligible += 1
                wet = c == CODE_WATER and r != 1
                if wet:
                    per_observation[k, 2] += area
                    flooded += 1
                if kind == UNTIMED:
                    continue
                if wet:
                    if first_day < 0:
                        first_day = days[k]
                    last_day = days[k]
                    dry_after = -1
                    if not previous_wet:
                        runs += 1
                    previous_wet = True
                else:
                    if first_day < 0:
                        dry_before = days[k]
                    elif dry_after < 0:
                        dry_after = days[k]
                    previous_wet = False
            if eligible == 0:
                extent[i, j] = NODATA_U8
                count[i, j] = NODATA_U16
                episodes[i, j] = NODATA_U8
            else:
                extent[i, j] = 1 if flooded else 0
                count[i, j] = flooded
                episodes[i, j] = min(runs, 254)
            if first_day >= 0:
                first[i, j] = first_day
                last[i, j] = last_day
                duration_min[i, j] = last_day - first_day
                if dry_before >= 0 and dry_after >= 0:
                    duration_max[i, j] = dry_after - dry_before
                else:
                    duration_max[i, j] = NODATA_U16
            else:
                first[i, j] = NODATA_U16
                last[i, j] = NODATA_U16
                duration_min[i, j] = NODATA_U16
                duration_max[i, j] = NODATA_U16


@numba.njit(cache=True, nogil=True)
def add_reference(sigma0: F32, total: F32, count: U16) -> None:
    """Add a pre-event sigma0 block (dB, NaN nodata) to the per-pixel reference sums."""
    rows, cols = sigma0.shape
    for i in range(rows):
        for j in range(cols):
            v = sigma0[i, j]
            if v == v:
                total[i, j] += v
                count[i, j] += 1


@numba.njit(cache=True, nogil=True)
def mark_unchanged(mask: U8, sigma0: F32, total: F32, count: U16, change_db: float) -> bool:
    """Water not darker than the pre-event mean by `change_db` becomes unchanged water (3).

    Pixels without a pre-event reference or without a sigma0 value stay as they are.
    Returns True if the mask holds a value other than 0, 1 and 255 (before marking).
    """
    rows, cols = mask.shape
    invalid = False
    for i in range(rows):
        for j in range(cols):
            invalid |= mask[i, j] > 1 and mask[i, j] != NODATA_U8
    if invalid:
        return True
    for i in range(rows):
        for j in range(cols):
            n = count[i, j]
            v = sigma0[i, j]
            if mask[i, j] == 1 and n > 0 and v == v and v > total[i, j] / n - change_db:
                mask[i, j] = UNCHANGED_WATER_VALUE
    return False
