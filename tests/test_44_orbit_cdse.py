"""``orbit="auto"`` from the CDSE catalogue: OData AUX search, Keycloak token, verified download.

The CDSE stand-in (tests/servers/cdse_orbits.py) answers the OData query sentineleof sends and
serves ``Products(Id)/$value`` to bearer tokens only; the bucket stand-in is the first service.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from s1flood.errors import InvalidOptionError
from s1flood.preprocessing.orbit import parse_eof
from s1flood.preprocessing.orbit_sources import resolve_orbit
from servers import Fault, MockServer
from servers.cdse_orbits import start_cdse_orbits
from servers.orbits import start_orbit_bucket
from test_41_orbit_sources import PRODUCT, START, STOP, _poeorb, _resorb

PASSWORD = "s3cret-Pa55word!"


@pytest.fixture
def cdse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = {
        Path(k).name: v for k, v in (_poeorb(), _poeorb(made_days=21), _resorb(), _poeorb("S1C"))
    }
    server = start_cdse_orbits(files)
    values = {
        "S1FLOOD_CACHE_DIR": str(tmp_path / "cache"),
        "S1FLOOD_CONFIG": str(tmp_path / "none.toml"),
        "S1FLOOD_BACKOFF": "0.01",
        "S1FLOOD_RETRIES": "2",
        "S1FLOOD_CDSE_ODATA_URL": f"{server.url}/odata/v1",
        "S1FLOOD_CDSE_DOWNLOAD_URL": f"{server.url}/odata/v1",
        "S1FLOOD_CDSE_TOKEN_URL": f"{server.url}/token",
        "S1FLOOD_CDSE_USERNAME": "user@example.com",
        "S1FLOOD_CDSE_PASSWORD": PASSWORD,
        "S1FLOOD_ORBIT_SERVICES": "cdse",
        "NETRC": str(tmp_path / "no-netrc"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    yield server
    server.close()


def _searches(server: MockServer) -> list[str]:
    return [unquote_plus(str(r["path"])) for r in server.log if "/Products?" in str(r["path"])]


def test_poeorb_from_cdse_with_the_download_token(cdse: MockServer) -> None:
    fetched = resolve_orbit(PRODUCT)
    assert fetched.kind == "AUX_POEORB"
    assert fetched.source == "cdse"
    assert fetched.path is not None
    assert "_20261123T" in fetched.path.name  # the newest of the two covering POEORBs
    assert parse_eof(fetched.path).covers(START, STOP)
    (search,) = _searches(cdse)
    assert "startswith(Name,'S1A') and contains(Name,'AUX_POEORB')" in search
    assert "ContentDate/Start lt '2026-11-02T05:09:04.000Z'" in search
    download = next(r for r in cdse.log if "$value" in str(r["path"]))
    assert download["headers"]["Authorization"].startswith("Bearer eyJ")
    assert any(r["method"] == "POST" for r in cdse.log)  # one password grant


def test_a_corrupt_download_is_caught_by_the_checksum_and_fetched_again(cdse: MockServer) -> None:
    cdse.inject("download", Fault("corrupt"))
    fetched = resolve_orbit(PRODUCT)
    assert fetched.path is not None
    assert fetched.kind == "AUX_POEORB"
    assert len([r for r in cdse.log if "$value" in str(r["path"])]) == 2


def test_cdse_after_an_unreachable_bucket(cdse: MockServer, monkeypatch) -> None:
    bucket = start_orbit_bucket({})
    url = bucket.url
    bucket.close()
    monkeypatch.setenv("S1FLOOD_ORBIT_URL", url)
    monkeypatch.setenv("S1FLOOD_ORBIT_SERVICES", "bucket,cdse")
    fetched = resolve_orbit(PRODUCT)
    assert fetched.source == "cdse"
    assert fetched.kind == "AUX_POEORB"


def test_wrong_password_is_one_line_without_the_secret(
    cdse: MockServer, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("S1FLOOD_CDSE_PASSWORD", "wrong-Pa55word-xyz")
    with caplog.at_level(logging.DEBUG, logger="s1flood"):
        fetched = resolve_orbit(PRODUCT)
    assert fetched.path is None
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "cdse:" in warning
    assert "not authorised" in warning
    assert "\n" not in warning
    assert "wrong-Pa55word-xyz" not in caplog.text


def test_without_credentials_cdse_is_skipped_and_said(cdse: MockServer, monkeypatch) -> None:
    monkeypatch.delenv("S1FLOOD_CDSE_USERNAME")
    monkeypatch.delenv("S1FLOOD_CDSE_PASSWORD")
    fetched = resolve_orbit(PRODUCT)
    assert fetched.path is None
    assert "no CDSE credentials" in fetched.source
    assert not cdse.log


def test_unknown_service_names_the_setting(cdse: MockServer, monkeypatch) -> None:
    monkeypatch.setenv("S1FLOOD_ORBIT_SERVICES", "bucket,ftp")
    with pytest.raises(InvalidOptionError, match="orbit_services"):
        resolve_orbit(PRODUCT)
