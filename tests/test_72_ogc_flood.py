"""The flood workflow as an OGC process (issue 13), called with OWSLib.

OWSLib lists the processes, describes the flood process, executes the demo job
(parameters/demo.yml on scripts/demo_data.py's data, with 2 ``tiny`` scenes) asynchronously,
polls it and downloads the frequency COG, which must be byte-identical to a cwltool run of
the same workflow on the same parameters. OWSLib 0.35's
``Processes`` has no job methods, so polling and downloads go through its own generic
request method (``_request``), not hand-written HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
import yaml
from owslib.ogcapi.processes import Processes

from test_70_ogc import AUTH_HEADER, SECRET, WORKFLOW, OgcServer, assert_problem

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
DEMO_JOB = ROOT / "parameters" / "demo.yml"
SCENES = 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not WORKFLOW.is_file(), reason="cwl/workflow.cwl (issue 11) not present"),
    pytest.mark.skipif(not DEMO_JOB.is_file(), reason="parameters/demo.yml (issue 11) not present"),
]


def workflow_id() -> str:
    return str(yaml.safe_load(WORKFLOW.read_text())["id"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline demo's data (scripts/demo_data.py), with tiny scenes to keep it quick."""
    out = tmp_path_factory.mktemp("ogc-demo")
    subprocess.run(
        [sys.executable, ROOT / "scripts" / "demo_data.py", str(out),
         "--scenes", str(SCENES), "--size", "tiny"],
        check=True,
    )  # fmt: skip
    return out


def demo_job(demo: Path) -> dict[str, Any]:
    """parameters/demo.yml with its staged folder and DEM in `demo`."""
    job = dict(yaml.safe_load(DEMO_JOB.read_text()))
    job["catalogue"] = {"class": "Directory", "location": (demo / "simulation").as_uri()}
    job["dem"] = {"class": "File", "location": (demo / "dem.tif").as_uri()}
    return job


def demo_inputs(demo: Path) -> dict[str, Any]:
    """The demo job as an execute request's inputs (files and folders by href)."""
    return {
        name: {"href": value["location"]} if isinstance(value, dict) else value
        for name, value in demo_job(demo).items()
    }


class ReferenceRun:
    """A plain cwltool run of the workflow on the same parameters, started at once and run
    alongside the server's job (the same code, half the wall time)."""

    def __init__(self, demo: Path, work: Path) -> None:
        (work / "job.json").write_text(json.dumps(demo_job(demo)))
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        self.work = work
        self.started = time.monotonic()
        self.stdout = (work / "outputs.json").open("w")
        self.stderr = (work / "cwltool.log").open("w")
        self.process = subprocess.Popen(
            [BIN / "cwltool", "--enable-ext", "--no-container", "--outdir", str(work / "out"),
             str(WORKFLOW), str(work / "job.json")],
            stdout=self.stdout, stderr=self.stderr, env=env, cwd=work,
        )  # fmt: skip

    def outputs(self) -> dict[str, Any]:
        code = self.process.wait(1800)
        seconds = time.monotonic() - self.started
        self.stdout.close()
        self.stderr.close()
        assert code == 0, (self.work / "cwltool.log").read_text()[-3000:]
        print(f"\ncwltool run of the workflow ({SCENES} tiny scenes): {seconds:.1f} s")
        return dict(json.loads((self.work / "outputs.json").read_text()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="module")
def reference(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    run = ReferenceRun(demo, tmp_path_factory.mktemp("ogc-reference"))
    yield run
    run.stop()


@pytest.fixture(scope="module")
def server(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OgcServer]:
    srv = OgcServer(
        tmp_path_factory.mktemp("ogc-flood"),
        packages=[WORKFLOW],
        input_roots=[demo],
        max_running_jobs=2,
        job_timeout=1800,
    ).start()
    yield srv
    srv.stop()


def test_owslib_runs_the_demo_job_byte_identical_to_cwltool(
    server: OgcServer, demo: Path, reference: ReferenceRun
) -> None:
    client = Processes(server.url, timeout=60)
    process_id = workflow_id()
    assert process_id in [p["id"] for p in client.processes()]
    description = client.process(process_id)
    assert {"aoi", "start", "end", "catalogue", "dem"} <= set(description["inputs"])
    assert "async-execute" in description["jobControlOptions"]
    assert not {"cdse_username", "cdse_password", "earthdata_token"} & set(description["inputs"])

    started = time.monotonic()
    status = client.execute(process_id, demo_inputs(demo), async_=True)
    assert client.response_headers["Location"].endswith(f"/jobs/{status['jobID']}")
    job_id = status["jobID"]
    progress = []
    while status["status"] in ("accepted", "running"):
        time.sleep(1)
        status = client._request(path=f"jobs/{job_id}")
        progress.append(status["progress"])
    seconds = time.monotonic() - started
    assert status["status"] == "successful", status
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)  # steps reported on the way
    print(f"\nOGC job, {SCENES} tiny scenes, asynchronous: {seconds:.1f} s (progress {progress})")

    results = client._request(path=f"jobs/{job_id}/results")
    catalog_url = results["results"]["href"]
    assert catalog_url.endswith("/catalog.json")
    assert results["scene_count"] == SCENES
    assert len(results["identifiers"]) == SCENES

    def get(url: str, as_dict: bool = True) -> Any:
        return client._request(path=url.removeprefix(server.url + "/"), as_dict=as_dict)

    catalog = get(catalog_url)
    item_link = next(link for link in catalog["links"] if link["rel"] == "item")
    item_url = urljoin(catalog_url, item_link["href"])
    item = get(item_url)
    frequency = get(urljoin(item_url, item["assets"]["frequency"]["href"]), as_dict=False)
    reference_results = Path(reference.outputs()["results"]["path"])
    expected = (reference_results / "frequency" / "frequency.tif").read_bytes()
    assert frequency == expected
    assert item["assets"]["map"]["type"] == "image/png"
    png = get(urljoin(item_url, item["assets"]["map"]["href"]), as_dict=False)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    scenes = [link for link in catalog["links"] if link["rel"] == "item"][1:]
    assert len(scenes) == SCENES

    # the server filled the credential inputs from its environment: never written anywhere
    job_dir = server.workdir / "data" / "jobs" / job_id
    assert (job_dir / "outputs").is_dir()
    for file in [*job_dir.rglob("*"), server.workdir / "server.log"]:
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file
    print(f"server peak RSS: {server.peak_rss_mb():.0f} MB")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aoi": "POLYGON((11 45, 11.1 45.1))"}, "input 'aoi'"),
        ({"aoi": "not wkt"}, "not valid WKT"),
        ({"end": "2026-10-01"}, "input 'end'"),
        ({"start": "last week"}, "input 'start'"),
        ({"cdse_password": "p"}, "credentials are configured on the server"),
        ({"dem": "/etc/hostname"}, "not a file this server offers"),
        ({"window": "5"}, "input 'window': expected an integer"),
        ({"resolution": True}, "input 'resolution': expected a number"),
        ({"unknown": 1}, "unknown input 'unknown'"),
    ],
)
def test_bad_flood_inputs_are_400_problems(
    server: OgcServer, demo: Path, change: dict[str, Any], words: str
) -> None:
    response = requests.post(
        f"{server.url}/processes/{workflow_id()}/execution",
        json={"inputs": {**demo_inputs(demo), **change}},
        headers={"Prefer": "respond-async"},
        timeout=60,
    )
    doc = assert_problem(response, 400)
    assert words in doc["detail"]


def packed_package(tmp_path: Path) -> Path:
    """The packed application package: `s1flood package` (issue 12) writes it."""
    target = tmp_path / f"{workflow_id()}.cwl"
    subprocess.run(
        [BIN / "s1flood", "package", "--workflow", str(WORKFLOW), "--output", str(target)],
        check=True,
        capture_output=True,
    )
    return target


CWL_YAML = {"Content-Type": "application/cwl+yaml"}


def deploy_package(srv: OgcServer, package: Path) -> str:
    """Deploy a package: 401 without the token, 201 + Location with it, 409 again; its URL."""
    url = f"{srv.url}/processes"
    body = package.read_bytes()
    assert_problem(requests.post(url, data=body, headers=CWL_YAML, timeout=60), 401)
    created = requests.post(url, data=body, headers={**AUTH_HEADER, **CWL_YAML}, timeout=300)
    assert created.status_code == 201, created.text
    location = str(created.headers["Location"])
    assert location == f"{url}/{workflow_id()}"
    duplicate = requests.post(url, data=body, headers={**AUTH_HEADER, **CWL_YAML}, timeout=300)
    assert_problem(duplicate, 409)
    return location


def replace_and_undeploy(location: str, package: Path) -> None:
    """PUT replaces the process (204), DELETE undeploys it (204), then it is 404."""
    body = package.read_bytes()
    replaced = requests.put(location, data=body, headers={**AUTH_HEADER, **CWL_YAML}, timeout=300)
    assert replaced.status_code == 204, replaced.text
    assert requests.delete(location, headers=AUTH_HEADER, timeout=60).status_code == 204
    assert_problem(requests.get(location, timeout=10), 404)


def test_deploy_the_packed_flood_package(tmp_path: Path) -> None:
    package = packed_package(tmp_path)
    srv = OgcServer(tmp_path / "srv").start()
    try:
        location = deploy_package(srv, package)
        description = requests.get(location, timeout=10).json()
        assert {"aoi", "start", "end", "dem"} <= set(description["inputs"])
        assert "cdse_password" not in description["inputs"]
        assert requests.get(location + "/package", timeout=10).text == package.read_text()
        replace_and_undeploy(location, package)
    finally:
        srv.stop()
