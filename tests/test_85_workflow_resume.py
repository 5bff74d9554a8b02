"""A whole workflow run killed with SIGKILL, resumed by the runner without redoing scenes.

``cwltool --cachedir`` and ``toil-cwl-runner --restart``: the run (2 tiny simulated scenes) is
killed a seeded moment after its first classification job ended; the resumed run completes,
gives whole products, and starts no classification of a scene that had ended. Which scene
jobs ran is read from a recording ``s1flood`` first on the jobs' PATH (runner-independent).
The long series is in benchmarks/bench_faults.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from faults import products
from workflow_runs import (
    BIN,
    CWL,
    TOIL_BIN,
    cwltool_command,
    environment,
    job,
    simulate,
    toil_command,
)

pytestmark = pytest.mark.slow

SCENES = 2


def recording_bin(folder: Path, record: Path) -> Path:
    """A folder with an ``s1flood`` that notes each notebook run's start and end in `record`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "s1flood"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "start $*" >> {record}\n'
        f'{BIN / "s1flood"} "$@"\n'
        "rc=$?\n"
        f'echo "end $rc $*" >> {record}\n'
        "exit $rc\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return folder


def classified(record: Path, event: str) -> set[str]:
    """Scenes whose classification notebook run had `event` (``start``, or ``end 0``)."""
    if not record.exists():
        return set()
    scenes = set()
    for line in record.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{event} ") and " notebook run " in line:
            for word in line.split():
                if word.startswith("02-classify_") and word.endswith(".ipynb"):
                    scenes.add(word)
    return scenes


def kill_after_first_scene(
    command: list[str], env: dict[str, str], cwd: Path, record: Path, seed: int
) -> set[str]:
    """Run `command`, SIGKILL its process group a seeded 0-2 s after a scene ended; those ended."""
    with (cwd / "killed-run.log").open("w") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 600
    try:
        while not classified(record, "end 0") and time.monotonic() < deadline:
            if process.poll() is not None:
                log = (cwd / "killed-run.log").read_text(encoding="utf-8", errors="replace")
                raise AssertionError(f"ended ({process.returncode}), no scene: {log[-2000:]}")
            time.sleep(0.2)
        time.sleep(random.Random(seed).uniform(0.0, 2.0))
        ended = classified(record, "end 0")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return ended


def resume(
    tmp: Path,
    first: Callable[[Path], tuple[list[str], Path]],
    again: Callable[[Path], tuple[list[str], Path]],
    bins: tuple[Path, ...],
    simulation: Path,
    seed: int = 23,
) -> None:
    record = tmp / "record.txt"
    env = environment(recording_bin(tmp / "bin", record), *bins)
    work = tmp / "run"
    work.mkdir()
    job_file = job(tmp / "job.yml", simulation)
    command, outdir = first(job_file)
    ended = kill_after_first_scene(command, env, work, record, seed)
    assert ended
    before = classified(record, "start")
    record.rename(tmp / "record-killed.txt")
    command, outdir = again(job_file)
    done = subprocess.run(
        command, env=env, cwd=work, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rerun = classified(record, "start")
    assert not rerun & ended, f"scenes redone after the kill: {rerun & ended}"
    assert len(before | rerun) == SCENES
    found = products(outdir)
    assert found
    assert "invalid" not in found.values(), found
    summary = json.loads(
        (outdir / "results" / "frequency" / "summary.json").read_text(encoding="utf-8")
    )
    assert summary["scene_count"] == SCENES


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("simulation"), SCENES)


def test_cwltool_cachedir_resumes_without_redoing_scenes(tmp_path: Path, simulation: Path) -> None:
    cache = tmp_path / "cache"
    work = tmp_path / "run"

    def run(job_file: Path) -> tuple[list[str], Path]:
        return cwltool_command(CWL / "workflow.cwl", job_file, work, "--cachedir", str(cache))

    resume(tmp_path, run, run, (BIN,), simulation)


def test_toil_restart_resumes_without_redoing_scenes(tmp_path: Path, simulation: Path) -> None:
    if not (TOIL_BIN / "toil-cwl-runner").is_file():
        pytest.skip("Toil is not installed: `make toil` makes .venv-toil")
    work = tmp_path / "run"

    def first(job_file: Path) -> tuple[list[str], Path]:
        return toil_command(CWL / "workflow.cwl", job_file, work)

    def again(job_file: Path) -> tuple[list[str], Path]:
        return toil_command(CWL / "workflow.cwl", job_file, work, "--restart")

    resume(tmp_path, first, again, (TOIL_BIN, BIN), simulation)
