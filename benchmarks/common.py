"""Shared benchmark plumbing: cached synthetic inputs, one child process per case, tables."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine

CACHE = Path(os.environ.get("S1FLOOD_BENCH_CACHE", Path(__file__).parent / ".cache"))
UTM33 = "EPSG:32633"


def cached(path: Path, make: Callable[[Path], None]) -> Path:
    """Build `path` with `make` unless it exists (written to a temp name, then renamed)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        make(tmp)
        os.replace(tmp, path)
    return path


def write_blocks(
    path: Path,
    shape: tuple[int, int],
    dtype: str,
    block: Callable[[int, int], np.ndarray],
    nodata: float | None = None,
    rows: int = 1024,
    **options: Any,
) -> None:
    """Write a raster row block by row block; `block(top, height)` returns the pixels."""
    profile = {
        "driver": "GTiff",
        "height": shape[0],
        "width": shape[1],
        "count": 1,
        "dtype": dtype,
        "crs": UTM33,
        "transform": Affine(10, 0, 290_000, 0, -10, 4_700_000),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "IF_SAFER",
        **options,
    }
    with rasterio.open(path, "w", **profile) as dst:
        for top in range(0, shape[0], rows):
            height = min(rows, shape[0] - top)
            dst.write(block(top, height), 1, window=((top, top + height), (0, shape[1])))


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run one case in a fresh interpreter (so peak RSS is its own) and return its JSON line."""
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"case {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(seconds: float, **extra: Any) -> None:
    """Print a child's figures as one JSON line: seconds, peak RSS (MB) and anything else."""
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, **extra}))


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def stack_bands(paths: dict[str, Path], output: Path) -> Path:
    """One float32 GeoTIFF of one-band rasters on one grid, band descriptions the dict's keys.

    What ``preprocess(polarisation="VV+VH")`` writes in one pass, made from two one-band runs.
    """
    sources = [rasterio.open(p) for p in paths.values()]
    try:
        profile = {**sources[0].profile, "count": len(sources), "driver": "GTiff"}
        with rasterio.open(output, "w", **profile) as dst:
            for index, (name, src) in enumerate(zip(paths, sources, strict=True), start=1):
                dst.write(src.read(1), index)
                dst.set_band_description(index, name)
                dst.update_tags(index, **src.tags(1))
    finally:
        for src in sources:
            src.close()
    return output
