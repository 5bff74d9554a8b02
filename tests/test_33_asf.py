"""ASF SearchAPI (count + geojson, window splitting), Earthdata tokens, redirected downloads."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from s1flood.discovery import discover, fetch, load_config, open_catalogue, render
from s1flood.discovery.asf import AsfCatalogue, scene_from_jsonlite
from s1flood.discovery.config import DiscoveryConfig
from s1flood.errors import AuthenticationError, CatalogueError, ProductNotFoundError
from servers import Fault, MockServer
from servers.asf import AsfState, start_asf

AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
WINDOW = ("2026-10-01", "2027-02-28")


@pytest.fixture
def asf(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[MockServer, AsfState, DiscoveryConfig]]:
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for var in ("S1FLOOD_ASF_TOKEN", "EARTHDATA_TOKEN", "S1FLOOD_ASF_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    main, dl, state = start_asf()
    cfg = load_config(
        {
            "asf_url": main.url + "/services/search/param",
            "earthdata_url": main.url,
            "asf_trusted_hosts": "127.0.0.1",  # the datapool; the download host is localhost
            "backoff": 0.01,
            "retries": 3,
            "timeout": 2.0,
        }
    )
    yield main, state, cfg
    main.close()
    dl.close()


def _searches(server: MockServer) -> list[str]:
    return [r["path"] for r in server.log if r["path"].startswith("/services/search/param")]


def test_search_geojson(asf: tuple[MockServer, AsfState, DiscoveryConfig]) -> None:
    server, _, cfg = asf
    result = discover(AOI, *WINDOW, catalogue="asf", config=cfg)
    calls = _searches(server)
    assert len(calls) == 2
    assert "output=count" in calls[0]
    assert "output=geojson" in calls[1]
    for key in ("platform=SENTINEL-1", "processingLevel=GRD_HD", "beamMode=IW", "intersectsWith="):
        assert key in calls[1]
    assert len(result.scenes) == 26
    assert len(result.duplicates) == 1
    assert {o.relative_orbit: o.count for o in result.orbits} == {22: 22, 117: 4}
    first = result.scenes[0]
    assert first.checksums["MD5"]
    assert first.size
    assert first.platform == "sentinel-1a"
    assert first.polarisations == ("VV", "VH")
    assert "relative orbit 117" in render(result, "summary")
    desc = discover(AOI, *WINDOW, catalogue="asf", config=cfg, orbit_direction="descending")
    assert {s.relative_orbit for s in desc.scenes} == {22}
    assert "flightDirection=DESCENDING" in _searches(server)[-1]


def test_window_split_when_too_many(asf: tuple[MockServer, AsfState, DiscoveryConfig]) -> None:
    server, _, cfg = asf
    small = DiscoveryConfig(**{**cfg.__dict__, "asf_max_results": 5})
    result = discover(AOI, *WINDOW, catalogue="asf", config=small)
    assert len(result.scenes) == 26
    calls = _searches(server)
    geo = [c for c in calls if "output=geojson" in c]
    assert len(geo) >= 6
    assert all("maxResults=" in c for c in geo)


def test_jsonlite_shape(asf: tuple[MockServer, AsfState, DiscoveryConfig]) -> None:
    server, state, cfg = asf
    body = requests.get(
        cfg.asf_url,
        params={"platform": "S1", "intersectsWith": AOI, "output": "jsonlite"},
        timeout=5,
    ).json()
    scenes = [scene_from_jsonlite(r) for r in body["results"]]
    assert {s.name for s in scenes} <= {p.name for p in state.products}
    assert scenes[0].relative_orbit in (22, 117)
    assert scenes[0].geometry is not None
    assert scenes[0].href
    assert scenes[0].href.endswith(".zip")
    del server


def test_search_faults(asf: tuple[MockServer, AsfState, DiscoveryConfig]) -> None:
    server, _, cfg = asf
    server.inject(
        "search",
        Fault("status", 429, {"Retry-After": "0"}),
        Fault("status", 503, {"Retry-After": "0"}),
        Fault("status", 500),
    )
    assert len(discover(AOI, *WINDOW, catalogue="asf", config=cfg).scenes) == 26
    server.inject("search", Fault("html", 503), Fault("malformed"))
    assert len(discover(AOI, *WINDOW, catalogue="asf", config=cfg).scenes) == 26
    server.inject("search", Fault("empty"))
    assert discover(AOI, *WINDOW, catalogue="asf", config=cfg).scenes == []
    server.inject("search", *[Fault("html", 503)] * 4)
    with pytest.raises(CatalogueError) as err:
        discover(AOI, *WINDOW, catalogue="asf", config=cfg)
    assert "HTML page (maintenance?)" in str(err.value)
    assert err.value.status == 503
    server.inject("search", *[Fault("malformed")] * 4)
    with pytest.raises(CatalogueError, match="malformed JSON") as err2:
        discover(AOI, *WINDOW, catalogue="asf", config=cfg)
    bad = DiscoveryConfig(**{**cfg.__dict__, "asf_url": cfg.asf_url + "?bogus=1"})
    with pytest.raises(CatalogueError) as err3:
        discover(AOI, *WINDOW, catalogue=AsfCatalogue(bad), config=bad)
    assert err3.value.status == 400
    assert "not a valid keyword" in str(err3.value)
    for e in (err, err2, err3):
        assert "\n" not in str(e.value)


def test_get(asf: tuple[MockServer, AsfState, DiscoveryConfig]) -> None:
    _, state, cfg = asf
    cat = open_catalogue("asf", cfg)
    product = state.products[0]
    scene = cat.get(product.name + ".SAFE")
    assert scene.name == product.name
    assert cat.get(scene.id).name == product.name
    with pytest.raises(ProductNotFoundError):
        cat.get("S1A_IW_GRDH_1SDV_20200101T000000_20200101T000025_000001_000001_AAAA")


def test_fetch_bearer_redirect(
    asf: tuple[MockServer, AsfState, DiscoveryConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, state, cfg = asf
    token = state.new_token()
    monkeypatch.setenv("EARTHDATA_TOKEN", token)
    product = state.products[0]
    server.inject("download", Fault("cut"), Fault("status", 503, {"Retry-After": "0"}))
    path = fetch(product.name, catalogue="asf", out_dir=tmp_path, config=cfg).path
    assert path.read_bytes() == product.body
    pool = [r for r in server.log if r["path"].startswith("/GRD_HD/")]
    assert pool[0]["headers"]["Authorization"] == f"Bearer {token}"
    hits = [r for r in server.log if r["path"].startswith("/dl/")]
    assert hits
    assert all("Authorization" not in r["headers"] for r in hits)  # never to the S3-like host
    assert any(r["headers"].get("Range") for r in hits)  # resumed after the cut
    # a datapool host the configuration does not trust never gets the token: no download
    trusted = DiscoveryConfig(**{**cfg.__dict__, "asf_trusted_hosts": "asf.alaska.edu"})
    before = len(server.log)
    with pytest.raises(AuthenticationError):
        fetch(product.name, catalogue=AsfCatalogue(trusted), out_dir=tmp_path / "u", unzip=True)
    untrusted = [r for r in server.log[before:] if r["path"].startswith("/GRD_HD/")]
    assert untrusted
    assert all("Authorization" not in r["headers"] for r in untrusted)
    assert not (tmp_path / "u").exists() or not any((tmp_path / "u").iterdir())


def test_fetch_login_with_password(
    asf: tuple[MockServer, AsfState, DiscoveryConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, state, cfg = asf
    host = cfg.earthdata_url.split("//")[1].split(":")[0]
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login {state.username} password {state.password}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    product = state.products[1]
    cat = AsfCatalogue(cfg)
    path = fetch(product.name, catalogue=cat, out_dir=tmp_path / "o", config=cfg).path
    assert hashlib.md5(path.read_bytes()).hexdigest() == hashlib.md5(product.body).hexdigest()
    assert cat.auth().logins == 1
    # a revoked token: one new login, then success
    state.tokens.clear()
    fetch(state.products[2].name, catalogue=cat, out_dir=tmp_path / "o", config=cfg)
    assert cat.auth().logins == 2
    assert len([r for r in server.log if r["path"].endswith("find_or_create_token")]) == 2


def test_fetch_auth_errors(
    asf: tuple[MockServer, AsfState, DiscoveryConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, state, cfg = asf
    product = state.products[0]
    with pytest.raises(AuthenticationError, match="no Earthdata credentials"):
        fetch(product.name, catalogue="asf", out_dir=tmp_path, config=cfg)
    monkeypatch.setenv("S1FLOOD_ASF_USERNAME", state.username)
    monkeypatch.setenv("S1FLOOD_ASF_PASSWORD", "wrong-password")
    with pytest.raises(AuthenticationError) as err:
        fetch(product.name, catalogue="asf", out_dir=tmp_path, config=cfg)
    assert err.value.status == 401
    assert "Invalid user credentials" in str(err.value)
    monkeypatch.setenv("EARTHDATA_TOKEN", "not-a-valid-token")
    with pytest.raises(AuthenticationError) as err2:
        fetch(product.name, catalogue="asf", out_dir=tmp_path, config=cfg)
    assert err2.value.status == 401
    for e in (err, err2):
        assert "\n" not in str(e.value)
    assert not list(tmp_path.iterdir())


def test_no_secret_leaks(
    asf: tuple[MockServer, AsfState, DiscoveryConfig],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, state, cfg = asf
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("S1FLOOD_ASF_USERNAME", state.username)
    monkeypatch.setenv("S1FLOOD_ASF_PASSWORD", state.password)
    server.inject("download", Fault("cut"), Fault("status", 429, {"Retry-After": "0"}))
    server.inject("search", Fault("status", 500))
    result = discover(AOI, *WINDOW, catalogue="asf", config=cfg)
    cat = AsfCatalogue(cfg)
    path = fetch(result.names[0], catalogue=cat, out_dir=tmp_path, progress=True).path
    messages: list[str] = []
    given = state.new_token()
    monkeypatch.setenv("S1FLOOD_ASF_TOKEN", given)
    state.tokens.discard(given)
    with pytest.raises(AuthenticationError) as err:
        fetch(result.names[1], catalogue="asf", out_dir=tmp_path, config=cfg)
    messages.append(str(err.value) + repr(err.value))
    monkeypatch.delenv("S1FLOOD_ASF_TOKEN")
    state.password = "changed"
    with pytest.raises(AuthenticationError) as err2:
        fetch(result.names[1], catalogue="asf", out_dir=tmp_path, config=cfg)
    messages.append(str(err2.value) + repr(err2.value))
    out = capsys.readouterr()
    texts = (
        [r.getMessage() for r in caplog.records]
        + messages
        + [out.out, out.err, render(result, "json")]
        + [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    )
    issued = sorted(state.tokens | {given})
    assert issued
    for text in texts:
        assert "edl-Pa55-w0rd!" not in text
        for token in issued:
            assert token not in text
    assert path.is_file()
