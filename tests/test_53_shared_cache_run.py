"""One cache for every job of a workflow run: the DEM is downloaded once for all scenes.

cwltool gives each job a fresh HOME; with ``S1FLOOD_CACHE_DIR`` preserved into the jobs'
environment (as `make demo` and the OGC server do), the scattered classification jobs, run
at the same time (``--parallel``), share one DEM download (the loopback DEM bucket counts
the requests), and matplotlib's font cache is built once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from servers.dem_tiles import start_dem_bucket, tile_requests
from workflow_runs import CWL, cwltool, job, simulate

SCENES = 3
SHARED = ("S1FLOOD_CACHE_DIR", "S1FLOOD_DEM_COPERNICUS_90_URL", "S1FLOOD_CONFIG")


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory):
    server = start_dem_bucket(tmp_path_factory.mktemp("tiles"), [(42, 12)], code="30")
    yield server
    server.close()


def test_scattered_jobs_fetch_the_dem_once(
    bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = simulate(tmp_path / "demo", SCENES)
    cache = tmp_path / "run-cache"
    monkeypatch.setenv("S1FLOOD_CACHE_DIR", str(cache))
    monkeypatch.setenv("S1FLOOD_DEM_COPERNICUS_90_URL", bucket.url)
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    job_file = job(tmp_path / "job.yml", demo, dem_name="copernicus-90")
    record = yaml.safe_load(job_file.read_text(encoding="utf-8"))
    del record["dem"]  # the DEM by name only: fetched from the bucket
    job_file.write_text(yaml.safe_dump(record), encoding="utf-8")
    preserve = [arg for name in SHARED for arg in ("--preserve-environment", name)]
    run = cwltool(CWL / "workflow.cwl", job_file, tmp_path / "run", "--parallel", *preserve)
    assert run.returncode == 0, run.log[-4000:]
    assert run.log.count("[job classify") >= SCENES
    downloads = [r for r in tile_requests(bucket) if not r.get("headers", {}).get("Range")]
    assert len(downloads) == 1, tile_requests(bucket)
    assert list((cache / "dem").rglob("*.tif"))
    # the jobs' tools cached there too, not in each job's own HOME
    assert list((cache / "matplotlib").iterdir())
    homes = list((tmp_path / "run" / "jobs").glob("*/.cache/matplotlib"))
    assert not homes, homes
