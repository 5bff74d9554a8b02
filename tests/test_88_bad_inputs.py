"""The bad-input corpus: one table per face (CLI, `s1flood notebook run`, CWL job files, OGC API).

Each case asserts the one-line error naming the problem (or the problem document), the exit
code (or HTTP status), and that nothing was left behind in the output folder (or job store).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
import yaml

from s1flood.cli import main
from s1flood.demo import DEMO_AOI
from test_70_ogc import AUTH_HEADER, ECHO, OgcServer
from workflow_runs import BIN, CWL, environment

from helpers import bimodal_scene, write_tif

AOI = DEMO_AOI
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs the cases name: a sigma0 raster, masks, a text file, a folder, job files."""
    base = tmp_path_factory.mktemp("inputs")
    linear, _ = bimodal_scene(np.random.default_rng(5), (200, 200))
    write_tif(base / "sigma0.tif", linear, descriptions=["VV"])
    write_tif(base / "mask.tif", np.zeros((50, 50), np.uint8), nodata=255)
    write_tif(base / "seven.tif", np.full((50, 50), 7, np.uint8), nodata=255)
    write_tif(base / "float.tif", np.zeros((50, 50), np.float32))
    write_tif(base / "nocrs.tif", np.zeros((50, 50), np.uint8), crs=None)
    (base / "notes.txt").write_text("not a raster\n", encoding="utf-8")
    (base / "folder").mkdir()
    (base / "list.yml").write_text("- a\n- b\n", encoding="utf-8")
    (base / "broken.yml").write_text("aoi: [unclosed\n", encoding="utf-8")
    (base / "exists").mkdir()
    (base / "exists" / "w.tif").write_bytes(b"an earlier output")
    return base


def cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


S, M = "{files}/sigma0.tif", "{files}/mask.tif"
CLI_CASES = [
    # (arguments, exit code, words the error line holds)
    (["classify", "{files}/missing.tif", "{out}/w.tif"], 2, "no such file"),
    (["classify", "{files}/folder", "{out}/w.tif"], 2, "is a directory"),
    (["classify", "{files}/notes.txt", "{out}/w.tif"], 2, "not a readable raster"),
    (["classify", "{files}/nocrs.tif", "{out}/w.tif"], 2, "nocrs.tif"),
    (["classify", S, "{out}/w.tif", "--method", "bogus"], 2, "method"),
    (["classify", S, "{files}/exists/w.tif"], 2, "--overwrite"),
    (["classify", S, "{out}/w.tif", "--threshold-db", "abc"], 2, "threshold"),
    (["classify", S, "{out}/w.tif", "--no-such-option"], 2, "no-such-option"),
    (["classify", S, "{out}/w.tif", "--band", "HH"], 2, "HH"),
    (["classify", S, "{out}/w.tif", "--tile-size", "-4"], 2, "tile"),
    (["classify", S], 2, "Missing argument"),
    (["aggregate", "{files}/notes.txt", "-o", "{out}"], 2, "notes.txt"),
    (["aggregate", "{files}/missing.tif", "-o", "{out}"], 2, "no such file"),
    (["aggregate", M, "-o", "{out}", "--candidate", "2"], 2, "candidate"),
    (["aggregate", M, "-o", "{out}", "--candidate", "0.9", "--permanent", "0.5"], 2, "candidate"),
    (["aggregate", M, "-o", "{out}", "--permanent", "0"], 2, "permanent"),
    (["aggregate", "{files}/seven.tif", "-o", "{out}"], 2, "value 7"),
    (["aggregate", "{files}/float.tif", "-o", "{out}"], 2, "float32"),
    (["aggregate", "@{files}/missing-list.txt", "-o", "{out}"], 2, "missing-list.txt"),
    (["aggregate", M, "-o", "{out}", "--like", "{files}/notes.txt"], 2, "notes.txt"),
    (["discover", "--aoi", "POINT (1 2)", "--start", "2024-01-01", "--end", "2024-02-01"], 2,
     "POLYGON"),
    (["discover", "--aoi", "", "--start", "2024-01-01", "--end", "2024-02-01"], 2, "empty"),
    (["discover", "--aoi", "POLYGON ((0 0, 1 0, 1 1, 0 0", "--start", "2024-01-01", "--end",
      "2024-02-01"], 2, "WKT"),
    (["discover", "--aoi", "POLYGON ((0 0, 300 0, 300 1, 0 1, 0 0))", "--start", "2024-01-01",
      "--end", "2024-02-01"], 2, "lon/lat"),
    (["discover", "--aoi", AOI, "--start", "2024-03-01", "--end", "2024-02-01"], 2, "after"),
    (["discover", "--aoi", AOI, "--start", "yesterday", "--end", "2024-02-01"], 2, "ISO 8601"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-13-01"], 2, "ISO 8601"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-02-01", "--catalogue",
      "bogus"], 2, "catalogue"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-02-01",
      "--min-coverage", "2"], 2, "min-coverage"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-02-01", "--set",
      "nokey"], 2, "KEY=VALUE"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-02-01", "--set",
      "retries=abc"], 2, "retries"),
    (["discover", "--aoi", AOI, "--start", "2024-01-01", "--end", "2024-02-01", "--format",
      "xml"], 2, "format"),
    (["fetch", "S1A_X", "--catalogue", "bogus", "-o", "{out}"], 2, "catalogue"),
    (["fetch", "S1A_X", "--catalogue", "local:{files}/folder", "-o", "{out}"], 2, "catalog"),
    (["preprocess", "{files}/missing.SAFE", "-o", "{out}/s.tif", "--aoi", AOI, "--dem", S], 2,
     "missing.SAFE"),
    (["preprocess", "{files}/notes.txt", "-o", "{out}/s.tif", "--aoi", AOI, "--dem", S], 2,
     "notes.txt"),
    (["preprocess", "{files}/folder", "-o", "{out}/s.tif", "--aoi", "POLYGON EMPTY", "--dem", S],
     2, "aoi"),
    (["preprocess", "{files}/folder", "-o", "{out}/s.tif", "--aoi", AOI, "--dem", S, "--engine",
      "bogus"], 2, "engine"),
    (["preprocess", "{files}/folder", "-o", "{out}/s.tif", "--aoi", AOI, "--dem", S,
      "--resolution", "-10"], 2, "resolution"),
    (["no-such-command"], 2, "no-such-command"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "words"), CLI_CASES)
def test_cli(files: Path, tmp_path: Path, args: list[str], code: int, words: str) -> None:
    out = tmp_path / "out"
    found, err = cli([a.format(files=files, out=out) for a in args])
    lines = err.strip().splitlines()
    assert found == code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("s1flood: error:") or "Error" in lines[0], lines
    assert words in lines[0], lines[0]
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))


NB = str(NOTEBOOKS / "03-aggregate.ipynb")
NOTEBOOK_CASES = [
    (["notebook", "run", NB, "{out}/o.ipynb", "-p", "no_such_parameter", "1"],
     "no_such_parameter"),
    (["notebook", "run", NB, "{out}/o.ipynb", "--parameters-file", "{files}/list.yml"],
     "mapping"),
    (["notebook", "run", NB, "{out}/o.ipynb", "--parameters-file", "{files}/broken.yml"],
     "broken.yml"),
    (["notebook", "run", NB, "{out}/o.ipynb", "--parameters-file", "{files}/missing.yml"],
     "missing.yml"),
    (["notebook", "run", "{files}/missing.ipynb", "{out}/o.ipynb"], "missing.ipynb"),
    (["notebook", "run", "{files}/notes.txt", "{out}/o.ipynb"], "notes.txt"),
    (["notebook", "run", NB, "{out}/o.ipynb", "--kernel", "no-such-kernel"], "no-such-kernel"),
    (["notebook", "scraps", "{files}/missing.ipynb"], "missing.ipynb"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), NOTEBOOK_CASES)
def test_notebook_run(files: Path, tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "out"
    found, err = cli([a.format(files=files, out=out) for a in args])
    lines = err.strip().splitlines()
    assert found != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("s1flood: error:"), lines
    assert words in lines[0], lines[0]
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))


JOB_CASES = [
    # (job order, words the failure names, whether cwltool refuses it before any job starts)
    ({"start": "2024-01-01", "end": "2024-02-01"}, "aoi", True),
    ({"aoi": 5, "start": "2024-01-01", "end": "2024-02-01"}, "aoi", True),
    ({"aoi": AOI, "start": "2024-01-01", "end": "2024-02-01",
      "catalogue": {"class": "File", "path": "{files}/notes.txt"}}, "catalogue", True),
    ({"aoi": AOI, "start": "2024-01-01", "end": "2024-02-01", "candidate": "high"}, "candidate",
     True),
    ({"aoi": AOI, "start": 20240101, "end": "2024-02-01"}, "start", True),
]  # fmt: skip


def _format(value: object, files: Path) -> object:
    if isinstance(value, dict):
        return {k: _format(v, files) for k, v in value.items()}
    return value.format(files=files) if isinstance(value, str) else value


@pytest.mark.slow
@pytest.mark.parametrize(("order", "words", "before_jobs"), JOB_CASES)
def test_cwl_job_file(
    files: Path, tmp_path: Path, order: dict[str, object], words: str, before_jobs: bool
) -> None:
    job_file = tmp_path / "job.yml"
    job_file.write_text(yaml.safe_dump(_format(order, files)), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(BIN / "cwltool"), "--no-container", "--disable-color", "--outdir", str(out),
         str(CWL / "workflow.cwl"), str(job_file)],
        capture_output=True, text=True, env=environment(BIN), cwd=tmp_path, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert ("[job " not in done.stderr) == before_jobs, done.stderr[-2000:]
    assert any(words in line for line in done.stderr.splitlines()), done.stderr[-2000:]
    assert not out.exists() or not any(out.rglob("*"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OgcServer]:
    running = OgcServer(tmp_path_factory.mktemp("ogc"), packages=[ECHO]).start()
    yield running
    running.stop()


EXECUTE = "/processes/s1flood-echo/execution"
OGC_CASES = [
    # (method, path, body (JSON text), headers, status, words the problem's detail holds)
    ("POST", EXECUTE, '{"inputs": {"message": "x"', {}, 400, "JSON"),
    ("POST", EXECUTE, '{"inputs": ["message"]}', {}, 400, "inputs"),
    ("POST", EXECUTE, '{"inputs": {"message": "x", "colour": 1}}', {}, 400, "colour"),
    ("POST", EXECUTE, '{"inputs": {}}', {}, 400, "message"),
    ("POST", EXECUTE, '{"inputs": {"message": "x", "seconds": "many"}}', {}, 400, "seconds"),
    ("POST", EXECUTE, '{"inputs": {"message": 5}}', {}, 400, "message"),
    ("POST", EXECUTE, '{"inputs": {"message": "x", "copies": 1.5}}', {}, 400, "copies"),
    ("POST", EXECUTE, '{"inputs": {"message": "x", "cdse_password": "p"}}', {}, 400,
     "cdse_password"),
    ("POST", EXECUTE, "[]", {}, 400, "object"),
    ("POST", "/processes/no-such/execution", '{"inputs": {}}', {}, 404, "no-such"),
    ("GET", "/processes/no-such", None, {}, 404, "no-such"),
    ("GET", "/jobs/not-a-job", None, {}, 404, "not-a-job"),
    ("GET", "/jobs/not-a-job/results", None, {}, 404, "not-a-job"),
    ("DELETE", "/jobs/not-a-job", None, {}, 404, "not-a-job"),
    ("POST", "/processes", "cwlVersion: v1.2\nclass: Workflow\n",
     {"Content-Type": "application/cwl+yaml"}, 401, ""),
    ("POST", "/processes", "not: [a package", {**AUTH_HEADER,
     "Content-Type": "application/cwl+yaml"}, 400, ""),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "words"), OGC_CASES)
def test_ogc_api(
    server: OgcServer,
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    status: int,
    words: str,
) -> None:
    jobs = server.workdir / "data"
    before = sorted(p.name for p in jobs.rglob("*")) if jobs.exists() else []
    sent = {"Content-Type": "application/json", **headers}
    response = requests.request(method, server.url + path, data=body, headers=sent, timeout=30)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    detail = str(problem.get("detail", ""))
    assert detail, problem
    assert "\n" not in detail
    assert words in detail, detail
    after = sorted(p.name for p in jobs.rglob("*")) if jobs.exists() else []
    assert after == before, "a bad request left something in the server's data folder"
    assert json.dumps(problem).count("Traceback") == 0


def test_the_corpus_has_at_least_60_cases() -> None:
    assert len(CLI_CASES) + len(NOTEBOOK_CASES) + len(JOB_CASES) + len(OGC_CASES) >= 60
