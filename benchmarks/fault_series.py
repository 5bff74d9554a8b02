"""The longer fault series of bench_faults.py: fetch kills and faults under load, workflow
kills resumed by cwltool and Toil, full disks, fuzzing, secret scans of workflow runs.

Each function returns a row of the table: (what, count, bad, detail) and its problems.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

Row = tuple[str, int, int, str, list[str]]


def fetch_kills(work: Path, kills: int, seed: int) -> Row:
    """SIGKILL of a throttled 3 MB download; the rerun resumes by Range."""
    from fetching import enlarge, environment, kill_series
    from servers.cdse import start_cdse

    main, zipper, state = start_cdse()
    try:
        product = enlarge(state, 0, 3_000_000)
        main.throttle = 1_000_000.0
        env = environment(main, state, work, retries=3, backoff=0.05, timeout=5)
        figures = kill_series(main, product, work / "fetch", env, kills, seed)
    finally:
        main.close()
        zipper.close()
    bad = figures.partial_files + len(figures.problems)
    detail = (
        f"partial {figures.partial_files}, not resumed by Range {figures.not_resumed}, bytes "
        f"sent again {figures.resent_bytes}, finished before the kill "
        f"{figures.finished_before_kill}"
    )
    return "SIGKILL fetch (3 MB at 1 MB/s)", figures.kills, bad, detail, figures.problems


def fetch_under_faults(work: Path, rounds: int, seed: int) -> Row:
    """`rounds` x 8 parallel fetches while 40 % of downloads draw a fault."""
    from fetching import FAULTS, enlarge, environment, run_fetch
    from servers.cdse import start_cdse

    outcomes = []
    injected: dict[str, int] = {}
    for index in range(rounds):
        main, zipper, state = start_cdse()
        try:
            products = [enlarge(state, i, 400_000 + 50_000 * i) for i in range(8)]
            main.throttle = 4_000_000.0
            main.inject_randomly("download", 0.4, FAULTS, seed=seed + index)
            main.inject_randomly("product", 0.1, FAULTS[:5], seed=seed + 100 + index)
            env = environment(main, state, work, retries=4, backoff=0.05, max_retry_after=2,
                              timeout=3)  # fmt: skip
            out = work / f"fetch-load-{index}"
            with ThreadPoolExecutor(8) as pool:
                runs = [pool.submit(run_fetch, p, out, env, 90) for p in products]
                outcomes += [run.result() for run in runs]
            for kind, count in main.injected.items():
                injected[kind] = injected.get(kind, 0) + count
        finally:
            main.close()
            zipper.close()
    problems = [p for o in outcomes for p in o.problems]
    corrupt = sum("corrupt" in p for p in problems)
    failed = sum(o.returncode != 0 for o in outcomes)
    slowest = max(o.seconds for o in outcomes)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(injected.items()))
    detail = (
        f"{len(outcomes)} fetches (8 at once): corrupt {corrupt}, failed in one line {failed}, "
        f"retries logged at INFO {sum(o.retries for o in outcomes)} (at most "
        f"{max(o.retries for o in outcomes)} in one fetch), slowest {slowest:.1f} s; injected: "
        f"{kinds}"
    )
    return "download faults under load", sum(injected.values()), corrupt, detail, problems


def workflow_kills(work: Path, runner: str, kills: int, seed: int) -> Row:
    """Kill a workflow run after its first scene; resume with the runner's own mechanism."""
    import test_85_workflow_resume as resume_tests
    from workflow_runs import BIN, CWL, TOIL_BIN, cwltool_command, simulate, toil_command

    if runner == "toil" and not (TOIL_BIN / "toil-cwl-runner").is_file():
        return "SIGKILL toil workflow", 0, 0, "skipped: Toil not installed (make toil)", []
    simulation = simulate(work / f"sim-{runner}", resume_tests.SCENES)
    problems = []
    for index in range(kills):
        tmp = work / f"{runner}-{index}"
        tmp.mkdir()
        run_dir = tmp / "run"
        if runner == "cwltool":
            cache = tmp / "cache"

            def first(job_file: Path, cache: Path = cache, run_dir: Path = run_dir) -> Any:
                return cwltool_command(
                    CWL / "workflow.cwl", job_file, run_dir, "--cachedir", str(cache)
                )

            again = first
            bins: tuple[Path, ...] = (BIN,)
        else:

            def first(job_file: Path, run_dir: Path = run_dir) -> Any:
                return toil_command(CWL / "workflow.cwl", job_file, run_dir)

            def again(job_file: Path, run_dir: Path = run_dir) -> Any:
                return toil_command(CWL / "workflow.cwl", job_file, run_dir, "--restart")

            bins = (TOIL_BIN, BIN)
        try:
            resume_tests.resume(tmp, first, again, bins, simulation, seed=seed + index)
        except AssertionError as exc:
            problems.append(f"{runner}: {str(exc)[:300]}")
    what = "cwltool --cachedir" if runner == "cwltool" else "toil-cwl-runner --restart"
    detail = f"killed after a scene ended; resumed with {what}: scenes redone or runs failed"
    return f"SIGKILL {runner} workflow", kills, len(problems), detail, problems


def full_disk(work: Path) -> Row:
    """classify, aggregate (x3 commands), fetch and a workflow onto a filled tmpfs."""
    import test_86_full_disk as disk_tests

    if os.geteuid() != 0:
        return "full disk (tmpfs)", 0, 0, "skipped: not root", []
    cases = [
        ("classify + aggregate", disk_tests.test_classify_and_aggregate_on_a_full_disk, 3),
        ("fetch", disk_tests.test_fetch_on_a_full_disk, 1),
        ("workflow", disk_tests.test_workflow_on_a_full_disk, 1),
    ]
    problems = []
    count = 0
    for name, case, commands in cases:
        tmp = Path(tempfile.mkdtemp(dir=work))
        mount = tmp / "disk"
        mount.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
        try:
            case(mount, tmp)
        except AssertionError as exc:
            problems.append(f"{name}: {str(exc)[:300]}")
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=False)
        count += commands
    detail = "commands ending ENOSPC: one line naming the folder, nothing partial, inputs intact"
    return "full disk (tmpfs, 16 KB free)", count, len(problems), detail, problems


def fuzz(work: Path, examples: int) -> Row:
    """The fuzz tests of tests/test_87_fuzz.py with `examples` examples each (random seed)."""
    os.environ["S1FLOOD_FUZZ_EXAMPLES"] = str(examples)  # read when test_87_fuzz is imported
    import test_87_fuzz as fuzz_tests

    tests = {
        "aoi": (fuzz_tests.test_aoi_wkt, ()),
        "window": (fuzz_tests.test_time_window, ()),
        "time": (fuzz_tests.test_one_time, ()),
        "job file": (fuzz_tests.test_job_files, (work,)),
        "notebook -p": (fuzz_tests.test_notebook_parameter_values, ()),
        "OGC inputs": (fuzz_tests.test_ogc_execute_inputs, (work,)),
    }
    problems = []
    for name, (test, args) in tests.items():
        try:
            test(*args)
        except Exception as exc:  # a falsifying example
            problems.append(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
    detail = f"{', '.join(tests)}: {examples} examples each; tracebacks or unnamed fields"
    return "fuzz examples", examples * len(tests), len(problems), detail, problems


def workflow_secrets(work: Path) -> Row:
    """A cwltool and a Toil run given credentials: every file of both and their logs."""
    from test_51_workflow import SECRETS, secret_forms
    from workflow_runs import CWL, TOIL_BIN, cwltool, job, simulate, toil

    simulation = simulate(work / "sim-secrets", 2)
    forms = secret_forms()
    runs = [cwltool(CWL / "workflow.cwl", job(work / "c.yml", simulation, **SECRETS),
                    work / "secrets-cwltool")]  # fmt: skip
    if (TOIL_BIN / "toil-cwl-runner").is_file():
        toil_work = work / "secrets-toil"
        runs.append(toil(CWL / "workflow.cwl", job(work / "t.yml", simulation, **SECRETS),
                         toil_work, "--clean", "never", "--logFile",
                         str(toil_work / "toil.log"), "--logDebug"))  # fmt: skip
    problems = [f"run failed: {r.log[-300:]}" for r in runs if r.returncode]
    scanned = 0
    for run in runs:
        for path in (p for p in run.workdir.rglob("*") if p.is_file()):
            scanned += 1
            content = path.read_bytes()
            problems += [f"{path}: holds a credential" for form in forms if form in content]
        problems += ["runner log holds a credential" for f in forms if f in run.log.encode()]
    detail = "files of cwltool + Toil runs (job stores, logs, notebooks, summary.json, STAC)"
    return "secret scan: workflow runs", scanned, len(problems), detail, problems


def cleanup(work: Path) -> None:
    """Remove the work folder (tmpfs mounts are unmounted by their series)."""
    shutil.rmtree(work, ignore_errors=True)
