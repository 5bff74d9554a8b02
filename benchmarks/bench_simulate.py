"""Benchmark: time and peak RSS to simulate one full-size IW GRDH product (VV+VH).

Usage: python benchmarks/bench_simulate.py [--size full] [--out DIR] [--keep]
Prints one line per figure. Target: <= 90 s and <= 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from s1flood.synthetic.simulate import simulate

AOI = "POLYGON((12.40 41.90, 12.50 41.90, 12.50 41.98, 12.40 41.98, 12.40 41.90))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="full")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_simulate_"))
    t0 = time.perf_counter()
    result = simulate(
        AOI, "2024-05-01", "2024-05-02", out, scenes=1, size=args.size, seed=0, progress=False
    )
    elapsed = time.perf_counter() - t0
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    size_gb = sum(f.stat().st_size for f in result.products[0].rglob("*") if f.is_file()) / 1e9
    print(f"product: {result.products[0].name}")
    print(f"size: {args.size}, on-disk {size_gb:.2f} GB")
    print(f"time: {elapsed:.1f} s (target <= 90 s)")
    print(f"peak RSS: {rss_gb:.2f} GB (target <= 2 GB)")
    if not args.keep and args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
