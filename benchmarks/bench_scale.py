"""Cost growth: time and memory against scenes and AOI size, bytes read, a country-scale projection.

Usage:
    .venv/bin/python benchmarks/bench_scale.py [--scenes 4,16,64] [--sides 10,50,100]
        [--skip-cwltool] [--skip-toil] [--skip-sides] [--full-job]

Tables, each case measured in this run:
1. scenes   the workflow (discover, one classify notebook job per scene, aggregate) on N
            simulated ``small`` scenes through ``cwltool --parallel`` and through Toil on the
            one-node Slurm cluster (scripts/slurm-local.sh start; Toil in .venv-toil): wall
            and CPU seconds, the largest job's peak memory (cwltool's "Max memory used", the
            job's process tree), the Slurm jobs that ran (job completion log); then the
            aggregation of the N masks alone in a fresh process (seconds, CPU, peak RSS).
2. AOI side `s1flood preprocess` as a whole process on 10, 50, 100 km AOIs of the full-size
            simulated IW GRDH product (benchmarks/bench_preprocess.py makes it), and the bytes a
            ``read: aoi`` of that AOI takes from the zipped SAFE served with HTTP Range
            (tests/servers/products.py counts them) against the whole zip.
3. full job (``--full-job``) ``cwl/classify.cwl`` (notebook 02) on the whole full-size scene:
            the figure behind classify's ResourceRequirement ramMax.
4. projection  a country-scale event from the measured per-job costs (see `project`).
The machine has 2 cores shared with other work: read CPU seconds beside wall times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_preprocess as prep
import bench_workflow as flow

from common import CACHE, table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent
TOIL_BIN = ROOT / ".venv-toil" / "bin"
SLURM = ROOT / "scripts" / "slurm-local.sh"

AGGREGATE = """
import json, resource, sys, time
from s1flood import steps
masks, out = json.loads(sys.argv[1]), sys.argv[2]
t, c = time.perf_counter(), time.process_time()
steps.aggregate(masks, out, overwrite=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "peak_rss_mb": peak}))
"""


FIGURES = CACHE / "bench_scale.json"
"""Every figure measured so far, rewritten after each case (a later section can fail)."""


def save(section: str, key: str, figures: Any) -> None:
    """Add `figures` under `section`/`key` to `FIGURES`."""
    record = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    record.setdefault(section, {})[key] = figures
    FIGURES.write_text(json.dumps(record, indent=1, default=str))


def cells(rows: list[list[Any]]) -> list[list[str]]:
    """Table rows as text."""
    return [[str(c) for c in row] for row in rows]


def children_cpu() -> float:
    """CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def masks_of(out: Path) -> list[str]:
    """The water masks a workflow run wrote (its classify outputs)."""
    return sorted(str(p) for p in out.rglob("S1*_water.tif"))


def aggregate_alone(masks: list[str], out: Path) -> dict[str, float]:
    """`steps.aggregate` of `masks` in a fresh process: seconds, CPU seconds, peak RSS."""
    done = subprocess.run(
        [str(BIN / "python"), "-c", AGGREGATE, json.dumps(masks), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    record: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return record


def mask_mpx(mask: str) -> float:
    """Pixels of a mask, millions."""
    import rasterio

    with rasterio.open(mask) as src:
        return float(src.width * src.height / 1e6)


def through_toil(job: Path, base: Path) -> dict[str, Any]:
    """The workflow through Toil on the local Slurm cluster: wall, Slurm jobs and their seconds."""
    log = Path(
        subprocess.run([str(SLURM), "jobcomp"], capture_output=True, text=True).stdout.strip()
    )
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PATH=os.pathsep.join([str(TOIL_BIN), str(BIN), os.environ["PATH"]]))
    env["S1FLOOD_CACHE_DIR"] = str(flow.CACHE / "run-cache")
    command = [str(TOIL_BIN / "toil-cwl-runner"), "--batchSystem", "slurm", "--no-container"]
    command += ["--enable-ext", "--retryCount", "0", "--disableChaining", "true"]
    command += ["--preserve-environment", "S1FLOOD_CACHE_DIR"]
    command += ["--jobStore", str(base / "jobstore"), "--workDir", str(work)]
    command += ["--outdir", str(base / "out"), str(ROOT / "cwl" / "workflow.cwl"), str(job)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=base, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"toil-cwl-runner failed:\n{done.stderr[-3000:]}")
    jobs = []
    for line in log.read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("StartTime", "") >= since:
            jobs.append(fields)

    def span(j: dict[str, str]) -> float:
        fmt = "%Y-%m-%dT%H:%M:%S"
        return time.mktime(time.strptime(j["EndTime"], fmt)) - time.mktime(
            time.strptime(j["StartTime"], fmt)
        )

    classify = [span(j) for j in jobs if j.get("Name", "").endswith(".classify")]
    return {
        "seconds": seconds,
        "jobs": len(jobs),
        "classify_jobs": len(classify),
        "classify_mean_s": sum(classify) / len(classify) if classify else math.nan,
    }


def scenes_table(counts: list[int], toil: bool, cwltool: bool) -> dict[int, dict[str, Any]]:
    """Section 1 (see module doc); returns the figures per scene count."""
    rows = [["scenes", "runner", "wall s", "CPU s", "largest job MiB", "jobs", "note"]]
    agg_rows = [["scenes", "masks x Mpx", "aggregate s", "CPU s", "peak RSS MB"]]
    figures: dict[int, dict[str, Any]] = {}
    for n in counts:
        folder = flow.demo_data("small", n)
        job, _ = flow.job_file(folder)
        runs = folder / f"scale-{time.strftime('%Y%m%dT%H%M%S')}"
        fig: dict[str, Any] = {}
        if cwltool:
            seconds, cpu, memory, _ = flow.through_cwltool(job, runs / "cwltool", parallel=True)
            classify = [v for k, v in memory.items() if k.startswith("classify")]
            fig["cwltool"] = {"seconds": seconds, "cpu": cpu, "memory": memory}
            rows.append(
                [n, "cwltool --parallel", f"{seconds:.0f}", f"{cpu:.0f}",
                 f"{max(memory.values()):.0f}", len(memory), f"{len(classify)} classify"]
            )  # fmt: skip
            masks = masks_of(runs / "cwltool")
            if masks:
                agg = aggregate_alone(masks, runs / "aggregate-alone")
                fig["aggregate"] = {**agg, "masks": len(masks), "mpx": mask_mpx(masks[0])}
                agg_rows.append(
                    [n, f"{len(masks)} x {mask_mpx(masks[0]):.1f}", f"{agg['seconds']:.1f}",
                     f"{agg['cpu']:.1f}", f"{agg['peak_rss_mb']:.0f}"]
                )  # fmt: skip
        if toil:
            if not (TOIL_BIN / "toil-cwl-runner").exists():
                print("Toil: not installed (make toil): skipped")
            else:
                subprocess.run([str(SLURM), "start"], check=True, capture_output=True)
                t = through_toil(job, runs / "toil")
                fig["toil"] = t
                rows.append(
                    [n, "Toil on Slurm (1 node)", f"{t['seconds']:.0f}", "-", "-", t["jobs"],
                     f"{t['classify_jobs']} classify, {t['classify_mean_s']:.0f} s each"]
                )  # fmt: skip
        figures[n] = fig
        save("scenes", str(n), fig)
    print(table(cells(rows)))
    print("(Toil's jobs are Slurm jobs, not children of this process: no CPU or memory here)")
    if len(agg_rows) > 1:
        print("\naggregation alone (fresh process):")
        print(table(cells(agg_rows)))
    return figures


def served_zip(product: Path) -> Path:
    """The zipped SAFE of the full product (made once, stored members as ESA ships them)."""
    from servers.products import zip_product

    def make(tmp: Path) -> None:
        zip_product(product, tmp)

    return prep.cached(CACHE / "scale-zip" / f"{product.stem}.zip", make)


def sides_table(sides: list[int]) -> dict[int, dict[str, float]]:
    """Section 2 (see module doc); returns the figures per AOI side (km)."""
    from s1flood.discovery.access import Access
    from s1flood.discovery.remote import zip_layout
    from s1flood.discovery.retries import RetryPolicy
    from s1flood.preprocessing import preprocess
    from servers.products import ProductServer, ServedProduct

    product = prep._product()
    zipped = served_zip(product)
    name = product.name.removesuffix(".SAFE")
    server = ProductServer(
        ServedProduct(name, "a1b2c3d4-0000-4000-8000-00000000fa22", product, zipped)
    )
    policy = RetryPolicy(retries=3, backoff=0.1, max_backoff=1.0, timeout=60.0)
    whole = zipped.stat().st_size
    rows = [
        ["AOI", "Mpx", "process s", "CPU s", "peak RSS MB", "read: aoi MB", "whole MB", "aoi/whole"]
    ]
    figures: dict[int, dict[str, float]] = {}
    try:
        for side in sides:
            aoi = prep._box(product, side * 1000.0)
            dem = prep._dem(product, aoi, 30.0, f"side{side}-30m")
            proc = prep.whole_process(product, aoi, dem)
            server.reset()
            dest = CACHE / "scale-remote" / f"{side}km" / product.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            safe = zip_layout(f"{server.url}/zip/{name}.zip", dest, Access(), policy, None)
            preprocess(safe, dest.parent / "sigma0.tif", aoi_wkt=aoi, dem=dem, overwrite=True)
            sent = float(sum(server.sent.values()))
            figures[side] = {**proc, "bytes_aoi": sent, "bytes_whole": float(whole)}
            save("sides", str(side), figures[side])
            rows.append(
                [f"{side} km", f"{proc['mpx']:.0f}", f"{proc['seconds']:.1f}", f"{proc['cpu']:.1f}",
                 f"{proc['peak_rss_mb']:.0f}", f"{sent / 1e6:.0f}", f"{whole / 1e6:.0f}",
                 f"{100 * sent / whole:.1f} %"]
            )  # fmt: skip
    finally:
        server.close()
    print(table(cells(rows)))
    return figures


def full_job() -> dict[str, float]:
    """Section 3: classify.cwl (notebook 02) on the whole full-size scene under cwltool."""
    product = prep._product()
    footprint = prep._footprint(product)
    dem = prep._dem(product, footprint, 30.0, "full-30m")
    base = CACHE / "scale-full-job"
    base.mkdir(parents=True, exist_ok=True)
    job = base / "job.yml"
    job.write_text(
        json.dumps({"product": str(product), "aoi": footprint,
                    "dem": {"class": "File", "path": str(dem)}}),
        encoding="utf-8",
    )  # fmt: skip
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env["S1FLOOD_CACHE_DIR"] = str(flow.CACHE / "run-cache")
    command = [
        str(BIN / "cwltool"),
        "--enable-ext",
        "--no-container",
        "--outdir",
        str(base / "out"),
    ]
    command += ["--preserve-environment", "S1FLOOD_CACHE_DIR", str(ROOT / "cwl" / "classify.cwl")]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([*command, str(job)], capture_output=True, text=True, env=env)
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode:
        sys.exit(f"cwltool failed:\n{done.stderr[-3000:]}")
    peak = re.search(r"Max memory used: (\d+)MiB", done.stderr)
    mask = masks_of(base / "out")
    fig = {
        "seconds": seconds,
        "cpu": cpu,
        "memory_mib": float(peak[1]) if peak else math.nan,
        "mpx": mask_mpx(mask[0]) if mask else math.nan,
    }
    save("full_job", "classify", fig)
    print(
        f"full-scene classify job (notebook 02 under cwltool): {fig['mpx']:.0f} Mpx, "
        f"{seconds:.0f} s wall, {cpu:.0f} CPU s, peak {fig['memory_mib']:.0f} MiB"
    )
    return fig


def project(
    per_job_cpu_fixed: float,
    cpu_per_mpx: float,
    job_ram_mib: float,
    bytes_fraction: float,
    zip_bytes: float,
    aggregate_mpx_s: float,
    aggregate_s_per_mask: float,
    aggregate_rss_mb: float,
    scenes: int = 300,
    orbits: int = 20,
    side_km: float = 200.0,
    coverage: float = 0.5,
) -> None:
    """Section 4: a country-scale event from the measured per-job costs.

    Each of `scenes` classify jobs maps the part of the AOI its scene covers (`coverage`, a
    share of the AOI, on the AOI's one 10 m grid) on a 2-core worker; jobs are
    independent (the scatter), so W workers take ceil(scenes / W) rounds; then one
    aggregation job reads every mask window by window.

    Args:
        per_job_cpu_fixed: CPU seconds a notebook job costs whatever its size.
        cpu_per_mpx: CPU seconds per Mpx of a classify job's grid (full-scene job).
        job_ram_mib: peak memory of the full-scene job.
        bytes_fraction: bytes a ``read: aoi`` takes, share of the whole product (largest AOI).
        zip_bytes: bytes of one whole product.
        aggregate_mpx_s: aggregation throughput, Mpx of input masks per second
            (``bench_aggregate.py``'s flood record on 5,000² masks).
        aggregate_s_per_mask: aggregation seconds per mask besides its pixels (opening it,
            its tags: the growth between the measured runs of small masks).
        aggregate_rss_mb: peak RSS of the measured aggregation.
        scenes: scenes of the event.
        orbits: relative orbits they come from.
        side_km: AOI side.
        coverage: share of the AOI one scene covers.
    """
    grid_mpx = (side_km * 100) ** 2 / 1e6
    job_mpx = grid_mpx * coverage
    job_cpu = per_job_cpu_fixed + cpu_per_mpx * job_mpx
    job_wall = job_cpu / 2  # both cores of a worker
    agg_s = scenes * (grid_mpx / aggregate_mpx_s + aggregate_s_per_mask)
    whole = scenes * zip_bytes
    aoi = whole * bytes_fraction
    print(
        f"\nprojection: {scenes} scenes over {orbits} relative orbits, {side_km:.0f} x "
        f"{side_km:.0f} km AOI at 10 m ({grid_mpx:.0f} Mpx grid), each scene covering "
        f"{coverage:.0%} of it ({job_mpx:.0f} Mpx per classify job: {job_cpu:.0f} CPU s, "
        f"~{job_wall:.0f} s on a 2-core worker, {job_ram_mib * job_mpx / max(job_mpx, 1):.0f} "
        f"MiB at most, as the full-scene job)"
    )
    rows = [["Slurm workers", "classify rounds", "classify wall", "aggregate", "total wall"]]
    for workers in (1, 8, 64):
        rounds = math.ceil(scenes / workers)
        wall = rounds * job_wall
        rows.append(
            [workers, rounds, f"{wall / 3600:.1f} h", f"{agg_s / 3600:.2f} h",
             f"{(wall + agg_s) / 3600:.1f} h"]
        )  # fmt: skip
    print(table(cells(rows)))
    print(
        f"bytes downloaded: whole {whole / 1e12:.2f} TB; read: aoi {aoi / 1e12:.2f} TB "
        f"(at least: {bytes_fraction:.0%} of each product, the share of the largest AOI "
        f"measured; a zipped SAFE's strips make it grow with the AOI's extent); at 1 Gbit/s: "
        f"{whole * 8 / 1e9 / 3600:.1f} h vs {aoi * 8 / 1e9 / 3600:.1f} h"
    )
    print(
        f"aggregation: {scenes} masks x {grid_mpx:.0f} Mpx = {scenes * grid_mpx / 1e3:.0f} Gpx "
        f"read window by window, {agg_s / 3600:.2f} h in one job, memory bounded by the "
        f"window (measured {aggregate_rss_mb:.0f} MB), not by the AOI or the scene count"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="4,16,64", help="scene counts, comma separated")
    parser.add_argument("--sides", default="10,50,100", help="AOI sides (km), comma separated")
    parser.add_argument("--skip-cwltool", action="store_true")
    parser.add_argument("--skip-toil", action="store_true")
    parser.add_argument("--skip-sides", action="store_true")
    parser.add_argument("--full-job", action="store_true", help="section 3 (slow)")
    parser.add_argument(
        "--full-figures",
        help="JSON of section 3 from an earlier run (seconds, cpu, memory_mib, mpx)",
    )
    parser.add_argument(
        "--aggregate-mpx-s",
        type=float,
        default=120.0,
        help="aggregation throughput for the projection, Mpx of masks/s (bench_aggregate.py)",
    )
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} (1-minute average, 2 cores)")
    counts = [int(n) for n in args.scenes.split(",") if n]
    scenes = scenes_table(counts, not args.skip_toil, not args.skip_cwltool) if counts else {}
    sides = {} if args.skip_sides else sides_table([int(s) for s in args.sides.split(",") if s])
    earlier = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    if not scenes and earlier.get("scenes"):
        scenes = {int(k): v for k, v in earlier["scenes"].items()}
        print(f"scenes: the figures of an earlier run ({FIGURES})")
    if not sides and earlier.get("sides"):
        sides = {int(k): v for k, v in earlier["sides"].items()}
        print(f"AOI sides: the figures of an earlier run ({FIGURES})")
    full = full_job() if args.full_job else None
    if full is None and args.full_figures:
        full = json.loads(args.full_figures)
    if full is None and earlier.get("full_job"):
        full = earlier["full_job"]["classify"]
        print(f"full job: the figures of an earlier run ({FIGURES})")
    print(f"load: {os.getloadavg()[0]:.1f} (1-minute average, 2 cores)")
    largest = max(sides) if sides else None
    aggs = [f["aggregate"] for f in scenes.values() if "aggregate" in f]
    if full is None or largest is None or not aggs:
        print("projection: needs the full job (--full-job or --full-figures), sides and scenes")
        return
    agg = max(aggs, key=lambda a: a["masks"])
    small = min(aggs, key=lambda a: a["masks"])
    per_mask = (agg["seconds"] - small["seconds"]) / max(1, agg["masks"] - small["masks"])
    fixed = flow_fixed_cpu(scenes)
    project(
        per_job_cpu_fixed=fixed,
        cpu_per_mpx=(full["cpu"] - fixed) / full["mpx"],
        job_ram_mib=full["memory_mib"],
        bytes_fraction=sides[largest]["bytes_aoi"] / sides[largest]["bytes_whole"],
        zip_bytes=sides[largest]["bytes_whole"],
        aggregate_mpx_s=args.aggregate_mpx_s,
        aggregate_s_per_mask=per_mask,
        aggregate_rss_mb=agg["peak_rss_mb"],
    )


def flow_fixed_cpu(scenes: dict[int, dict[str, Any]]) -> float:
    """CPU seconds per notebook job that do not grow with its size: from the two smallest runs
    through cwltool, the extra CPU per extra job (small scenes cost little beyond it)."""
    runs = sorted((n, f["cwltool"]["cpu"]) for n, f in scenes.items() if "cwltool" in f)
    if len(runs) >= 2:
        (n0, c0), (n1, c1) = runs[0], runs[1]
        return (c1 - c0) / (n1 - n0)
    n, cpu = runs[0]
    return cpu / (n + 2)


if __name__ == "__main__":
    main()
