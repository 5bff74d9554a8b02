"""Block-wise histograms and thresholds equal whole-array ones; degenerate inputs are refused."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.filters import threshold_multiotsu

from s1flood import kernels
from s1flood.backscatter import Units, to_db
from s1flood.classification import (
    NBINS,
    Histogram,
    bimodality,
    histogram_edges,
    multiotsu_thresholds,
)
from s1flood.errors import DegenerateInputError
from s1flood.parallel import ordered_map


def finite_range(block: np.ndarray) -> tuple[np.float32, np.float32, int]:
    copy = np.empty_like(block)
    count = kernels.prepare_db(np.ascontiguousarray(block), copy, 0.0, False, False)
    return np.fmin.reduce(copy, axis=None), np.fmax.reduce(copy, axis=None), count


def blockwise_histogram(db: np.ndarray, rows: int) -> Histogram:
    lo, hi = np.float32(np.inf), np.float32(-np.inf)
    for top in range(0, db.shape[0], rows):
        block_lo, block_hi, count = finite_range(db[top : top + rows])
        if count:
            lo, hi = min(lo, block_lo), max(hi, block_hi)
    edges = histogram_edges(lo, hi)
    counts = np.zeros(NBINS, dtype=np.int64)
    for top in range(0, db.shape[0], rows):
        kernels.accumulate_histogram(np.ascontiguousarray(db[top : top + rows]), edges, counts)
    return Histogram(counts, edges)


def test_histogram_kernel_equals_numpy_on_awkward_values(rng):
    values = rng.normal(-12, 6, size=(300, 257)).astype(np.float32)
    values[::7, ::5] = values.min()  # many values exactly on the first edge
    values[3, 3] = values.max() + 1  # the last edge is inclusive
    values[::11, ::3] = np.nan
    finite = values[np.isfinite(values)]
    expected, expected_edges = np.histogram(finite, bins=NBINS, range=(finite.min(), finite.max()))
    histogram = blockwise_histogram(values, rows=37)
    np.testing.assert_array_equal(histogram.edges, expected_edges)
    np.testing.assert_array_equal(histogram.counts, expected)
    # values exactly on interior edges land where numpy puts them
    on_edges = np.tile(histogram.edges[:-1], (4, 1)).astype(np.float32)
    counts = np.zeros(NBINS, dtype=np.int64)
    kernels.accumulate_histogram(on_edges, histogram.edges, counts)
    np.testing.assert_array_equal(counts, np.histogram(on_edges, bins=histogram.edges)[0])


@pytest.mark.parametrize("classes", [2, 3, 4])
@pytest.mark.parametrize("rows", [1, 64, 1000])
def test_blockwise_thresholds_equal_whole_array(rng, classes, rows):
    from helpers import bimodal_scene

    linear, _ = bimodal_scene(rng, (500, 300))
    linear[:20] = 0.0  # non-positive linear values are nodata
    db = to_db(linear, Units.LINEAR)
    whole = threshold_multiotsu(db[np.isfinite(db)], classes=classes)
    blockwise = multiotsu_thresholds(blockwise_histogram(db, rows), classes)
    assert blockwise == [float(t) for t in whole]


def test_unimodal_speckled_land_is_not_bimodal(rng):
    linear = 10 ** (np.where(rng.random((400, 400)) < 0.5, -1.0, -0.7) / 1) * rng.gamma(
        4.4, 1 / 4.4, (400, 400)
    )
    db = to_db(linear.astype(np.float32), Units.LINEAR)
    histogram = blockwise_histogram(db, 100)
    separation = bimodality(histogram, multiotsu_thresholds(histogram, 3))
    assert not separation.bimodal
    assert separation.ashman_d < 3.2


def test_water_and_land_is_bimodal(rng):
    from helpers import bimodal_scene

    linear, _ = bimodal_scene(rng)
    histogram = blockwise_histogram(to_db(linear, Units.LINEAR), 100)
    separation = bimodality(histogram, multiotsu_thresholds(histogram, 3))
    assert separation.bimodal
    assert separation.valley_ratio < 0.3
    assert separation.ashman_d > 4


def test_too_few_distinct_values_is_degenerate():
    values = np.repeat(np.array([[-20.0, -10.0]], dtype=np.float32), 50, axis=0)
    histogram = blockwise_histogram(values, 10)
    with pytest.raises(DegenerateInputError, match="only 2 distinct"):
        multiotsu_thresholds(histogram, 3)


def test_ordered_map_keeps_order_with_threads():
    import time

    def slow_square(x: int) -> int:
        time.sleep(0.001 * (x % 3))
        return x * x

    assert list(ordered_map(slow_square, range(50), workers=4)) == [x * x for x in range(50)]
