"""Aggregation of 20 and 100 water masks of 5,000 x 5,000: s1flood vs read-everything + np.sum.

Prints Mpx/s of input and peak RSS per case. Targets: s1flood >= 500 Mpx/s of input on 2
cores; its peak RSS for 100 masks within 10 % of that for 20 (the baseline's grows with n).

    .venv/bin/python benchmarks/bench_aggregate.py [--size 5000] [--counts 20 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from common import CACHE, Timer, cached, report, run_child, table


def make_mask(path: Path, size: int, index: int) -> None:
    """A COG water mask like `s1flood classify` writes: a river whose flood varies by scene."""
    from affine import Affine
    from pyproj import CRS

    from s1flood.raster import BandSpec, Grid, cog_writer

    rng = np.random.default_rng(index)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 290_000, 0, -10, 4_700_000), size, size)
    width = 0.05 + 0.15 * abs(np.sin(index / 7))
    with cog_writer(path, grid, BandSpec("uint8", 255, "water")) as dst:
        for top in range(0, size, 1000):
            rows, cols = np.mgrid[top : min(top + 1000, size), 0:size]
            centre = size * (0.5 + 0.1 * np.sin(rows / 800))
            mask = (np.abs(cols - centre) < width * size).astype(np.uint8)
            mask ^= rng.random(mask.shape) < 0.01  # speckle false alarms / misses
            if index % 5 == 4:
                mask[:, : size // 4] = 255  # outside this scene's swath
            dst.write(mask, 1, window=((top, top + mask.shape[0]), (0, size)))


def case_s1flood(paths: list[str], out: Path) -> None:
    from s1flood import aggregate

    with Timer() as t:
        aggregate(paths, out)
    report(t.seconds)


def case_numpy(paths: list[str], out: Path) -> None:
    import rasterio

    with Timer() as t:
        stack = []
        for path in paths:
            with rasterio.open(path) as src:
                stack.append(src.read(1))
                profile = src.profile
        masks = np.stack(stack)
        water = np.sum(masks == 1, axis=0, dtype=np.uint16)
        valid = np.sum(masks != 255, axis=0, dtype=np.uint16)
        with np.errstate(invalid="ignore", divide="ignore"):
            frequency = np.where(valid > 0, water / valid, np.nan).astype(np.float32)
        profile.update(driver="COG", compress="deflate")
        for key in ("blockxsize", "blockysize", "tiled", "interleave"):
            profile.pop(key, None)
        out.mkdir(parents=True, exist_ok=True)
        for name, array, nodata in (
            ("water_count", water, None),
            ("valid_count", valid, None),
            ("frequency", frequency, float("nan")),
        ):
            profile.update(dtype=array.dtype.name, nodata=nodata)
            with rasterio.open(out / f"{name}.tif", "w", **profile) as dst:
                dst.write(array, 1)
    report(t.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--counts", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--case", choices=["s1flood", "numpy"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("masks", nargs="*")
    args = parser.parse_args()
    if args.case:
        {"s1flood": case_s1flood, "numpy": case_numpy}[args.case](args.masks, args.out)
        return
    masks = [
        str(
            cached(
                CACHE / f"mask_{args.size}_{i:03d}.tif", lambda p, i=i: make_mask(p, args.size, i)
            )
        )
        for i in range(max(args.counts))
    ]
    mpx = args.size * args.size / 1e6
    rows = [["case", "masks", "seconds", "Mpx/s of input", "peak RSS MB"]]
    rss: dict[tuple[str, int], float] = {}
    seconds: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        run_child(__file__, "--case", "s1flood", "--out", f"{tmp}/warm", *masks[:2])
        for n in args.counts:
            for case in ("s1flood", "numpy"):
                r = run_child(__file__, "--case", case, "--out", f"{tmp}/{case}{n}", *masks[:n])
                rss[case, n] = r["peak_rss_mb"]
                seconds[case, n] = r["seconds"]
                rows.append(
                    [
                        case,
                        str(n),
                        f"{r['seconds']:.2f}",
                        f"{n * mpx / r['seconds']:.0f}",
                        f"{r['peak_rss_mb']:.0f}",
                    ]
                )
    print(f"aggregation of {args.size} x {args.size} uint8 COG masks ({mpx:.0f} Mpx each)")
    print(table(rows))
    lo, hi = min(args.counts), max(args.counts)
    for case in ("s1flood", "numpy"):
        print(f"{case}: peak RSS {hi} vs {lo} masks: {rss[case, hi] / rss[case, lo]:.3f}x")
    extra = (hi - lo) * mpx / (seconds["s1flood", hi] - seconds["s1flood", lo])
    print(
        f"s1flood marginal throughput ({lo} -> {hi} masks, i.e. without the fixed cost of "
        f"writing four {mpx:.0f} Mpx COGs and the map): {extra:.0f} Mpx/s of input"
    )


if __name__ == "__main__":
    main()
