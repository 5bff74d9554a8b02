"""The workflow's overhead: cwltool (a papermill notebook per step and scene) vs one process.

Simulates the demo products (as `make demo`: 4 scenes, ``small`` unless told) once into
benchmarks/.cache/, then
1. runs ``cwltool --no-container cwl/workflow.cwl`` on them and reads each job's peak memory
   from cwltool's log (``Max memory used``: the job's whole process tree, kernel included),
   which is what the tools' ``ResourceRequirement.ramMin`` must cover;
2. runs the same step calls (discover, process_scene per scene, aggregate) in one fresh Python
   process, timing each.
Prints both wall times, the overhead per scene and the per-step peak memory.

    .venv/bin/python benchmarks/bench_workflow.py [--size small] [--scenes 4] [--parallel]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = ROOT / "benchmarks" / ".cache" / "workflow"

IN_PROCESS = """
import json, resource, sys, time
from s1flood import steps
job, out = json.loads(sys.argv[1]), sys.argv[2]
catalogue = "local:" + job["catalogue"]["path"] + "/catalog"
times = {}
t = time.perf_counter()
found = steps.discover(job["aoi"], job["start"], job["end"], catalogue=catalogue)
times["discover"] = time.perf_counter() - t
masks = []
for index, scene in enumerate(found.scenes, 1):
    t = time.perf_counter()
    result = steps.process_scene(scene.name, out, aoi=job["aoi"], dem=job["dem"]["path"],
                                 catalogue=catalogue, overwrite=True)
    times["classify" if index == 1 else f"classify_{index}"] = time.perf_counter() - t
    masks.append(str(result.mask))
t = time.perf_counter()
steps.aggregate(masks, out + "/frequency", overwrite=True)
times["aggregate"] = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"times": times, "peak_rss_mb": peak}))
"""


def demo_data(size: str, scenes: int) -> Path:
    folder = CACHE / f"{size}-{scenes}"
    if not (folder / "dem.tif").is_file():
        subprocess.run(
            [
                str(BIN / "python"),
                str(ROOT / "scripts" / "demo_data.py"),
                str(folder),
                "--size",
                size,
                "--scenes",
                str(scenes),
            ],
            check=True,
        )
    return folder


def job_file(folder: Path) -> tuple[Path, dict[str, object]]:
    job = yaml.safe_load((ROOT / "parameters" / "demo.yml").read_text(encoding="utf-8"))
    job["catalogue"] = {"class": "Directory", "path": str(folder / "simulation")}
    job["dem"] = {"class": "File", "path": str(folder / "dem.tif")}
    path = folder / "job.yml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    return path, job


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def through_cwltool(
    job: Path, out: Path, parallel: bool
) -> tuple[float, float, dict[str, float], str]:
    # as `make demo`: one cache for the run's jobs (each has a fresh HOME)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env["S1FLOOD_CACHE_DIR"] = str(CACHE / "run-cache")
    command = [str(BIN / "cwltool"), "--enable-ext", "--no-container", "--outdir", str(out)]
    command += ["--preserve-environment", "S1FLOOD_CACHE_DIR"]
    command += ["--parallel"] if parallel else []
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(
        [*command, str(ROOT / "cwl" / "workflow.cwl"), str(job)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode:
        sys.exit(f"cwltool failed:\n{done.stderr[-3000:]}")
    memory = {
        match[1]: float(match[2])
        for match in re.finditer(r"\[job (\S+)\] Max memory used: (\d+)MiB", done.stderr)
    }
    return seconds, cpu, memory, done.stderr


def in_one_process(job: dict[str, object], out: Path) -> tuple[float, float, dict[str, object]]:
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(
        [str(BIN / "python"), "-c", IN_PROCESS, json.dumps(job), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    record: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, cpu, record


ENVELOPES = {
    "empty notebook": "y = x",
    "+ scrapbook glue": "import scrapbook as sb\nsb.glue('x', x)",
    "+ s1flood.glue instead": "from s1flood import glue as sb\nsb.glue('x', x)",
    "+ s1flood imports": "from s1flood import glue as sb\nimport matplotlib.pyplot as plt\n"
    "import s1flood\nfrom s1flood.notebook import arguments\nsb.glue('x', x)",
}


def envelope(folder: Path, repeats: int = 3) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of `s1flood notebook run` on notebooks that do (almost) nothing:
    the fixed cost of a notebook job (runner, papermill, kernel start, the cells' imports)."""
    import nbformat

    figures = {}
    env = dict(os.environ, S1FLOOD_CACHE_DIR=str(CACHE / "run-cache"))
    for label, code in ENVELOPES.items():
        notebook = nbformat.v4.new_notebook()
        parameters = nbformat.v4.new_code_cell("x = 1")
        parameters.metadata["tags"] = ["parameters"]
        notebook.cells = [parameters, nbformat.v4.new_code_cell(code)]
        notebook.metadata["kernelspec"] = {"name": "s1flood", "language": "python"}
        path = folder / "envelope.ipynb"
        nbformat.write(notebook, path)
        runs = []
        for _ in range(repeats):
            started, cpu = time.perf_counter(), children_cpu()
            subprocess.run(
                [str(BIN / "s1flood"), "notebook", "run", str(path), str(folder / "out.ipynb")],
                env=env,
                check=True,
                capture_output=True,
            )
            runs.append((time.perf_counter() - started, children_cpu() - cpu))
        figures[label] = sorted(runs)[len(runs) // 2]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="tiny, small or demo")
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--parallel", action="store_true", help="cwltool --parallel")
    args = parser.parse_args()
    folder = demo_data(args.size, args.scenes)
    job, record = job_file(folder)
    runs = folder / f"runs-{time.strftime('%Y%m%dT%H%M%S')}"
    cwl_seconds, cwl_cpu, memory, _log = through_cwltool(job, runs / "cwltool", args.parallel)
    py_seconds, py_cpu, in_process = in_one_process(record, runs / "python")
    scenes = sum(1 for name in memory if name.startswith("classify"))
    print(f"demo: {scenes} simulated {args.size} scenes ({folder})")
    mode = "cwltool --parallel" if args.parallel else "cwltool"
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores: read the CPU seconds)")
    print(f"{'':<26} {'wall s':>7} {'CPU s':>7}")
    print(f"{mode:<26} {cwl_seconds:7.1f} {cwl_cpu:7.1f}  (3 notebooks + 1 per scene)")
    print(f"{'one Python process':<26} {py_seconds:7.1f} {py_cpu:7.1f}  (same step calls)")
    jobs = max(scenes + 2, 1)
    overhead, overhead_cpu = (cwl_seconds - py_seconds) / jobs, (cwl_cpu - py_cpu) / jobs
    print(f"{'overhead per notebook job':<26} {overhead:7.1f} {overhead_cpu:7.1f}")
    print("\nwhere a job's fixed cost goes (median of 3 `s1flood notebook run`):")
    for label, (wall, cpu) in envelope(runs).items():
        print(f"  {label:<24} {wall:7.1f} {cpu:7.1f}")
    times = in_process["times"]
    assert isinstance(times, dict)
    print("\nstep          in-process s   cwltool job peak memory (MiB, whole process tree)")
    for name in sorted(memory, key=lambda n: (n.split("_")[0] != "discover", n)):
        step_time = times.get(name)
        shown = f"{step_time:11.1f}" if isinstance(step_time, float) else f"{'-':>11}"
        print(f"{name:<13} {shown}   {memory[name]:8.0f}")
    print(f"one process peak RSS: {in_process['peak_rss_mb']:.0f} MB")
    peaks = {
        step: max((v for k, v in memory.items() if k.split("_")[0] == step), default=0.0)
        for step in ("discover", "classify", "aggregate")
    }
    print("ResourceRequirement ramMin to declare (peak, MiB): " + json.dumps(peaks))


if __name__ == "__main__":
    main()
