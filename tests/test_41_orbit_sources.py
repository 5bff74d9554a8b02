"""``orbit="auto"``: the POEORB (else RESORB) covering the acquisition, from an orbit bucket.

The bucket stand-in (tests/servers/orbits.py) answers S3 ``ListObjectsV2`` listings (paged, two
keys a page) and serves EOF files written in the real file's layout; the real RESORB of the
shared kit is served too when present.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from s1flood.errors import InvalidOptionError
from s1flood.preprocessing.orbit import parse_eof
from s1flood.preprocessing.orbit_sources import is_orbit_auto, product_times, resolve_orbit
from servers import Fault, MockServer
from servers.orbits import circular_orbit, eof_name, eof_text, start_orbit_bucket

from helpers import SHARED_DATA

PRODUCT = "S1A_IW_GRDH_1SDV_20261102T051004_20261102T051029_067016_05D888_F334.SAFE"
START = datetime(2026, 11, 2, 5, 10, 4, tzinfo=UTC)
STOP = datetime(2026, 11, 2, 5, 10, 29, tzinfo=UTC)
REAL_EOF = (
    SHARED_DATA
    / "orbits"
    / ("S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF")
)


def _eof(mission: str, kind: str, made: datetime, v0: datetime, v1: datetime) -> tuple[str, bytes]:
    times, pos, vel = circular_orbit(v0, v1, step=60.0)
    key = f"AUX_{kind}/{eof_name(mission, kind, made, v0, v1)}"
    return key, eof_text(mission, kind, made, times, pos, vel).encode()


def _poeorb(mission: str = "S1A", made_days: int = 20) -> tuple[str, bytes]:
    day = START.replace(hour=0, minute=0, second=0)
    v0 = day - timedelta(hours=1, seconds=18)
    v1 = day + timedelta(days=1, hours=1, seconds=42)
    return _eof(mission, "POEORB", day + timedelta(days=made_days), v0, v1)


def _resorb(offset_h: float = 0.0) -> tuple[str, bytes]:
    v0 = START - timedelta(minutes=90) + timedelta(hours=offset_h)
    v1 = v0 + timedelta(minutes=200)
    return _eof("S1A", "RESORB", v1 + timedelta(minutes=30), v0, v1)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(cache))
    monkeypatch.setenv("S1FLOOD_BACKOFF", "0.01")
    monkeypatch.setenv("S1FLOOD_RETRIES", "2")
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("S1FLOOD_ORBIT_SERVICES", "bucket")  # CDSE: tests/test_44_orbit_cdse.py
    return cache


@pytest.fixture
def bucket(env: Path, monkeypatch: pytest.MonkeyPatch):
    objects = dict(
        [
            _poeorb(),  # the one to pick
            _poeorb(made_days=21),  # a newer POEORB of the same day: picked
            _poeorb("S1C"),  # another satellite
            _resorb(),  # covers, but restituted
            _resorb(offset_h=5),  # does not cover
        ]
    )
    # POEORBs of other days in the same months (listing pages)
    for d in (-3, 2, 9):
        day = START.replace(hour=0, minute=0, second=0) + timedelta(days=d)
        key, data = _eof("S1A", "POEORB", day + timedelta(days=20), day - timedelta(hours=1),
                         day + timedelta(hours=25))  # fmt: skip
        objects[key] = data
    server = start_orbit_bucket(objects)
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", server.url)
    yield server
    server.close()


def _gets(server: MockServer) -> list[str]:
    return [str(r["path"]) for r in server.log if r["method"] == "GET"]


def test_product_names_give_satellite_and_times() -> None:
    assert product_times(PRODUCT) == ("S1A", START, STOP)
    assert product_times(Path("/x") / PRODUCT.replace(".SAFE", ".zip"))[0] == "S1A"
    with pytest.raises(InvalidOptionError, match="orbit"):
        product_times("scene.SAFE")
    assert is_orbit_auto("auto")
    assert is_orbit_auto(Path("AUTO"))
    assert not is_orbit_auto(None)
    assert not is_orbit_auto("orbits/")


def test_the_newest_covering_poeorb_is_fetched(env: Path, bucket: MockServer) -> None:
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_POEORB"
    assert fetched.path is not None
    assert fetched.path.parent == env / "orbits"
    assert "_20261123T" in fetched.path.name  # made 21 days after, the newest
    parsed = parse_eof(fetched.path)
    assert parsed.covers(START, STOP)
    assert parsed.mission == "S1A"
    listings = [p for p in _gets(bucket) if "list-type=2" in p]
    assert all("prefix=AUX_POEORB%2FS1A_OPER_AUX_POEORB_OPOD_202611" in p for p in listings)
    assert len(listings) >= 2  # paged: two keys a page
    assert fetched.requests == len(bucket.log)
    assert fetched.bytes == parsed.path.stat().st_size


def test_cache_hit_makes_no_request(env: Path, bucket: MockServer) -> None:
    first = resolve_orbit(PRODUCT)
    count = len(bucket.log)
    again = resolve_orbit(PRODUCT)
    assert again.path == first.path
    assert again.source == "cache"
    assert again.requests == 0
    assert len(bucket.log) == count


def test_resorb_when_no_poeorb_exists_yet(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_orbit_bucket(dict([_resorb(), _resorb(offset_h=5), _poeorb("S1C")]))
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", server.url)
    try:
        fetched = resolve_orbit(PRODUCT)
    finally:
        server.close()
    assert fetched.kind == "AUX_RESORB"
    assert fetched.path is not None
    assert parse_eof(fetched.path).covers(START, STOP)
    assert any("AUX_RESORB%2FS1A_OPER_AUX_RESORB_OPOD_20261102" in p for p in _gets(server))


def test_cut_eof_download_is_resumed(env: Path, bucket: MockServer) -> None:
    key = next(k for k in bucket.objects if "POEORB" in k and "_20261123T" in k and "S1A" in k)
    bucket.inject(key, Fault("cut"))
    fetched = resolve_orbit(PRODUCT)
    assert fetched.path is not None
    assert fetched.path.read_bytes() == bucket.objects[key]
    ranged = [r for r in bucket.log if "Range" in r["headers"]]
    assert len(ranged) == 1


def test_listing_errors_are_retried(env: Path, bucket: MockServer) -> None:
    bucket.inject("list", Fault("status", 503), Fault("status", 500))
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_POEORB"


def test_offline_falls_back_to_the_annotation_in_one_line(
    env: Path, bucket: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    bucket.inject("list", *[Fault("status", 502)] * 3)
    with caplog.at_level(logging.WARNING, logger="s1flood"):
        fetched = resolve_orbit(PRODUCT)
    assert fetched.path is None
    assert fetched.kind == "annotation"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "\n" not in warnings[0]
    assert "HTTP 502" in warnings[0]
    assert "annotation orbit" in warnings[0]


def test_unreachable_service_with_a_cached_resorb_uses_it(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, data = _resorb()
    (env / "orbits").mkdir(parents=True)
    (env / "orbits" / Path(key).name).write_bytes(data)
    server = start_orbit_bucket({})
    url = server.url
    server.close()  # nothing listens there any more: connection refused
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", url)
    monkeypatch.setenv("S1FLOOD_RETRIES", "0")
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_RESORB"
    assert fetched.source == "cache"


def test_no_covering_file_is_the_annotation(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_orbit_bucket(dict([_resorb(offset_h=5), _poeorb("S1C")]))
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", server.url)
    try:
        fetched = resolve_orbit(PRODUCT)
    finally:
        server.close()
    assert fetched.path is None
    assert "no orbit file" in fetched.source


def test_the_real_resorb_file_is_found_and_read(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not REAL_EOF.exists():
        pytest.skip(f"shared orbit file missing: {REAL_EOF}")
    server = start_orbit_bucket({f"AUX_RESORB/{REAL_EOF.name}": REAL_EOF.read_bytes()})
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", server.url)
    product = "S1A_IW_GRDH_1SDV_20230823T140000_20230823T140025_050006_060A0A_ABCD.SAFE"
    try:
        fetched = resolve_orbit(product)
    finally:
        server.close()
    assert fetched.kind == "AUX_RESORB"
    assert fetched.path is not None
    assert fetched.path.read_bytes() == REAL_EOF.read_bytes()
    assert parse_eof(fetched.path).positions.shape == (1186, 3)
