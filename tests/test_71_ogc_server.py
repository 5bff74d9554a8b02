"""OGC API - Processes server (issue 13) with cheap test packages.

Execution modes, jobs, dismissal, timeouts, Part 2 deployment, problem documents, secrets,
ten jobs at a limit of two.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from test_70_ogc import (
    ECHO,
    FAIL,
    OPERATOR_TOKEN,
    SECRET,
    OgcServer,
    assert_problem,
)

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ASYNC = {"Prefer": "respond-async"}
MAX_BODY = 200_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OgcServer]:
    srv = OgcServer(
        tmp_path_factory.mktemp("ogc-echo"),
        packages=[ECHO],
        max_running_jobs=2,
        job_timeout=8,
        max_body_bytes=MAX_BODY,
    ).start()
    yield srv
    srv.stop()


def execute(
    server: OgcServer, process: str, inputs: dict[str, Any], **headers: str
) -> requests.Response:
    return requests.post(
        f"{server.url}/processes/{process}/execution",
        json={"inputs": inputs},
        headers=headers,
        timeout=120,
    )


def server_status(server: OgcServer, job_id: str) -> str:
    return str(requests.get(f"{server.url}/jobs/{job_id}", timeout=10).json()["status"])


def renamed(package: Path, new_id: str, version: str = "0.1.0") -> str:
    """The package with its entry workflow renamed (a second process from the same CWL)."""
    document = yaml.safe_load(package.read_text())
    document["$graph"][0]["id"] = new_id
    document["s:softwareVersion"] = version
    return yaml.safe_dump(document, sort_keys=False)


def test_landing_conformance_and_openapi(server: OgcServer) -> None:
    assert requests.get(server.url + "/", timeout=10).status_code == 200
    conformance = requests.get(server.url + "/conformance", timeout=10).json()["conformsTo"]
    assert (
        "http://www.opengis.net/spec/ogcapi-processes-2/1.0/conf/deploy-replace-undeploy"
        in conformance
    )
    assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core" in conformance
    openapi = requests.get(server.url + "/openapi", timeout=10).json()
    assert "/processes/s1flood-echo/execution" in openapi["paths"]


def test_sync_execution_returns_links_to_files(server: OgcServer) -> None:
    response = execute(server, "s1flood-echo", {"message": "hello", "copies": 2})
    assert response.status_code == 200, response.text
    link = response.json()["result"]
    assert link["type"] == "text/plain"
    assert requests.get(link["href"], timeout=10).text == "hello\nhello\n"
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    status = requests.get(f"{server.url}/jobs/{job_id}", timeout=10).json()
    assert (status["status"], status["progress"]) == ("successful", 100)
    listed = requests.get(f"{server.url}/jobs", timeout=10).json()["jobs"]
    assert job_id in {j["jobID"] for j in listed}


EXEC = "/processes/s1flood-echo/execution"
CWL = {"Content-Type": "application/cwl+yaml"}
JSON_TYPE = {"Content-Type": "application/json"}
TOO_BIG = b"x" * (MAX_BODY + 1)
BAD_REQUESTS = [
    ("post", EXEC, {"inputs": {"message": 5}}, {}, 400, "expected a string"),
    ("post", EXEC, {"inputs": {"message": "x", "seconds": "1"}}, {}, 400, "expected a number"),
    ("post", EXEC, {"inputs": {"message": "x", "nope": 1}}, {}, 400, "unknown input 'nope'"),
    ("post", EXEC, {"inputs": {}}, {}, 400, "missing required input 'message'"),
    (
        "post",
        EXEC,
        {"inputs": {"message": "x", "cdse_password": "p"}},
        {},
        400,
        "credentials are configured on the server",
    ),
    ("post", EXEC, [1, 2], {}, 400, "JSON object"),
    ("post", EXEC, b"{not json", JSON_TYPE, 400, "not JSON"),
    ("post", EXEC, {"inputs": {"message": "x"}, "response": "all"}, {}, 400, "'response'"),
    ("post", "/processes/nope/execution", {"inputs": {}}, {}, 404, "no process 'nope'"),
    ("get", "/processes/nope", None, {}, 404, ""),
    ("get", "/jobs/nope", None, {}, 404, "no job 'nope'"),
    ("get", "/jobs/nope/results", None, {}, 404, "no job 'nope'"),
    ("get", "/jobs/nope/log", None, {}, 404, "no job 'nope'"),
    ("delete", "/jobs/nope", None, {}, 404, "no job 'nope'"),
    ("get", "/nothing/here", None, {}, 404, "no resource"),
    ("patch", "/processes", None, {}, 405, "PATCH is not allowed"),
    ("post", EXEC, TOO_BIG, JSON_TYPE, 413, "over the server's limit"),
    ("post", "/processes", TOO_BIG, {**AUTH, **CWL}, 413, "over the server's limit"),
    ("post", "/processes", ECHO.read_bytes(), CWL, 401, "operator token"),
    (
        "post",
        "/processes",
        ECHO.read_bytes(),
        {"Authorization": "Bearer wrong", **CWL},
        403,
        "not the one configured",
    ),
    ("post", "/processes", ECHO.read_bytes(), {**AUTH, **CWL}, 409, "configured on the server"),
    ("post", "/processes", b"cwlVersion: v1.2\n", {**AUTH, **CWL}, 400, "no Workflow"),
    (
        "post",
        "/processes",
        b"<xml/>",
        {**AUTH, "Content-Type": "application/xml"},
        415,
        "application/cwl+yaml",
    ),
    ("delete", "/processes/s1flood-echo", None, AUTH, 403, "configured on the server"),
    ("delete", "/processes/nope", None, AUTH, 404, "no process 'nope'"),
    ("delete", "/processes/nope", None, {}, 401, "operator token"),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "words"), BAD_REQUESTS)
def test_bad_requests_are_problem_documents(
    server: OgcServer,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    words: str,
) -> None:
    kwargs: dict[str, Any] = {"headers": headers, "timeout": 30}
    if isinstance(body, bytes):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    response = requests.request(method, server.url + path, **kwargs)
    doc = assert_problem(response, status)
    assert words in doc["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_async_job_progress_then_dismissal_stops_it_and_removes_files(server: OgcServer) -> None:
    response = execute(server, "s1flood-echo", {"message": "slow", "seconds": 6}, **ASYNC)
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    job_id = response.json()["jobID"]
    assert location.endswith(f"/jobs/{job_id}")
    job_dir = server.workdir / "data" / "jobs" / job_id
    deadline = time.monotonic() + 30
    while requests.get(location, timeout=10).json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    status = requests.get(location, timeout=10).json()
    assert status["progress"] >= 10
    assert_problem(requests.get(location + "/results", timeout=10), 404)  # not ready
    while not (job_dir / "job.log").is_file():
        time.sleep(0.1)
    dismissed = requests.delete(location, timeout=60)
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    assert not job_dir.exists()
    assert_problem(requests.get(location, timeout=10), 404)
    time.sleep(1)
    assert not job_dir.exists()  # the stopped run did not write anything back


def test_job_timeout_fails_the_job_with_a_log_reference(server: OgcServer) -> None:
    response = execute(server, "s1flood-echo", {"message": "late", "seconds": 30}, **ASYNC)
    job_id = response.json()["jobID"]
    status = server.wait_job(job_id, timeout=60)
    assert status["status"] == "failed"
    assert "job timeout of 8 s" in status["message"]
    doc = assert_problem(requests.get(f"{server.url}/jobs/{job_id}/results", timeout=10), 500)
    assert doc["jobLog"].endswith(f"/jobs/{job_id}/log")
    assert requests.get(doc["jobLog"], timeout=10).status_code == 200


def test_failed_job_is_500_with_log_and_never_shows_the_secret(server: OgcServer) -> None:
    body = renamed(FAIL, "s1flood-fail-secret")
    deployed = requests.post(
        f"{server.url}/processes",
        data=body,
        headers={**AUTH, "Content-Type": "application/cwl+yaml"},
        timeout=120,
    )
    assert deployed.status_code == 201, deployed.text
    response = execute(server, "s1flood-fail-secret", {"reason": "broken on purpose"})
    doc = assert_problem(response, 500)
    assert "broken on purpose" in doc["detail"]
    log = requests.get(doc["jobLog"], timeout=10).text
    assert "password ***" in log  # the tool saw the configured secret; the log hides it
    job = requests.get(f"{server.url}/jobs/{doc['jobID']}", timeout=10).text
    for text in (response.text, log, job, (server.workdir / "server.log").read_text()):
        assert SECRET not in text
    job_dir = server.workdir / "data" / "jobs" / doc["jobID"]
    for file in job_dir.rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file


def test_deploy_execute_replace_undeploy(server: OgcServer) -> None:
    url = f"{server.url}/processes"
    package = yaml.safe_load(renamed(ECHO, "s1flood-echo-deployed"))
    app_package = {
        "processDescription": {"id": "s1flood-echo-deployed"},
        "executionUnit": {"value": package, "mediaType": "application/cwl+yaml"},
    }
    headers = {**AUTH, "Content-Type": "application/ogcapppkg+json"}
    assert_problem(requests.post(url, json=app_package, timeout=60), 401)
    created = requests.post(url, data=json.dumps(app_package), headers=headers, timeout=120)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location == f"{url}/s1flood-echo-deployed"
    assert_problem(
        requests.post(url, data=json.dumps(app_package), headers=headers, timeout=60), 409
    )
    description = requests.get(location, timeout=10).json()
    assert description["version"] == "0.1.0"
    assert set(description["inputs"]) == {"message", "seconds", "copies"}
    stored = yaml.safe_load(requests.get(location + "/package", timeout=10).text)
    assert stored["$graph"][0]["id"] == "s1flood-echo-deployed"

    result = execute(server, "s1flood-echo-deployed", {"message": "deployed"})
    assert result.status_code == 200, result.text
    assert requests.get(result.json()["result"]["href"], timeout=10).text == "deployed\n"

    cwl = {**AUTH, "Content-Type": "application/cwl+yaml"}
    new = renamed(ECHO, "s1flood-echo-deployed", version="0.2.0")
    assert_problem(
        requests.put(
            location, data=new, headers={"Content-Type": "application/cwl+yaml"}, timeout=60
        ),
        401,
    )
    assert_problem(requests.put(f"{url}/other", data=new, headers=cwl, timeout=60), 404)
    replaced = requests.put(location, data=new, headers=cwl, timeout=120)
    assert replaced.status_code == 204, replaced.text
    assert requests.get(location, timeout=10).json()["version"] == "0.2.0"
    assert requests.delete(location, headers=AUTH, timeout=60).status_code == 204
    assert_problem(requests.get(location, timeout=10), 404)
    assert_problem(execute(server, "s1flood-echo-deployed", {"message": "gone"}), 404)
    assert_problem(requests.delete(location, headers=AUTH, timeout=60), 404)


TOIL = Path(__file__).resolve().parents[1] / ".venv-toil" / "bin" / "toil-cwl-runner"


@pytest.mark.skipif(not TOIL.is_file(), reason="Toil's venv (.venv-toil) is not installed")
def test_toil_runs_the_jobs_when_configured(tmp_path: Path) -> None:
    srv = OgcServer(tmp_path / "srv", packages=[ECHO], runner="toil", runner_command=str(TOIL))
    srv.start()
    try:
        response = execute(srv, "s1flood-echo", {"message": "via toil"})
        assert response.status_code == 200, response.text
        assert requests.get(response.json()["result"]["href"], timeout=10).text == "via toil\n"
        job_id = response.headers["Location"].rsplit("/", 1)[-1]
        assert "toil" in requests.get(f"{srv.url}/jobs/{job_id}/log", timeout=10).text
    finally:
        srv.stop()


def test_deployed_processes_survive_a_restart(tmp_path: Path) -> None:
    first = OgcServer(tmp_path / "srv").start()
    try:
        response = requests.post(
            f"{first.url}/processes",
            data=renamed(ECHO, "s1flood-echo-kept"),
            headers={**AUTH, "Content-Type": "application/cwl+yaml"},
            timeout=120,
        )
        assert response.status_code == 201, response.text
    finally:
        first.stop()
    second = OgcServer(tmp_path / "srv").start()
    try:
        ids = [
            p["id"] for p in requests.get(f"{second.url}/processes", timeout=10).json()["processes"]
        ]
        assert ids == ["s1flood-echo-kept"]
    finally:
        second.stop()


def test_ten_async_jobs_with_a_limit_of_two(server: OgcServer, tmp_path: Path) -> None:
    started = time.monotonic()
    job_ids = []
    for index in range(10):
        response = execute(
            server, "s1flood-echo", {"message": f"job {index}", "seconds": 1}, **ASYNC
        )
        assert response.status_code == 201, response.text
        job_ids.append(response.json()["jobID"])
    pending = set(job_ids)
    while pending:
        assert time.monotonic() - started < 300
        pending = {j for j in pending if server_status(server, j) not in ("successful", "failed")}
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    jobs = [requests.get(f"{server.url}/jobs/{j}", timeout=10).json() for j in job_ids]
    assert all(j["status"] == "successful" for j in jobs), jobs
    # the most runs at once, from the jobs' own start and finish times
    events = sorted(
        [(j["started"], 1) for j in jobs] + [(j["finished"], -1) for j in jobs],
        key=lambda e: (e[0], e[1]),
    )
    running = peak_running = 0
    for _, step in events:
        running += step
        peak_running = max(peak_running, running)
    assert peak_running == 2
    figures = {
        "jobs": 10,
        "max_running_jobs": 2,
        "seconds": round(elapsed, 1),
        "jobs_per_minute": round(600 / elapsed, 1),
        "server_peak_rss_mb": round(server.peak_rss_mb(), 1),
    }
    print(f"\nten echo jobs, limit two: {json.dumps(figures)}")
