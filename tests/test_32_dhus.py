"""DHuS through sentinelsat: rows/start paging, OData metadata, $value downloads, LTA, faults."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1flood.discovery import discover, fetch, load_config, open_catalogue, render
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.dhus import DhusCatalogue
from s1flood.errors import (
    AuthenticationError,
    CatalogueError,
    InvalidOptionError,
    ProductNotFoundError,
    ProductOfflineError,
    cli_flag,
)
from servers import Fault, MockServer
from servers.dhus import DhusState, start_dhus

AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
WINDOW = ("2026-10-01", "2027-02-28")


@pytest.fixture
def dhus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[MockServer, DhusState, DiscoveryConfig, str]]:
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    server, state = start_dhus()
    monkeypatch.setenv("S1FLOOD_DHUS_USERNAME", state.username)
    monkeypatch.setenv("S1FLOOD_DHUS_PASSWORD", state.password)
    cfg = load_config({"page_size": 10, "backoff": 0.01, "retries": 3, "timeout": 2.0})
    yield server, state, cfg, f"dhus:{server.url}/dhus/"
    server.close()


def _searches(server: MockServer) -> list[str]:
    return [r["path"] for r in server.log if r["path"].startswith("/dhus/search")]


def test_search_rows_start_paging(dhus: tuple[MockServer, DhusState, DiscoveryConfig, str]) -> None:
    server, _, cfg, spec = dhus
    result = discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    pages = _searches(server)
    assert len(pages) == 3  # 27 matches, rows=10
    assert "rows=10&start=0" in pages[0]
    assert "start=20" in pages[2]
    assert "footprint" in pages[0]
    assert "sensoroperationalmode" in pages[0]
    assert len(result.scenes) == 26  # the EW and far-away products are filtered
    assert len(result.duplicates) == 1
    assert {o.relative_orbit: o.count for o in result.orbits} == {22: 22, 117: 4}
    assert all(s.catalogue.startswith("dhus:") for s in result.scenes)
    assert "relative orbit 22" in render(result, "summary")
    one = discover(AOI, *WINDOW, catalogue=spec, config=cfg, relative_orbit=117)
    assert len(one.scenes) == 4
    assert "relativeorbitnumber" in _searches(server)[-1]


def test_single_entry_and_zero_results(
    dhus: tuple[MockServer, DhusState, DiscoveryConfig, str],
) -> None:
    server, state, cfg, spec = dhus
    # one product in the window: DHuS answers "entry" as an object
    name = state.products[0].name
    scene = open_catalogue(spec, cfg).get(name)
    assert scene.name == name
    assert scene.size == len(state.products[0].body)
    assert scene.checksums["MD5"] == hashlib.md5(state.products[0].body).hexdigest()
    assert scene.online is True
    assert open_catalogue(spec, cfg).get(state.products[0].uuid).name == name
    server.inject("search", Fault("empty"))
    assert discover(AOI, *WINDOW, catalogue=spec, config=cfg).scenes == []
    assert discover(AOI, "2020-01-01", "2020-02-01", catalogue=spec, config=cfg).scenes == []
    with pytest.raises(ProductNotFoundError):
        open_catalogue(spec, cfg).get(
            "S1A_IW_GRDH_1SDV_20200101T000000_20200101T000025_000001_000001_AAAA"
        )


def test_search_faults(dhus: tuple[MockServer, DhusState, DiscoveryConfig, str]) -> None:
    server, _, cfg, spec = dhus
    server.inject(
        "search",
        Fault("status", 429, {"Retry-After": "0"}),
        Fault("status", 503, {"Retry-After": "0"}),
        Fault("status", 500),
        Fault("html", 503),
        Fault("html", 200),  # a maintenance page served as 200: retried by s1flood
        Fault("malformed"),
    )
    patient = DiscoveryConfig(**{**cfg.__dict__, "retries": 6})
    result = discover(AOI, *WINDOW, catalogue=spec, config=patient)
    assert len(result.scenes) == 26
    server.inject("search", *[Fault("html", 503)] * 4)
    with pytest.raises(CatalogueError) as err:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    assert err.value.status == 503
    assert "HTML page (maintenance?)" in str(err.value)
    server.inject("search", *[Fault("malformed")] * 4)
    with pytest.raises(CatalogueError, match="malformed JSON") as err2:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    server.inject("search", Fault("status", 400, body=b'{"error": "bad"}'))
    with pytest.raises(CatalogueError) as err3:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    assert err3.value.status == 400
    for e in (err, err2, err3):
        assert "\n" not in str(e.value)


def test_invalid_query_and_auth(
    dhus: tuple[MockServer, DhusState, DiscoveryConfig, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, cfg, spec = dhus
    cat = open_catalogue(spec, cfg)
    assert isinstance(cat, DhusCatalogue)
    with pytest.raises(CatalogueError, match="undefined field xxx") as err:
        cat._call("DHuS search", lambda: cat.api().query(raw="xxx:yyy"))
    assert "\n" not in str(err.value)
    with pytest.raises(ProductNotFoundError) as nerr:  # OData 404 with cause-message
        cat._call("DHuS product", lambda: cat.api().get_product_odata("0000dead-0000-4000-8000-0"))
    assert nerr.value.status == 404
    monkeypatch.setenv("S1FLOOD_DHUS_PASSWORD", "wrong-password")
    with pytest.raises(AuthenticationError) as aerr:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    assert aerr.value.status == 401
    assert "\n" not in str(aerr.value)
    monkeypatch.delenv("S1FLOOD_DHUS_PASSWORD")
    with pytest.raises(AuthenticationError, match="no DHuS credentials"):
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    with pytest.raises(InvalidOptionError):
        open_catalogue("dhus:", cfg)
    other = DiscoveryConfig(**{**cfg.__dict__, "dhus_url": "https://mirror.example/dhus"})
    assert open_catalogue("dhus", other).name == "dhus:https://mirror.example/dhus/"


def test_fetch_range_resume_and_checksum(
    dhus: tuple[MockServer, DhusState, DiscoveryConfig, str], tmp_path: Path
) -> None:
    server, state, cfg, spec = dhus
    product = state.products[0]
    server.inject(
        "download", Fault("cut"), Fault("status", 503, {"Retry-After": "0"}), Fault("corrupt")
    )
    path = fetch(product.name, catalogue=spec, out_dir=tmp_path, config=cfg).path
    assert path.read_bytes() == product.body
    assert path.name == product.name + ".SAFE.zip"
    ranges = [r["headers"].get("Range") for r in server.log if r["path"].endswith("/$value")]
    assert any(r and r != "bytes=0-" for r in ranges)
    assert not list(tmp_path.glob("*.part"))
    safe = fetch(product.uuid, catalogue=spec, out_dir=tmp_path / "u", unzip=True, config=cfg).path
    assert (safe / "manifest.safe").is_file()


def test_fetch_lta_offline(
    dhus: tuple[MockServer, DhusState, DiscoveryConfig, str], tmp_path: Path
) -> None:
    _server, state, cfg, spec = dhus
    product = state.products[1]
    product.online = False
    with pytest.raises(ProductOfflineError) as err:
        fetch(product.uuid, catalogue=spec, out_dir=tmp_path, config=cfg)
    assert err.value.status == 202
    assert "wait_offline" in str(err.value)
    assert "--" not in str(err.value)
    assert "--wait-offline" in err.value.describe(cli_flag)
    assert "\n" not in str(err.value)
    assert product.restore_at is not None  # the 202 triggered the LTA retrieval
    polls = DiscoveryConfig(**{**cfg.__dict__, "offline_poll": 0.1, "offline_timeout": 5.0})
    path = fetch(
        product.uuid, catalogue=spec, out_dir=tmp_path, config=polls, wait_offline=True
    ).path
    assert path.read_bytes() == product.body
    with pytest.raises(ProductNotFoundError):
        fetch("0000dead-0000-4000-8000-000000000000", catalogue=spec, out_dir=tmp_path, config=cfg)


def test_no_secret_leaks(
    dhus: tuple[MockServer, DhusState, DiscoveryConfig, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64

    server, state, cfg, spec = dhus
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    server.inject("search", Fault("status", 429, {"Retry-After": "0"}), Fault("html", 200))
    server.inject("download", Fault("cut"))
    result = discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    path = fetch(
        state.products[2].uuid, catalogue=spec, out_dir=tmp_path, progress=True, config=cfg
    ).path
    state.products[3].online = False
    with pytest.raises(ProductOfflineError) as err:
        fetch(state.products[3].uuid, catalogue=spec, out_dir=tmp_path, config=cfg)
    messages.append(str(err.value) + repr(err.value))
    server.inject("search", *[Fault("malformed")] * 4)
    with pytest.raises(CatalogueError) as err2:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    messages.append(str(err2.value) + repr(err2.value))
    state.password = "changed-on-server"
    with pytest.raises(AuthenticationError) as err3:
        discover(AOI, *WINDOW, catalogue=spec, config=cfg)
    messages.append(str(err3.value) + repr(err3.value))
    out = capsys.readouterr()
    texts = (
        [r.getMessage() for r in caplog.records]
        + messages
        + [out.out, out.err, render(result, "json")]
        + [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    )
    basic = base64.b64encode(f"{state.username}:dhus-Pa55-w0rd!".encode()).decode()
    for text in texts:
        assert "dhus-Pa55-w0rd!" not in text
        assert basic not in text
    assert path.is_file()
