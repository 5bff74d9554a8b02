"""The same CWL on a Slurm cluster through Toil: a one-node cluster started here.

Needs root (munged, slurmctld, slurmd started by scripts/slurm-local.sh, stopped by PID) and
Toil in .venv-toil (`make toil`). Slurm's own job completion log shows that every
classification job ran as a Slurm job; the rasters equal cwltool's --no-container run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import test_60_infra as infra

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (infra.ROOT / "cwl" / "workflow.cwl").exists(), reason="no cwl/ yet (issue 11)"
    ),
]


@pytest.fixture(scope="session")
def slurm():
    yield from infra.held("slurm")


def completed_jobs(log: Path, since: str) -> list[dict[str, str]]:
    """Jobs of Slurm's job completion log (jobcomp/filetxt) that started at or after `since`."""
    jobs = []
    for line in log.read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("StartTime", "") >= since:
            jobs.append(fields)
    return jobs


def test_toil_runs_every_classification_as_a_slurm_job(slurm, tmp_path_factory):
    runner = infra.TOIL_BIN / "toil-cwl-runner"
    if not runner.exists():
        pytest.skip("Toil is not installed: make toil (.venv-toil)")
    base = tmp_path_factory.mktemp("toil")
    job = infra.demo_job(base)
    reference = infra.reference_run(base)
    scenes = len(json.loads((reference.parent / "reference.json").read_text())["identifiers"])
    out, work = base / "out", base / "work"
    work.mkdir()
    log = Path(
        subprocess.run(
            [str(infra.SCRIPTS / "slurm-local.sh"), "jobcomp"], capture_output=True, text=True
        ).stdout.strip()
    )
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    start = time.monotonic()
    options = ["--batchSystem", "slurm", "--no-container", "--enable-ext", "--retryCount", "0"]
    # one Slurm job per CWL job: no chaining of a job into its predecessor's allocation
    options += ["--disableChaining", "true"]
    places = ["--jobStore", str(base / "jobstore"), "--workDir", str(work), "--outdir", str(out)]
    proc = subprocess.run(
        [str(runner), *options, *places, str(infra.ROOT / "cwl" / "workflow.cwl"), str(job)],
        capture_output=True,
        text=True,
        check=False,
        # the workers run `_toil_worker` and the tools `s1flood`: both on PATH
        env=infra.run_env(infra.TOIL_BIN),
        timeout=1200,
        cwd=base,
    )
    infra.record_time("toil-cwl-runner on Slurm", time.monotonic() - start)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = completed_jobs(log, since)
    classify = [j for j in jobs if j.get("Name", "").endswith(".classify")]
    assert len(classify) == scenes, [j.get("Name") for j in jobs]
    assert all(j["JobState"] == "COMPLETED" for j in classify)
    assert any(j.get("Name", "").endswith(".aggregate") for j in jobs), "aggregate: no job"
    assert infra.rasters(out) == infra.rasters(reference)
    assert os.environ.get("SLURM_JOB_ID") is None  # the test itself is not a Slurm job
