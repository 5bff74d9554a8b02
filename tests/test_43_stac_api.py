"""A real STAC API (rustac's ``serve``, in-memory backend) serving the simulator's catalog.

``discover --catalogue stac:URL`` and ``fetch`` run against it as against any STAC API:
the simulator's Items are loaded as an ItemCollection whose product assets point at a plain
file server on 127.0.0.1 (the object store of a real deployment). rustac comes from the
``test`` extra (``pip install rustac``: a self-contained binary wheel, no dependency).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from s1flood.demo import DEMO_AOI

pytestmark = pytest.mark.slow
START, END = "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z"


def _rustac() -> str:
    found = shutil.which("rustac") or str(Path(sys.executable).with_name("rustac"))
    if not Path(found).exists():
        pytest.skip("rustac is not installed (pip install rustac: the test extra)")
    return found


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from s1flood.steps import simulate

    out = tmp_path_factory.mktemp("sim")
    simulate(
        aoi=DEMO_AOI, start="2026-10-20T00:00:00Z", end="2026-11-20T00:00:00Z", out=out,
        scenes=2, size="tiny", zip_products=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def files(simulated: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(simulated))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stac_api(simulated: Path, files: str, tmp_path_factory: pytest.TempPathFactory):
    """rustac serving the simulator's collection and Items (asset hrefs made absolute)."""
    rustac = _rustac()
    folder = tmp_path_factory.mktemp("stac-api")
    catalog = simulated / "catalog" / "sentinel-1-grd"
    collection = json.loads((catalog / "collection.json").read_text())
    collection["links"] = []
    items = []
    for path in sorted(catalog.glob("*/*.json")):
        item = json.loads(path.read_text())
        for asset in item["assets"].values():
            target = (path.parent / asset["href"]).resolve().relative_to(simulated)
            asset["href"] = f"{files}/{target.as_posix()}"
        item["links"] = []
        items.append(item)
    (folder / "collection.json").write_text(json.dumps(collection))
    (folder / "items.json").write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "rustac.log").open("wb")
    proc = subprocess.Popen(
        [rustac, "serve", "--addr", f"127.0.0.1:{port}", str(folder / "collection.json"),
         str(folder / "items.json")],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(url + "/", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = (folder / "rustac.log").read_text(errors="replace")
                pytest.fail(f"rustac serve did not start: {out[-500:]}")
            time.sleep(0.1)
        yield url, [i["id"] for i in items]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "s1flood.cli", *args],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "S1FLOOD_CONFIG": os.devnull},
    )  # fmt: skip


def test_the_api_is_a_stac_api(stac_api) -> None:
    url, ids = stac_api
    conformance = requests.get(f"{url}/conformance", timeout=10).json()["conformsTo"]
    assert any("item-search" in c for c in conformance)
    items = requests.get(f"{url}/collections/sentinel-1-grd/items", timeout=10).json()
    assert sorted(f["id"] for f in items["features"]) == sorted(ids)


def test_discover_finds_the_simulated_scenes(stac_api) -> None:
    url, ids = stac_api
    run = _cli("discover", "--aoi", DEMO_AOI, "--start", START, "--end", END,
               "--catalogue", f"stac:{url}", "--format", "ids")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert sorted(json.loads(run.stdout)) == sorted(ids)
    # outside the window: nothing
    run = _cli("discover", "--aoi", DEMO_AOI, "--start", "2025-01-01", "--end", "2025-02-01",
               "--catalogue", f"stac:{url}", "--format", "ids")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []


def test_fetch_downloads_the_product(stac_api, simulated: Path, tmp_path: Path) -> None:
    url, ids = stac_api
    run = _cli("fetch", ids[0], "--catalogue", f"stac:{url}", "-o", str(tmp_path))
    assert run.returncode == 0, run.stderr
    (fetched,) = tmp_path.glob(f"{ids[0]}*.zip")  # named as CDSE names them: NAME.SAFE.zip
    assert fetched.read_bytes() == (simulated / "products" / f"{ids[0]}.zip").read_bytes()
    run = _cli("fetch", "S1A_IW_GRDH_1SDV_20990101T000000_20990101T000025_000000_000000_0000",
               "--catalogue", f"stac:{url}", "-o", str(tmp_path))  # fmt: skip
    assert run.returncode != 0
    assert len(run.stderr.strip().splitlines()) == 1
    assert "no item" in run.stderr
