"""Known answers of the split method: thresholds, tile selection and the decision paths."""

from __future__ import annotations

import numpy as np
import pytest

from s1flood.classification import kernels
from s1flood.classification.selection import TileTally, decide, prior_threshold
from s1flood.classification.thresholds import (
    NBINS,
    Histogram,
    class_stats,
    histogram_edges,
    kittler_index,
    otsu_index,
)


def binned(db: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bins = np.empty(db.shape, np.int16)
    kernels.bin_block(np.ascontiguousarray(db), edges, bins, np.array([np.inf, -np.inf]))
    return bins


def histogram_of(values: np.ndarray, lo: float = -35.0, hi: float = 5.0) -> Histogram:
    edges = histogram_edges(lo, hi)
    counts, _ = np.histogram(values[np.isfinite(values)], bins=edges)
    return Histogram(counts.astype(np.int64), edges)


def two_gaussians(rng, water: int, land: int) -> np.ndarray:
    return np.concatenate([rng.normal(-22, 1.5, water), rng.normal(-9, 2.0, land)])


def test_otsu_and_kittler_split_two_gaussians_between_the_modes(rng):
    histogram = histogram_of(two_gaussians(rng, 30_000, 70_000))
    for index in (otsu_index(histogram.counts), kittler_index(histogram.counts)):
        assert -19 < histogram.edges[index] < -13
    stats = class_stats(histogram, float(histogram.edges[otsu_index(histogram.counts)]))
    assert stats.water_fraction == pytest.approx(0.3, abs=0.01)
    assert stats.water_mean_db == pytest.approx(-22, abs=0.2)
    assert stats.ashman_d > 6


def test_kittler_follows_a_small_water_class_better_than_otsu(rng):
    # 3 % water: Otsu is pulled into the land mode, the minimum-error split is not
    histogram = histogram_of(two_gaussians(rng, 3_000, 97_000))
    assert histogram.edges[kittler_index(histogram.counts)] < -15
    assert (
        histogram.edges[otsu_index(histogram.counts)]
        > histogram.edges[kittler_index(histogram.counts)]
    )


def tiles_of(rng, layout: list[list[str]], tile: int = 32) -> np.ndarray:
    """A dB block made of tiles: 'L' land only, 'M' half water half land, 'W' water only."""
    rows = []
    for line in layout:
        blocks = []
        for kind in line:
            land = rng.normal(-9, 2.0, (tile, tile))
            water = rng.normal(-22, 1.5, (tile, tile))
            if kind == "W":
                blocks.append(water)
            elif kind == "M":
                blocks.append(np.where(np.arange(tile) < tile // 2, water, land))
            else:
                blocks.append(land)
        rows.append(np.hstack(blocks))
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


def select(db: np.ndarray, tile: int = 32, water_max_db: float = -15.0) -> tuple:
    edges = histogram_edges(np.nanmin(db), np.nanmax(db))
    counts = np.zeros(NBINS, np.int64)
    pooled = np.zeros(NBINS, np.int64)
    tally = np.zeros(3, np.int64)
    kernels.tile_histograms(
        binned(db, edges),
        edges,
        tile,
        tile * tile // 2,
        0.1,
        3.0,
        water_max_db,
        counts,
        pooled,
        tally,
    )
    return Histogram(counts, edges), Histogram(pooled, edges), TileTally(*map(int, tally))


def test_only_tiles_with_both_classes_are_selected(rng):
    db = tiles_of(rng, [["L", "M", "W", "L"], ["M", "L", "L", "W"]])
    db[0, :5] = np.nan
    scene, pooled, tally = select(db)
    assert (tally.tiles, tally.with_enough_data, tally.selected) == (8, 8, 2)
    assert scene.counts.sum() == np.isfinite(db).sum()
    assert pooled.counts.sum() == 2 * 32 * 32
    # the pooled histogram is half water: its Otsu threshold lies between the modes
    assert -19 < pooled.edges[otsu_index(pooled.counts)] < -13


def test_tiles_need_valid_pixels_and_a_dark_class_that_could_be_water(rng):
    db = tiles_of(rng, [["M", "M"]])
    db[:, :32][:, :20] = np.nan  # first tile: under half valid
    assert select(db)[2].with_enough_data == 1
    brighter = tiles_of(rng, [["M", "M"]]) + 10.0  # the dark class at -12 dB is not water
    assert select(brighter)[2].selected == 0


def test_unimodal_speckled_land_selects_no_tile(rng):
    linear = 10 ** (-0.9) * rng.gamma(4.4, 1 / 4.4, (256, 256))
    db = (10 * np.log10(linear)).astype(np.float32)
    assert select(db)[2].selected == 0


def test_decision_paths(rng):
    water_and_land = tiles_of(rng, [["M", "L"], ["L", "W"]])
    scene, pooled, tally = select(water_and_land)
    split = decide("split", scene, pooled, tally, -18.0, 3, None)
    assert split.path == "split"
    assert "1 of 4 tiles" in split.reason
    land = tiles_of(rng, [["L", "L"], ["L", "L"]])
    scene, pooled, tally = select(land)
    dry = decide("split", scene, pooled, tally, -18.0, 3, None)
    assert (dry.path, dry.threshold_db, dry.reference_threshold_db) == ("no-water", -np.inf, -18)
    assert "prior water threshold -18 dB" in dry.reason
    # mostly dark, no tile with both classes: the prior threshold, at half confidence
    dark = tiles_of(rng, [["W", "W"], ["W", "L"]])
    scene, pooled, tally = select(dark)
    prior = decide("split", scene, pooled, tally, -18.0, 3, None)
    assert (prior.path, prior.threshold_db, prior.confidence_scale) == ("prior", -18.0, 0.5)
    fixed = decide("split", scene, pooled, tally, -18.0, 3, -16.5)
    assert (fixed.path, fixed.threshold_db) == ("fixed", -16.5)


def test_prior_thresholds_per_polarisation():
    assert prior_threshold(["VV"]) == -18.0
    assert prior_threshold(["VH"]) == -24.0
    assert prior_threshold(["VV", "VH"]) == -21.0
    assert prior_threshold([""]) == -18.0
