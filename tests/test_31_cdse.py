"""CDSE OData search, Keycloak tokens, downloads with redirect/Range/resume/checksum, faults."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1flood.discovery import discover, fetch, load_config, render
from s1flood.discovery.cdse import CdseCatalogue
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.download import _trusted, is_loopback
from s1flood.errors import (
    AuthenticationError,
    CatalogueError,
    ChecksumError,
    ProductNotFoundError,
    ProductOfflineError,
    cli_flag,
)
from servers import Fault, MockServer
from servers.cdse import CdseState, start_cdse

AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"


@pytest.fixture
def cdse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[MockServer, CdseState, DiscoveryConfig]]:
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    main, zipper, state = start_cdse()
    monkeypatch.setenv("S1FLOOD_CDSE_USERNAME", state.username)
    monkeypatch.setenv("S1FLOOD_CDSE_PASSWORD", state.password)
    cfg = load_config(
        {
            "cdse_odata_url": main.url + "/odata/v1",
            "cdse_download_url": main.url + "/odata/v1",
            "cdse_oidc_url": main.url + "/auth/realms/CDSE/.well-known/openid-configuration",
            "trusted_hosts": "localhost",
            "page_size": 7,
            "backoff": 0.01,
            "retries": 3,
            "timeout": 1.0,
        }
    )
    yield main, state, cfg
    main.close()
    zipper.close()


def _first(state: CdseState) -> dict:  # type: ignore[type-arg]
    return state.products[0]


def test_search_paging_dedup_orbits(cdse: tuple[MockServer, CdseState, DiscoveryConfig]) -> None:
    main, _state, cfg = cdse
    result = discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg)
    pages = [r for r in main.log if r["path"].startswith("/odata/v1/Products?")]
    assert len(pages) >= 4  # 28 products matched, 7 per page
    assert "OData.CSC.Intersects" in pages[0]["path"] or "Intersects" in pages[0]["path"]
    assert len(result.duplicates) == 2  # reprocessed + COG copies of one acquisition
    names = result.names
    assert any(n.endswith("_FFFF") for n in names)  # the newest kept
    assert len(names) == len(set(names)) == 22 + 4
    assert [s.start for s in result.scenes] == sorted(s.start for s in result.scenes)
    orbits = {o.relative_orbit: o.count for o in result.orbits}
    assert orbits == {22: 22, 117: 4}
    strict = discover(
        AOI,
        "2026-10-01",
        "2027-02-28",
        catalogue="cdse",
        config=cfg,
        min_coverage=0.9,
        orbit_direction="descending",
    )
    assert {s.relative_orbit for s in strict.scenes} == {22}
    one = discover(
        AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg, relative_orbit=117
    )
    assert len(one.scenes) == 4
    assert "relative orbit 117" in render(one, "summary")


def test_search_faults(cdse: tuple[MockServer, CdseState, DiscoveryConfig]) -> None:
    main, _, cfg = cdse
    main.inject(
        "search",
        Fault("status", 429, {"Retry-After": "0"}),
        Fault("status", 500),
        Fault("html", 503),
        Fault("malformed"),
    )
    result = discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg)
    assert len(result.scenes) == 26
    main.inject("search", Fault("empty"))
    assert discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg).scenes == []
    main.inject("search", *[Fault("html", 503)] * 4)
    with pytest.raises(CatalogueError) as err:
        discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg)
    assert "HTML page (maintenance?)" in str(err.value)
    assert "\n" not in str(err.value)
    main.inject("search", Fault("status", 403))
    with pytest.raises(AuthenticationError):
        discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg)
    main.inject("search", Fault("timeout", headers={"delay": "1.5"}))
    assert len(discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg).scenes) == 26


def _verify(path: Path, product: dict) -> None:  # type: ignore[type-arg]
    assert path.read_bytes() == product["_body"]
    assert hashlib.md5(path.read_bytes()).hexdigest() == product["Checksum"][0]["Value"]
    assert not list(path.parent.glob("*.part"))


def test_fetch_redirect_bearer_and_unzip(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path
) -> None:
    main, state, cfg = cdse
    product = _first(state)
    path = fetch(
        product["Name"].removesuffix(".SAFE"), catalogue=CdseCatalogue(cfg), out_dir=tmp_path
    ).path
    _verify(path, product)
    zipper_hits = [r for r in main.log if r["path"].startswith("/zipper/")]
    assert zipper_hits
    assert zipper_hits[0]["headers"]["Authorization"].startswith("Bearer ")
    assert "localhost" in zipper_hits[0]["headers"]["Host"]
    safe = fetch(
        product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path / "u", unzip=True
    ).path
    assert (safe / "manifest.safe").is_file()
    assert safe.name.endswith(".SAFE")


@pytest.mark.parametrize("host", ["127.0.0.2", "::1"])
def test_fetch_bearer_to_any_loopback_host(
    host: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A download host on 127.0.0.2 or ::1 is loopback: plain HTTP may carry the token."""
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    main, zipper, state = start_cdse(zipper_host=host)
    try:
        monkeypatch.setenv("S1FLOOD_CDSE_USERNAME", state.username)
        monkeypatch.setenv("S1FLOOD_CDSE_PASSWORD", state.password)
        cfg = load_config(
            {
                "cdse_odata_url": main.url + "/odata/v1",
                "cdse_download_url": main.url + "/odata/v1",
                "cdse_oidc_url": main.url + "/auth/realms/CDSE/.well-known/openid-configuration",
                "trusted_hosts": host,
                "backoff": 0.01,
                "retries": 1,
                "timeout": 2.0,
            }
        )
        product = _first(state)
        result = fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
        _verify(result.path, product)
        hits = [r for r in main.log if r["path"].startswith("/zipper/")]
        assert hits[0]["headers"]["Authorization"].startswith("Bearer ")
        assert host in hits[0]["headers"]["Host"]
    finally:
        main.close()
        zipper.close()


def test_loopback_and_trusted_hosts() -> None:
    assert all(
        is_loopback(h) for h in ("localhost", "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1")
    )
    assert is_loopback("::ffff:127.0.0.2")  # IPv4-mapped
    assert not any(is_loopback(h) for h in ("10.0.0.1", "128.0.0.1", "::2", "example.org", ""))
    assert _trusted("http://127.0.0.2:8080/x", ("127.0.0.2",))
    assert _trusted("http://[::1]:8080/x", ("::1",))
    assert _trusted("https://zipper.dataspace.copernicus.eu/x", ("dataspace.copernicus.eu",))
    assert not _trusted("http://zipper.dataspace.copernicus.eu/x", ("dataspace.copernicus.eu",))
    assert not _trusted("http://10.0.0.1/x", ("10.0.0.1",))  # clear text over a network
    assert not _trusted("http://127.0.0.2/x", ("127.0.0.1",))  # loopback, but not trusted


def test_fetch_untrusted_redirect_drops_token(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path
) -> None:
    _, state, cfg = cdse
    untrusted = DiscoveryConfig(**{**cfg.__dict__, "trusted_hosts": "example.org"})
    with pytest.raises(AuthenticationError):
        fetch(_first(state)["Id"], catalogue=CdseCatalogue(untrusted), out_dir=tmp_path)


def test_fetch_faults_recovered(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path
) -> None:
    main, state, cfg = cdse
    product = _first(state)
    main.inject(
        "download",
        Fault("cut"),
        Fault("status", 503, {"Retry-After": "0"}),
        Fault("cut"),
        Fault("status", 500),
        Fault("corrupt"),
    )
    cat = CdseCatalogue(DiscoveryConfig(**{**cfg.__dict__, "retries": 5}))
    path = fetch(product["Id"], catalogue=cat, out_dir=tmp_path).path
    _verify(path, product)
    ranges = [r["headers"].get("Range") for r in main.log if r["path"].startswith("/zipper/")]
    assert any(r and r != "bytes=0-" for r in ranges)  # resumed after the cut bodies


def test_resume_partial_file(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path
) -> None:
    _, state, cfg = cdse
    product = _first(state)
    name = product["Name"] + ".zip"
    (tmp_path / (name + ".part")).write_bytes(product["_body"][:5000])
    path = fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path).path
    _verify(path, product)


def test_fetch_errors_one_line(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main, state, cfg = cdse
    product = _first(state)
    main.inject("download", *[Fault("corrupt")] * 2)
    with pytest.raises(ChecksumError) as cerr:
        fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    assert not list(tmp_path.iterdir())
    main.inject("download", *[Fault("status", 500)] * 4)
    with pytest.raises(CatalogueError) as serr:
        fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    assert serr.value.status == 500
    with pytest.raises(ProductNotFoundError):
        fetch(
            "0000dead-1111-4222-8333-000000000000", catalogue=CdseCatalogue(cfg), out_dir=tmp_path
        )
    product["Online"] = False
    with pytest.raises(ProductOfflineError) as oerr:
        fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    assert "wait_offline" in str(oerr.value)
    assert "--" not in str(oerr.value)
    assert "--wait-offline" in oerr.value.describe(cli_flag)
    assert oerr.value.parameter == "wait_offline"
    product["Online"] = True
    monkeypatch.setenv("S1FLOOD_CDSE_PASSWORD", "wrong-password")
    with pytest.raises(AuthenticationError) as aerr:
        fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    assert aerr.value.status == 401
    assert "Invalid user credentials" in str(aerr.value)
    monkeypatch.delenv("S1FLOOD_CDSE_PASSWORD")
    with pytest.raises(AuthenticationError, match="no CDSE credentials"):
        fetch(product["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    for err in (cerr, serr, oerr, aerr):
        assert "\n" not in str(err.value)


def test_wait_offline(cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path) -> None:
    _, state, cfg = cdse
    product = _first(state)
    product["Online"] = False
    polls = DiscoveryConfig(**{**cfg.__dict__, "offline_poll": 0.2, "offline_timeout": 5.0})
    import threading

    threading.Timer(0.5, lambda: product.update(Online=True)).start()
    path = fetch(
        product["Id"], catalogue=CdseCatalogue(polls), out_dir=tmp_path, wait_offline=True
    ).path
    _verify(path, product)


def test_token_refresh(cdse: tuple[MockServer, CdseState, DiscoveryConfig], tmp_path: Path) -> None:
    main, state, cfg = cdse
    state.token_lifetime = 30  # within the refresh margin: every use renews
    cat = CdseCatalogue(cfg)
    fetch(state.products[0]["Id"], catalogue=cat, out_dir=tmp_path)
    fetch(state.products[1]["Id"], catalogue=cat, out_dir=tmp_path)
    auth = cat.auth()
    assert auth.grants == 1
    assert auth.refreshes >= 1
    grants = [r["body"] for r in main.log if r["path"].endswith("/token")]
    assert any("grant_type=refresh_token" in g for g in grants)
    # token revoked on the server: a 401 makes the client log in again once
    state.tokens.clear()
    state.refresh_tokens.clear()
    fetch(state.products[2]["Id"], catalogue=cat, out_dir=tmp_path)


def test_no_secret_leaks(
    cdse: tuple[MockServer, CdseState, DiscoveryConfig],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    main, state, cfg = cdse
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    product = _first(state)
    main.inject("download", Fault("cut"), Fault("status", 429, {"Retry-After": "0"}))
    cat = CdseCatalogue(cfg)
    path = fetch(product["Id"], catalogue=cat, out_dir=tmp_path, progress=True).path
    main.inject("download", *[Fault("corrupt")] * 2)
    for exc_type, kwargs in ((ChecksumError, {}),):
        with pytest.raises(exc_type) as err:
            fetch(state.products[1]["Id"], catalogue=cat, out_dir=tmp_path, **kwargs)
        messages.append(str(err.value) + repr(err.value))
    state.password = "changed-on-server"
    with pytest.raises(AuthenticationError) as err2:
        fetch(state.products[2]["Id"], catalogue=CdseCatalogue(cfg), out_dir=tmp_path)
    messages.append(str(err2.value) + repr(err2.value))
    result = discover(AOI, "2026-10-01", "2027-02-28", catalogue="cdse", config=cfg)
    out = capsys.readouterr()
    texts = (
        [r.getMessage() for r in caplog.records]
        + messages
        + [out.out, out.err, render(result, "json")]
        + [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    )
    secrets = ["s3cret-Pa55word!", *state.issued]
    assert len(state.issued) >= 2
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert path.is_file()
