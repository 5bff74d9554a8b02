"""Window-by-window classification equals the same steps on the whole array at once."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from s1flood.backscatter import Units, to_db
from s1flood.classification import classify, kernels
from s1flood.classification.passes import FIXED_RANGE_DB
from s1flood.classification.selection import TileTally, decide, prior_threshold
from s1flood.classification.thresholds import NBINS, Histogram, histogram_edges

from helpers import bimodal_scene, read, write_tif


def binned(db: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bins = np.empty(db.shape, np.int16)
    kernels.bin_block(np.ascontiguousarray(db), edges, bins, np.array([np.inf, -np.inf]))
    return bins


def nan_box_mean(values: np.ndarray, size: int) -> np.ndarray:
    valid = np.isfinite(values)
    sums = ndimage.uniform_filter(
        np.where(valid, values, 0).astype(np.float64), size, mode="constant"
    )
    counts = ndimage.uniform_filter(valid.astype(np.float64), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, sums / counts, np.nan)


def test_box_mean_kernel_equals_a_nan_aware_uniform_filter(rng):
    values = rng.normal(-12, 5, (70, 90)).astype(np.float32)
    values[rng.random(values.shape) < 0.1] = np.nan
    for size in (3, 5, 9):
        out = np.empty_like(values)
        kernels.box_mean(values, size, out)
        np.testing.assert_allclose(out, nan_box_mean(values, size), rtol=1e-4, atol=1e-4)


def whole_array(db: np.ndarray, tile: int, smoothing: int, refine: int) -> np.ndarray:
    smooth = np.empty_like(db)
    kernels.box_mean(db, smoothing, smooth)
    edges = histogram_edges(*FIXED_RANGE_DB)
    counts, pooled = np.zeros(NBINS, np.int64), np.zeros(NBINS, np.int64)
    tally = np.zeros(3, np.int64)
    kernels.tile_histograms(
        binned(smooth, edges), edges, tile, tile * tile // 2, 0.1, 3.5, -15.0, counts, pooled, tally
    )
    decision = decide(
        "split",
        Histogram(counts, edges),
        Histogram(pooled, edges),
        TileTally(*map(int, tally)),
        prior_threshold([""]),
        3,
        None,
    )
    valid = np.isfinite(smooth)
    seeds = np.where(valid, smooth < decision.seed_threshold_db, np.nan).astype(np.float32)
    near_seed = np.empty_like(smooth)
    kernels.box_mean(seeds, refine, near_seed)
    water = (smooth < decision.threshold_db) & (near_seed > 0)
    return np.where(valid, water, 255).astype(np.uint8)


def test_windows_do_not_change_the_mask(tmp_path, rng):
    # 1100 rows: three windows of 512, 512 and 76 rows, with halos across their edges
    linear, _ = bimodal_scene(rng, (1100, 300))
    linear[500:530, 100:140] = np.nan
    src = write_tif(tmp_path / "s.tif", linear)
    result = classify(src, tmp_path / "w.tif", units="linear", workers=2)
    db = to_db(linear, Units.LINEAR)
    expected = whole_array(db, 32, 5, 9)
    np.testing.assert_array_equal(read(result.mask), expected)
