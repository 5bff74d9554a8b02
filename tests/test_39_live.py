"""Live services (``pytest --live``): real response shapes, never exact counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely

from s1flood.discovery import Scene, discover, load_config
from s1flood.discovery.scene import parse_product_name

pytestmark = pytest.mark.live

# Rome, two weeks: Sentinel-1A covers it on several orbits
AOI = "POLYGON ((12.44 41.85, 12.56 41.85, 12.56 41.95, 12.44 41.95, 12.44 41.85))"
START, END = "2025-03-01", "2025-03-15"


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))


def _check(scenes: list[Scene], *, names: bool = True) -> None:
    assert scenes, "the live service found nothing for a window that has S1 acquisitions"
    aoi = shapely.from_wkt(AOI)
    for scene in scenes:
        assert scene.start.tzinfo is not None
        assert datetime(2025, 2, 28, tzinfo=UTC) <= scene.start <= datetime(2025, 3, 16, tzinfo=UTC)
        assert scene.stop >= scene.start
        assert scene.geometry is not None
        assert scene.geometry.intersects(aoi)
        assert scene.mode == "IW"
        assert 0.0 < (scene.coverage or 0.0) <= 1.0
        if names:
            fields = parse_product_name(scene.name)
            assert fields is not None, scene.name
            assert fields["product_type"] == "GRD"
        assert scene.relative_orbit is None or 1 <= scene.relative_orbit <= 175


def test_cdse_odata() -> None:
    cfg = load_config({"page_size": 20, "retries": 2, "timeout": 60.0})
    result = discover(AOI, START, END, catalogue="cdse", config=cfg)
    _check(result.scenes)
    first = result.scenes[0]
    assert first.orbit_direction in ("ascending", "descending")
    assert first.href is not None
    assert "$value" in first.href
    assert first.checksums  # CDSE lists MD5 and/or BLAKE3
    assert first.id.count("-") == 4  # a UUID


def test_cdse_stac() -> None:
    cfg = load_config({"page_size": 20, "retries": 2, "timeout": 60.0})
    result = discover(AOI, START, END, catalogue="stac:cdse", config=cfg)
    _check(result.scenes, names=False)
    assert all(s.catalogue.startswith("stac:https://stac.dataspace") for s in result.scenes)


def test_asf_search() -> None:
    cfg = load_config({"retries": 2, "timeout": 120.0})
    result = discover(AOI, START, END, catalogue="asf", config=cfg)
    _check(result.scenes)
    first = result.scenes[0]
    assert first.checksums.get("MD5")
    assert first.size
    assert first.size > 100_000_000
    assert first.href
    assert first.href.startswith("https://")
    assert first.orbit_direction in ("ascending", "descending")


def test_earth_search_stac() -> None:
    cfg = load_config({"page_size": 20, "retries": 2, "timeout": 60.0})
    result = discover(AOI, START, END, catalogue="stac:earth-search", config=cfg)
    _check(result.scenes, names=False)
