"""Reliability under faults: SIGKILL series, the OGC server under load, secret scans. ONE table.

1. Kills: ``s1flood classify`` and ``s1flood aggregate`` are killed with SIGKILL at seeded random
   moments (``--kills`` each, default 25 + 25 = 50); after each kill every product under its
   final name must be whole and equal to the previous or the new one, the rerun must complete,
   equal an uninterrupted run and leave no temporary (tests/faults.py).
2. Load: ``s1flood serve`` (the echo test package, 2 running, ``--queue`` waiting) under
   ``--clients`` concurrent clients for ``--seconds``: execute, status, results, dismiss and bad
   requests mixed; status counts, requests/s, p50/p99 latency, peak RSS of the server, the most
   jobs seen running at once. 5xx other than 503 + Retry-After (queue full) is a failure.
3. Secrets: the job folders, logs and database of that server are scanned for the credential it
   was given (plain, URL-encoded, base64); so are every file and log of a cwltool and a Toil
   run given credentials (job store, notebooks, summary.json, STAC).
4. More series (benchmarks/fault_series.py): ``preprocess`` kills, ``fetch`` kills (resumed by
   Range, bytes sent twice counted), whole workflow runs killed after a scene and resumed by
   ``cwltool --cachedir`` / ``toil-cwl-runner --restart``, 8 parallel fetches through injected
   download faults, full disks (tmpfs, root only), fuzzing (hypothesis).

    .venv/bin/python benchmarks/bench_faults.py [--kills 25] [--size 1000] [--clients 50]
        [--seconds 30] [--seed 2023] [--preprocess-kills 5] [--fetch-kills 10]
        [--fetch-rounds 3] [--workflow-kills 2] [--fuzz-examples 500]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fault_series  # noqa: E402
from faults import KillReport, Load, kill_series  # noqa: E402
from test_70_ogc import ECHO, SECRET, OgcServer  # noqa: E402
from test_81_crash import CASES  # noqa: E402


def kills(work: Path, counts: dict[str, int], size: int, seed: int) -> list[KillReport]:
    """Kill series of classify, aggregate and preprocess (`counts` kills each)."""
    reports = []
    for name, count in counts.items():
        folder = work / name
        folder.mkdir()
        args, out, previous, expected, duration = CASES[name](folder, size)
        reports.append(kill_series(name, args, out, previous, expected, duration, count, seed))
    return reports


def peak_running(server: OgcServer) -> int:
    """The most jobs running at once, from the job records' start and finish times."""
    listing = requests.get(f"{server.url}/jobs?limit=10000", timeout=60).json()["jobs"]
    events = sorted(
        [(j["started"], 1) for j in listing if j.get("started")]
        + [(j["finished"], -1) for j in listing if j.get("started") and j.get("finished")]
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def load(work: Path, clients: int, seconds: float, queue: int, seed: int) -> dict[str, Any]:
    """Run the clients; the figures."""
    server = OgcServer(
        work / "ogc", packages=[ECHO], max_running_jobs=2, max_queued_jobs=queue, job_timeout=60
    ).start()
    try:
        run = Load(server, seed)
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=run.client, args=(until, seed + i)) for i in range(clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # let the queue drain before counting
            listing = requests.get(f"{server.url}/jobs?limit=10000", timeout=60).json()["jobs"]
            if all(j["status"] not in ("accepted", "running") for j in listing):
                break
            time.sleep(1)
        latencies = sorted(run.latencies)
        return {
            "requests": len(latencies),
            "requests_per_s": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
            "statuses": dict(sorted(run.statuses.items())),
            "unexpected": run.unexpected,
            "peak_running": peak_running(server),
            "peak_rss_mb": server.peak_rss_mb(),
            "secret_hits": scan(server.workdir / "data"),
            "scanned": sum(1 for p in (server.workdir / "data").rglob("*") if p.is_file()),
        }
    finally:
        server.stop()


def scan(folder: Path) -> list[str]:
    """Files under `folder` holding the server's secret (plain, URL-encoded, base64)."""
    forms = {
        SECRET,
        urllib.parse.quote(SECRET, safe=""),
        base64.b64encode(SECRET.encode()).decode(),
    }
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits.extend(f"{path}: {form}" for form in forms if form.encode() in data)
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=25, help="kills of classify and aggregate")
    parser.add_argument("--size", type=int, default=1000, help="raster side in pixels")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--queue", type=int, default=20, help="max_queued_jobs of the server")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--preprocess-kills", type=int, default=5)
    parser.add_argument("--fetch-kills", type=int, default=10)
    parser.add_argument("--fetch-rounds", type=int, default=3, help="rounds of 8 fetches")
    parser.add_argument("--workflow-kills", type=int, default=2, help="per runner")
    parser.add_argument("--fuzz-examples", type=int, default=500, help="per fuzz test")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    counts = {"classify": args.kills, "aggregate": args.kills, "preprocess": args.preprocess_kills}
    try:
        reports = kills(work, counts, args.size, args.seed)
        more = [
            fault_series.fetch_kills(work, args.fetch_kills, args.seed),
            *(fault_series.workflow_kills(work, r, args.workflow_kills, args.seed)
              for r in ("cwltool", "toil")),
            fault_series.fetch_under_faults(work, args.fetch_rounds, args.seed),
            fault_series.full_disk(work),
            fault_series.fuzz(work, args.fuzz_examples),
            fault_series.workflow_secrets(work),
        ]  # fmt: skip
        figures = load(work, args.clients, args.seconds, args.queue, args.seed)
    finally:
        fault_series.cleanup(work)
    rows = [["what", "count", "bad", "detail"]]
    for r in reports:
        rows.append(
            [
                f"SIGKILL {r.command}",
                str(r.kills),
                str(r.partial_files + r.wrong_products + r.left_after_rerun + r.rerun_failures),
                f"partial {r.partial_files}, wrong {r.wrong_products}, temporaries stranded by "
                f"the kill {r.stranded_after_kill} -> left after rerun {r.left_after_rerun}, "
                f"rerun failed {r.rerun_failures}, finished before the kill "
                f"{r.finished_before_kill}",
            ]
        )
    rows += [[what, str(count), str(bad), detail] for what, count, bad, detail, _ in more]
    statuses = ", ".join(f"{k}: {v}" for k, v in figures["statuses"].items())
    rows.append(
        [
            f"OGC load, {args.clients} clients, {args.seconds:.0f} s",
            str(figures["requests"]),
            str(len(figures["unexpected"])),
            f"{figures['requests_per_s']:.1f} req/s, p50 {figures['p50_ms']:.0f} ms, "
            f"p99 {figures['p99_ms']:.0f} ms, peak RSS {figures['peak_rss_mb']:.0f} MB, "
            f"most running {figures['peak_running']} (limit 2); {statuses}",
        ]
    )
    rows.append(
        [
            "secret scan: OGC job folders, logs, jobs.db",
            str(figures["scanned"]),
            str(len(figures["secret_hits"])),
            "files scanned / files holding the credential (plain, URL-encoded, base64)",
        ]
    )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3])
    problems = [p for r in reports for p in r.problems] + figures["unexpected"]
    problems += [p for *_, found in more for p in found]
    problems += figures["secret_hits"]
    if figures["peak_running"] > 2:
        problems.append(f"{figures['peak_running']} jobs ran at once (limit 2)")
    for problem in problems[:20]:
        print("problem:", problem)
    print(json.dumps({"problems": len(problems)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
