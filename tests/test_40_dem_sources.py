"""``dem="copernicus-30|90"``: tile names, the mosaic of ellipsoidal heights, the cache, faults.

Every test talks to a Copernicus DEM bucket stand-in on 127.0.0.1 (tests/servers/dem_tiles.py)
that serves generated COG tiles under the real names, with a tile missing over the sea.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood.errors import CatalogueError, DemCoverageError, InvalidOptionError
from s1flood.preprocessing.dem_sources import (
    DEM_SOURCES,
    geoid_undulation,
    is_dem_source,
    resolve_dem,
    tile_name,
    tile_width,
    tiles_for_bounds,
)
from servers import Fault
from servers.dem_tiles import analytic_heights, start_dem_bucket, tile_requests

G30, G90 = DEM_SOURCES["copernicus-30"], DEM_SOURCES["copernicus-90"]
# two cells over land, (41, 13) missing: "the sea"
CELLS = [(41, 12), (42, 12), (42, 13)]
BOUNDS = (12.90, 41.95, 13.08, 42.04)  # touches all four cells around (42, 13)


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory):
    server = start_dem_bucket(tmp_path_factory.mktemp("tiles"), CELLS, code="30")
    yield server
    server.close()


@pytest.fixture
def env(bucket, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(cache))
    monkeypatch.setenv("S1FLOOD_DEM_COPERNICUS_90_URL", bucket.url)
    monkeypatch.setenv("S1FLOOD_BACKOFF", "0.01")
    monkeypatch.setenv("S1FLOOD_RETRIES", "3")
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    bucket.log.clear()
    return cache


def test_tile_names_are_the_buckets() -> None:
    assert tile_name(G30, 42, 12) == "Copernicus_DSM_COG_10_N42_00_E012_00_DEM"
    assert tile_name(G90, -1, 30) == "Copernicus_DSM_COG_30_S01_00_E030_00_DEM"
    assert tile_name(G30, 50, -1) == "Copernicus_DSM_COG_10_N50_00_W001_00_DEM"
    assert tile_name(G30, -90, -180) == "Copernicus_DSM_COG_10_S90_00_W180_00_DEM"
    assert tiles_for_bounds(-0.5, -0.5, 0.5, 0.5) == [(-1, -1), (-1, 0), (0, -1), (0, 0)]
    assert tiles_for_bounds(12.44, 42.03, 12.52, 42.09) == [(42, 12)]
    # columns per tile shrink towards the poles (the Copernicus DEM's latitude zones)
    assert [tile_width(G30, lat) for lat in (0, -50, 55, 65, 75, 82, 88)] == [
        3600, 3600, 2400, 1800, 1200, 720, 360,
    ]  # fmt: skip
    assert tile_width(G90, 42) == 1200
    assert is_dem_source("copernicus-30")
    assert is_dem_source(Path("Copernicus-90"))
    assert not is_dem_source("dem.tif")
    assert not is_dem_source(None)


def test_unknown_name_names_the_parameter(env: Path) -> None:
    with pytest.raises(InvalidOptionError, match="dem"):
        resolve_dem("copernicus-10", BOUNDS)


def test_mosaic_has_the_heights_over_the_aoi_and_sea_level_where_no_tile(env: Path, bucket) -> None:
    fetched = resolve_dem("copernicus-90", BOUNDS)
    assert not fetched.cached
    assert fetched.requests == 4
    assert fetched.missing == ["Copernicus_DSM_COG_30_N41_00_E013_00_DEM"]
    assert fetched.bytes == sum(len(v) for v in bucket.files.values())
    with rasterio.open(fetched.path) as src:
        heights = src.read(1)
        t = src.transform
        w, s, e, n = src.bounds
        assert src.crs.to_epsg() == 4326
        assert src.tags()["GEOID"] == fetched.geoid
    assert w <= BOUNDS[0] - 0.009
    assert e >= BOUNDS[2] + 0.009
    assert s <= BOUNDS[1] - 0.009
    assert n >= BOUNDS[3] + 0.009
    # on the tiles' lattice: pixel centres on whole multiples of 1/1200 degree
    assert abs(t.a - 1 / 1200) < 1e-12
    assert abs(round((t.c + t.a / 2) * 1200) - (t.c + t.a / 2) * 1200) < 1e-6
    lon = t.c + t.a * (np.arange(heights.shape[1]) + 0.5)
    lat = t.f + t.e * (np.arange(heights.shape[0]) + 0.5)
    glon, glat = np.meshgrid(lon, lat)
    undulation, model = geoid_undulation(glon, glat)
    assert model == fetched.geoid
    assert 40 < undulation.mean() < 55
    half = 0.5 / 1200  # the cell (41, 13) holds pixel centres 41 < lat <= 42, 13 <= lon < 14
    land = ~((glat < 42 + half) & (glon > 13 - half))
    expected = analytic_heights(glon, glat) + undulation
    np.testing.assert_allclose(heights[land], expected[land], atol=1e-3)
    np.testing.assert_allclose(heights[~land], undulation[~land], atol=1e-3)  # sea level


def test_cache_hit_makes_no_request(env: Path, bucket) -> None:
    first = resolve_dem("copernicus-90", BOUNDS)
    count = len(bucket.log)
    again = resolve_dem("copernicus-90", BOUNDS)
    assert again.cached
    assert again.path == first.path
    assert again.requests == 0
    # another AOI in the same tiles: a new mosaic, from cached tiles (and the cached 404)
    other = resolve_dem("copernicus-90", (12.95, 41.97, 13.02, 42.02))
    assert other.path != first.path
    assert not other.cached
    assert other.requests == 0
    assert len(bucket.log) == count
    assert sorted(
        p.name
        for p in (env / "dem" / "copernicus-90").iterdir()
        if p.is_file() and "lock" not in p.name
    ) == [
        "Copernicus_DSM_COG_30_N41_00_E012_00_DEM.tif",
        "Copernicus_DSM_COG_30_N41_00_E013_00_DEM.missing",
        "Copernicus_DSM_COG_30_N42_00_E012_00_DEM.tif",
        "Copernicus_DSM_COG_30_N42_00_E013_00_DEM.tif",
    ]


def test_cut_body_is_resumed_with_a_range_request(env: Path, bucket) -> None:
    name = "Copernicus_DSM_COG_30_N42_00_E012_00_DEM"
    bucket.inject(f"{name}/{name}.tif", Fault("cut"))
    fetched = resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    gets = tile_requests(bucket)
    assert len(gets) == 2
    assert "Range" not in gets[0]["headers"]
    assert gets[1]["headers"]["Range"].startswith("bytes=")
    assert gets[1]["headers"]["Range"] != "bytes=0-"
    cached = env / "dem" / "copernicus-90" / f"{name}.tif"
    assert cached.read_bytes() == bucket.files[f"{name}/{name}.tif"]
    assert fetched.requests == 2


def test_server_errors_are_retried(env: Path, bucket) -> None:
    name = "Copernicus_DSM_COG_30_N42_00_E012_00_DEM"
    bucket.inject(f"{name}/{name}.tif", Fault("status", 503), Fault("status", 500))
    fetched = resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    assert fetched.requests == 3
    assert fetched.path.exists()


def test_persistent_fault_is_one_clear_line(env: Path, bucket, monkeypatch) -> None:
    monkeypatch.setenv("S1FLOOD_RETRIES", "1")
    name = "Copernicus_DSM_COG_30_N42_00_E012_00_DEM"
    bucket.inject(f"{name}/{name}.tif", Fault("status", 502), Fault("status", 502))
    with pytest.raises(CatalogueError) as caught:
        resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    message = str(caught.value)
    assert "\n" not in message
    assert "HTTP 502" in message
    assert name in message
    assert not list((env / "dem").rglob("*.tif"))  # nothing half-written is left as a tile


def test_no_tile_at_all_is_an_error_naming_the_setting(env: Path, bucket) -> None:
    with pytest.raises(DemCoverageError, match="dem_copernicus_90_url"):
        resolve_dem("copernicus-90", (-30.5, 10.2, -30.4, 10.3))  # mid-Atlantic


def test_a_tile_that_is_not_a_geotiff_is_refused(env: Path, bucket) -> None:
    name = "Copernicus_DSM_COG_30_N41_00_E012_00_DEM"
    bucket.inject(f"{name}/{name}.tif", Fault("status", 200, body=b"<html>login</html>"))
    with pytest.raises(CatalogueError, match="not a readable GeoTIFF"):
        resolve_dem("copernicus-90", (12.5, 41.5, 12.6, 41.6))
    assert not (env / "dem" / "copernicus-90" / f"{name}.tif").exists()


def test_tiles_are_range_readable_by_gdal(bucket) -> None:
    """The stand-in is a real COG server: GDAL's /vsicurl/ reads a window with ranges."""
    name = "Copernicus_DSM_COG_30_N42_00_E012_00_DEM"
    bucket.log.clear()
    env = rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", GDAL_HTTP_MAX_RETRY="0")
    with env, rasterio.open(f"/vsicurl/{bucket.url}/{name}/{name}.tif") as src:
        window = src.read(1, window=((0, 64), (0, 64)))
    np.testing.assert_allclose(
        window[0, 0], analytic_heights(np.array(12.0), np.array(43.0)), atol=1e-3
    )
    ranged = [r for r in bucket.log if "Range" in r["headers"]]
    assert ranged
    assert all(r["headers"]["Range"].split("-")[1] for r in ranged)


_CHILD = """
import json, sys
from s1flood.preprocessing.dem_sources import resolve_dem
print(json.dumps(resolve_dem("copernicus-90", tuple(json.loads(sys.argv[1]))).to_dict()))
"""


@pytest.mark.slow
def test_two_processes_filling_one_cache_end_with_one_copy(env: Path, bucket) -> None:
    environ = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(BOUNDS)],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert results[0]["path"] == results[1]["path"]
    assert sorted(r["cached"] for r in results) == [False, True]  # one built, one waited
    # one GET per tile over both processes
    paths = [r["path"] for r in tile_requests(bucket)]
    assert len(paths) == len(set(paths)) == 4
    files = [p for p in (env / "dem").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert not [p for p in files if p.suffix in (".part", ".tmp") or "download" in p.name]
    for name in ("N41_00_E012", "N42_00_E012", "N42_00_E013"):
        tile = env / "dem" / "copernicus-90" / f"Copernicus_DSM_COG_30_{name}_00_DEM.tif"
        assert tile.read_bytes() == bucket.files[f"{tile.stem}/{tile.name}"]


def test_a_404_remembered_for_one_url_is_asked_again_at_another(
    env: Path, bucket, monkeypatch
) -> None:
    """A wrong base URL (everything 404) must not leave the tiles marked as sea for good."""
    monkeypatch.setenv("S1FLOOD_DEM_COPERNICUS_90_URL", bucket.url + "/wrong")
    with pytest.raises(DemCoverageError):
        resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    monkeypatch.setenv("S1FLOOD_DEM_COPERNICUS_90_URL", bucket.url)
    fetched = resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    assert fetched.missing == []
    assert fetched.requests == 1


def test_tiles_of_two_latitude_zones_mosaic_on_the_finer_lattice(tmp_path, monkeypatch) -> None:
    """Across 50 N the tiles have 1200 and 800 columns: the mosaic takes the finer spacing."""
    server = start_dem_bucket(tmp_path / "tiles", [(49, 5), (50, 5)], code="30")
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("S1FLOOD_DEM_COPERNICUS_90_URL", server.url)
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    try:
        fetched = resolve_dem("copernicus-90", (5.4, 49.95, 5.5, 50.05))
    finally:
        server.close()
    with rasterio.open(fetched.path) as src:
        heights, t = src.read(1), src.transform
    assert abs(t.a - 1 / 1200) < 1e-12
    lon = t.c + t.a * (np.arange(heights.shape[1]) + 0.5)
    lat = t.f + t.e * (np.arange(heights.shape[0]) + 0.5)
    glon, glat = np.meshgrid(lon, lat)
    undulation, _ = geoid_undulation(glon, glat)
    south = glat < 50 - 0.5 / 1200
    expected = analytic_heights(glon, glat) + undulation
    np.testing.assert_allclose(heights[south], expected[south], atol=1e-3)
    # north of 50: the coarser tile's nearest pixel (half of 1/800 degree away at most)
    np.testing.assert_allclose(heights[~south], expected[~south], atol=0.5)
    with rasterio.open(tmp_path / "tiles" / "Copernicus_DSM_COG_30_N50_00_E005_00_DEM.tif") as src:
        assert src.width == 800
        assert src.height == 1200


_GEOID_CHILD = """
import json
from s1flood.preprocessing.dem_sources import geoid_undulation
values, model = geoid_undulation([12.5, -70.25], [42.0, -33.5])
print(json.dumps([model, list(values)]))
"""


def test_proj_egm2008_grid_is_used_where_proj_has_it(tmp_path: Path) -> None:
    """A grid named as PROJ's EGM2008 grid in PROJ's user data folder replaces EGM96."""
    folder = tmp_path / "data" / "proj"
    folder.mkdir(parents=True)
    lon, lat = np.meshgrid(np.arange(-180, 181), np.arange(90, -91, -1))
    grid = (lat + lon / 10.0).astype(np.float32)  # bilinear in lon/lat: exact between nodes
    origin = rasterio.transform.from_origin(-180.5, 90.5, 1, 1)
    with rasterio.open(
        folder / "us_nga_egm08_25.tif", "w", driver="GTiff", width=361, height=181, count=1,
        dtype="float32", crs="EPSG:4326", transform=origin,
    ) as dst:  # fmt: skip
        dst.write(grid, 1)
        dst.update_tags(TYPE="VERTICAL_OFFSET_GEOGRAPHIC_TO_VERTICAL")
    environ = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", _GEOID_CHILD],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    model, values = json.loads(done.stdout.strip().splitlines()[-1])
    assert model == "EGM2008"
    np.testing.assert_allclose(values, [42.0 + 1.25, -33.5 - 7.025], atol=1e-3)


def test_windows_mode_reads_ranges_only_and_gives_the_same_mosaic(
    env: Path, bucket, monkeypatch
) -> None:
    """dem_fetch=windows: GDAL /vsicurl/ range reads of the AOI's blocks, nothing cached whole."""
    tiles = resolve_dem("copernicus-90", BOUNDS)
    with rasterio.open(tiles.path) as src:
        expected = src.read(1)
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(env.parent / "cache-windows"))
    monkeypatch.setenv("S1FLOOD_DEM_FETCH", "windows")
    bucket.log.clear()
    bucket.sent = 0
    windows = resolve_dem("copernicus-90", BOUNDS)
    with rasterio.open(windows.path) as src:
        assert np.array_equal(src.read(1), expected)
    assert windows.missing == ["Copernicus_DSM_COG_30_N41_00_E013_00_DEM"]
    served = sum(len(v) for v in bucket.files.values())
    assert 0 < bucket.sent < served / 4  # the AOI's blocks, not the tiles
    gets = [r for r in tile_requests(bucket) if "Range" in r["headers"]]
    assert gets
    assert not list((env.parent / "cache-windows" / "dem").rglob("Copernicus_*.tif"))


def test_windows_mode_retries_and_then_says_it_in_one_line(env: Path, bucket, monkeypatch) -> None:
    monkeypatch.setenv("S1FLOOD_DEM_FETCH", "windows")
    monkeypatch.setenv("S1FLOOD_RETRIES", "1")
    name = "Copernicus_DSM_COG_30_N42_00_E012_00_DEM"
    bucket.inject(f"{name}/{name}.tif", Fault("status", 503))
    fetched = resolve_dem("copernicus-90", (12.5, 42.5, 12.6, 42.6))
    assert fetched.missing == []
    other = "Copernicus_DSM_COG_30_N41_00_E012_00_DEM"  # blocks GDAL has not cached yet
    bucket.inject(f"{other}/{other}.tif", *[Fault("status", 500)] * 6)
    try:
        with pytest.raises(CatalogueError) as caught:
            resolve_dem("copernicus-90", (12.1, 41.1, 12.2, 41.2))
    finally:
        bucket.faults.clear()
    assert "\n" not in str(caught.value)
    assert "reading the tiles failed" in str(caught.value)
    assert other in str(caught.value)
    monkeypatch.setenv("S1FLOOD_DEM_FETCH", "ranges")
    with pytest.raises(InvalidOptionError, match="dem_fetch"):
        resolve_dem("copernicus-90", (12.2, 42.2, 12.3, 42.3))
