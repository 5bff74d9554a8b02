"""Discovery: Scene, local static catalog, STAC API (mock), coverage/dedup/sorting, render."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1flood.discovery import (
    CATALOGUES,
    Catalogue,
    DiscoveryResult,
    FetchResult,
    Scene,
    discover,
    fetch,
    load_config,
    open_catalogue,
    render,
)
from s1flood.discovery.scene import parse_product_name
from s1flood.discovery.search import coverage_fraction, deduplicate
from s1flood.errors import CatalogueError, InputError, InvalidOptionError, ProductNotFoundError
from s1flood.results import to_jsonable
from servers import Fault, MockServer
from servers.stac import start_stac

AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture(scope="module")
def sim_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from s1flood.cli import app

    out = tmp_path_factory.mktemp("sim")
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--aoi",
            AOI,
            "--start",
            "2026-10-20T00:00:00Z",
            "--end",
            "2026-11-20T00:00:00Z",
            "--out",
            str(out),
            "--size",
            "tiny",
            "--scenes",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "catalog" / "catalog.json"


@pytest.fixture
def stac() -> Iterator[MockServer]:
    server = start_stac()
    yield server
    server.close()


def test_product_name_parsing() -> None:
    f = parse_product_name(
        "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
    )
    assert f is not None
    assert (f["platform"], f["mode"], f["relative_orbit"], f["polarisations"]) == (
        "sentinel-1b",
        "IW",
        22,
        ("VV", "VH"),
    )
    assert parse_product_name("S1A_AUX_INS_V20140406T010000_G20140409T142540") is None


def test_local_catalog(sim_catalog: Path, tmp_path: Path) -> None:
    result = discover(
        AOI, "2026-10-20", "2026-11-20T00:00:00+00:00", catalogue=f"local:{sim_catalog}"
    )
    assert len(result.scenes) == 3
    assert [s.start for s in result.scenes] == sorted(s.start for s in result.scenes)
    assert all(0 < (s.coverage or 0) <= 1 for s in result.scenes)
    assert json.loads(render(result, "ids")) == result.names
    doc = json.loads(render(result, "json"))
    assert doc["count"] == 3
    assert doc["orbits"][0]["count"] == 3
    assert Scene.from_dict(doc["scenes"][0]) == result.scenes[0]
    path = fetch(result.names[0], catalogue=f"local:{sim_catalog}", out_dir=tmp_path).path
    assert (path / "manifest.safe").is_file()
    with pytest.raises(ProductNotFoundError):
        fetch("S1A_nothing", catalogue=f"local:{sim_catalog}", out_dir=tmp_path)


def test_results_as_data(sim_catalog: Path, tmp_path: Path) -> None:
    """Discovery and fetch results go to JSON and come back (what a notebook glues)."""
    result = discover(AOI, "2026-10-20", "2026-11-20", catalogue=f"local:{sim_catalog}")
    record = json.loads(json.dumps(result.to_dict()))
    back = DiscoveryResult.from_dict(record)
    assert back.scenes == result.scenes
    assert back.names == result.names
    assert (back.catalogue, back.start, back.end) == (result.catalogue, result.start, result.end)
    assert back.to_dict() == record
    assert Scene.from_dict(json.loads(json.dumps(result.scenes[0].to_dict()))) == result.scenes[0]

    fetched = fetch(result.names[0], catalogue=f"local:{sim_catalog}", out_dir=tmp_path / "p")
    assert isinstance(fetched, FetchResult)
    assert (fetched.name, fetched.id) == (result.names[0], result.scenes[0].id)
    assert fetched.catalogue == result.catalogue
    assert fetched.size == sum(f.stat().st_size for f in fetched.path.rglob("*") if f.is_file())
    relative = json.loads(json.dumps(fetched.to_dict(tmp_path)))
    assert relative["path"] == f"p/{fetched.path.name}"
    assert to_jsonable(fetched, tmp_path) == relative
    assert FetchResult.from_dict(relative, tmp_path) == fetched
    absolute = fetched.to_dict()
    assert absolute["path"] == str(fetched.path)
    assert FetchResult.from_dict(absolute) == fetched


def test_min_coverage_filters(sim_catalog: Path) -> None:
    full = discover(AOI, "2026-10-20", "2026-11-20", catalogue=f"local:{sim_catalog}")
    cov = min(s.coverage or 0 for s in full.scenes)
    strict = discover(
        AOI,
        "2026-10-20",
        "2026-11-20",
        catalogue=f"local:{sim_catalog}",
        min_coverage=min(1.0, cov + 0.01),
    )
    assert len(strict.scenes) < len(full.scenes)
    assert strict.below_coverage


@pytest.mark.parametrize(
    ("aoi", "start", "end", "option"),
    [
        ("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))", "2026-01-01", "2026-02-01", "aoi"),
        (
            "POLYGON ((42.03 12.44, 42.03 200, 42.09 12.52, 42.03 12.44))",
            "2026-01-01",
            "2026-02-01",
            "aoi",
        ),
        (AOI, "2026-02-01", "2026-01-01", "end"),
        (AOI, "yesterday", "2026-01-01", "start"),
    ],
)
def test_validation_one_line(aoi: str, start: str, end: str, option: str) -> None:
    with pytest.raises(InvalidOptionError) as err:
        discover(aoi, start, end, catalogue="local:/nonexistent/catalog.json")
    assert err.value.option == option
    assert "\n" not in str(err.value)


def test_config_errors_name_their_source(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError) as err:
        load_config({"retries": "many"})
    assert err.value.parameter == "settings"
    assert (
        str(err.value) == "invalid value for settings: 'retries=many' (retries must be an integer)"
    )
    with pytest.raises(InvalidOptionError, match="unknown discovery setting colour"):
        load_config({"colour": "blue"})
    with pytest.raises(InputError, match=r"\$S1FLOOD_TIMEOUT: timeout must be a number"):
        load_config(environ={"S1FLOOD_TIMEOUT": "soon"})
    bad = tmp_path / "config.toml"
    bad.write_text("[discovery]\ncolour = 'blue'\n")
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        load_config(config_file=bad)
    bad.write_text("[discovery\n")
    with pytest.raises(InputError, match="not a readable TOML config file") as err2:
        load_config(config_file=bad)
    assert "\n" not in str(err2.value)
    good = tmp_path / "good.toml"
    good.write_text("[discovery]\nretries = 2\ntimeout = 5\n")
    cfg = load_config({"timeout": "7.5"}, config_file=good, environ={"S1FLOOD_RETRIES": "4"})
    assert (cfg.retries, cfg.timeout) == (4, 7.5)  # option > environment > file


def test_catalogue_registry() -> None:
    assert set(CATALOGUES) == {"cdse", "stac", "asf", "dhus", "local"}
    assert isinstance(open_catalogue("cdse"), Catalogue)
    assert open_catalogue("stac:earth-search").name.startswith("stac:https://earth-search")
    assert open_catalogue("dhus:https://hub.example/dhus").name == "dhus:https://hub.example/dhus/"
    for spec in ("cdse:extra", "asf:extra", "stac", "stac:", "local", "dhus", "dhus:ftp://x"):
        with pytest.raises(InvalidOptionError) as err:
            open_catalogue(spec)
        assert err.value.parameter == "catalogue"
    with pytest.raises(InvalidOptionError, match="local:PATH"):
        open_catalogue("ftp:somewhere")


def test_bad_catalogue_spec() -> None:
    with pytest.raises(InvalidOptionError):
        open_catalogue("ftp:somewhere")


def test_coverage_and_dedup() -> None:
    from shapely.geometry import box

    aoi = box(12.44, 42.03, 12.52, 42.09)
    assert coverage_fraction(box(12.0, 41.0, 13.0, 43.0), aoi) == pytest.approx(1.0)
    assert coverage_fraction(box(12.48, 41.0, 13.0, 43.0), aoi) == pytest.approx(0.5, abs=0.01)
    assert coverage_fraction(None, aoi) == 0.0
    from datetime import UTC, datetime

    base = dict(
        id="x",
        footprint=None,
        start=datetime(2026, 1, 1, 5, 0, 0, 120000, tzinfo=UTC),
        stop=datetime(2026, 1, 1, 5, 0, 25, tzinfo=UTC),
        platform="sentinel-1a",
        mode="IW",
        product_type="GRD",
        absolute_orbit=100,
    )
    old = Scene(
        name="S1A_IW_GRDH_1SDV_20260101T050000_20260101T050025_000100_000001_AAAA",
        published=datetime(2026, 1, 1, 8, tzinfo=UTC),
        **base,
    )  # type: ignore[arg-type]
    new = Scene(
        name="S1A_IW_GRDH_1SDV_20260101T050000_20260101T050025_000100_000001_BBBB",
        published=datetime(2026, 3, 1, tzinfo=UTC),
        **base,
    )  # type: ignore[arg-type]
    kept, dropped = deduplicate([new, old])
    assert kept == [new]
    assert dropped == [old]


def test_stac_api_paging_get_and_post(stac: MockServer) -> None:
    cfg = load_config({"page_size": 3, "backoff": 0.01})
    result = discover(
        AOI, "2026-10-01", "2026-11-10", catalogue=f"stac:{stac.url}", config=cfg, min_coverage=0.9
    )
    searches = [r for r in stac.log if r["path"].startswith("/search")]
    assert len(searches) >= 4  # 3 per page
    assert len(result.scenes) == len([s for s in result.scenes if s.relative_orbit == 22])
    assert result.below_coverage  # the ascending scenes cover ~25 % of the AOI
    assert [s.start for s in result.scenes] == sorted(s.start for s in result.scenes)
    # GET paging too: force GET through pystac-client
    from pystac_client import Client

    client = Client.open(stac.url)
    ids = [
        i["id"]
        for i in client.search(
            method="GET", collections=["sentinel-1-grd"], limit=4
        ).items_as_dicts()
    ]
    assert len(ids) == 13


def test_stac_api_faults(stac: MockServer) -> None:
    cfg = load_config({"page_size": 50, "backoff": 0.01, "retries": 2})
    stac.inject("search", Fault("status", 503, {"Retry-After": "0"}), Fault("status", 500))
    result = discover(AOI, "2026-10-01", "2026-11-10", catalogue=f"stac:{stac.url}", config=cfg)
    assert len(result.scenes) > 0
    stac.inject("search", Fault("empty"))
    assert (
        discover(AOI, "2026-10-01", "2026-11-10", catalogue=f"stac:{stac.url}", config=cfg).scenes
        == []
    )
    stac.inject("landing", Fault("html", 503), Fault("html", 503), Fault("html", 503))
    with pytest.raises(CatalogueError) as err:
        discover(AOI, "2026-10-01", "2026-11-10", catalogue=f"stac:{stac.url}", config=cfg)
    assert "\n" not in str(err.value)
    stac.inject("search", Fault("malformed"))
    with pytest.raises(CatalogueError) as err:
        discover(AOI, "2026-10-01", "2026-11-10", catalogue=f"stac:{stac.url}", config=cfg)
    assert "\n" not in str(err.value)


def test_secrets_redacted_in_every_discovery_logger(caplog: pytest.LogCaptureFixture) -> None:
    import importlib
    import logging
    import pkgutil

    import s1flood.discovery
    from s1flood.discovery.credentials import REDACTED_LOGGERS, register_secret

    modules = [
        importlib.import_module(f"s1flood.discovery.{m.name}")
        for m in pkgutil.iter_modules(s1flood.discovery.__path__)
    ]
    logged = {m.__name__ for m in modules if isinstance(getattr(m, "logger", None), logging.Logger)}
    assert logged <= set(REDACTED_LOGGERS) - {"s1flood"}
    register_secret("tok-5ecret-value")
    caplog.set_level(logging.DEBUG)
    for name in (*sorted(logged), "urllib3.connectionpool", "pystac_client.stac_api_io"):
        logging.getLogger(name).warning("sent Bearer %s", "tok-5ecret-value")
    assert len(caplog.records) == len(logged) + 2
    assert all("tok-5ecret-value" not in r.getMessage() for r in caplog.records)


def test_discovery_pieces_are_readable() -> None:
    """No discovery module over 400 lines, no function over 80 (docstring included)."""
    import ast

    import s1flood.discovery

    too_long = []
    for path in sorted(Path(s1flood.discovery.__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 400:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    too_long.append(f"{path.name}: {node.name} has {length} lines")
    assert not too_long
