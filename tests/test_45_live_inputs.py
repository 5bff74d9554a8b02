"""Live services (``pytest --live``): the real Copernicus DEM bucket and orbit services.

Shapes and plausibility only (heights near Rome, an orbit covering a real acquisition), never
exact values; the cache is a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood.preprocessing.dem_sources import resolve_dem
from s1flood.preprocessing.orbit import parse_eof
from s1flood.preprocessing.orbit_sources import product_times, resolve_orbit

pytestmark = pytest.mark.live
# the real product of the shared kit (S1B, 2021-12-23, over Rome)
PRODUCT = "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    return tmp_path


def test_copernicus_90_tile_over_rome(cache: Path) -> None:
    fetched = resolve_dem("copernicus-90", (12.45, 41.95, 12.55, 42.05))
    assert fetched.tiles == ["Copernicus_DSM_COG_30_N41_00_E012_00_DEM"]
    assert fetched.missing == []
    assert fetched.requests >= 1
    assert fetched.bytes > 1_000_000
    with rasterio.open(fetched.path) as src:
        heights = src.read(1)
    # ellipsoidal heights in and around Rome: terrain 0..200 m plus a geoid of about 48 m
    assert 30 < float(np.median(heights)) < 300
    again = resolve_dem("copernicus-90", (12.45, 41.95, 12.55, 42.05))
    assert again.cached
    assert again.requests == 0


def test_copernicus_30_tile_name_exists(cache: Path) -> None:
    fetched = resolve_dem("copernicus-30", (12.46, 42.04, 12.47, 42.05))
    assert fetched.tiles == ["Copernicus_DSM_COG_10_N42_00_E012_00_DEM"]
    assert fetched.missing == []


def test_poeorb_for_the_real_product_from_the_bucket(cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("S1FLOOD_ORBIT_SERVICES", "bucket")
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_POEORB", fetched.source
    assert fetched.path is not None
    _, start, stop = product_times(PRODUCT)
    assert parse_eof(fetched.path).covers(start, stop)


@pytest.mark.skipif(
    not os.environ.get("S1FLOOD_CDSE_USERNAME"), reason="no CDSE credentials in the environment"
)
def test_poeorb_for_the_real_product_from_cdse(cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("S1FLOOD_ORBIT_SERVICES", "cdse")
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_POEORB", fetched.source
    assert fetched.source == "cdse"
