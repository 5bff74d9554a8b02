"""The packed application package deployed on the OGC server and executed in containers.

Needs root and the Docker engine (dockerd on its own socket, the registry on 127.0.0.1; both
through scripts/, as test_62 does): builds the step images (cached), pushes them with
`s1flood package --registry`, starts `s1flood serve` with containers enabled, deploys the package
with ``POST /processes`` (201, then 409; 401 without the token), executes the demo job on it
asynchronously, checks the frequency COG is byte-identical to a cwltool --no-container run on the
same inputs (test_62 shows the container and --no-container runs give the same bytes), then
replaces (PUT), undeploys (DELETE) and finds it gone (404).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import rasterio
import requests
from rasterio.io import MemoryFile

import test_60_infra as infra
from test_70_ogc import WORKFLOW, OgcServer
from test_72_ogc_flood import (
    DEMO_JOB,
    ReferenceRun,
    demo_inputs,
    deploy_package,
    replace_and_undeploy,
    workflow_id,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not WORKFLOW.is_file(), reason="cwl/workflow.cwl (issue 11) not present"),
    pytest.mark.skipif(not DEMO_JOB.is_file(), reason="parameters/demo.yml (issue 11) not present"),
]

STEPS = ("discover", "classify", "aggregate")


@pytest.fixture(scope="module")
def engine() -> Iterator[None]:
    yield from infra.held("docker")


@pytest.fixture(scope="module")
def registry() -> Iterator[None]:
    yield from infra.held("registry")


@pytest.fixture(scope="module")
def images(engine: None) -> None:
    """The base and step images (the build cache makes this quick after the first time)."""
    start = time.monotonic()
    infra.script("base-image.sh")
    infra.script("docker-build-images.sh", *STEPS)
    infra.record_time("image builds for the OGC package run (cached)", time.monotonic() - start)


def packed_package(address: str, target: Path) -> Path:
    """`s1flood package --registry ADDR`: pushes the images, pins them by @sha256: digest."""
    proc = subprocess.run(
        [sys.executable, "-m", "s1flood.cli", "package", "--registry", address,
         "--output", str(target)],
        capture_output=True, text=True, check=False, env=infra.run_env(), cwd=infra.ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{address}/s1flood/" in target.read_text()
    assert "@sha256:" in target.read_text()
    return target


def frequency_cog(srv: OgcServer, job_id: str) -> bytes:
    """The job's frequency COG, found through its results, STAC catalog and item."""
    results = requests.get(f"{srv.url}/jobs/{job_id}/results", timeout=30).json()
    catalog_url = results["results"]["href"]
    catalog = requests.get(catalog_url, timeout=30).json()
    item_link = next(link for link in catalog["links"] if link["rel"] == "item")
    item_url = urljoin(catalog_url, item_link["href"])
    item = requests.get(item_url, timeout=30).json()
    response = requests.get(urljoin(item_url, item["assets"]["frequency"]["href"]), timeout=60)
    assert response.status_code == 200
    return response.content


def test_deployed_package_runs_in_containers(
    images: None,
    registry: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "demo"
    subprocess.run(
        [sys.executable, infra.SCRIPTS / "demo_data.py", str(data),
         "--scenes", "2", "--size", "tiny"],
        check=True, capture_output=True,
    )  # fmt: skip
    (tmp_path / "reference").mkdir()
    reference = ReferenceRun(data, tmp_path / "reference")  # runs alongside the server's job
    try:
        address = infra.script("registry-local.sh", "address").strip()
        package = packed_package(address, tmp_path / f"{workflow_id()}.cwl")
        # the server's jobs reach the project's engine, not the host's
        monkeypatch.setenv("DOCKER_HOST", infra.DOCKER_HOST)
        srv = OgcServer(
            tmp_path / "srv", containers=True, input_roots=[data], job_timeout=1200
        ).start()
        try:
            _deploy_execute_replace_undeploy(srv, package, data, reference)
        finally:
            srv.stop()
    finally:
        reference.stop()


def _deploy_execute_replace_undeploy(
    srv: OgcServer, package: Path, data: Path, reference: ReferenceRun
) -> None:
    location = deploy_package(srv, package)

    started = time.monotonic()
    response = requests.post(
        f"{location}/execution",
        json={"inputs": demo_inputs(data)},
        headers={"Prefer": "respond-async"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    assert response.headers["Location"].endswith(f"/jobs/{job_id}")
    status: dict[str, Any] = srv.wait_job(job_id, timeout=1200)
    seconds = time.monotonic() - started
    log = srv.workdir / "data" / "jobs" / job_id / "job.log"
    assert status["status"] == "successful", (status, log.read_text()[-3000:])
    assert "docker" in log.read_text()  # the steps really ran in containers
    print(f"\nOGC job of the deployed package in containers: {seconds:.1f} s")

    frequency = frequency_cog(srv, job_id)
    with MemoryFile(frequency) as memory, memory.open() as raster:
        assert raster.driver == "GTiff"
        assert raster.count >= 1
        assert raster.width > 0
        assert raster.height > 0
        assert raster.crs is not None
        raster.read(1)
    expected = Path(reference.outputs()["results"]["path"]) / "frequency" / "frequency.tif"
    with rasterio.open(expected) as raster:
        assert raster.driver == "GTiff"
    assert frequency == expected.read_bytes()

    replace_and_undeploy(location, package)
