"""Aggregation of 20 and 100 water masks of 5,000 x 5,000: s1flood vs read-everything + np.sum.

Prints Mpx/s of input and peak RSS per case. Targets: s1flood >= 500 Mpx/s of input on 2
cores; its peak RSS for 100 masks within 10 % of that for 20 (the baseline's grows with n).
The masks carry acquisition times (6 days apart), so the same run measures the flood record
(issue 20) beside the counts-only aggregation (``flood_record=False``, as before the record):
all time products >= 0.7 x its Mpx/s; depth (`flood_depth` on the record's flood extent over
a valley DEM) >= 20 Mpx/s; with ``--rss-size 10000 --rss-count 50`` the peak RSS of the
record of 50 masks on a 10,000 x 10,000 grid (target <= 2 GB).

    .venv/bin/python benchmarks/bench_aggregate.py [--size 5000] [--counts 20 100]
        [--rss-size 10000 --rss-count 50]
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

    from s1flood.acquisition import Acquisition
    from s1flood.raster import BandSpec, Grid, cog_writer

    rng = np.random.default_rng(index)
    day = np.datetime64("2024-01-01") + np.timedelta64(6 * index, "D")
    start = f"{day}T05:30:00Z"
    tags = Acquisition.of(start, "sentinel-1a", 95, "descending").tags()
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 290_000, 0, -10, 4_700_000), size, size)
    width = 0.05 + 0.15 * abs(np.sin(index / 7))
    with cog_writer(path, grid, BandSpec("uint8", 255, "water", tags=tags)) as dst:
        for top in range(0, size, 1000):
            rows, cols = np.mgrid[top : min(top + 1000, size), 0:size]
            centre = size * (0.5 + 0.1 * np.sin(rows / 800))
            mask = (np.abs(cols - centre) < width * size).astype(np.uint8)
            mask ^= rng.random(mask.shape) < 0.01  # speckle false alarms / misses
            if index % 5 == 4:
                mask[:, : size // 4] = 255  # outside this scene's swath
            dst.write(mask, 1, window=((top, top + mask.shape[0]), (0, size)))


def make_dem(path: Path, size: int) -> None:
    """A valley DEM (m) on the masks' grid: the river's floodplain rising to both sides."""
    from affine import Affine
    from pyproj import CRS

    from s1flood.raster import BandSpec, Grid, cog_writer

    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 290_000, 0, -10, 4_700_000), size, size)
    with cog_writer(path, grid, BandSpec("float32", float("nan"), "dem")) as dst:
        for top in range(0, size, 1000):
            rows, cols = np.mgrid[top : min(top + 1000, size), 0:size]
            centre = size * (0.5 + 0.1 * np.sin(rows / 800))
            dem = (np.abs(cols - centre) * 0.02 + rows * 1e-4).astype(np.float32)
            dst.write(dem, 1, window=((top, top + dem.shape[0]), (0, size)))


def case_s1flood(paths: list[str], out: Path) -> None:
    from s1flood import aggregate

    with Timer() as t:
        aggregate(paths, out)
    report(t.seconds)


def case_counts(paths: list[str], out: Path) -> None:
    from s1flood.aggregation import aggregate

    with Timer() as t:
        aggregate(paths, out, flood_record=False)
    report(t.seconds)


def case_record(paths: list[str], out: Path) -> None:
    from s1flood.aggregation import aggregate

    with Timer() as t:
        aggregate(paths, out)
    report(t.seconds)


def case_depth(paths: list[str], out: Path) -> None:
    from s1flood.flood import flood_depth

    extent, dem = (Path(p) for p in paths)
    with Timer() as t:
        flood_depth(extent, dem, out / "depth_max.tif")
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
    parser.add_argument("--rss-size", type=int, default=0)
    parser.add_argument("--rss-count", type=int, default=50)
    parser.add_argument("--only-rss", action="store_true", help="only the --rss-size run")
    parser.add_argument("--only-record", action="store_true", help="only the record table")
    parser.add_argument("--case", choices=["s1flood", "numpy", "counts", "record", "depth"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("masks", nargs="*")
    args = parser.parse_args()
    if args.case:
        cases = {"s1flood": case_s1flood, "numpy": case_numpy, "counts": case_counts,
                 "record": case_record, "depth": case_depth}  # fmt: skip
        cases[args.case](args.masks, args.out)
        return
    if args.only_rss:
        rss_table(args)
        return
    masks = [
        str(
            cached(
                CACHE / f"mask_{args.size}_{i:03d}_t.tif", lambda p, i=i: make_mask(p, args.size, i)
            )
        )
        for i in range(max(args.counts))
    ]
    mpx = args.size * args.size / 1e6
    if args.only_record:
        record_table(args, masks, mpx)
        return
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
        f"writing its COGs and the maps): {extra:.0f} Mpx/s of input"
    )
    record_table(args, masks, mpx)


def record_table(args: argparse.Namespace, masks: list[str], mpx: float) -> None:
    """The flood record beside the counts-only aggregation, depth, and the large-grid RSS."""
    dem = cached(CACHE / f"dem_{args.size}.tif", lambda p: make_dem(p, args.size))
    rows = [["case", "masks", "seconds", "Mpx/s", "peak RSS MB"]]
    speed: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        for n in args.counts:
            for case in ("counts", "record"):
                out = f"{tmp}/{case}{n}"
                r = run_child(__file__, "--case", case, "--out", out, *masks[:n])
                speed[case, n] = n * mpx / r["seconds"]
                rows.append([case, str(n), f"{r['seconds']:.2f}", f"{speed[case, n]:.0f}",
                             f"{r['peak_rss_mb']:.0f}"])  # fmt: skip
        extent = f"{tmp}/record{max(args.counts)}/flood_extent.tif"
        r = run_child(__file__, "--case", "depth", "--out", tmp, extent, str(dem))
        rows.append(["depth (boundary)", "-", f"{r['seconds']:.2f}",
                     f"{mpx / r['seconds']:.1f}", f"{r['peak_rss_mb']:.0f}"])  # fmt: skip
        depth_speed = mpx / r["seconds"]
    print(
        f"\nflood record vs counts only ({args.size} x {args.size}; Mpx/s of input, depth: of grid)"
    )
    print(table(rows))
    for n in args.counts:
        ratio = speed["record", n] / speed["counts", n]
        print(f"record / counts-only throughput, {n} masks: {ratio:.2f}x (target >= 0.70x)")
    print(f"depth: {depth_speed:.1f} Mpx/s (target >= 20)")
    if args.rss_size:
        rss_table(args)


def retimed_copy(path: Path, source: Path, index: int) -> None:
    """A copy of a mask with the acquisition time of `index` (6 days apart)."""
    import shutil

    import rasterio

    from s1flood.acquisition import Acquisition

    shutil.copyfile(source, path)
    day = np.datetime64("2024-01-01") + np.timedelta64(6 * index, "D")
    tags = Acquisition.of(f"{day}T05:30:00Z", "sentinel-1a", 95, "descending").tags()
    with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
        dst.update_tags(**tags)


def rss_table(args: argparse.Namespace) -> None:
    """Peak RSS of the record of many masks on a large grid (10 distinct masks, retimed)."""
    size = args.rss_size
    distinct = [
        cached(CACHE / f"mask_{size}_{i:03d}_t.tif", lambda p, i=i: make_mask(p, size, i))
        for i in range(min(10, args.rss_count))
    ]
    copies = [
        cached(
            CACHE / f"mask_{size}_{i:03d}_copy.tif",
            lambda q, i=i: retimed_copy(q, distinct[i % len(distinct)], i),
        )
        for i in range(len(distinct), args.rss_count)
    ]
    big = [str(p) for p in distinct + copies]
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        r = run_child(__file__, "--case", "record", "--out", f"{tmp}/big", *big)
    big_mpx = args.rss_count * args.rss_size**2 / 1e6
    print(
        f"record of {args.rss_count} masks of {size} x {size} ({len(distinct)} distinct, the "
        f"others retimed copies): {r['seconds']:.1f} s, {big_mpx / r['seconds']:.0f} Mpx/s, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB (target <= 2048)"
    )


if __name__ == "__main__":
    main()
