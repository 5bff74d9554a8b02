"""OGC API - Processes (issue 13): units without a server, and the shared server launcher.

`OgcServer` and `assert_problem` are imported by the other test_7x modules.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from s1flood.ogcapi.config import load_config
from s1flood.ogcapi.inputs import check_domain, input_specs, secret_inputs, to_job_order
from s1flood.ogcapi.openapi import openapi_document
from s1flood.ogcapi.packages import PackageStore, describe_package, parse_package
from s1flood.ogcapi.problems import Problem

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "ogc"
ECHO = DATA / "echo-package.cwl"
FAIL = DATA / "fail-package.cwl"
WORKFLOW = ROOT / "cwl" / "workflow.cwl"
S1FLOOD = Path(sys.executable).parent / "s1flood"
OPERATOR_TOKEN = "operator-token-for-tests"
AUTH_HEADER = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
SECRET = "sup3r-s3cret-cdse-password"
AOI = "POLYGON((11.0 45.0,11.05 45.0,11.05 45.04,11.0 45.04,11.0 45.0))"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OgcServer:
    """`s1flood serve` in a subprocess on 127.0.0.1 and a free port, stopped by its PID."""

    def __init__(self, workdir: Path, **settings: Any) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = {"data_dir": str(workdir / "data"), **settings}
        config["packages"] = [str(p) for p in config.get("packages", [])]
        config["input_roots"] = [str(p) for p in config.get("input_roots", [])]
        self.config = workdir / "config.yml"
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OgcServer:
        env = dict(os.environ)
        env["S1FLOOD_OPERATOR_TOKEN"] = OPERATOR_TOKEN
        env["S1FLOOD_CDSE_USERNAME"] = "tester"
        env["S1FLOOD_CDSE_PASSWORD"] = SECRET
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(S1FLOOD),
                    "-v",
                    "serve",
                    "--port",
                    str(self.port),
                    "--config",
                    str(self.config),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("server did not start in 60 s")

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def wait_job(self, job_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = requests.get(f"{self.url}/jobs/{job_id}", timeout=10).json()
            if status["status"] in ("successful", "failed", "dismissed"):
                return dict(status)
            time.sleep(0.3)
        raise TimeoutError(job_id)


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    """The response is a problem document with that status and no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.text
    doc = response.json()
    assert doc["status"] == status
    assert {"type", "title", "detail"} <= set(doc)
    assert "Traceback" not in response.text
    return dict(doc)


# --- units ---------------------------------------------------------------------------------


def test_echo_package_description_comes_from_cwl() -> None:
    description = describe_package(ECHO, "s1flood-echo")
    assert description["title"] == "Echo (a cheap process for tests)"
    assert description["version"] == "0.1.0"
    assert description["inputs"]["message"]["schema"] == {"type": "string"}
    assert description["inputs"]["message"]["minOccurs"] == 1
    seconds = description["inputs"]["seconds"]
    assert seconds["minOccurs"] == 0  # defaulted in the CWL
    assert seconds["schema"]["default"] == 0.0
    assert description["inputs"]["copies"]["minOccurs"] == 0  # int?
    assert set(description["outputs"]) == {"result"}


@pytest.mark.skipif(not WORKFLOW.is_file(), reason="cwl/workflow.cwl (issue 11) not present")
def test_flood_workflow_description_hides_credential_inputs() -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    process_id = document["id"]
    description = describe_package(WORKFLOW, process_id)
    assert {"aoi", "start", "end", "dem", "catalogue"} <= set(description["inputs"])
    assert "token_url" in description["inputs"]  # an endpoint, not a secret
    secrets = secret_inputs(document)
    assert secrets >= {"cdse_username", "cdse_password", "earthdata_token"}
    assert not secrets & set(description["inputs"])
    text = json.dumps(description)
    assert "cdse_password" not in text


def test_parse_package_forms() -> None:
    text = ECHO.read_bytes()
    assert parse_package(text, "application/cwl+yaml").process_id == "s1flood-echo"
    unit = {"executionUnit": {"value": yaml.safe_load(text), "mediaType": "application/cwl+yaml"}}
    ogc = parse_package(json.dumps(unit).encode(), "application/ogcapppkg+json; charset=utf-8")
    assert ogc.process_id == "s1flood-echo"


@pytest.mark.parametrize(
    ("body", "media", "status", "words"),
    [
        (b"x: [", "application/cwl+yaml", 400, "not application/cwl+yaml"),
        (b"just: yaml", "application/cwl+yaml", 400, "not a CWL document"),
        (
            b"cwlVersion: v1.2\nclass: CommandLineTool\nid: t\n",
            "application/cwl+yaml",
            400,
            "no Workflow",
        ),
        (b"{}", "text/plain", 415, "application/cwl+yaml"),
        (b'{"executionUnit": {"href": "http://x/p.cwl"}}', "application/json", 400, "not fetched"),
    ],
)
def test_parse_package_rejects(body: bytes, media: str, status: int, words: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_package(body, media)
    assert caught.value.status == status
    assert words in caught.value.detail


def test_store_rejects_invalid_cwl_and_keeps_deployed(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "processes", [])
    broken = ECHO.read_text().replace('run: "#echo-tool"', 'run: "#no-such-tool"')
    with pytest.raises(Problem) as caught:
        store.deploy(parse_package(broken.encode(), "application/cwl+yaml"))
    assert caught.value.status == 400
    assert "cwltool --validate" in caught.value.detail
    assert store.ids() == []
    store.deploy(parse_package(ECHO.read_bytes(), "application/cwl+yaml"))
    with pytest.raises(Problem) as duplicate:
        store.deploy(parse_package(ECHO.read_bytes(), "application/cwl+yaml"))
    assert duplicate.value.status == 409
    assert PackageStore(tmp_path / "processes", []).ids() == ["s1flood-echo"]  # a restart


def _specs() -> Any:
    return input_specs(
        {
            "inputs": {
                "aoi": "string",
                "start": "string",
                "end": "string",
                "n": {"type": "int", "default": 1},
                "x": "float?",
                "flag": "boolean?",
                "dem": "File",
                "catalogue": {"type": ["string", "Directory"], "default": "cdse"},
                "names": "string[]?",
                "mode": {"type": {"type": "enum", "symbols": ["#wf/mode/a", "#wf/mode/b"]}},
                "cdse_password": {"type": "string", "default": ""},
            },
            "hints": {"cwltool:Secrets": {"secrets": ["cdse_password"]}},
        }
    )


def test_job_order_conversion(tmp_path: Path) -> None:
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"x")
    values = {
        "aoi": AOI,
        "start": "2026-01-01",
        "end": "2026-02-01",
        "x": {"value": 2},
        "dem": {"href": dem.as_uri()},
        "catalogue": {"href": str(tmp_path)},
        "names": ["a", "b"],
        "mode": "b",
    }
    order = to_job_order(values, _specs(), [tmp_path], {"cdse_password"})
    assert order["dem"] == {"class": "File", "location": dem.as_uri()}
    assert order["catalogue"] == {"class": "Directory", "location": tmp_path.as_uri()}
    assert order["x"] == 2
    check_domain(order)
    plain = to_job_order({**values, "catalogue": "cdse"}, _specs(), [tmp_path], set())
    assert plain["catalogue"] == "cdse"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"n": "3"}, "input 'n': expected an integer"),
        ({"n": True}, "input 'n': expected an integer"),
        ({"x": "nan"}, "input 'x': expected a number"),
        ({"mode": "c"}, "expected one of a, b"),
        ({"names": "a"}, "expected an array"),
        ({"bogus": 1}, "unknown input 'bogus'"),
        ({"cdse_password": "x"}, "credentials are configured on the server"),
        ({"dem": "/etc/passwd"}, "not a file this server offers"),
        ({"dem": "ftp://host/x"}, "expected an http(s) or file URI"),
        ({"catalogue": "local:/etc"}, "not a file this server offers"),
        ({"catalogue": "file:///etc"}, "not a file this server offers"),
        ({"aoi": "/etc/passwd"}, "not a file this server offers"),
        ({"n": 2**31}, "expected a 32-bit integer"),
        ({"aoi": "POLYGON((0 0, 1 1))"}, "input 'aoi'"),
        ({"end": "2025-01-01"}, "input 'end'"),
        ({"start": "yesterday"}, "input 'start'"),
    ],
)
def test_job_order_rejects(tmp_path: Path, change: dict[str, Any], words: str) -> None:
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"x")
    values = {"aoi": AOI, "start": "2026-01-01", "end": "2026-02-01", "dem": str(dem), "mode": "a"}

    def convert() -> None:
        check_domain(to_job_order({**values, **change}, _specs(), [tmp_path], {"cdse_password"}))

    with pytest.raises(Problem) as caught:
        convert()
    assert caught.value.status == 400
    assert words in caught.value.detail


def test_missing_required_input() -> None:
    with pytest.raises(Problem, match="missing required input 'aoi'"):
        to_job_order({}, _specs(), [], {"cdse_password"})


def test_config_reads_environment_and_file(tmp_path: Path) -> None:
    file = tmp_path / "server.yml"
    file.write_text("port: 6001\nmax_running_jobs: 3\ninput_roots: [data]\n", encoding="utf-8")
    env = {"S1FLOOD_OPERATOR_TOKEN": "tok-123456", "S1FLOOD_CDSE_PASSWORD": "pw-123456"}
    config = load_config(file, environ=env, host="127.0.0.2")
    assert (config.port, config.max_running_jobs, config.host) == (6001, 3, "127.0.0.2")
    assert config.input_roots == [(tmp_path / "data").resolve()]
    assert config.operator_token == "tok-123456"
    assert config.credentials == {"S1FLOOD_CDSE_PASSWORD": "pw-123456"}
    assert "pw-123456" not in repr(config)
    assert "tok-123456" not in repr(config)
    file.write_text("bogus: 1\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown settings"):
        load_config(file, environ={})


def test_openapi_is_offline(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "processes", [ECHO])
    document = openapi_document(load_config(None, environ={}), store, "0")
    text = json.dumps(document)
    assert '"$ref": "http' not in text
    execute = document["paths"]["/processes/s1flood-echo/execution"]["post"]
    schema = execute["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["inputs"]["required"] == ["message"]
