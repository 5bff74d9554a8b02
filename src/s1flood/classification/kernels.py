"""Compiled kernels of the classification (numba, GIL released so blocks run in threads).

Every kernel works on one block (or one DEM for HAND) and writes into arrays the caller owns.
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
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def bin_block(db: F32, edges: F32, bins: npt.NDArray[np.int16], extremes: F64) -> None:
    """The histogram bin of every pixel (-1 for NaN); updates [min, max] in `extremes`.

    Values inside the edges land where `np.histogram` puts them; values outside go to the
    first or last bin.
    """
    nbins = edges.size - 1
    first = edges[0]
    last = edges[nbins]
    inverse_width = np.float32(nbins / (np.float64(last) - np.float64(first)))
    rows, cols = db.shape
    lo, hi = extremes[0], extremes[1]
    for i in range(rows):
        row = db[i]
        out = bins[i]
        # a vectorisable first guess, then the exact settling against the edges
        for j in range(cols):
            v = row[j]
            guess = (min(max(v, first), last) - first) * inverse_width
            out[j] = min(int(guess), nbins - 1) if v == v else -1
        for j in range(cols):
            index = out[j]
            if index < 0:
                continue
            v = row[j]
            lo = min(lo, v)
            hi = max(hi, v)
            while index > 0 and v < edges[index]:
                index -= 1
            while index < nbins - 1 and v >= edges[index + 1]:
                index += 1
            out[j] = index
    extremes[0], extremes[1] = lo, hi


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _otsu_split(hist: I64) -> int:
    """Otsu split k of a histogram (bins < k are the lower class); 0 if undefined."""
    nbins = hist.size
    n = 0.0
    total = 0.0
    for k in range(nbins):
        n += hist[k]
        total += hist[k] * k
    best, best_k = -1.0, 0
    w0 = 0.0
    s0 = 0.0
    for k in range(1, nbins):
        w0 += hist[k - 1]
        s0 += hist[k - 1] * (k - 1)
        w1 = n - w0
        if w0 == 0 or w1 == 0:
            continue
        d = s0 / w0 - (total - s0) / w1
        between = w0 * w1 * d * d
        if between > best:
            best, best_k = between, k
    return best_k


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tile_histogram(bins: npt.NDArray[np.int16], r0: int, c0: int, tile: int, hist: I64) -> int:
    """Histogram of one tile's bins into `hist`; returns its valid pixels."""
    rows, cols = bins.shape
    hist[:] = 0
    valid = 0
    for i in range(r0, min(r0 + tile, rows)):
        row = bins[i]
        for j in range(c0, min(c0 + tile, cols)):
            b = row[j]
            if b >= 0:
                hist[b] += 1
                valid += 1
    return valid


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _qualifies(
    hist: I64, centers: F64, min_fraction: float, min_ashman: float, water_max_db: float
) -> bool:
    """Whether a tile's own Otsu split shows water and land (see `tile_histograms`)."""
    k = _otsu_split(hist)
    if k == 0:
        return False
    n0 = s0 = q0 = n1 = s1 = q1 = 0.0
    for b in range(hist.size):
        h, x = hist[b], centers[b]
        if b < k:
            n0 += h
            s0 += h * x
            q0 += h * x * x
        else:
            n1 += h
            s1 += h * x
            q1 += h * x * x
    fraction = n0 / (n0 + n1)
    if fraction < min_fraction or fraction > 1.0 - min_fraction:
        return False
    m0, m1 = s0 / n0, s1 / n1
    spread = max(q0 / n0 - m0 * m0, 0.0) + max(q1 / n1 - m1 * m1, 0.0)
    if spread <= 0 or m0 > water_max_db:
        return False
    return bool(np.sqrt(2.0) * (m1 - m0) / np.sqrt(spread) >= min_ashman)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def tile_histograms(
    bins: npt.NDArray[np.int16],
    edges: F32,
    tile: int,
    min_valid: int,
    min_fraction: float,
    min_ashman: float,
    water_max_db: float,
    counts: I64,
    pooled: I64,
    tally: I64,
) -> None:
    """Add a block's bins (`bin_block`) to `counts`, those of qualifying tiles to `pooled`.

    A tile (`tile` x `tile` pixels, the block's rows a multiple of it) qualifies when it has
    at least `min_valid` valid pixels and its own Otsu split gives a dark class of
    `min_fraction`..1-`min_fraction` of its pixels, an Ashman's D of at least `min_ashman`,
    and a dark-class mean at most `water_max_db`. `tally` counts [tiles seen, tiles with
    enough valid pixels, tiles selected].
    """
    nbins = edges.size - 1
    centers = (edges[:-1].astype(np.float64) + edges[1:].astype(np.float64)) / 2.0
    rows, cols = bins.shape
    hist = np.zeros(nbins, dtype=np.int64)
    for r0 in range(0, rows, tile):
        for c0 in range(0, cols, tile):
            valid = _tile_histogram(bins, r0, c0, tile, hist)
            counts += hist
            tally[0] += 1
            if valid < min_valid:
                continue
            tally[1] += 1
            if not _qualifies(hist, centers, min_fraction, min_ashman, water_max_db):
                continue
            tally[2] += 1
            pooled += hist


@numba.njit(cache=True, nogil=True, error_model="numpy")
def tile_histograms_pair(
    bins: npt.NDArray[np.int16],
    other: npt.NDArray[np.int16],
    edges: F32,
    tile: int,
    min_valid: int,
    min_fraction: float,
    min_ashman: float,
    water_max_db: F64,
    counts: I64,
    pooled: I64,
    tally: I64,
) -> None:
    """`tile_histograms` of two bands at once (row 0 of the 2-row arrays: `bins`, row 1: `other`).

    `pooled[0]`, `pooled[1]`: each band's tiles that qualify in both bands; `pooled[2]`,
    `pooled[3]`: each band's tiles that qualify in that band. `water_max_db` holds each
    band's limit; `tally` [tiles, with enough data, selected in both, in the first, in the
    second].
    """
    nbins = edges.size - 1
    centers = (edges[:-1].astype(np.float64) + edges[1:].astype(np.float64)) / 2.0
    rows, cols = bins.shape
    first = np.zeros(nbins, dtype=np.int64)
    second = np.zeros(nbins, dtype=np.int64)
    for r0 in range(0, rows, tile):
        for c0 in range(0, cols, tile):
            valid = min(
                _tile_histogram(bins, r0, c0, tile, first),
                _tile_histogram(other, r0, c0, tile, second),
            )
            counts[0] += first
            counts[1] += second
            tally[0] += 1
            if valid < min_valid:
                continue
            tally[1] += 1
            a = _qualifies(first, centers, min_fraction, min_ashman, water_max_db[0])
            b = _qualifies(second, centers, min_fraction, min_ashman, water_max_db[1])
            if a:
                tally[3] += 1
                pooled[2] += first
            if b:
                tally[4] += 1
                pooled[3] += second
            if a and b:
                tally[2] += 1
                pooled[0] += first
                pooled[1] += second


@numba.njit(cache=True, nogil=True, error_model="numpy")
def box_mean(src: F32, size: int, out: F32) -> None:
    """Mean of the valid (non-NaN) values in a size x size box around each pixel.

    Boxes are cut at the block's edges; a NaN pixel stays NaN. `out` may not alias `src`.
    Separable running sums: down the columns (vectorised across a row) and along each row,
    both in float64 so that adding and dropping values leaves no rounding drift.
    """
    rows, cols = src.shape
    half = size // 2
    column = np.zeros(cols, dtype=np.float64)
    count = np.zeros(cols, dtype=np.float64)
    for k in range(min(half, rows)):
        _add_row(src[k], column, count, 1.0)
    nan = np.float32(np.nan)
    for i in range(rows):
        if i + half < rows:
            _add_row(src[i + half], column, count, 1.0)
        if i - half - 1 >= 0:
            _add_row(src[i - half - 1], column, count, -1.0)
        total = 0.0
        n = 0.0
        for j in range(min(half, cols)):
            total += column[j]
            n += count[j]
        source = src[i]
        target = out[i]
        for j in range(cols):
            if j + half < cols:
                total += column[j + half]
                n += count[j + half]
            if j - half - 1 >= 0:
                total -= column[j - half - 1]
                n -= count[j - half - 1]
            target[j] = np.float32(total / n) if source[j] == source[j] else nan


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _add_row(row: F32, column: F64, count: F64, sign: float) -> None:
    """Add (sign 1) or remove (sign -1) a row's valid values and count to running sums."""
    for j in range(row.size):
        v = row[j]
        ok = v == v
        column[j] += sign * v if ok else 0.0
        count[j] += sign if ok else 0.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def water_block(
    db: F32,
    threshold: float,
    seed_threshold: float,
    change: F32,
    change_db: float,
    change_margin_db: float,
    seeds: F32,
    new_water: U8,
) -> None:
    """Seeds (1.0 below `seed_threshold`, else 0.0, NaN without data) and new water per pixel.

    `change` holds scene minus reference dB (an empty array when no reference is used): a pixel
    that darkened by more than `change_db` and lies below `threshold + change_margin_db` is
    new water (`new_water` 1, else 0, 255 where either scene has no data).
    """
    rows, cols = db.shape
    limit = np.float32(threshold)
    seed_limit = np.float32(seed_threshold)
    use_change = change.size > 0
    for i in range(rows):
        for j in range(cols):
            v = db[i, j]
            if v != v:
                seeds[i, j] = np.nan
                if use_change:
                    new_water[i, j] = NODATA_U8
                continue
            seeds[i, j] = 1.0 if v < seed_limit else 0.0
            if use_change:
                d = change[i, j]
                if d != d:
                    new_water[i, j] = NODATA_U8
                else:
                    new = d < -change_db and v < limit + change_margin_db
                    new_water[i, j] = 1 if new else 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def finish_block(
    near_seed: F32,
    db: F32,
    threshold: float,
    reference: float,
    water_spread: float,
    land_spread: float,
    scale: float,
    new_water: U8,
    excluded: U8,
    out: U8,
    confidence: U8,
    counts: I64,
) -> None:
    """Mask (0/1/255) and confidence (0..100, 255 nodata); count per row.

    A pixel is water when it lies below `threshold` and a seed lies in its box (`near_seed`,
    the box mean of `water_block`'s seeds, > 0), or when `new_water` (empty or a block) marks
    it. Confidence is the distance to `reference` in units of the class spread, 50 at the
    threshold and 100 one spread away, times `scale`; pixels on the other side of it than
    their class get 50 x `scale`. `excluded` (empty or a block) marks pixels to leave out as
    nodata. `counts[i]` gets [water, valid, sum of confidence] of row i.
    """
    rows, cols = db.shape
    use_excluded = excluded.size > 0
    use_new = new_water.size > 0
    limit = np.float32(threshold)
    for i in range(rows):
        nw = 0
        nv = 0
        total = 0
        for j in range(cols):
            f = near_seed[i, j]
            v = db[i, j]
            if f != f or v != v or (use_excluded and excluded[i, j] != 0):
                out[i, j] = NODATA_U8
                confidence[i, j] = NODATA_U8
                continue
            is_water = (v < limit and f > 0.0) or (use_new and new_water[i, j] == 1)
            nv += 1
            distance = (reference - v) / water_spread if is_water else (v - reference) / land_spread
            c = 50.0 if distance < 0 else 50.0 + 50.0 * min(distance, 1.0)
            out[i, j] = WATER if is_water else DRY
            nw += is_water
            level = round(c * scale)
            confidence[i, j] = level
            total += level
        counts[i, 0] = nw
        counts[i, 1] = nv
        counts[i, 2] = total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def memberships(first: F32, second: F32, scales: F64, mean: F32, half_difference: F32) -> None:
    """Per pixel: the mean and half the difference of two bands' linear memberships.

    A band's membership is ``(x - t) / s``: 0 at its threshold ``t``, -1 at its water mean
    (``s`` = threshold - water mean), NaN where either band is NaN. `scales` holds
    [t_first, s_first, t_second, s_second]; `half_difference` may be empty (not computed).
    """
    t0, s0, t1, s1 = scales[0], scales[1], scales[2], scales[3]
    a0, b0 = np.float32(0.5 / s0), np.float32(-0.5 * t0 / s0)
    a1, b1 = np.float32(0.5 / s1), np.float32(-0.5 * t1 / s1)
    rows, cols = first.shape
    difference = half_difference.size > 0
    for i in range(rows):
        for j in range(cols):
            u0 = first[i, j] * a0 + b0
            u1 = second[i, j] * a1 + b1
            mean[i, j] = u0 + u1
            if difference:
                half_difference[i, j] = u0 - u1
