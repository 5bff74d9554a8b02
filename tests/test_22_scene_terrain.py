"""`process_scene` on a real-event job's inputs: ``dem: copernicus-30`` from a loopback bucket.

A simulated dual-polarisation product over the demo AOI; a Copernicus DEM bucket on
127.0.0.1 whose terrain has a steep ridge in the east of the AOI. The scene step must
preprocess both polarisations into one two-band COG, hand the DEM preprocessing fetched to
classification (HAND and slope exclusion applied: steep pixels are nodata) with ONE download
of the tile, and count shadow/layover, HAND and slope in the sidecar; the two-band COG then
round-trips through ``s1flood classify --band VV,VH``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling

from s1flood.classification.exclusion import read_on_grid
from s1flood.classification.hand import slope_degrees
from s1flood.cli import main
from s1flood.demo import DEMO_AOI
from servers.dem_tiles import analytic_heights, start_dem_bucket, tile_requests

pytestmark = pytest.mark.slow

RIDGE_LON = 12.49


def ridged(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The bucket's smooth terrain plus a ridge rising at ~20 degrees east of `RIDGE_LON`."""
    rise = np.clip(lon - RIDGE_LON, 0.0, 0.02) * 111_320.0 * np.cos(np.radians(42.0)) * 0.36
    return (analytic_heights(lon, lat) + rise).astype(np.float32)


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from s1flood.steps import simulate

    out = tmp_path_factory.mktemp("sim22")
    simulate(
        aoi=DEMO_AOI, start="2026-10-20T00:00:00Z", end="2026-11-20T00:00:00Z", out=out,
        scenes=1, size="tiny",
    )  # fmt: skip
    return next((out / "products").glob("*.SAFE"))


@pytest.fixture(scope="module")
def scene(product: Path, tmp_path_factory: pytest.TempPathFactory):
    from s1flood.steps import process_scene

    dem = start_dem_bucket(tmp_path_factory.mktemp("tiles"), [(42, 12)], code="10", heights=ridged)
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("S1FLOOD_CACHE_DIR", str(cache))
        patch.setenv("S1FLOOD_DEM_COPERNICUS_30_URL", dem.url)
        patch.setenv("S1FLOOD_CONFIG", str(cache / "none.toml"))
        try:
            result = process_scene(
                str(product), tmp_path_factory.mktemp("out"), aoi=DEMO_AOI,
                dem="copernicus-30", speckle="none", polarisation="VV+VH", band="auto",
            )  # fmt: skip
        finally:
            dem.close()
    return result, tile_requests(dem), cache


def test_named_dem_excludes_steep_terrain_with_one_download(scene) -> None:
    result, requests, cache = scene
    tiles = {str(r["path"]) for r in requests}
    assert len(tiles) == 1
    # tiles are fetched whole (``dem_fetch=tiles``): one GET of the tile for the whole scene
    assert len(requests) == 1, requests
    classified = result.classified
    assert classified.polarisations == ["VV", "VH"]
    assert classified.rule == "dual-polarisation membership mean"
    with rasterio.open(result.preprocessed.output) as src:
        assert src.count == 2
        assert src.descriptions == ("VV", "VH")
    (mosaic,) = (cache / "dem" / "mosaics").glob("copernicus-30_*.tif")
    with rasterio.open(classified.mask) as m:
        from s1flood.raster import Grid

        grid = Grid.of(m)
        mask = m.read(1)
    heights = read_on_grid(mosaic, grid, Resampling.bilinear)
    steep = slope_degrees(heights, abs(grid.transform.a), abs(grid.transform.e)) > 10
    assert steep.mean() > 0.1
    assert (mask[steep] == 255).all()
    assert (mask[~steep] != 255).mean() > 0.1  # the rest: HAND exclusion and the swath
    record = json.loads(classified.sidecar.read_text())
    excluded = record["excluded_pixels"]
    assert excluded["slope"] == int(steep.sum())
    assert excluded["hand"] > 0
    assert "shadow_layover" in excluded
    total = grid.width * grid.height
    shadow = result.preprocessed.shadow_fraction + result.preprocessed.layover_fraction
    assert excluded["shadow_layover"] == pytest.approx(shadow * total, abs=2)
    assert set(record["excluded_km2"]) == set(excluded)
    assert [b["band"] for b in record["per_band"]] == ["VV", "VH"]


def test_two_band_cog_round_trips_through_classify_band_vv_vh(scene, tmp_path) -> None:
    result, _, _ = scene
    sigma0 = tmp_path / "sigma0.tif"
    shutil.copy(result.preprocessed.output, sigma0)
    mask = tmp_path / "water.tif"
    assert main(["-q", "classify", str(sigma0), str(mask), "--band", "VV,VH"]) == 0
    record = json.loads(mask.with_suffix(".json").read_text())
    assert record["polarisations"] == ["VV", "VH"]
    assert [b["band"] for b in record["per_band"]] == ["VV", "VH"]
    # without the terrain exclusion more pixels are valid; the bands' order is kept
    assert record["pixels"]["valid"] > result.classified.pixels["valid"]
    with rasterio.open(mask) as m:
        assert m.tags()["polarisations"] == "VV,VH"
