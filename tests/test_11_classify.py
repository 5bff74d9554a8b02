"""Water classification of backscatter GeoTIFFs: accuracy, outputs, units, bands, nodata."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from s1flood import classify
from s1flood.errors import (
    BandNotFoundError,
    DegenerateInputError,
    OutputExistsError,
    UnitsUndecidedError,
)

from helpers import bimodal_scene, read, transform, write_tif


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture
def scene(tmp_path, rng):
    linear, water = bimodal_scene(rng, (600, 500))
    return write_tif(tmp_path / "sigma0.tif", linear, descriptions=["VV"]), water


def test_water_iou_against_truth_with_grdh_speckle(scene, tmp_path):
    path, truth = scene
    result = classify(path, tmp_path / "water.tif")
    mask = read(result.mask)
    assert set(np.unique(mask)) <= {0, 1}
    assert iou(mask == 1, truth) >= 0.95
    # the water threshold sits between water (-22 dB) and land (-10 dB)
    assert -20 < result.water_threshold_db < -12


def test_output_is_a_cog_on_the_input_grid_with_sidecar_and_png(scene, tmp_path):
    path, _ = scene
    result = classify(path, tmp_path / "out" / "water.tif")
    with rasterio.open(result.mask) as src, rasterio.open(path) as ref:
        assert src.dtypes[0] == "uint8"
        assert src.nodata == 255
        assert src.crs == ref.crs
        assert src.transform == ref.transform
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.profile["tiled"]
        assert src.overviews(1)
    record = json.loads(result.sidecar.read_text())
    assert record["thresholds_db"] == result.thresholds_db
    assert record["units"] == "linear"
    assert record["band"] == 1
    assert record["classes"] == 3
    water = int((read(result.mask) == 1).sum())
    assert record["pixels"]["water"] == water
    assert record["water_area_km2"] == pytest.approx(water * 100 / 1e6)
    assert result.histogram_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    leftovers = [p.name for p in result.mask.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_db_input_gives_same_mask_as_linear(scene, tmp_path):
    path, _ = scene
    linear = read(path)
    db_path = write_tif(tmp_path / "db.tif", (10 * np.log10(linear)).astype(np.float32))
    from_linear = classify(path, tmp_path / "a.tif")
    from_db = classify(db_path, tmp_path / "b.tif")
    assert from_db.units == "db"
    assert from_db.thresholds_db == from_linear.thresholds_db
    np.testing.assert_array_equal(read(from_db.mask), read(from_linear.mask))


def test_nodata_nan_and_non_positive_pixels_become_255(tmp_path, rng):
    linear, _ = bimodal_scene(rng, (300, 300))
    linear[:10] = -9999
    linear[10:20] = np.nan
    linear[20:30] = 0.0
    linear[30:40] = -0.01
    path = write_tif(tmp_path / "s.tif", linear, nodata=-9999)
    result = classify(path, tmp_path / "w.tif", units="linear")
    mask = read(result.mask)
    assert (mask[:40] == 255).all()
    assert set(np.unique(mask[40:])) <= {0, 1}
    assert result.pixels["nodata"] == 40 * 300


def test_units_from_band_metadata_and_band_by_description(tmp_path, rng):
    vv, truth = bimodal_scene(rng, (300, 300))
    vh = (vv * 0.2).astype(np.float32)
    stack = np.stack([10 * np.log10(vh), 10 * np.log10(vv)]).astype(np.float32)
    path = write_tif(tmp_path / "s.tif", stack, descriptions=["VH", "VV"], units=["dB", "dB"])
    result = classify(path, tmp_path / "w.tif", band="vv")
    assert result.band == 2
    assert (result.units, result.units_source) == ("db", "band metadata")
    assert iou(read(result.mask) == 1, truth) > 0.95
    with pytest.raises(BandNotFoundError, match=r"no band 'HH'.*1 \(VH\), 2 \(VV\)"):
        classify(path, tmp_path / "x.tif", band="HH")
    with pytest.raises(BandNotFoundError):
        classify(path, tmp_path / "x.tif", band=3)


def test_amplitude_like_values_are_not_guessed(tmp_path, rng):
    path = write_tif(tmp_path / "dn.tif", rng.integers(50, 3000, (200, 200)).astype(np.uint16))
    with pytest.raises(UnitsUndecidedError, match="set units"):
        classify(path, tmp_path / "w.tif")


def test_degenerate_inputs_are_refused(tmp_path, rng):
    constant = write_tif(tmp_path / "c.tif", np.full((100, 100), -12.0, np.float32))
    with pytest.raises(DegenerateInputError, match="constant raster"):
        classify(constant, tmp_path / "c_w.tif")
    few = np.full((100, 100), np.nan, np.float32)
    few[0, :50] = -20
    few[1, :50] = -8
    with pytest.raises(DegenerateInputError, match="only 100 valid pixels"):
        classify(write_tif(tmp_path / "f.tif", few), tmp_path / "f_w.tif", units="db")
    land = (10 ** (-0.9) * rng.gamma(4.4, 1 / 4.4, (300, 300))).astype(np.float32)
    land_path = write_tif(tmp_path / "l.tif", land)
    with pytest.raises(DegenerateInputError, match="no bimodality"):
        classify(land_path, tmp_path / "l_w.tif", method="multiotsu")
    assert not (tmp_path / "l_w.tif").exists()
    forced = classify(land_path, tmp_path / "l_w.tif", method="multiotsu", allow_unimodal=True)
    assert forced.bimodality["ashman_d"] < 3.5


def test_existing_output_is_kept_unless_overwrite(scene, tmp_path):
    path, _ = scene
    out = tmp_path / "water.tif"
    out.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        classify(path, out)
    assert out.read_bytes() == b"precious"
    classify(path, out, overwrite=True)
    assert read(out).dtype == np.uint8


def test_geographic_grid_water_area(tmp_path, rng):
    linear, _truth = bimodal_scene(rng, (300, 300))
    deg = transform(pixel=1 / 3600, origin=(12.45, 42.05))
    path = write_tif(tmp_path / "geo.tif", linear, crs="EPSG:4326", affine=deg)
    result = classify(path, tmp_path / "w.tif")
    # a 1" pixel at 42°N is about 30.9 m (N-S) x 22.9 m (E-W)
    water = result.pixels["water"]
    assert result.water_area_km2 == pytest.approx(water * 30.87 * 22.99 / 1e6, rel=0.01)
