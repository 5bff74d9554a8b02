"""The application package on the ADES's own runner code (ZOO-Project-DRU), offline.

``s1flood package`` writes the package; zoo-calrissian-runner and zoo-wes-runner (pinned in
the ``ades`` extra, ``make ades`` -> .venv-ades) load it, check the inputs as ZOO hands them
over, wrap it with stage-in/stage-out steps (eoap-cwlwrap), run the wrapped workflow and give
its outputs to their execution handler:

- zoo-calrissian-runner with its Kubernetes classes replaced by a local executor running the
  wrapped workflow with cwltool (tests/ades/run_runner.py);
- zoo-wes-runner posting to Toil's WES server on 127.0.0.1 (``toil server --bypass_celery``).

Both must end with SERVICE_SUCCEEDED and a staged-out catalog whose frequency COG is
byte-identical to a cwltool run of cwl/workflow.cwl. The steps run with ``--no-container``
and the images' paths mapped (tests/ades/local_run.py), or in the step images with
S1FLOOD_ADES_CONTAINERS=1 (built by ``make images``).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START
from s1flood.package import build_package
from workflow_runs import BIN, CWL, ROOT, Run, cwltool, job, simulate

pytestmark = pytest.mark.slow

ADES = ROOT / ".venv-ades" / "bin"
HERE = ROOT / "tests" / "ades"
SCENES = 2
SERVICE_SUCCEEDED = 3

if not (ADES / "python").is_file():
    pytest.skip("the ADES runners are not installed: `make ades`", allow_module_level=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("demo"), SCENES)


@pytest.fixture(scope="module")
def reference(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("reference")
    run = cwltool(CWL / "workflow.cwl", job(base / "job.yml", demo), base / "run")
    assert run.returncode == 0, run.log[-3000:]
    return run


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "s1flood-water-frequency.cwl"
    # a development package (images by tag): the runners do not pull
    return build_package(CWL / "workflow.cwl", out, strict=False).path


@pytest.fixture(scope="module")
def schema_url() -> Iterator[str]:
    """tests/ades/string_format.yaml on 127.0.0.1 (the wrapper's GitHub import, offline)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HERE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/string_format.yaml"
    server.shutdown()
    server.server_close()


def zoo_inputs(demo: Path) -> dict[str, Any]:
    """The inputs as the ZOO kernel hands them to a service (strings; hrefs as cached files)."""

    def literal(value: str) -> dict[str, str]:
        return {"value": value, "dataType": "string"}

    def href(path: Path, media_type: str) -> dict[str, str]:
        return {"value": path.as_uri(), "cache_file": str(path), "mimeType": media_type}

    return {
        "aoi": literal(DEMO_AOI),
        "start": literal(DEMO_START),
        "end": literal(DEMO_END),
        "catalogue": href(demo / "simulation", "application/json"),
        "dem": href(demo / "simulation" / "dem" / "dem.tif", "image/tiff; application=geotiff"),
    }


def environment(*first: Path, **values: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*(str(p) for p in first), str(BIN), env.get("PATH", "")])
    env.update(values)
    return env


def run_runner(
    kind: str, package: Path, work: Path, schema_url: str, demo: Path, **env: str
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    inputs = work / "zoo-inputs.json"
    inputs.write_text(json.dumps(zoo_inputs(demo)), encoding="utf-8")
    done = subprocess.run(
        [str(ADES / "python"), str(HERE / "run_runner.py"), kind, str(package), str(work),
         schema_url, str(inputs)],
        capture_output=True, text=True, timeout=900, check=False, env=environment(**env),
    )  # fmt: skip
    (work / "runner.log").write_text(done.stderr, encoding="utf-8")
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    progress = sorted({p for p, _ in report["statuses"]})
    print(f"\n{kind}: {report['seconds']} s, statuses {progress}")
    return report


def check_staged_out(report: dict[str, Any], reference: Run) -> None:
    """SERVICE_SUCCEEDED, and the staged-out catalog holds the cwltool run's frequency COG."""
    assert report["exit_value"] == SERVICE_SUCCEEDED, report["statuses"][-3:]
    progress = [p for p, _ in report["statuses"]]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    # the handler read the staged-out catalog: its Collection's Items, as ZOO returns them
    collection = report["outputs"]["results"]["collection"]
    assert collection["type"] == "FeatureCollection"
    items = {f["id"]: f for f in collection["features"]}
    assert len(items) == 1 + SCENES
    frequency = items["water-frequency"]["assets"]["frequency"]
    assert frequency["type"].endswith("profile=cloud-optimized")
    path = Path(frequency["href"].removeprefix("file://"))
    assert path.is_file(), frequency["href"]
    expected = reference.outdir / "results" / "frequency" / "frequency.tif"
    assert path.read_bytes() == expected.read_bytes()
    assert json.loads(report["outputs"]["scene_count"]["value"]) == SCENES
    identifiers = report["cwl_outputs"]["identifiers"]
    assert len(identifiers) == SCENES
    assert set(items) - {"water-frequency"} == set(identifiers)


def test_zoo_calrissian_runner_runs_the_package(
    package: Path, schema_url: str, demo: Path, reference: Run, tmp_path: Path
) -> None:
    report = run_runner("calrissian", package, tmp_path, schema_url, demo)
    check_staged_out(report, reference)
    log = next(tmp_path.glob("s1flood-water-frequency-*/log")).read_text(encoding="utf-8")
    for step in ("directory_stage_in_0", "file_stage_in_0", "app", "stage_out_0"):
        assert f"[step {step}] completed success" in log, step
    assert "[step classify] completed success" in log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def wes_server(tmp_path: Path) -> Iterator[str]:
    """Toil's WES server on 127.0.0.1, no broker; its runs' toil-cwl-runner maps the paths."""
    port = free_port()
    work = tmp_path / "wes"
    work.mkdir()
    first = [] if os.environ.get("S1FLOOD_ADES_CONTAINERS") == "1" else [HERE / "bin"]
    log = (tmp_path / "wes.log").open("wb")
    server = subprocess.Popen(
        [str(ADES / "toil"), "server", "--host", "127.0.0.1", "--port", str(port), "-w", "1",
         "--bypass_celery", "--work_dir", str(work), "--opt=--logLevel=INFO"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
        env=environment(*first, ADES, S1FLOOD_ADES_NOTEBOOKS=str(ROOT / "notebooks")),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/ga4gh/wes/v1"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/service-info", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the WES server did not start: {(tmp_path / 'wes.log').read_text()}")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_zoo_wes_runner_runs_the_package_on_toil(
    package: Path, schema_url: str, demo: Path, reference: Run, tmp_path: Path, wes_server: str
) -> None:
    report = run_runner(
        "wes", package, tmp_path / "runner", schema_url, demo,
        WES_URL=wes_server, WES_USER="zoo", WES_PASSWORD="unused",
    )  # fmt: skip
    check_staged_out(report, reference)
