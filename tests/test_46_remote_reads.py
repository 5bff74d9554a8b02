"""AOI-only reads (issue 22): a zipped SAFE over Range, OData nodes, COG assets (signed).

Each layout's sigma0 must equal, bit for bit, the same AOI preprocessed from the local
product; a server ignoring Range, a range cut mid-transfer, an expiring SAS token and COGs of
another block size or without overviews must give the same raster too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood.discovery.access import Access, PcSigner
from s1flood.discovery.remote import cog_layout, nodes_layout, zip_layout
from s1flood.discovery.retries import RetryPolicy
from s1flood.errors import AoiOutsideFootprintError, CatalogueError
from s1flood.preprocessing import preprocess
from s1flood.synthetic.simulate import simulate
from servers import Fault
from servers.products import ProductServer, serve_product

AOI = "POLYGON((12.40 41.89, 12.47 41.89, 12.47 41.94, 12.40 41.94, 12.40 41.89))"
PART = "POLYGON((12.42 41.90, 12.45 41.90, 12.45 41.92, 12.42 41.92, 12.42 41.90))"
POLICY = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.02, timeout=10.0)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("sim46")
    res = simulate(AOI, "2024-05-01", "2024-05-02", out, scenes=1, size="small", seed=3,
                   progress=False)  # fmt: skip
    return res.products[0], res.dem


@pytest.fixture(scope="module")
def server(sim: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> ProductServer:
    srv = serve_product(sim[0], tmp_path_factory.mktemp("srv46"), block=256)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def local(sim: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    out = tmp_path_factory.mktemp("local46") / "s.tif"
    preprocess(sim[0], out, aoi_wkt=PART, dem=sim[1])
    return _read(out)


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _run(safe: Path, dem: Path, out: Path) -> np.ndarray:
    preprocess(safe, out, aoi_wkt=PART, dem=dem)
    return _read(out)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    assert np.isfinite(a).mean() > 0.5
    np.testing.assert_array_equal(a, b)  # NaN where NaN, every value bit for bit


def _layout(kind: str, srv: ProductServer, dest: Path, access: Access | None = None) -> Path:
    p = srv.product
    access = access or Access()
    if kind == "zip":
        return zip_layout(f"{srv.url}/zip/{p.name}.zip", dest, access, POLICY, None)
    if kind == "nodes":
        base = f"{srv.url}/odata/v1/Products({p.uid})/Nodes({p.name}.SAFE)"
        return nodes_layout(base, dest, access, POLICY, None)
    template = {"type": "Feature", "stac_version": "1.0.0", "geometry": None, "properties": {}}
    return cog_layout(srv.item(template), dest, access, POLICY, None)


@pytest.mark.parametrize("kind", ["zip", "nodes", "cog"])
def test_aoi_reads_equal_whole(kind, sim, server, local, tmp_path) -> None:
    server.reset()
    safe = _layout(kind, server, tmp_path / f"{server.product.name}.SAFE")
    assert not list(safe.glob("measurement/*"))  # only XML travelled
    record = json.loads((safe / "s1flood-remote.json").read_text())
    assert record["layout"] == kind
    assert "token" not in json.dumps(record)
    meta = sum(server.sent.values())
    got = _run(safe, sim[1], tmp_path / "s.tif")
    _same(got, local)
    measurement = sum(server.sent.values()) - meta
    whole = server.product.zip.stat().st_size
    # the part AOI covers under half the image lines: the reads stay well under the product
    assert 0 < measurement < 0.75 * whole, (kind, measurement, whole)


def test_range_ignored_falls_back_whole(sim, server, local, tmp_path, caplog) -> None:
    safe = _layout("nodes", server, tmp_path / f"{server.product.name}.SAFE")
    server.ignore_range = True
    try:
        with caplog.at_level(logging.INFO, logger="s1flood.discovery.ranges"):
            got = _run(safe, sim[1], tmp_path / "s.tif")
    finally:
        server.ignore_range = False
    _same(got, local)  # the 200 body was not taken for the range
    lines = [r for r in caplog.records if "whole file (HTTP 200)" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO


def test_zip_probe_ignoring_range_is_refused(server, tmp_path) -> None:
    from s1flood.discovery.ranges import RangesUnsupportedError

    server.ignore_range = True
    try:
        with pytest.raises(RangesUnsupportedError, match="ignores Range"):
            _layout("zip", server, tmp_path / "x.SAFE")
    finally:
        server.ignore_range = False
    assert not (tmp_path / "x.SAFE").exists()


def test_range_cut_is_resumed(sim, server, local, tmp_path) -> None:
    safe = _layout("zip", server, tmp_path / f"{server.product.name}.SAFE")
    server.inject("range", Fault("cut"), Fault("cut"), Fault("cut"))
    got = _run(safe, sim[1], tmp_path / "s.tif")
    assert not server.faults["range"]  # all three cuts were met
    _same(got, local)


def test_cog_signed_token_expiring_mid_run_is_renewed(sim, server, local, tmp_path) -> None:
    sas = f"{server.url}/api/sas/v1/token"
    server.sas, server.token_seconds = True, 0.8
    try:
        signer = PcSigner(sas, "sentinel-1-grd", POLICY)
        safe = _layout(
            "cog", server, tmp_path / f"{server.product.name}.SAFE", Access(signer=signer)
        )
        issued = server.tokens_issued
        import time

        time.sleep(1.0)  # the token the XML was read with has expired
        from s1flood.discovery import access as remote

        original = remote.access_for
        remote.access_for = lambda *_a, **_k: Access(signer=signer)  # type: ignore[assignment]
        try:
            got = _run(safe, sim[1], tmp_path / "s.tif")
        finally:
            remote.access_for = original
        assert server.tokens_issued > issued
        _same(got, local)
        # a signature the server keeps refusing: one clear line
        server.token_seconds = -10.0
        from s1flood.discovery.ranges import RangeReader

        reader = RangeReader(server.product_url("vv"), policy=POLICY, signer=signer)
        with pytest.raises(CatalogueError, match=r"refused \(HTTP 403\) even after re-signing"):
            reader.read(0, 100)
    finally:
        server.sas, server.token_seconds = False, 3600.0


@pytest.mark.parametrize("cog", [{"block": 1024, "overviews": False}])
def test_cog_other_block_size_without_overviews(cog, sim, local, tmp_path) -> None:
    srv = serve_product(sim[0], tmp_path, **cog)
    try:
        safe = _layout("cog", srv, tmp_path / f"{srv.product.name}.SAFE")
        with rasterio.open(next(iter(srv.product.cogs.values()))) as src:
            assert src.block_shapes[0] == (1024, 1024)
            assert not src.overviews(1)
        _same(_run(safe, sim[1], tmp_path / "s.tif"), local)
    finally:
        srv.close()


def test_aoi_outside_footprint_reads_no_measurement(sim, server, tmp_path) -> None:
    safe = _layout("zip", server, tmp_path / f"{server.product.name}.SAFE")
    server.reset()
    far = "POLYGON((20 41, 20.1 41, 20.1 41.1, 20 41.1, 20 41))"
    with pytest.raises(AoiOutsideFootprintError) as err:
        preprocess(safe, tmp_path / "s.tif", aoi_wkt=far, dem=sim[1])
    text = str(err.value)
    assert "\n" not in text
    assert "20.000..20.100" in text
    assert "footprint (lon/lat bounds 12." in text
    assert server.sent["zip"] == 0
    assert not (tmp_path / "s.tif").exists()


def test_process_scene_reads_aoi_through_a_stac_catalogue(sim, server, local, tmp_path) -> None:
    from s1flood.steps import process_scene
    from servers.stac import stac_items, start_stac

    template = stac_items()[0]
    stac = start_stac([server.item(template)])
    try:
        server.reset()
        res = process_scene(
            server.product.name, tmp_path, aoi=PART, dem=sim[1],
            catalogue=f"stac:{stac.url}", read="auto",
        )  # fmt: skip
    finally:
        stac.close()
    assert res.fetched is not None
    assert (res.fetched.path / "s1flood-remote.json").is_file()
    _same(_read(res.preprocessed.output), local)
    assert server.sent["blob"] < 0.75 * server.product.zip.stat().st_size
