"""Aggregation of water masks: frequency = water / valid, classes, grids, many masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from s1flood import aggregate
from s1flood.errors import EmptyInputError, InvalidMaskError, InvalidOptionError, cli_flag

from helpers import read, transform, write_tif


def masks(tmp_path, arrays, **kwargs):
    return [
        write_tif(tmp_path / f"m{i:03d}.tif", a.astype(np.uint8), nodata=255, **kwargs)
        for i, a in enumerate(arrays)
    ]


def test_frequency_is_water_over_valid_and_unobserved_is_nodata(tmp_path):
    a = np.array([[1, 1, 0, 255], [1, 0, 0, 255]])
    b = np.array([[1, 255, 0, 255], [0, 0, 1, 255]])
    c = np.array([[1, 255, 0, 255], [1, 0, 255, 255]])
    result = aggregate(masks(tmp_path, [a, b, c]), tmp_path / "out")
    freq = read(result.outputs["frequency"])
    np.testing.assert_array_equal(read(result.outputs["water_count"]), [[3, 1, 0, 0], [2, 0, 1, 0]])
    np.testing.assert_array_equal(read(result.outputs["valid_count"]), [[3, 1, 3, 0], [3, 3, 2, 0]])
    assert freq[0, 1] == 1.0  # observed once, wet: 1.0, not 1/3
    assert freq[0, 0] == 1.0
    assert freq[1, 0] == pytest.approx(2 / 3)
    assert freq[1, 2] == 0.5
    assert np.isnan(freq[:, 3]).all()
    classes = read(result.outputs["classes"])
    np.testing.assert_array_equal(classes, [[2, 2, 0, 255], [1, 0, 1, 255]])
    with rasterio.open(result.outputs["frequency"]) as src:
        assert np.isnan(src.nodata)
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    summary = json.loads(result.outputs["summary"].read_text())
    assert summary["scene_count"] == 3
    assert summary["pixels"] == {"dry": 2, "flood_candidate": 2, "permanent_water": 2, "nodata": 2}
    assert summary["area_km2"]["permanent_water"] == pytest.approx(2 * 100 / 1e6)
    assert result.outputs["map"].read_bytes()[:4] == b"\x89PNG"


def test_class_boundaries_are_inclusive_as_documented(tmp_path):
    # ten scenes: 9 wet of 10 is permanent (>= 0.9), 1 of 10 is dry (not > 0.1)
    stack = np.zeros((10, 1, 3), dtype=np.uint8)
    stack[:9, 0, 0] = 1
    stack[:1, 0, 1] = 1
    stack[:2, 0, 2] = 1
    result = aggregate(masks(tmp_path, list(stack)), tmp_path / "out")
    np.testing.assert_array_equal(read(result.outputs["classes"]), [[2, 0, 1]])
    result = aggregate(
        masks(tmp_path, list(stack)), tmp_path / "o2", candidate=0.25, permanent=0.95
    )
    np.testing.assert_array_equal(read(result.outputs["classes"]), [[1, 0, 0]])


def test_masks_on_two_grids_are_warped_onto_the_union(tmp_path):
    # mask A: 100x100 at 10 m; mask B: 50x50 at 20 m, shifted by 500 m east and 300 m south
    a = np.zeros((100, 100), np.uint8)
    a[:, :30] = 1
    b = np.ones((50, 50), np.uint8)
    b[:, 25:] = 0
    pa = write_tif(tmp_path / "a.tif", a, nodata=255, affine=transform(10))
    pb = write_tif(
        tmp_path / "b.tif",
        b,
        nodata=255,
        affine=transform(20, origin=(290_500.0, 4_649_700.0)),
    )
    result = aggregate([pa, pb], tmp_path / "out")
    grid = result.grid
    assert grid.transform.a == 10
    assert (grid.width, grid.height) == (150, 130)  # union: 1500 m x 1300 m at 10 m
    valid = read(result.outputs["valid_count"])
    water = read(result.outputs["water_count"])
    # A alone (north-west), B alone (south-east), both, neither
    assert valid[0, 0] == 1
    assert water[0, 0] == 1
    assert valid[129, 149] == 1
    assert water[129, 149] == 0
    assert valid[50, 60] == 2
    assert water[50, 60] == 1
    assert valid[120, 10] == 0
    assert np.isnan(read(result.outputs["frequency"])[120, 10])
    summary = json.loads(result.outputs["summary"].read_text())
    assert summary["warped_masks"] == [pb.name]
    assert summary["masks"] == [pa.name, pb.name]


def test_mask_in_another_crs_and_like_reference(tmp_path):
    a = np.ones((60, 60), np.uint8)
    pa = write_tif(tmp_path / "a.tif", a, nodata=255)
    # the same area in geographic coordinates (EPSG:4326), all dry
    with rasterio.open(pa) as src:
        from rasterio.warp import calculate_default_transform

        dst_transform, w, h = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds
        )
    pb = write_tif(
        tmp_path / "b.tif",
        np.zeros((h, w), np.uint8),
        nodata=255,
        crs="EPSG:4326",
        affine=dst_transform,
    )
    result = aggregate([pa, pb], tmp_path / "out", like=pa)
    assert (result.grid.width, result.grid.height) == (60, 60)
    valid = read(result.outputs["valid_count"])
    water = read(result.outputs["water_count"])
    assert (water == 1).all()
    inner = valid[5:-5, 5:-5]
    assert (inner == 2).all()


def test_three_hundred_masks_do_not_overflow(tmp_path):
    base = np.zeros((40, 70), np.uint8)
    base[:, :35] = 1
    base[:5] = 255
    paths = masks(tmp_path, [base] * 300)
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(p.name for p in paths) + "\n")
    from s1flood.mask_sources import expand_mask_arguments

    result = aggregate(expand_mask_arguments([f"@{listing}"]), tmp_path / "out")
    water = read(result.outputs["water_count"])
    valid = read(result.outputs["valid_count"])
    assert water.dtype == np.uint16
    assert water[10, 0] == 300
    assert water[10, 50] == 0
    assert valid[10, 50] == 300
    assert valid[0, 0] == 0
    assert result.scene_count == 300


def test_bad_masks_and_options(tmp_path):
    good = masks(tmp_path, [np.zeros((20, 20))])[0]
    bad_values = write_tif(tmp_path / "bad.tif", np.full((20, 20), 7, np.uint8))
    with pytest.raises(InvalidMaskError, match="value 7"):
        aggregate([good, bad_values], tmp_path / "o1")
    wrong_type = write_tif(tmp_path / "float.tif", np.zeros((20, 20), np.float32))
    with pytest.raises(InvalidMaskError, match="float32"):
        aggregate([good, wrong_type], tmp_path / "o2")
    with pytest.raises(EmptyInputError):
        aggregate([], tmp_path / "o3")
    with pytest.raises(InvalidOptionError, match="for candidate: ") as error:
        aggregate([good], tmp_path / "o4", candidate=0.95, permanent=0.9)
    assert error.value.parameter == "candidate"
    assert "--candidate" in error.value.describe(cli_flag)
    # nothing half-written after a failure
    assert not any((tmp_path / "o1").iterdir())


def test_summary_names_masks_without_their_folders(tmp_path):
    water = np.zeros((20, 20), np.uint8)
    for folder in ("out/masks", "stg1", "stg2"):
        (tmp_path / folder).mkdir(parents=True)
    inside = write_tif(tmp_path / "out" / "masks" / "s1_water.tif", water, nodata=255)
    staged = [write_tif(tmp_path / f"stg{i}" / "s2_water.tif", water, nodata=255) for i in (1, 2)]
    result = aggregate([inside, *staged], tmp_path / "out")
    summary = json.loads(result.outputs["summary"].read_text())
    # inside the output folder: relative to it; same file names elsewhere: from their common folder
    assert summary["masks"] == ["masks/s1_water.tif", "stg1/s2_water.tif", "stg2/s2_water.tif"]
