"""The flood record: time on masks, observations, reference water, first/last/duration/episodes."""

from __future__ import annotations

import csv
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood import aggregate, classify
from s1flood.acquisition import Acquisition, of_mask
from s1flood.aggregation import aggregate as aggregate_masks
from s1flood.errors import InvalidOptionError

from helpers import ORIGIN, bimodal_scene, read, write_tif

N = 65535
DATES = ["2024-01-01T05:30:00Z", "2024-01-07T17:10:00Z", "2024-01-13T05:30:00Z",
         "2024-01-19T17:10:00Z", "2024-01-25T05:30:00Z"]  # fmt: skip
DAY = [int(datetime.fromisoformat(d.replace("Z", "+00:00")).timestamp() // 86400) for d in DATES]
# rows: pixels p0..p7; columns: the five dates (1 water, 0 dry, 255 nodata)
SERIES = np.array(
    [
        [0, 1, 1, 0, 0],  # one episode: first d1, last d2, dry d0 before, d3 after
        [0, 1, 0, 1, 0],  # two episodes
        [255, 1, 255, 0, 255],  # observed on two dates only: no dry before
        [1, 1, 1, 1, 1],  # always water: reference
        [0, 0, 0, 0, 0],  # always dry
        [255, 255, 255, 255, 255],  # never observed
        [1, 0, 0, 0, 1],  # wet at both ends: no dry before or after
        [0, 0, 1, 255, 1],  # wet at the end: no dry after
    ],
    dtype=np.uint8,
)
ORBITS = [("sentinel-1a", 95, "descending"), ("sentinel-1b", 22, "ascending")]


def write_mask(path, values, start=None, orbit=0):
    tags = {}
    if start is not None:
        platform, relative, direction = ORBITS[orbit]
        tags = Acquisition.of(start, platform, relative, direction).tags()
    return write_tif(path, values.reshape(1, -1), nodata=255, tags=tags)


def stack(tmp_path, split_third=True):
    """Five dates of two orbits; the third date's scene as two masks (two halves)."""
    paths = []
    for k, start in enumerate(DATES):
        column = SERIES[:, k].copy()
        if k == 2 and split_third:
            left, right = column.copy(), column.copy()
            left[4:], right[:4] = 255, 255
            paths.append(write_mask(tmp_path / f"c{k}a.tif", left, start, k % 2))
            later = start.replace("05:30:00", "05:30:25")
            paths.append(write_mask(tmp_path / f"c{k}b.tif", right, later, k % 2))
        else:
            paths.append(write_mask(tmp_path / f"c{k}.tif", column, start, k % 2))
    return paths[::-1]  # the order given does not matter: times do


def test_first_last_duration_episodes_by_hand(tmp_path):
    result = aggregate(stack(tmp_path), tmp_path / "out")
    out = {key: read(path)[0] for key, path in result.outputs.items() if path.suffix == ".tif"}
    np.testing.assert_array_equal(out["valid_count"], [5, 5, 2, 5, 5, 0, 5, 4])
    np.testing.assert_array_equal(out["reference_water"], [0, 0, 0, 1, 0, 255, 0, 0])
    np.testing.assert_array_equal(out["flood_extent"], [1, 1, 1, 0, 0, 255, 1, 1])
    np.testing.assert_array_equal(out["flood_count"], [2, 2, 1, 0, 0, N, 2, 2])
    d = DAY
    np.testing.assert_array_equal(out["first_flooded"], [d[1], d[1], d[1], N, N, N, d[0], d[2]])
    np.testing.assert_array_equal(out["last_flooded"], [d[2], d[3], d[1], N, N, N, d[4], d[4]])
    np.testing.assert_array_equal(out["duration_min_days"], [6, 12, 0, N, N, N, 24, 12])
    np.testing.assert_array_equal(out["duration_max_days"], [18, 24, N, N, N, N, N, N])
    np.testing.assert_array_equal(out["flood_episodes"], [1, 2, 1, 0, 0, 255, 2, 1])
    summary = json.loads(result.outputs["summary"].read_text())
    section = summary["flood_record"]
    assert section["observations"] == 5  # six masks, two of one acquisition
    assert (section["start_datetime"], section["end_datetime"]) == (DATES[0], DATES[-1])
    assert section["time_note"] == ""
    assert section["extremes"] == {
        "first_flooded": "2024-01-01", "last_flooded": "2024-01-25",
        "longest_duration_min_days": 24, "longest_duration_max_days": 24,
        "most_flood_episodes": 2,
    }  # fmt: skip
    assert summary["area_km2"]["flooded"] == pytest.approx(5e-4)
    series = section["timeseries"]
    assert [r["time"] for r in series] == DATES
    assert series[2]["masks"] == ["c2a.tif", "c2b.tif"]
    assert [r["relative_orbit"] for r in series] == [95, 22, 95, 22, 95]
    # 10 m pixels: 1e-4 km² each; date 3: p0, p7 flooded (p3 is reference water)
    assert series[2]["flooded_km2"] == pytest.approx(2e-4)
    assert series[2]["water_km2"] == pytest.approx(3e-4)
    with open(result.outputs["timeseries"], newline="") as f:
        table = list(csv.DictReader(f))
    assert [float(r["flooded_km2"]) for r in table] == [r["flooded_km2"] for r in series]
    with rasterio.open(result.outputs["first_flooded"]) as src:
        assert src.nodata == N
        assert src.tags()["units"] == "days since 1970-01-01 UTC"
        assert src.tags()["start_datetime"] == DATES[0]


def test_event_start_takes_reference_water_from_before(tmp_path):
    result = aggregate(stack(tmp_path), tmp_path / "out", event_start="2024-01-05")
    out = {key: read(path)[0] for key, path in result.outputs.items() if path.suffix == ".tif"}
    # before 2024-01-05 only d0: p3 and p6 were water then: reference; p2 unseen: by frequency
    np.testing.assert_array_equal(out["reference_water"], [0, 0, 0, 1, 0, 255, 1, 0])
    np.testing.assert_array_equal(out["flood_extent"], [1, 1, 1, 0, 0, 255, 0, 1])
    # p7: d0 and d1 dry before, flooded d2 and d4
    np.testing.assert_array_equal(out["first_flooded"][[0, 7]], [DAY[1], DAY[2]])
    np.testing.assert_array_equal(out["duration_max_days"][[0, 1]], [18, 24])
    series = json.loads(result.outputs["summary"].read_text())["flood_record"]["timeseries"]
    assert [r["kind"] for r in series] == ["pre-event"] + ["event"] * 4
    assert series[0]["flooded_km2"] == 0


def test_masks_without_time_count_but_are_named(tmp_path):
    paths = stack(tmp_path)
    untimed = write_mask(tmp_path / "plain.tif", np.array([1, 1, 1, 1, 1, 1, 1, 1], np.uint8))
    result = aggregate([*paths, untimed], tmp_path / "out")
    np.testing.assert_array_equal(read(result.outputs["valid_count"])[0], [6, 6, 3, 6, 6, 1, 6, 5])
    section = json.loads(result.outputs["summary"].read_text())["flood_record"]
    assert section["untimed_masks"] == ["plain.tif"]
    assert "without an acquisition time" in section["time_note"]
    assert "plain.tif" in section["time_note"]
    with rasterio.open(result.outputs["flood_episodes"]) as src:
        assert "plain.tif" in src.tags()["note"]
    # p4 (always dry in time) is water in the untimed mask: flooded, without a date
    assert read(result.outputs["flood_extent"])[0, 4] == 1
    assert read(result.outputs["first_flooded"])[0, 4] == N


def test_masks_of_one_time_say_so(tmp_path):
    a = write_mask(tmp_path / "a.tif", SERIES[:, 1], DATES[1])
    b = write_mask(tmp_path / "b.tif", SERIES[:, 2], DATES[1])
    result = aggregate([a, b], tmp_path / "out")
    note = json.loads(result.outputs["summary"].read_text())["flood_record"]["time_note"]
    assert note.startswith("all masks are of one acquisition (2024-01-07T17:10:00Z)")
    np.testing.assert_array_equal(read(result.outputs["flood_extent"])[0, :2], [0, 0])
    given = write_mask(tmp_path / "ref.tif", np.zeros(8, np.uint8))
    result = aggregate([a, b], tmp_path / "out2", reference_water=given)
    np.testing.assert_array_equal(read(result.outputs["duration_min_days"])[0, :2], [0, 0])
    np.testing.assert_array_equal(read(result.outputs["first_flooded"])[0, :2], [DAY[1]] * 2)


@pytest.mark.parametrize(
    ("event_start", "message"),
    [
        ("2023-12-01", "outside the observations' window"),
        ("2024-02-01", "outside the observations' window"),
        ("last tuesday", "not an ISO 8601 date or time"),
    ],
)
def test_bad_event_start_is_one_line(tmp_path, event_start, message):
    with pytest.raises(InvalidOptionError, match=message) as error:
        aggregate(stack(tmp_path), tmp_path / "out", event_start=event_start)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_reference_raster_in_another_crs_is_warped_and_outside_refused(tmp_path):
    paths = stack(tmp_path)
    # a 0/1 raster in lon/lat covering the masks: reference water on p4 (always dry) only
    from rasterio.warp import transform_bounds

    with rasterio.open(paths[0]) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    cols = 80
    step = (east - west) / cols
    lonlat = np.zeros((4, cols), dtype=np.uint8)
    lonlat[:, 40:50] = 1  # p4 is the fifth of eight pixels: 40..49 of 80
    from affine import Affine

    affine = Affine(step, 0, west, 0, -(north - south) / 4, north)
    given = write_tif(tmp_path / "ref.tif", lonlat, crs="EPSG:4326", affine=affine, nodata=255)
    result = aggregate(paths, tmp_path / "out", reference_water=given)
    reference = read(result.outputs["reference_water"])[0]
    np.testing.assert_array_equal(reference, [0, 0, 0, 0, 1, 0, 0, 0])
    assert read(result.outputs["flood_extent"])[0, 3] == 1  # p3 water always: given says not
    far = write_tif(
        tmp_path / "far.tif", lonlat, crs="EPSG:4326",
        affine=Affine(step, 0, west + 20, 0, -(north - south) / 4, north), nodata=255,
    )  # fmt: skip
    with pytest.raises(InvalidOptionError, match="does not overlap the masks' grid"):
        aggregate(paths, tmp_path / "out2", reference_water=far)


def test_classify_writes_the_acquisition_into_tags_and_sidecar(tmp_path, rng):
    linear, _ = bimodal_scene(rng, (200, 200))
    sigma0 = write_tif(tmp_path / "s.tif", linear, descriptions=["VV"])
    item = {
        "type": "Feature",
        "properties": {
            "start_datetime": "2024-03-04T05:06:07.250000Z",
            "platform": "sentinel-1a",
            "sat:relative_orbit": 117,
            "sat:orbit_state": "descending",
        },
    }
    (tmp_path / "s.json").write_text(json.dumps(item))
    result = classify(sigma0, tmp_path / "m.tif")
    found = of_mask(result.mask)
    assert found.start == datetime(2024, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)
    assert (found.platform, found.relative_orbit, found.orbit_direction) == (
        "sentinel-1a", 117, "descending",
    )  # fmt: skip
    with rasterio.open(result.mask) as src:
        assert src.tags()["ACQUISITION_START"] == "2024-03-04T05:06:07.250000Z"
    sidecar = json.loads(result.sidecar.read_text())
    assert sidecar["acquisition"]["relative_orbit"] == 117
    # a plain raster: given values, which also win over an Item
    other = classify(
        sigma0, tmp_path / "m2.tif", acquisition_start="2024-03-05T10:00:00+02:00",
        platform="sentinel-1c", relative_orbit=5, orbit_direction="ascending",
    )  # fmt: skip
    expected = Acquisition.of("2024-03-05T08:00:00Z", "sentinel-1c", 5, "ascending")
    assert of_mask(other.mask) == expected
    with pytest.raises(InvalidOptionError, match="acquisition_start"):
        classify(sigma0, tmp_path / "m3.tif", acquisition_start="yesterday")


def valley_event(tmp_path, size=96):
    """A river valley flooding and draining over five dates; masks = terrain below the level."""
    rows, cols = np.mgrid[0:size, 0:size]
    dem = (np.abs(cols - size / 2) * 0.1 + rows * 0.005).astype(np.float32)
    dem_path = write_tif(tmp_path / "dem.tif", dem)
    levels = [0.4, 1.5, 2.5, 1.5, 0.4]
    paths = []
    for k, (start, level) in enumerate(zip(DATES, levels, strict=True)):
        mask = (dem < level).astype(np.uint8)
        paths.append(
            write_tif(tmp_path / f"v{k}.tif", mask, nodata=255,
                      tags=Acquisition.of(start, "sentinel-1a", 95, "descending").tags())
        )  # fmt: skip
    return paths, dem_path, dem, levels


def test_outputs_are_cogs_in_a_valid_stac_catalog_with_depth(tmp_path):
    from rio_cogeo.cogeo import cog_validate
    from stac_pydantic import Catalog, Item

    paths, dem_path, dem, levels = valley_event(tmp_path)
    result = aggregate(
        [str(p) for p in paths], tmp_path / "out", event_start=DATES[1], dem=dem_path
    )
    for key in ("reference_water", "flood_extent", "flood_count", "first_flooded",
                "last_flooded", "duration_min_days", "duration_max_days", "flood_episodes",
                "depth_max"):  # fmt: skip
        valid, errors, _ = cog_validate(str(result.outputs[key]), strict=False, quiet=True)
        assert valid, (key, errors)
    extent = read(result.outputs["flood_extent"]) == 1
    np.testing.assert_array_equal(extent, (dem >= levels[0]) & (dem < levels[2]))
    np.testing.assert_array_equal(read(result.outputs["reference_water"]) == 1, dem < levels[0])
    first = read(result.outputs["first_flooded"])
    np.testing.assert_array_equal(first[(dem >= 0.4) & (dem < 1.5)], DAY[1])
    np.testing.assert_array_equal(first[(dem >= 1.5) & (dem < 2.5)], DAY[2])
    dmax = read(result.outputs["duration_max_days"])
    np.testing.assert_array_equal(dmax[(dem >= 0.4) & (dem < 1.5)], DAY[4] - DAY[0])
    np.testing.assert_array_equal(dmax[(dem >= 1.5) & (dem < 2.5)], DAY[3] - DAY[1])
    depth = read(result.outputs["depth_max"])
    assert np.isnan(depth[~extent]).all()
    # the flood extent's water surface at the peak is level 2.5 (up to one pixel's 0.1 m)
    error = depth[extent] - (levels[2] - dem[extent])
    assert np.sqrt(np.mean(error**2)) < 0.15
    catalog = json.loads(result.outputs["catalog"].read_text())
    Catalog.model_validate(catalog)
    item_path = result.outputs["catalog"].parent / catalog["links"][-1]["href"]
    item = json.loads(item_path.read_text())
    Item.model_validate(item)
    assert item["properties"]["start_datetime"] == DATES[0]
    assert item["properties"]["end_datetime"] == DATES[-1]
    first_asset = item["assets"]["first_flooded"]
    assert first_asset["raster:bands"][0]["unit"] == "days since 1970-01-01 UTC"
    assert first_asset["raster:bands"][0]["nodata"] == N
    assert first_asset["start_datetime"] == DATES[0]
    assert "flood-extent" in item["assets"]["flood_extent"]["roles"]
    for key in ("depth_max", "timeseries", "flooded_area_plot"):
        assert (item_path.parent / item["assets"][key]["href"]).is_file()
    summary = json.loads(result.outputs["summary"].read_text())
    assert {"first_flooded", "depth_max", "timeseries"} <= set(summary["outputs"])
    assert summary["flood_record"]["depth"]["method"] == "boundary"


def test_dem_not_covering_the_flood_warns_once_with_how_much(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="s1flood")
    paths, _, dem, _ = valley_event(tmp_path)
    half = write_tif(tmp_path / "half.tif", dem[:, :48])  # the west half only
    result = aggregate(paths, tmp_path / "out", dem=half)
    depth = read(result.outputs["depth_max"])
    extent = read(result.outputs["flood_extent"]) == 1
    assert np.isnan(depth[:, 48:]).all()
    assert np.isfinite(depth[:, :48][extent[:, :48]]).all()
    warnings = [r.getMessage() for r in caplog.records if "no heights under" in r.getMessage()]
    assert len(warnings) == 1
    assert "% of the flood" in warnings[0]


def test_change_rule_keeps_water_that_did_not_darken_out_of_the_flood(tmp_path):
    # pixels: new water (-8 -> -20 dB), slightly darker (-14 -> -16: below the threshold
    # now, not 3 dB darker), dark in every scene (-22, water in every mask), dry land
    sigma0 = np.array([[-8, -14, -22, -6], [-20, -16, -22, -6], [-20, -16, -22, -6]], np.float32)
    masks = np.array([[0, 0, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0]], np.uint8)
    paths = []
    for k in range(3):
        s = write_tif(tmp_path / f"s{k}.tif", sigma0[k].reshape(1, -1))
        m = write_mask(tmp_path / f"m{k}.tif", masks[k], DATES[k])
        m.with_suffix(".json").write_text(json.dumps({"input": str(s)}))
        paths.append(m)
    changed = aggregate(paths, tmp_path / "change", event_start=DATES[1])
    masks_only = aggregate(paths, tmp_path / "off", event_start=DATES[1], change_rule="off")
    np.testing.assert_array_equal(read(changed.outputs["flood_extent"])[0], [1, 0, 0, 0])
    np.testing.assert_array_equal(read(masks_only.outputs["flood_extent"])[0], [1, 1, 0, 0])
    np.testing.assert_array_equal(read(changed.outputs["reference_water"])[0], [0, 0, 1, 0])
    rule = json.loads(changed.outputs["summary"].read_text())["flood_record"]["change_rule"]
    assert rule.startswith("water darker by >= 3 dB")
    # the sigma0s given by file name (as staged by CWL): the same
    staged = tmp_path / "staged"
    staged.mkdir()
    given = [str(staged / f"s{k}.tif") for k in range(3)]
    for k in range(3):
        (staged / f"s{k}.tif").write_bytes((tmp_path / f"s{k}.tif").read_bytes())
        (tmp_path / f"s{k}.tif").unlink()
    again = aggregate_masks(paths, tmp_path / "staged-out", event_start=DATES[1], sigma0=given)
    np.testing.assert_array_equal(read(again.outputs["flood_extent"])[0], [1, 0, 0, 0])


def test_masks_of_another_pixel_size_are_warped_into_the_record(tmp_path):
    from affine import Affine

    fine = [write_mask(tmp_path / f"f{k}.tif", SERIES[:, k], DATES[k]) for k in (0, 1)]
    # the third date at 20 m: each of its pixels covers two 10 m pixels of the grid
    coarse_values = np.array([1, 1, 0, 255], np.uint8).reshape(1, -1)
    tags = Acquisition.of(DATES[2], "sentinel-1a", 95, "descending").tags()
    coarse = write_tif(
        tmp_path / "c.tif", np.vstack([coarse_values]), nodata=255, tags=tags,
        affine=Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1]),
    )  # fmt: skip
    result = aggregate([*fine, coarse], tmp_path / "out", like=fine[0])
    last = read(result.outputs["last_flooded"])[0]
    # the third date: p0..p3 water (20 m pixels 0 and 1), p4, p5 dry, p6, p7 unseen; p2 and
    # p3 water in every valid observation: reference water
    np.testing.assert_array_equal(last, [DAY[2], DAY[2], N, N, N, N, DAY[0], N])
    warped = json.loads(result.outputs["summary"].read_text())["warped_masks"]
    assert [Path(p).name for p in warped] == ["c.tif"]


def test_cli_aggregate_takes_the_record_options_and_refuses_bad_ones_in_one_line(tmp_path, capsys):
    from s1flood.cli import main

    paths, dem, _, _ = valley_event(tmp_path)
    args = ["-q", "aggregate", *map(str, paths), "-o", str(tmp_path / "out")]
    assert main([*args, "--event-start", DATES[1], "--dem", str(dem)]) == 0
    out = capsys.readouterr().out
    assert "flooded" in out
    assert "depth_max.tif" in out
    assert main([*args, "--event-start", "soon", "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--event-start" in err[0]
    assert "not an ISO 8601" in err[0]
