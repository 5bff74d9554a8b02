"""The simulator's flood-record truth: level and depth, onset stage, footprints, dark land."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine

from s1flood import errors
from s1flood.geodesy import ecef_to_geodetic
from s1flood.preprocessing.dem import egm96_undulation
from s1flood.synthetic.render import dem_to_ecef
from s1flood.synthetic.scenario import hydrograph, hydrograph_crossings, water_truth
from s1flood.synthetic.simulate import SimulationResult, simulate
from s1flood.synthetic.terrain import LandCover, Terrain, load_dem
from s1flood.synthetic.truth import flood_onset_stage
from s1flood.synthetic.truth_record import NO_DATE, truth_depth, truth_record

AOI = "POLYGON((12.40 41.90, 12.44 41.90, 12.44 41.93, 12.40 41.93, 12.40 41.90))"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        AOI,
        "2024-05-01",
        "2024-05-21",
        tmp_path_factory.mktemp("sim"),
        scenes=5,
        size="200x200",
        seed=5,
        progress=False,
        dark_land=True,
        relative_orbits=2,
        map_sigma0=True,
    )


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def _doc(sim: SimulationResult) -> dict:
    return json.loads(sim.scenario.read_text())


def _terrain(hand: list[list[float]], river_cols: int = 1) -> Terrain:
    """A hand-made terrain: a river in the first columns at level 0, heights = hand."""
    elevation = np.array(hand, np.float32)
    river = np.zeros(elevation.shape, bool)
    river[:, :river_cols] = True
    shape = elevation.shape
    return Terrain(
        elevation=np.where(river, 0.0, elevation).astype(np.float32),
        transform=Affine(10, 0, 0, 0, -10, 0),
        crs=CRS.from_epsg(32633),
        river=river,
        lake=np.zeros(shape, bool),
        river_level=np.zeros(shape, np.float32),
        landcover=np.full(shape, LandCover.CROPLAND, np.uint8),
        texture_db=np.zeros(shape, np.float32),
        parcel=np.zeros(shape, np.int32),
    )


def test_onset_stage_is_the_lowest_pass_from_the_river() -> None:
    # a 2 m bank hides a hollow of 1 m and 0.2 m; the bottom row is a way round over 1.5 m
    terrain = _terrain(
        [
            [0.0, 0.5, 2.0, 1.0, 3.0],
            [0.0, 0.5, 2.0, 1.0, 0.2],
            [0.0, 0.5, 1.5, 1.5, 1.6],
        ]
    )
    onset = flood_onset_stage(terrain)
    expected = [
        [-np.inf, 0.5, 2.0, 1.5, 3.0],
        [-np.inf, 0.5, 2.0, 1.5, 1.5],
        [-np.inf, 0.5, 1.5, 1.5, 1.6],
    ]
    np.testing.assert_array_equal(onset, np.array(expected, np.float32))
    for stage in (0.4, 0.6, 1.55, 1.7, 2.5):
        assert np.array_equal(water_truth(terrain, stage) == 1, onset < stage), stage


def test_hydrograph_crossings_invert_the_hydrograph() -> None:
    levels = np.array([0.05, 0.3, 0.7, 0.99])
    rise, fall = hydrograph_crossings(levels)
    np.testing.assert_allclose(hydrograph(rise), levels, atol=1e-9)
    np.testing.assert_allclose(hydrograph(fall), levels, atol=1e-9)
    assert np.all(rise < 0.45)
    assert np.all(fall > 0.45)
    assert np.isnan(hydrograph_crossings(np.array([0.0, 1.0, -1.0]))[0]).all()


def test_level_truth_is_height_minus_dem_where_water(sim: SimulationResult) -> None:
    doc = _doc(sim)
    base = sim.scenario.parent
    dem = _read(sim.dem)[0]
    permanent = _read(base / doc["truth"]["permanent_water"])[0] == 1
    onset = _read(base / doc["truth"]["flood_onset_stage"])[0]
    peak = next(a for a in doc["acquisitions"] if a["phase"] == "peak")
    for acq in doc["acquisitions"]:
        water = _read(base / acq["truth"])[0] == 1
        height, depth = _read(base / acq["level"])
        assert np.isfinite(depth).sum() == water.sum()
        np.testing.assert_allclose(depth[water], height[water] - dem[water], atol=1e-3)
        flooded = water & ~permanent
        assert np.all(depth[flooded] > 0)
        assert depth[flooded].max(initial=0) <= acq["stage_m"] + 1e-3
        # the onset stage says which cells the stage floods
        assert np.array_equal(water, permanent | (onset < acq["stage_m"]))
    index = doc["acquisitions"].index(peak)
    depth = truth_depth(sim.scenario, index)
    assert np.nanmax(depth) == pytest.approx(peak["stage_m"], abs=0.01)
    assert (depth > 1.0).sum() > 1000


def test_two_tracks_have_their_own_orbit_and_footprint(sim: SimulationResult) -> None:
    doc = _doc(sim)
    tracks = doc["tracks"]
    assert [t["orbit_direction"] for t in tracks] == ["descending", "ascending"]
    assert tracks[0]["relative_orbit"] != tracks[1]["relative_orbit"]
    assert [a["relative_orbit"] for a in doc["acquisitions"]] == [
        tracks[k % 2]["relative_orbit"] for k in range(5)
    ]
    a, b = (_read(sim.scenario.parent / p)[0] == 1 for p in doc["truth"]["observed"].values())
    assert (a & b).sum() > 0.5 * a.sum()
    assert (a ^ b).sum() > 0.05 * a.sum()  # footprints differ
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        xr = pytest.importorskip("xarray")
        pytest.importorskip("xarray_sentinel")
        passes = [
            xr.open_dataset(p, engine="sentinel-1", group="IW/VV").attrs["pass"]
            for p in sim.products[:2]
        ]
    assert passes == ["DESCENDING", "ASCENDING"]


def test_dark_land_is_dark_and_never_water(sim: SimulationResult) -> None:
    doc = _doc(sim)
    base = sim.scenario.parent
    dark = _read(base / doc["truth"]["always_dark"])[0] == 1
    assert dark.sum() > 500
    for acq in doc["acquisitions"]:
        assert not (_read(base / acq["truth"])[0] == 1)[dark].any()
        sigma0 = _read(base / "sigma0" / f"{Path(acq['product']).stem}_sigma0_vv.tif")[0]
        assert 10 * np.log10(np.nanmedian(sigma0[dark])) < -18.0


def test_truth_record_first_last_and_span(sim: SimulationResult) -> None:
    record = truth_record(sim.scenario)
    doc = _doc(sim)
    base = sim.scenario.parent
    permanent = _read(base / doc["truth"]["permanent_water"])[0] == 1
    footprints = {int(k): _read(base / v)[0] == 1 for k, v in doc["truth"]["observed"].items()}
    days = record.days
    first = np.full(permanent.shape, NO_DATE)
    last = np.full(permanent.shape, NO_DATE)
    for k, acq in enumerate(doc["acquisitions"]):  # the same, the long way
        seen = footprints[acq["relative_orbit"]]
        flooded = (_read(base / acq["truth"])[0] == 1) & ~permanent & seen
        first = np.where(flooded & (first == NO_DATE), days[k], first)
        last = np.where(flooded, days[k], last)
    assert np.array_equal(record.first_flooded, first)
    assert np.array_equal(record.last_flooded, last)
    extent = record.extent
    assert extent.sum() > 1000
    # a pixel seen only by one track takes its dates from that track's scenes
    only_b = footprints[record.relative_orbits[1]] & ~footprints[record.relative_orbits[0]]
    assert set(np.unique(record.first_flooded[only_b & extent])) <= set(days[1::2])
    # the true span lies between the flooded observations and the dry ones around them
    span = record.span_days[extent]
    assert np.all(span >= (record.last_flooded - record.first_flooded)[extent] - 1)
    assert np.all(span <= (days[-1] - days[0]))
    assert np.isnan(record.span_days[permanent]).all()
    valid = np.ones(record.flooded.shape, bool)
    valid[record.peak] = False  # a mask that missed the peak
    without_peak = truth_record(sim.scenario, like=sim.dem, valid=valid)
    assert without_peak.flood_count.max() == record.flood_count.max() - 1


def test_bad_truth_options(sim: SimulationResult, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidOptionError, match="1 or 2") as info:
        simulate(AOI, "2024-05-01", "2024-05-05", tmp_path, relative_orbits=3, progress=False)
    assert "\n" not in str(info.value)
    old = tmp_path / "scenario.json"
    doc = _doc(sim)
    del doc["truth"]
    old.write_text(json.dumps(doc))
    with pytest.raises(errors.InvalidOptionError, match="no truth section"):
        truth_record(old)


ROME_DEM = Path(__file__).resolve().parents[2] / "shared" / "data" / "s1-grd" / "Rome-30m-DEM.tif"


@pytest.mark.skipif(not ROME_DEM.exists(), reason="shared/data/s1-grd is absent")
def test_geoid_heights_of_a_user_dem_go_to_the_ellipsoid() -> None:
    terrain = load_dem(ROME_DEM, 0)  # EPSG:9707: EGM96 heights, as preprocessing reads them
    assert terrain.geoid_height is not None
    undulation = terrain.geoid_height[180, 180]
    assert undulation == pytest.approx(egm96_undulation(12.5, 42.0), abs=0.05)
    # the cell lies its DEM height plus the undulation above the ellipsoid
    ecef = dem_to_ecef(terrain, slice(180, 181))[0, 180]
    height = float(np.asarray(ecef_to_geodetic(ecef)[2]))
    assert height == pytest.approx(float(terrain.elevation[180, 180] + undulation), abs=0.01)
    assert _terrain([[0.0, 1.0]]).geoid_height is None  # a generated terrain: ellipsoidal
