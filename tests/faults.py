"""Crash harness shared by tests/test_81_crash.py and benchmarks/bench_faults.py.

A command is run in its own process group and killed with SIGKILL at a seeded random moment;
afterwards every output under its final name must be a whole, valid product (the previous one
or the new one, pixel for pixel), and a rerun of the same command must complete and leave no
temporary file beside the outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import requests

S1FLOOD = Path(sys.executable).parent / "s1flood"
TEMPORARY_ENDINGS = (".part", ".tmp", ".lock", ".new", ".stage.tif", ".aux.xml")
CLOCK_KEYS = {"created", "updated", "datetime", "start_datetime", "end_datetime"}
"""JSON members that hold the time of the run (masks without acquisition times get it)."""


def _without_clock(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def temporaries(folder: Path) -> list[str]:
    """Names under `folder` that are temporaries (hidden files, ``.part``, GDAL side files)."""
    if not folder.exists():
        return []
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and (p.name.startswith(".") or p.name.endswith(TEMPORARY_ENDINGS))
    )


def fingerprint(path: Path) -> str:
    """What a product holds: a raster's pixels, a JSON document's content, else its bytes."""
    if path.suffix == ".tif":
        with rasterio.open(path) as src:
            pixels = src.read()
        return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
    if path.suffix == ".json":
        document = _without_clock(json.loads(path.read_text(encoding="utf-8")))
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def valid(path: Path) -> bool:
    """Whether a product is whole: every pixel readable (and a valid COG), JSON parses, PNG ends."""
    try:
        if path.suffix == ".tif":
            from rio_cogeo.cogeo import cog_validate

            with rasterio.open(path) as src:
                src.read()
            is_cog, errors, _ = cog_validate(str(path), quiet=True)
            return bool(is_cog) and not errors
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
            return True
        if path.suffix == ".png":
            return path.read_bytes().endswith(b"IEND\xaeB`\x82")
        return path.stat().st_size > 0
    except Exception:  # any failure to read means not whole
        return False


def products(folder: Path) -> dict[str, str]:
    """Every non-temporary file under `folder` with its fingerprint (``invalid`` if not whole)."""
    skip = set(temporaries(folder))
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_file() and name not in skip:
            found[name] = fingerprint(path) if valid(path) else "invalid"
    return found


def run(args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600) -> float:
    """Run to the end (exit 0 asserted); its wall seconds."""
    started = time.monotonic()
    done = subprocess.run(
        list(args), capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {done.returncode}: {done.stderr[-2000:]}")
    return time.monotonic() - started


def kill_at(args: Sequence[str], seconds: float, env: dict[str, str] | None = None) -> bool:
    """Start `args` in a new process group, SIGKILL the group after `seconds`; killed or not."""
    process = subprocess.Popen(
        list(args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        process.wait(seconds)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


@dataclass
class KillReport:
    """What a series of kills of one command found."""

    command: str
    kills: int = 0
    finished_before_kill: int = 0
    partial_files: int = 0
    wrong_products: int = 0
    stranded_after_kill: int = 0
    left_after_rerun: int = 0
    rerun_failures: int = 0
    problems: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        """No partial or wrong product, nothing left after the reruns, every rerun completed."""
        return not (
            self.partial_files
            or self.wrong_products
            or self.left_after_rerun
            or self.rerun_failures
        )


def kill_series(
    name: str,
    args: Sequence[str],
    out: Path,
    previous: Path,
    expected: dict[str, str],
    duration: float,
    kills: int,
    seed: int,
    env: dict[str, str] | None = None,
) -> KillReport:
    """Kill `args` (which writes folder `out`) `kills` times at random moments, checking each.

    Before each kill `out` is reset to the `previous` products (an earlier run with other
    settings); after it every product must be whole and equal to the previous one or the new
    one (`expected`: products of an uninterrupted run); then the rerun must give `expected`
    and leave no temporary.

    Args:
        name: the command's name in the report.
        args: the command, with ``--overwrite`` so that it replaces the previous products.
        out: its output folder.
        previous: a copy of the previous products (``out`` starts as this).
        expected: `products` of an uninterrupted run into an empty folder.
        duration: seconds of an uninterrupted run; kills fall in (0.1, 1.0) of it.
        kills: how many kills.
        seed: the random moments' seed.
        env: the command's environment.
    """
    rng = random.Random(seed)
    report = KillReport(name)
    before = products(previous)
    for _ in range(kills):
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(previous, out)
        if not kill_at(args, rng.uniform(0.1, 1.0) * duration, env):
            report.finished_before_kill += 1
        report.kills += 1
        found = products(out)
        for product, print_ in found.items():
            if print_ == "invalid":
                report.partial_files += 1
                report.problems.append(f"{name}: partial {product}")
            elif print_ not in (before.get(product), expected.get(product)):
                report.wrong_products += 1
                report.problems.append(f"{name}: {product} is neither the old nor the new one")
        report.stranded_after_kill += bool(temporaries(out))
        try:
            run(args, env)
        except AssertionError as exc:
            report.rerun_failures += 1
            report.problems.append(f"{name}: rerun failed: {str(exc)[-300:]}")
            continue
        left = temporaries(out)
        report.left_after_rerun += len(left)
        report.problems.extend(f"{name}: left {t}" for t in left)
        if products(out) != {**before, **expected}:
            report.wrong_products += 1
            report.problems.append(f"{name}: rerun products differ from an uninterrupted run")
    return report


class Load:
    """Concurrent clients against one OGC server (`OgcServer`) running the echo package.

    Each client mixes execute, status, results, dismiss, job lists and bad requests; any 5xx
    but a 503 with ``Retry-After`` (queue full) or a failed job's 500 is recorded as unexpected.
    """

    def __init__(self, server: Any, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.jobs: list[str] = []
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.unexpected: list[str] = []

    def request(self, session: requests.Session, kind: str) -> None:
        url = self.server.url
        with self.lock:
            job = self.rng.choice(self.jobs) if self.jobs else "none"
        calls = {
            "execute": lambda: session.post(
                f"{url}/processes/s1flood-echo/execution",
                json={"inputs": {"message": "load", "seconds": 1}},
                headers={"Prefer": "respond-async"},
                timeout=60,
            ),
            "status": lambda: session.get(f"{url}/jobs/{job}", timeout=60),
            "results": lambda: session.get(f"{url}/jobs/{job}/results", timeout=60),
            "dismiss": lambda: session.delete(f"{url}/jobs/{job}", timeout=60),
            "bad": lambda: session.post(
                f"{url}/processes/s1flood-echo/execution",
                data=b'{"inputs": {"seconds": "many"',
                headers={"Content-Type": "application/json"},
                timeout=60,
            ),
            "list": lambda: session.get(f"{url}/jobs?limit=5", timeout=60),
        }
        started = time.monotonic()
        response = calls[kind]()
        elapsed = time.monotonic() - started
        code = response.status_code
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[str(code)] += 1
            if kind == "execute" and code == 201:
                self.jobs.append(response.json()["jobID"])
            if code >= 500 and not (code == 503 and response.headers.get("Retry-After")):
                job_failed = kind == "results" and "Job failed" in response.text
                if not job_failed:
                    self.unexpected.append(f"{kind} {code}: {response.text[:200]}")

    def client(self, until: float, seed: int) -> None:
        rng = random.Random(seed)
        kinds = ["execute"] * 3 + ["status"] * 4 + ["results"] * 2 + ["dismiss", "bad", "list"]
        with requests.Session() as session:
            while time.monotonic() < until:
                try:
                    self.request(session, rng.choice(kinds))
                except requests.RequestException as exc:
                    with self.lock:
                        self.statuses["connection error"] += 1
                        self.unexpected.append(f"{type(exc).__name__}: {exc}")
