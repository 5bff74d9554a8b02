"""classify end to end: no-water and prior paths, change detection, fusion, confidence, dicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from s1flood.classification import ClassificationResult, classify

from helpers import bimodal_scene, read, write_tif


def speckled(rng, db: np.ndarray) -> np.ndarray:
    return (10 ** (db / 10) * rng.gamma(4.4, 1 / 4.4, db.shape)).astype(np.float32)


def test_dry_scene_is_all_dry_not_refused(tmp_path, rng):
    r, c = np.mgrid[0:300, 0:300]
    land = np.where((r // 50 + c // 50) % 2 == 0, -11.0, -7.0)
    result = classify(write_tif(tmp_path / "dry.tif", speckled(rng, land)), tmp_path / "w.tif")
    assert result.path == "no-water"
    assert "no tile shows water and land" in result.reason
    assert (read(result.mask) == 0).all()
    record = json.loads(result.sidecar.read_text())
    assert record["path"] == "no-water"
    assert record["water_threshold_db"] is None  # -inf: nothing is water
    assert record["pixels"]["water"] == 0
    assert 50 < result.mean_confidence <= 100


def test_uniformly_dark_scene_takes_the_prior_threshold_at_low_confidence(tmp_path, rng):
    dark = np.full((256, 256), -24.0)
    dark[:, 254:] = -8.0  # a strip of land, too little in any tile for a split
    result = classify(
        write_tif(tmp_path / "d.tif", speckled(rng, dark), descriptions=["VV"]),
        tmp_path / "w.tif",
        smoothing=0,
        refine=0,
    )
    assert result.path == "prior"
    assert result.water_threshold_db == -18.0
    mask = read(result.mask)
    assert (mask[:, :250] == 1).mean() > 0.9
    confidence = read(result.confidence)
    assert confidence.max() <= 50
    assert result.mean_confidence <= 50


def test_confidence_cog_beside_the_mask(tmp_path, rng):
    linear, truth = bimodal_scene(rng, (300, 300))
    result = classify(write_tif(tmp_path / "s.tif", linear), tmp_path / "w.tif")
    assert result.path == "split"
    confidence = read(result.confidence)
    assert confidence.dtype == np.uint8
    assert confidence.min() >= 50
    assert confidence.max() <= 100
    # far from the threshold: confident; the mean is in the sidecar
    assert np.median(confidence[truth]) >= 90
    assert json.loads(result.sidecar.read_text())["mean_confidence"] == result.mean_confidence


def test_change_detection_finds_the_new_water(tmp_path, rng):
    r, c = np.mgrid[0:300, 0:300]
    river = np.abs(c - 60) < 15
    flood = (c >= 150) & (c < 220) & (r > 50) & (r < 250)
    before = np.where(river, -22.0, -9.0)
    after = np.where(river | flood, -22.0, -9.0)
    after[flood & (c > 200)] = -16.0  # shallow, rough flood water: above the threshold
    ref = write_tif(tmp_path / "before.tif", speckled(rng, before))
    src = write_tif(tmp_path / "after.tif", speckled(rng, after))
    result = classify(src, tmp_path / "w.tif", reference=ref)
    new = read(result.change)
    iou = ((new == 1) & flood).sum() / ((new == 1) | flood).sum()
    assert iou > 0.85
    assert (new[river] == 0).mean() > 0.95  # permanent water is not new
    mask = read(result.mask)
    assert (mask[flood & (c > 205)] == 1).mean() > 0.9  # joined water through the change
    assert result.pixels["new_water"] == int((new == 1).sum())


def test_reference_on_another_grid_is_refused(tmp_path, rng):
    from s1flood.errors import InvalidOptionError

    linear, _ = bimodal_scene(rng, (200, 200))
    src = write_tif(tmp_path / "a.tif", linear)
    other = write_tif(tmp_path / "b.tif", linear[:150])
    with pytest.raises(InvalidOptionError, match="reference"):
        classify(src, tmp_path / "w.tif", reference=other)


def test_vv_and_vh_classified_together(tmp_path, rng):
    vv, truth = bimodal_scene(rng, (300, 300))
    vh = (vv * 10 ** (-0.7) * rng.gamma(4.4, 1 / 4.4, vv.shape)).astype(np.float32)
    stack = np.stack([vv, vh])
    src = write_tif(tmp_path / "s.tif", stack, descriptions=["VV", "VH"])
    result = classify(src, tmp_path / "w.tif", band="VV,VH")
    assert result.bands == ["VV", "VH"]
    assert result.rule == "dual-polarisation membership mean"
    assert [b["band"] for b in result.per_band] == ["VV", "VH"]
    mask = read(result.mask)
    assert ((mask == 1) & truth).sum() / ((mask == 1) | truth).sum() > 0.95


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"method": "kmeans"}, "method"),
        ({"tile_size": 4}, "tile_size"),
        ({"smoothing": 4}, "smoothing"),
        ({"refine": -1}, "refine"),
        ({"change_db": 0.0}, "change_db"),
        ({"band": "VV,VH,HH"}, "band"),
    ],
)
def test_bad_options_name_the_parameter(tmp_path, rng, options, parameter):
    from s1flood.errors import InvalidOptionError

    linear, _ = bimodal_scene(rng, (100, 100))
    with pytest.raises(InvalidOptionError) as caught:
        classify(write_tif(tmp_path / "s.tif", linear), tmp_path / "w.tif", **options)
    assert caught.value.parameter == parameter


def test_result_dict_round_trip(tmp_path, rng):
    linear, _ = bimodal_scene(rng, (200, 200))
    result = classify(write_tif(tmp_path / "s.tif", linear), tmp_path / "out" / "w.tif")
    record = result.to_dict(tmp_path / "out")
    assert record["mask"] == "w.tif"
    assert record["confidence"] == "w_confidence.tif"
    assert json.loads(json.dumps(record)) == record
    again = ClassificationResult.from_dict(record, tmp_path / "out")
    assert again == result


def test_refinement_grows_water_from_seeds_keeps_a_narrow_river_and_drops_lone_dark_pixels(
    tmp_path,
):
    # land at -9 dB with a lake (tiles that show water and land) and a river 3 pixels wide;
    # lone land pixels just below the threshold have no seed (pixel below the water mean) near
    db = np.full((256, 256), -9.0, dtype=np.float32)
    r, c = np.mgrid[0:256, 0:256]
    lake = (r >= 20) & (r < 80) & (c >= 20) & (c < 120)
    db[lake] = np.where((r + c) % 2 == 0, -21.0, -23.0)[lake]  # water mean -22 dB
    db[150:153, :] = -23.0  # river, 3 pixels wide
    lone = [(200, 40), (220, 180), (100, 200)]
    for r, c in lone:
        db[r, c] = -21.5  # dark land: below the threshold (-20.9 dB), above the water mean
    src = write_tif(tmp_path / "s.tif", db, units=["dB"])
    grown = read(classify(src, tmp_path / "g.tif", units="db", smoothing=0, refine=15).mask)
    plain_result = classify(src, tmp_path / "p.tif", units="db", smoothing=0, refine=0)
    plain = read(plain_result.mask)
    assert (grown[150:153] == 1).all()
    assert (grown[20:80, 20:120] == 1).all()
    assert all(grown[r, c] == 0 for r, c in lone)
    assert all(plain[r, c] == 1 for r, c in lone), plain_result.thresholds_db
    assert grown.sum() == plain.sum() - len(lone)
