"""Both polarisations: the dual-polarisation rule, band choice, tiled terrain exclusion, masks.

Known answers on small synthetic two-band rasters (VV and VH, Gamma speckle): the rule's
memberships, water the VV threshold misses (wind-roughened) but VH shows, dark VH-only bare
soil kept dry, both bands without water all dry; ``band=auto``; one-line errors; an exclusion
mask on another grid; HAND by haloed tiles against HAND in one piece.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1flood.classification import classify, dualpol, exclusion, kernels
from s1flood.cli import main
from s1flood.raster import Grid

from helpers import UTM33, read, transform, write_tif

WATER_VV, WATER_VH = -22.0, -28.0
LAND_VV, LAND_VH = (-10.0, -7.0), (-17.0, -14.0)


def speckled(rng: np.random.Generator, db: np.ndarray) -> np.ndarray:
    return (10 ** (db / 10) * rng.gamma(4.4, 1 / 4.4, db.shape)).astype(np.float32)


def scene(rng: np.random.Generator, shape=(320, 320)):
    """VV and VH of water (a band on the left), land in two field types; the truth."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    water = cols < shape[1] * (0.3 + 0.05 * np.sin(rows / 20.0))
    fields = (rows // 40 + cols // 40) % 2 == 0
    vv = np.where(water, WATER_VV, np.where(fields, *LAND_VV))
    vh = np.where(water, WATER_VH, np.where(fields, *LAND_VH))
    return vv, vh, water, rows, cols


def two_band(path, rng, vv_db, vh_db, descriptions=("VV", "VH")):
    stack = np.stack([speckled(rng, vv_db), speckled(rng, vh_db)])
    return write_tif(path, stack, descriptions=list(descriptions) if descriptions else None)


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    water = mask == 1
    return float((water & truth).sum() / (water | truth).sum())


def test_memberships_are_zero_at_each_threshold_and_minus_one_at_the_water_mean() -> None:
    vv = np.array([[-15.0, -20.0, -10.0, np.nan]], np.float32)
    vh = np.array([[-22.0, -25.0, -22.0, -30.0]], np.float32)
    mean, half = np.empty_like(vv), np.empty_like(vv)
    # VV: threshold -15, water mean -20 (scale 5); VH: threshold -22, water mean -25 (scale 3)
    kernels.memberships(vv, vh, np.array([-15.0, 5.0, -22.0, 3.0]), mean, half)
    np.testing.assert_allclose(mean[0, :3], [0.0, -1.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(half[0, :3], [0.0, 0.0, 0.5], atol=1e-6)
    assert np.isnan(mean[0, 3])


def test_auto_classifies_both_bands_and_records_each_threshold(tmp_path, rng) -> None:
    vv, vh, water, _, _ = scene(rng)
    src = two_band(tmp_path / "s.tif", rng, vv, vh)
    result = classify(src, tmp_path / "w.tif")
    assert result.polarisations == ["VV", "VH"]
    assert result.rule == "dual-polarisation membership mean"
    assert result.path == "split"
    assert iou(read(result.mask), water) > 0.95
    record = json.loads(result.sidecar.read_text())
    bands = {b["band"]: b for b in record["per_band"]}
    assert set(bands) == {"VV", "VH"}
    # each band's own threshold lies between its water and its land levels
    assert WATER_VV < bands["VV"]["threshold_db"] < LAND_VV[0]
    assert WATER_VH < bands["VH"]["threshold_db"] < LAND_VH[0]
    assert all(b["path"] == "split" for b in bands.values())
    assert record["advisory"] == ""
    with rasterio.open(result.mask) as m:
        tags = m.tags()
    assert tags["polarisations"] == "VV,VH"
    assert float(tags["water_threshold_db_VH"]) == pytest.approx(
        bands["VH"]["threshold_db"], abs=1e-3
    )


def test_water_roughened_in_vv_is_kept_by_vh(tmp_path, rng) -> None:
    vv, vh, water, rows, _ = scene(rng)
    rough = water & (rows % 24 < 8)  # wind streaks: VV of this water near land, VH dark
    vv = np.where(rough, -14.0, vv)
    vh = np.where(rough, -26.0, vh)
    src = two_band(tmp_path / "s.tif", rng, vv, vh)
    alone = read(classify(src, tmp_path / "vv.tif", band="VV").mask)
    both = classify(src, tmp_path / "w.tif", band="VV,VH")
    mask = read(both.mask)
    assert (alone[rough] == 1).mean() < 0.3
    assert (mask[rough] == 1).mean() > 0.8
    assert iou(mask, water) > iou(alone, water) + 0.1
    assert both.disagreement["VH_only_water"] > both.disagreement["VV_only_water"]


def test_advisory_when_the_bands_disagree_on_a_large_area() -> None:
    assert dualpol.advisory(["VV", "VH"], 10, 10, 1000) == ""
    text = dualpol.advisory(["VV", "VH"], 50, 150, 1000)
    assert text.startswith("VV and VH disagree on 20.0 % of the valid pixels")
    assert "VH alone calls 15.0 % water" in text
    assert "VV alone calls 5.0 %" in text


def test_bare_soil_dark_only_in_vh_stays_dry(tmp_path, rng) -> None:
    vv, vh, water, _, cols = scene(rng)
    bare = (~water) & (cols > 240)  # bare soil: VV like land, VH close to water
    vh = np.where(bare, -24.5, vh)
    src = two_band(tmp_path / "s.tif", rng, vv, vh)
    alone = read(classify(src, tmp_path / "vh.tif", band="VH").mask)
    mask = read(classify(src, tmp_path / "w.tif").mask)
    assert (alone[bare] == 1).mean() > 0.1  # VH alone takes some of it for water
    assert (mask[bare] == 1).mean() < 0.02
    assert iou(mask, water) > 0.95


def test_both_bands_without_water_map_all_dry(tmp_path, rng) -> None:
    rows, cols = np.mgrid[0:256, 0:256]
    fields = (rows // 40 + cols // 40) % 2 == 0
    src = two_band(tmp_path / "s.tif", rng, np.where(fields, *LAND_VV), np.where(fields, *LAND_VH))
    result = classify(src, tmp_path / "w.tif")
    assert result.path == "no-water"
    assert [b["path"] for b in result.per_band] == ["no-water", "no-water"]
    assert (read(result.mask) == 0).all()


def test_one_band_raster_is_classified_as_before(tmp_path, rng) -> None:
    vv, _, water, _, _ = scene(rng)
    src = write_tif(tmp_path / "s.tif", speckled(rng, vv), descriptions=["VV"])
    result = classify(src, tmp_path / "w.tif")
    assert result.rule == "one band"
    assert result.polarisations == ["VV"]
    assert result.per_band[0]["threshold_db"] == result.water_threshold_db
    assert iou(read(result.mask), water) > 0.95


def test_two_bands_without_descriptions(tmp_path, rng, capsys) -> None:
    vv, vh, _, _, _ = scene(rng, (128, 128))
    src = two_band(tmp_path / "s.tif", rng, vv, vh, descriptions=None)
    # auto: without polarisations the first band alone
    assert classify(src, tmp_path / "a.tif").rule == "one band"
    code = main(["-q", "classify", str(src), str(tmp_path / "w.tif"), "--band", "VV,VH"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1
    assert "no band 'VV'" in err[0]
    assert not (tmp_path / "w.tif").exists()


def test_cli_says_each_band_threshold_the_exclusions_and_the_advisory(tmp_path, rng, capsys):
    vv, vh, water, rows, cols = scene(rng, (256, 256))
    vv = np.where(water & (rows % 24 < 14), -14.0, vv)  # VV roughened on most of the water
    src = two_band(tmp_path / "s.tif", rng, vv, vh)
    flags = write_tif(tmp_path / "flags.tif", (cols > 200).astype(np.uint8))
    assert main(["-q", "classify", str(src), str(tmp_path / "w.tif"), "--exclusion", flags]) == 0
    out = capsys.readouterr().out.splitlines()
    record = json.loads((tmp_path / "w.json").read_text())
    assert out[1].startswith("VV, VH (dual-polarisation membership mean, split): split;")
    for line, band in zip(out[2:4], record["per_band"], strict=True):
        assert line.strip().startswith(f"{band['band']}: water below {band['threshold_db']:.2f} dB")
    flagged = record["excluded_km2"]["mask"]
    assert flagged == pytest.approx(55 * 256 * 1e-4)  # 10 m pixels
    assert out[4] == f"  excluded (nodata): exclusion mask {flagged:.3f} km²"
    assert record["advisory"]
    assert out[5] == f"  advisory: {record['advisory']}"


def test_exclusion_mask_on_another_grid_is_warped_nearest(tmp_path, rng) -> None:
    vv, vh, _, _, _ = scene(rng, (200, 200))
    src = two_band(tmp_path / "s.tif", rng, vv, vh)
    # a 20 m mask, shifted: its non-zero right half covers columns >= 100 of the 10 m grid
    t = transform()
    coarse = Affine(20.0, 0.0, t.c, 0.0, -20.0, t.f)
    flags = np.zeros((100, 100), np.uint8)
    flags[:, 50:] = 1
    mask = write_tif(tmp_path / "flags.tif", flags, crs=UTM33, affine=coarse)
    result = classify(src, tmp_path / "w.tif", exclusion=mask)
    out = read(result.mask)
    assert (out[:, 100:] == 255).all()
    assert (out[:, :100] != 255).all()
    assert result.excluded_pixels["mask"] == 200 * 100


def test_hand_in_haloed_tiles_matches_one_piece(monkeypatch) -> None:
    rows, cols = np.mgrid[0:300, 0:300].astype(np.float32)
    # a valley draining south, side slopes, a steep ridge in the east
    heights = 20.0 + 0.2 * np.abs(cols - 120) + 0.05 * (300 - rows)
    heights = np.where(cols > 230, heights + 2.0 * (cols - 230), heights).astype(np.float32)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        dem = write_tif(Path(tmp) / "dem.tif", heights)
        with rasterio.open(dem) as src:
            grid = Grid.of(src)
        whole, whole_counts = exclusion.exclusion_mask(grid, dem, None, 15.0, 10.0)
        monkeypatch.setattr(exclusion, "TILE", 64)
        monkeypatch.setattr(exclusion, "HALO", 100)
        tiled, tiled_counts = exclusion.exclusion_mask(grid, dem, None, 15.0, 10.0)
    assert whole is not None
    assert tiled is not None
    assert whole_counts["slope"] == tiled_counts["slope"] > 0
    assert whole_counts["hand"] > 0
    assert np.mean(whole == tiled) > 0.99
