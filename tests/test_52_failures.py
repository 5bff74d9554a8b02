"""Failing notebooks: the runner's one-line error, the failing CWL step named by the workflow.

Bad AOI and no scene found fail the discover step; a corrupt product fails its classify job.
One product works end to end. The runner keeps the executed notebook of a failed run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_runs import BIN, CWL, ROOT, Run, cwltool, job, simulate

pytestmark = pytest.mark.slow

NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def one_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("one-scene"), 1)


def run_workflow(tmp_path: Path, simulation: Path, **values: object) -> Run:
    return cwltool(CWL / "workflow.cwl", job(tmp_path / "job.yml", simulation, **values), tmp_path)


def error_lines(log: str, notebook: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(f"s1flood: error: {notebook}")]


def test_one_product_works(tmp_path: Path, one_scene: Path) -> None:
    run = run_workflow(tmp_path, one_scene)
    assert run.returncode == 0, run.log[-3000:]
    assert len(list(run.outdir.glob("results/scenes/*/*_water.tif"))) == 1
    assert (run.outdir / "results" / "frequency" / "classes.png").is_file()


def test_bad_aoi_fails_the_discover_step(tmp_path: Path, one_scene: Path) -> None:
    run = run_workflow(tmp_path, one_scene, aoi="POLYGON ((12.44 42.03, 12.52 42.03")
    assert run.returncode != 0
    lines = error_lines(run.log, "01-discover.ipynb")
    assert len(lines) == 1, run.log[-3000:]
    assert "aoi" in lines[0]
    assert "[step discover] completed permanentFail" in run.log
    assert "[step classify]" not in run.log


def test_no_scene_found_fails_the_discover_step_with_a_clear_message(
    tmp_path: Path, one_scene: Path
) -> None:
    run = run_workflow(
        tmp_path, one_scene, start="2025-01-01T00:00:00Z", end="2025-01-31T00:00:00Z"
    )
    assert run.returncode != 0
    lines = error_lines(run.log, "01-discover.ipynb")
    assert len(lines) == 1, run.log[-3000:]
    assert "no Sentinel-1 scene found" in lines[0]
    assert "[step discover] completed permanentFail" in run.log
    assert "Traceback" not in run.log


def test_corrupt_product_fails_its_classify_job(tmp_path: Path, one_scene: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(one_scene, broken, symlinks=True)
    for tiff in (broken / "simulation" / "products").rglob("measurement/*.tiff"):
        tiff.write_bytes(tiff.read_bytes()[:4096])
    run = run_workflow(tmp_path, broken)
    assert run.returncode != 0
    lines = error_lines(run.log, "02-classify.ipynb")
    assert len(lines) == 1, run.log[-3000:]
    assert "[step classify] completed permanentFail" in run.log
    assert "[step aggregate]" not in run.log
    kept = list((tmp_path / "jobs").rglob("02-classify_*.ipynb"))
    assert kept, "the failed job's executed notebook is kept"


def runner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "s1flood"), "notebook", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_runner_one_line_error_and_executed_notebook_kept(tmp_path: Path) -> None:
    done = runner(
        str(NOTEBOOKS / "01-discover.ipynb"), "out.ipynb", "-p", "start", "not-a-date", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("s1flood: error:")]
    assert len(errors) == 1, done.stderr
    assert "start" in errors[0]
    assert "out.ipynb" in errors[0]
    assert (tmp_path / "out.ipynb").is_file()


def test_runner_rejects_unknown_parameters_and_kernels(tmp_path: Path) -> None:
    notebook = str(NOTEBOOKS / "03-aggregate.ipynb")
    done = runner(notebook, "out.ipynb", "-p", "colour", "blue", cwd=tmp_path)
    assert done.returncode == 2
    assert "colour" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    done = runner(notebook, "out.ipynb", "-k", "no-such-kernel", cwd=tmp_path)
    assert done.returncode == 2
    assert "no-such-kernel" in done.stderr


def test_runner_reads_cwl_job_objects(tmp_path: Path) -> None:
    from s1flood.notebook import load_parameters

    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog.json").write_text("{}", encoding="utf-8")
    record = {
        "catalogue": {"class": "Directory", "path": str(tmp_path)},
        "dem": {"class": "File", "path": "/data/dem.tif"},
        "classes": 2,
    }
    (tmp_path / "job.json").write_text(json.dumps(record), encoding="utf-8")
    values = load_parameters(tmp_path / "job.json", window=7)
    assert values == {
        "catalogue": f"local:{tmp_path / 'catalog'}",
        "dem": "/data/dem.tif",
        "classes": 2,
        "window": 7,
    }
    assert sys.executable  # the runner's own interpreter hosts the kernel


def test_secrets_reach_the_kernel_environment_only(tmp_path: Path) -> None:
    """The classify tool hands the secrets to its kernel as environment variables."""
    import hashlib

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    secrets = {
        "cdse_username": "kernel-env-user-3Zt",
        "cdse_password": "kernel/env+pass=word&9",
        "earthdata_token": "kernel.env.token.R7",
    }
    variables = {
        "S1FLOOD_CDSE_USERNAME": "cdse_username",
        "S1FLOOD_CDSE_PASSWORD": "cdse_password",
        "EARTHDATA_TOKEN": "earthdata_token",
    }
    digests = {
        env: hashlib.sha256(secrets[name].encode()).hexdigest() for env, name in variables.items()
    }
    parameters = new_code_cell('product: str = ""  # the product')
    parameters.metadata["tags"] = ["parameters"]
    body = f"""
import hashlib, os, pathlib
import scrapbook as sb
for name in ("mask.tif", "sigma0.tif", "histogram.png"):
    pathlib.Path(name).write_bytes(b"stand-in")
digests = {digests!r}
sb.glue("mask", "mask.tif")
sb.glue("sigma0", "sigma0.tif")
sb.glue("histogram", "histogram.png")
sb.glue("thresholds_db", [-15.0])
sb.glue("threshold_method", "stand-in")
sb.glue("water_area_km2", 0.0)
sb.glue("seen", {{k: hashlib.sha256(os.environ.get(k, "").encode()).hexdigest() == v
                 for k, v in digests.items()}})
"""
    notebook = new_notebook(cells=[parameters, new_code_cell(body)])
    notebook.metadata["kernelspec"] = {"name": "s1flood", "display_name": "s1flood"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.write(notebook, tmp_path / "probe.ipynb")
    (tmp_path / "dem.tif").write_bytes(b"not read by the probe")
    job_file = tmp_path / "job.json"
    job_file.write_text(
        json.dumps(
            {
                "notebook": {"class": "File", "path": str(tmp_path / "probe.ipynb")},
                "product": "S1A_PROBE",
                "aoi": "POLYGON ((0 0, 1 0, 1 1, 0 0))",
                "dem": {"class": "File", "path": str(tmp_path / "dem.tif")},
                **secrets,
            }
        ),
        encoding="utf-8",
    )
    run = cwltool(CWL / "classify.cwl", job_file, tmp_path / "run")
    assert run.returncode == 0, run.log[-3000:]
    from s1flood.notebook import read_scraps

    executed = next(run.outdir.glob("02-classify_*.ipynb"))
    assert read_scraps(executed)["seen"] == dict.fromkeys(variables, True)
    for path in [p for p in (tmp_path / "run").rglob("*") if p.is_file()]:
        content = path.read_bytes()
        assert not [s for s in secrets.values() if s.encode() in content], path
    assert not [s for s in secrets.values() if s in run.log]
