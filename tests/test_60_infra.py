"""Local infrastructure for the test_6x tests (no tests here): daemons, demo job, CWL runs.

The daemons (dockerd, the registry, munged/slurmctld/slurmd) are started through the project's
scripts and stopped by the PID those recorded, and only when these tests started them. The
tests that need them skip when not root, or when Debian's archive cannot be reached to install
the packages (the scripts exit 3 then).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent
TOIL_BIN = ROOT / ".venv-toil" / "bin"
INFRA = Path(os.environ.get("S1FLOOD_INFRA", "/var/lib/s1flood-infra"))
SOCK = os.environ.get("S1FLOOD_DOCKER_SOCK", "/run/s1flood-docker.sock")
DOCKER_HOST = f"unix://{SOCK}"
DOCKER = "/usr/bin/docker"
APT_UNREACHABLE = 3
TIMINGS = INFRA / "log" / "test-timings.json"

SERVICES = {"docker": "docker-local.sh", "registry": "registry-local.sh", "slurm": "slurm-local.sh"}
_started: dict[str, int] = {}
"""Services these tests started, with how many fixtures hold them."""


def record_time(what: str, seconds: float) -> None:
    """Keep a measured time in TIMINGS (read by people, not by tests)."""
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[what] = round(seconds, 1)
    TIMINGS.write_text(json.dumps(data, indent=1, sort_keys=True))


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: installs Debian packages and starts dockerd/registry/Slurm")


def script(name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """Run scripts/NAME; skip when Debian's archive is unreachable, fail on other errors."""
    proc = subprocess.run(
        [str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    if proc.returncode == APT_UNREACHABLE:
        pytest.skip(f"Debian's archive cannot be reached: {last}")
    assert proc.returncode == 0, f"scripts/{name} {' '.join(args)}: {last}"
    return proc.stdout


def acquire(service: str) -> None:
    """Start a service unless it runs; remember that these tests started it."""
    require_root()
    running = (
        subprocess.run([str(SCRIPTS / SERVICES[service]), "status"], capture_output=True).returncode
        == 0
    )
    if service in _started:
        _started[service] += 1
    elif not running:
        script(SERVICES[service], "start")
        _started[service] = 1


def release(service: str) -> None:
    """Stop a service by its recorded PID when the last fixture that started it lets go."""
    if service not in _started:
        return
    _started[service] -= 1
    if _started[service] == 0:
        del _started[service]
        script(SERVICES[service], "stop")


def held(service: str) -> Iterator[None]:
    """A fixture body: the service runs while the fixture lives."""
    acquire(service)
    try:
        yield
    finally:
        release(service)


def run_env(*extra_bins: Path) -> dict[str, str]:
    """The environment CWL runs get: the venv's bin first (tools call `s1flood`), our engine."""
    path = os.pathsep.join([*(str(b) for b in extra_bins), str(BIN), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, "DOCKER_HOST": DOCKER_HOST, "S1FLOOD_DOCKER": DOCKER}


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, check=check, env=run_env()
    )


_demo: dict[str, Path] = {}


def demo_job(base: Path) -> Path:
    """A job file: parameters/demo.yml on two tiny simulated scenes (made once per session)."""
    if "job" in _demo:
        return _demo["job"]
    folder = base / "demo"
    data = folder / "data"
    command = [sys.executable, str(SCRIPTS / "demo_data.py"), str(data)]
    proc = subprocess.run(
        [*command, "--scenes", "2", "--size", "tiny"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    demo = ROOT / "parameters" / "demo.yml"
    job: dict[str, Any] = yaml.safe_load(demo.read_text()) if demo.exists() else {}
    if not job:
        from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START

        job = {"aoi": DEMO_AOI, "start": DEMO_START, "end": DEMO_END}
    job["catalogue"] = {"class": "Directory", "path": str(data / "simulation")}
    job["dem"] = {"class": "File", "path": str(data / "dem.tif")}
    path = folder / "job.yml"
    path.write_text(yaml.safe_dump(job))
    _demo["job"] = path
    return path


def cwltool(
    process: Path | str, job: Path, outdir: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run cwltool (the venv's) on a process (``FILE`` or ``FILE#ID``) and a job into `outdir`."""
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir.parent / f"{outdir.name}-tmp"
    tmp.mkdir(exist_ok=True)
    command = [str(BIN / "cwltool"), "--enable-ext", "--parallel", "--outdir", str(outdir)]
    temporary = ["--tmpdir-prefix", f"{tmp}/", "--tmp-outdir-prefix", f"{tmp}/"]
    return subprocess.run(
        [*command, *temporary, *options, str(process), str(job)],
        capture_output=True,
        text=True,
        check=False,
        env=env or run_env(),
        timeout=1200,
    )


def reference_run(base: Path) -> Path:
    """The demo workflow with cwltool --no-container (made once per session)."""
    if "reference" in _demo:
        return _demo["reference"]
    job = demo_job(base)
    out = base / "reference"
    start = time.monotonic()
    proc = cwltool(ROOT / "cwl" / "workflow.cwl", job, out, "--no-container")
    record_time("cwltool --no-container run", time.monotonic() - start)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (base / "reference.json").write_text(proc.stdout)
    _demo["reference"] = out
    return out


def rasters(outdir: Path) -> dict[str, str]:
    """SHA-256 of every GeoTIFF under an output folder, by path relative to it."""
    found = {
        str(p.relative_to(outdir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(outdir.rglob("*.tif"))
    }
    assert found, f"no raster under {outdir}"
    return found


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
