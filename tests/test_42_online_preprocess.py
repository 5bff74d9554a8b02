"""``preprocess(..., dem="copernicus-90", orbit="auto")`` end to end against local stand-ins.

A simulated product over the demo AOI; a Copernicus DEM bucket and an orbit bucket on
127.0.0.1. Terrain correction with the fetched DEM must be identical to terrain correction
with the same heights given as a file, and the CLI must run with no file given by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood.demo import DEMO_AOI
from s1flood.preprocessing import preprocess
from s1flood.preprocessing.dem_sources import geoid_undulation
from servers.dem_tiles import start_dem_bucket, tile_name
from servers.orbits import eof_name, eof_text, product_orbit, start_orbit_bucket

from helpers import SHARED_DATA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from s1flood.steps import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(
        aoi=DEMO_AOI, start="2026-10-20T00:00:00Z", end="2026-11-20T00:00:00Z", out=out,
        scenes=1, size="tiny",
    )  # fmt: skip
    return next((out / "products").glob("*.SAFE"))


@pytest.fixture(scope="module")
def servers(product: Path, tmp_path_factory: pytest.TempPathFactory):
    dem = start_dem_bucket(tmp_path_factory.mktemp("tiles"), [(42, 12)], code="30")
    times, pos, vel = product_orbit(str(product))
    made = times[-1].replace(microsecond=0)
    name = eof_name("S1A", "POEORB", made, times[0], times[-1])
    eof = eof_text("S1A", "POEORB", made, times, pos, vel).encode()
    orbits = start_orbit_bucket({f"AUX_POEORB/{name}": eof})
    yield dem, orbits
    dem.close()
    orbits.close()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def env(servers, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    dem, orbits = servers
    values = {
        "S1FLOOD_CACHE_DIR": str(cache),
        "S1FLOOD_DEM_COPERNICUS_90_URL": dem.url,
        "S1FLOOD_ORBIT_URL": orbits.url,
        "S1FLOOD_ORBIT_SERVICES": "bucket",
        "S1FLOOD_CONFIG": str(tmp_path / "none.toml"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def _same_heights_as_a_file(mosaic: Path, tile: Path, out: Path) -> Path:
    """The tile's heights on the mosaic's window, made ellipsoidal, written by the test."""
    with rasterio.open(mosaic) as m:
        bounds, transform, shape = m.bounds, m.transform, m.shape
    with rasterio.open(tile) as src:
        window = src.window(*bounds).round_offsets().round_lengths()
        heights = src.read(1, window=window)
        assert heights.shape == shape
        assert src.window_transform(window).almost_equals(transform, 1e-12)
    lon = transform.c + transform.a * (np.arange(shape[1]) + 0.5)
    lat = transform.f + transform.e * (np.arange(shape[0]) + 0.5)
    undulation, _ = geoid_undulation(*np.meshgrid(lon, lat))
    with rasterio.open(
        out, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float32",
        crs="EPSG:4326", transform=transform,
    ) as dst:  # fmt: skip
        dst.write((heights + undulation).astype(np.float32), 1)
    return out


def test_fetched_dem_gives_the_same_terrain_correction_as_the_file(
    product: Path, servers, env: dict[str, str], tmp_path: Path
) -> None:
    dem_server, orbit_server = servers
    fetched = preprocess(
        product, tmp_path / "fetched.tif", aoi_wkt=DEMO_AOI, dem="copernicus-90", orbit="auto",
        speckle="none",
    )  # fmt: skip
    assert fetched.orbit_source.startswith("AUX_POEORB:")
    assert fetched.valid_fraction > 0.2
    assert any(r["path"].endswith(".tif") for r in dem_server.log)
    assert any(r["path"].endswith(".EOF") for r in orbit_server.log)
    mosaic = next((Path(env["S1FLOOD_CACHE_DIR"]) / "dem" / "mosaics").glob("*.tif"))
    name = tile_name("30", 42, 12)
    tile = tmp_path / f"{name}.tif"
    tile.write_bytes(dem_server.files[f"{name}/{name}.tif"])
    given = _same_heights_as_a_file(mosaic, tile, tmp_path / "heights.tif")
    eof = next((Path(env["S1FLOOD_CACHE_DIR"]) / "orbits").glob("*.EOF"))
    reference = preprocess(
        product, tmp_path / "file.tif", aoi_wkt=DEMO_AOI, dem=given, orbit=eof,
        dem_vertical="ellipsoid", speckle="none",
    )  # fmt: skip
    with rasterio.open(fetched.output) as a, rasterio.open(reference.output) as b:
        one, two = a.read(1), b.read(1)
        assert a.transform == b.transform
    assert np.array_equal(one, two, equal_nan=True)
    assert np.isfinite(one).mean() > 0.2


def test_cli_runs_with_no_file_given_by_hand(
    product: Path, servers, env: dict[str, str], tmp_path: Path
) -> None:
    dem_server, orbit_server = servers
    out = tmp_path / "sigma0.tif"
    cli = [sys.executable, "-m", "s1flood.cli", "-v", "preprocess", str(product), "-o", str(out)]
    cli += ["--aoi", DEMO_AOI, "--dem", "copernicus-90", "--orbit", "auto", "--overwrite"]
    run = subprocess.run(cli, env={**os.environ, **env}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert out.exists()
    assert "AUX_POEORB" in run.stdout
    # -v says what was fetched, from where and at what cost
    assert "DEM copernicus-90: 1 tile(s) (0 sea), " in run.stderr
    assert "orbit S1A: S1A_OPER_AUX_POEORB_OPOD_" in run.stderr
    # again, on the filled cache: no request at all
    before = len(dem_server.log) + len(orbit_server.log)
    again = subprocess.run(cli, env={**os.environ, **env}, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert len(dem_server.log) + len(orbit_server.log) == before
    assert "0 request(s), 0.0 MB, " in again.stderr
    assert "(cached)" in again.stderr
    assert "from cache (0 request(s)" in again.stderr


REAL_SAFE = (
    SHARED_DATA
    / "s1-grd"
    / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
)
ROME_AOI = "POLYGON((12.46 41.96, 12.54 41.96, 12.54 42.04, 12.46 42.04, 12.46 41.96))"


def test_the_real_product_with_fetched_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared kit's S1B product over Rome: two tiles (the AOI straddles 42 N), a POEORB."""
    if not REAL_SAFE.exists():
        pytest.skip(f"shared product missing: {REAL_SAFE}")
    dem = start_dem_bucket(tmp_path / "tiles", [(41, 12), (42, 12)], code="30")
    times, pos, vel = product_orbit(str(REAL_SAFE))
    made = times[-1].replace(microsecond=0)
    name = eof_name("S1B", "POEORB", made, times[0], times[-1])
    orbits = start_orbit_bucket(
        {f"AUX_POEORB/{name}": eof_text("S1B", "POEORB", made, times, pos, vel).encode()}
    )
    for key, value in {
        "S1FLOOD_CACHE_DIR": str(tmp_path / "cache"),
        "S1FLOOD_DEM_COPERNICUS_90_URL": dem.url,
        "S1FLOOD_ORBIT_URL": orbits.url,
        "S1FLOOD_ORBIT_SERVICES": "bucket",
        "S1FLOOD_CONFIG": str(tmp_path / "none.toml"),
    }.items():
        monkeypatch.setenv(key, value)
    try:
        result = preprocess(
            REAL_SAFE, tmp_path / "rome.tif", aoi_wkt=ROME_AOI, dem="copernicus-90",
            orbit="auto", speckle="none",
        )  # fmt: skip
    finally:
        dem.close()
        orbits.close()
    assert result.orbit_source == f"AUX_POEORB:{name}"
    assert len([r for r in dem.log if r["method"] == "GET"]) == 2
    # the image is blank (every pixel nodata) but the geometry puts the AOI inside the swath
    assert result.swath_fraction == 1.0
    assert result.max_geocoding_error_px <= 0.1
    with rasterio.open(result.output) as src:
        assert src.crs.to_epsg() == 32633
