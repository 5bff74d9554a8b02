"""HAND and slope on synthetic DEMs with a known channel; DEM-based exclusion in classify."""

from __future__ import annotations

import json

import numpy as np
import pytest

from s1flood.classification import classify
from s1flood.classification.hand import height_above_drainage, slope_degrees

from helpers import bimodal_scene, read, write_tif


def valley(rows: int = 120, cols: int = 161, side: float = 0.5, fall: float = 0.01) -> np.ndarray:
    """A V valley: a channel down column 80 falling `fall` m per row, sides rising `side`."""
    r, c = np.mgrid[0:rows, 0:cols]
    return (100.0 + side * np.abs(c - cols // 2) + fall * (rows - r)).astype(np.float32)


def test_hand_is_the_height_above_the_valley_channel():
    dem = valley()
    hand = height_above_drainage(dem, channel_cells=500)
    # the channel, once it drains 500 cells; upstream of that, the height above where it starts
    assert np.allclose(hand[40:, 80], 0.0, atol=1e-3)
    assert hand[10, 80] > 0.05
    # a cell k columns off the channel drains diagonally down to it, k rows downstream:
    # side * k above the channel's height beside it, plus the fall along those k rows
    for k in (5, 20, 40):
        expected = 0.5 * k + 0.01 * k
        assert hand[60, 80 + k] == pytest.approx(expected, abs=0.02)
        assert hand[60, 80 - k] == pytest.approx(expected, abs=0.02)


def test_hand_fills_a_pit_and_keeps_nodata():
    dem = valley()
    dem[60, 40] -= 30.0  # a one-cell pit on the valley side
    dem[0:5, 0:5] = np.nan
    hand = height_above_drainage(dem, channel_cells=500)
    assert np.isnan(hand[0:5, 0:5]).all()
    assert np.isfinite(hand[5:, :]).all()
    assert (hand[5:, :] >= 0).all()
    assert hand[60, 40] == pytest.approx(0.0, abs=1e-3)  # below its surroundings


def test_slope_of_a_plane():
    _r, c = np.mgrid[0:50, 0:50]
    dem = (c * 10.0 * np.tan(np.radians(20))).astype(np.float32)  # 20 degrees across 10 m cells
    assert np.allclose(slope_degrees(dem, 10.0, 10.0), 20.0, atol=1e-3)


def test_dark_hillside_is_excluded_when_the_dem_is_given(tmp_path, rng):
    linear, truth = bimodal_scene(rng, (300, 300))
    r, c = np.mgrid[0:300, 0:300]
    # a river valley floor at 100 m on the left, a steep hill (to 400 m) on the right
    dem = (100.0 + np.clip(c - 200, 0, None) * 3.0 + 0.001 * r).astype(np.float32)
    hillside = (c > 230) & (r < 100)
    linear[hillside] = (10 ** (-2.3) * rng.gamma(4.4, 1 / 4.4, hillside.sum())).astype(
        np.float32
    )  # radar shadow: as dark as water
    src = write_tif(tmp_path / "s.tif", linear, descriptions=["VV"])
    dem_path = write_tif(tmp_path / "dem.tif", dem)
    plain = read(classify(src, tmp_path / "plain.tif").mask)
    assert (plain[hillside] == 1).mean() > 0.9  # without the DEM the shadow is water
    result = classify(src, tmp_path / "w.tif", dem=dem_path)
    mask = read(result.mask)
    assert (mask[hillside] == 255).all()  # excluded: nodata, not dry
    assert (mask[c < 190] != 255).all()  # the valley floor is kept
    record = json.loads(result.sidecar.read_text())
    assert record["pixels"]["excluded"] == int((mask == 255).sum())
    assert record["pixels"]["excluded_hand"] > 0
    kept = mask != 255
    iou = ((mask == 1) & truth & kept).sum() / (((mask == 1) | truth) & kept).sum()
    assert iou > 0.9
