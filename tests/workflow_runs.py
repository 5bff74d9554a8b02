"""Running the CWL workflow in tests: a tiny simulated demo, cwltool and Toil command lines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START

ROOT = Path(__file__).resolve().parents[1]
CWL = ROOT / "cwl"
BIN = Path(sys.executable).parent
TOIL_BIN = ROOT / ".venv-toil" / "bin"


@dataclass
class Run:
    """One runner's run: its output folder, log, exit code and wall time."""

    outdir: Path
    log: str
    returncode: int
    seconds: float
    workdir: Path


def simulate(out: Path, scenes: int) -> Path:
    """Tiny simulated products (``simulation/``) with their DEM inside (``simulation/dem/``).

    The job files use the simulator's own layout, the DEM File inside the catalogue
    Directory (issue 23: cwl/classify.cwl stages the DEM itself, as cwltool does not).
    """
    from s1flood import steps

    simulation = out / "simulation"
    steps.simulate(DEMO_AOI, DEMO_START, DEMO_END, simulation, scenes=scenes, size="tiny", seed=0)
    return out


def job(path: Path, demo_data: Path, **values: object) -> Path:
    """A workflow job file on a demo folder's staged simulation and DEM."""
    record: dict[str, object] = {
        "aoi": DEMO_AOI,
        "start": DEMO_START,
        "end": DEMO_END,
        "catalogue": {"class": "Directory", "path": str(demo_data / "simulation")},
        "dem": {"class": "File", "path": str(demo_data / "simulation" / "dem" / "dem.tif")},
    }
    record.update(values)
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    return path


def environment(*bins: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*(str(b) for b in bins), env.get("PATH", "")])
    return env


def cwltool(document: Path, job_file: Path, work: Path, *extra: str, timeout: float = 900) -> Run:
    """``cwltool --no-container`` with every temporary folder under `work` (kept)."""
    command, outdir = cwltool_command(document, job_file, work, *extra)
    return _run(command, outdir, work, environment(BIN), timeout)


def cwltool_command(
    document: Path, job_file: Path, work: Path, *extra: str
) -> tuple[list[str], Path]:
    """The `cwltool` command line and its output folder."""
    outdir = work / "out"
    for name in ("tmp", "jobs"):
        (work / name).mkdir(parents=True, exist_ok=True)
    command = [
        str(BIN / "cwltool"),
        "--enable-ext",
        "--no-container",
        "--disable-color",
        "--leave-tmpdir",
        "--tmpdir-prefix",
        f"{work}/tmp/",
        # (cwltool takes no --tmp-outdir-prefix with --cachedir: the cache holds the jobs)
        *(() if "--cachedir" in extra else ("--tmp-outdir-prefix", f"{work}/jobs/")),
        *extra,
        "--outdir",
        str(outdir),
        str(document),
        str(job_file),
    ]
    return command, outdir


def toil(document: Path, job_file: Path, work: Path, *extra: str, timeout: float = 900) -> Run:
    """``toil-cwl-runner --batchSystem single_machine --no-container`` (Toil's own venv)."""
    command, outdir = toil_command(document, job_file, work, *extra)
    return _run(command, outdir, work, environment(TOIL_BIN, BIN), timeout)


def toil_command(document: Path, job_file: Path, work: Path, *extra: str) -> tuple[list[str], Path]:
    """The `toil-cwl-runner` command line (job store ``work/jobstore``), its output folder."""
    outdir = work / "out"
    work.mkdir(parents=True, exist_ok=True)
    (work / "work").mkdir(exist_ok=True)
    command = [
        str(TOIL_BIN / "toil-cwl-runner"),
        "--batchSystem",
        "single_machine",
        "--no-container",
        "--jobStore",
        str(work / "jobstore"),
        "--workDir",
        str(work / "work"),
        "--outdir",
        str(outdir),
        *extra,
        str(document),
        str(job_file),
    ]
    return command, outdir


def _run(command: list[str], outdir: Path, work: Path, env: dict[str, str], timeout: float) -> Run:
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=work,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    log = done.stdout + done.stderr
    (work / "runner.log").write_text(log, encoding="utf-8")
    return Run(outdir, log, done.returncode, seconds, work)
