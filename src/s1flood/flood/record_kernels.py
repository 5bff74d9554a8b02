"""Compiled kernels of the flood record (numba, GIL released): one window at a time.

A window's observations are packed two bits per pixel and observation (0 nodata, 1 dry,
2 water, 3 water the change rule found unchanged) in planes of four observations
(``packed[plane, row, col]``: contiguous writes per observation, and `flood_record` reads
the planes as parallel sequential streams while it walks each pixel's series in time
order), the window's memory bounded by rows x width x observations / 4 bytes.
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
    plane = packed[index >> 2]
    shift = np.uint8((index & 3) * 2)
    rows, cols = mask.shape
    invalid = False
    for i in range(rows):
        for j in range(cols):
            v = mask[i, j]
            observed = v != NODATA_U8
            # 0 -> 1 dry, 1 -> 2 water, 3 -> 3 unchanged water, 255 -> 0 nodata
            code = np.uint8((v + 1) if v < 2 else (3 if v == UNCHANGED_WATER_VALUE else 0))
            plane[i, j] |= code << shift
            water[i, j] += observed & (v != 0)
            valid[i, j] += observed
            invalid |= observed and v > 1 and not (marked and v == UNCHANGED_WATER_VALUE)
    return invalid


@numba.njit(cache=True, nogil=True)
def flood_record(
    packed: U8,
    water_count: U16,
    valid_count: U16,
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

    `water_count` and `valid_count` are the window's counts over every observation.
    Reference water per pixel: the given raster where it has a value (`given` 0/1, 255
    none, when `use_given`); else with `event_mode` water in at least `pre_fraction` of the
    valid pre-event observations; else water in at least `permanent` of all valid ones.
    Flooded = water (not unchanged water) and not reference water, in an ``EVENT`` (or
    ``UNTIMED``) observation.

    Writes per pixel: reference (0/1, 255 never seen), extent (0/1, 255 no eligible valid
    observation), flood count, first/last flooded day, duration_min = last - first,
    duration_max = first dry after the last flood - last dry before the first (65535
    where the window never saw it dry on that side), episodes (wet runs between valid dry
    observations); adds each observation's areas (km²) to `per_observation`.

    Row by row, observation by observation, branch-free over the row's pixels: the row's
    state stays in cache and the inner loops vectorise.
    """
    _, rows, cols = packed.shape
    n = days.size
    none = NODATA_U16
    pre_w = np.empty(cols, np.int32)
    pre_v = np.empty(cols, np.int32)
    ref = np.empty(cols, np.uint8)
    first_day = np.empty(cols, np.uint16)
    last_day = np.empty(cols, np.uint16)
    dry_before = np.empty(cols, np.uint16)
    dry_after = np.empty(cols, np.uint16)
    previous_wet = np.empty(cols, np.uint8)
    runs = np.empty(cols, np.uint16)
    flooded = np.empty(cols, np.uint16)
    eligible = np.empty(cols, np.uint16)
    for i in range(rows):
        pre_w[:] = 0
        pre_v[:] = 0
        for k in range(n):
            if kinds[k] != PRE_EVENT:
                continue
            plane = packed[k >> 2, i]
            shift = (k & 3) * 2
            for j in range(cols):
                c = (plane[j] >> shift) & 3
                pre_v[j] += c != 0
                pre_w[j] += c >= CODE_WATER
        for j in range(cols):
            r = NODATA_U8
            if use_given and given[i, j] != NODATA_U8:
                r = 1 if given[i, j] else 0
            elif event_mode and pre_v[j] > 0:
                r = 1 if pre_w[j] / pre_v[j] >= pre_fraction else 0
            elif valid_count[i, j] > 0:
                r = 1 if water_count[i, j] / valid_count[i, j] >= permanent else 0
            ref[j] = r
            reference[i, j] = r
        first_day[:] = none
        last_day[:] = none
        dry_before[:] = none
        dry_after[:] = none
        previous_wet[:] = 0
        runs[:] = 0
        flooded[:] = 0
        eligible[:] = 0
        area = area_per_row[i]
        for k in range(n):
            plane = packed[k >> 2, i]
            shift = (k & 3) * 2
            kind = kinds[k]
            d = np.uint16(days[k])
            n_valid = 0
            n_water = 0
            n_flooded = 0
            n_ref = 0
            n_ref_water = 0
            for j in range(cols):
                c = (plane[j] >> shift) & 3
                seen = c != 0
                water = c >= CODE_WATER
                is_ref = ref[j] == 1
                n_valid += seen
                n_water += water
                n_ref += seen & is_ref
                n_ref_water += water & is_ref
            if kind == PRE_EVENT:
                for j in range(cols):
                    c = (plane[j] >> shift) & 3
                    dry_before[j] = d if c == CODE_DRY else dry_before[j]
                    previous_wet[j] = 0 if c != 0 else previous_wet[j]
            elif kind == UNTIMED:
                for j in range(cols):
                    c = (plane[j] >> shift) & 3
                    wet = (c == CODE_WATER) & (ref[j] != 1)
                    eligible[j] += c != 0
                    flooded[j] += wet
                    n_flooded += wet
            else:
                for j in range(cols):
                    c = (plane[j] >> shift) & 3
                    seen = c != 0
                    wet = (c == CODE_WATER) & (ref[j] != 1)
                    dry = seen & ~wet
                    eligible[j] += seen
                    flooded[j] += wet
                    n_flooded += wet
                    unset = first_day[j] == none
                    first_day[j] = d if (wet & unset) else first_day[j]
                    last_day[j] = d if wet else last_day[j]
                    dry_before[j] = d if (dry & unset) else dry_before[j]
                    after = d if (dry & ~unset & (dry_after[j] == none)) else dry_after[j]
                    dry_after[j] = none if wet else after
                    runs[j] += wet & (previous_wet[j] == 0)
                    previous_wet[j] = 1 if wet else (0 if dry else previous_wet[j])
            per_observation[k, 0] += n_valid * area
            per_observation[k, 1] += n_water * area
            per_observation[k, 2] += n_flooded * area
            per_observation[k, 3] += n_ref * area
            per_observation[k, 4] += n_ref_water * area
        for j in range(cols):
            if eligible[j] == 0:
                extent[i, j] = NODATA_U8
                count[i, j] = NODATA_U16
                episodes[i, j] = NODATA_U8
            else:
                extent[i, j] = 1 if flooded[j] else 0
                count[i, j] = flooded[j]
                episodes[i, j] = min(runs[j], 254)
            f, lst = first_day[j], last_day[j]
            first[i, j] = f
            last[i, j] = lst
            if f != none:
                duration_min[i, j] = lst - f
                b, a = dry_before[j], dry_after[j]
                duration_max[i, j] = a - b if (b != none and a != none) else none
            else:
                duration_min[i, j] = none
                duration_max[i, j] = none


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
