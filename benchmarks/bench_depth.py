"""Flood depth: accuracy of both estimators against known water levels, speed and memory.

Accuracy (RMSE and bias of depth over the flooded pixels, against a known water surface):
analytic terrain (a flume: a plane between walls; an oblique plane; a closed bowl; a valley
whose water surface falls with its channel) and the real DEM of ``../shared/data``
(``s1-grd/Rome-30m-DEM.tif``, warped bilinear onto a 10 m UTM grid) as terrain with a flat
level, a level following its drainage, and a flat level whose extent has 3 % of its shore
cells misclassified. Speed and memory: a synthetic 10 m grid of SIZE x SIZE pixels with
many regions crossing windows, each case in its own process (peak RSS its own), beside the
alternative a user would write: FwDET in memory with scipy's Euclidean feature transform.

    .venv/bin/python benchmarks/bench_depth.py            # accuracy + a 4000 x 4000 grid
    .venv/bin/python benchmarks/bench_depth.py --size 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).parent))

from s1flood.flood import flood_depth
from s1flood.flood.depth import drainage_heights
from s1flood.preprocessing.dem import DemSampler
from s1flood.raster import Grid

from common import CACHE, UTM33, Timer, cached, run_child, table, write_blocks

REAL_DEM = Path(__file__).resolve().parents[2] / "shared" / "data" / "s1-grd" / "Rome-30m-DEM.tif"
METHODS = ("boundary", "hand")
N = 600

Case = tuple[np.ndarray, np.ndarray, np.ndarray | None]
"""DEM, water surface and the extent (None: where the surface is above the DEM)."""


def flume() -> Case:
    r, c = np.mgrid[0:N, 0:N]
    dem = 100.0 + 0.05 * c + 20.0 * ((r == 0) | (r == N - 1))
    return dem, np.full(dem.shape, 100.0 + 0.05 * 160.5), None


def oblique() -> Case:
    r, c = np.mgrid[0:N, 0:N]
    return 100.0 + 0.02 * c + 0.0073 * r, np.full((N, N), 102.468), None


def bowl() -> Case:
    r, c = np.mgrid[0:N, 0:N]
    return 100.0 + 0.0001 * ((r - 300.0) ** 2 + (c - 280.0) ** 2), np.full((N, N), 103.0), None


def valley() -> Case:
    r, c = np.mgrid[0:N, 0:N]
    channel = 100.0 + 0.001 * (N - r)
    return channel + 0.02 * np.abs(c - 300.0), channel + 1.5, None


def real_grid() -> tuple[Grid, np.ndarray]:
    """The real DEM's heights on a 10 m UTM grid over it."""
    from pyproj import CRS

    with rasterio.open(REAL_DEM) as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, UTM33, *src.bounds)
    # inside the DEM's lon/lat box (its edges are not straight in UTM)
    left, top = np.ceil(west / 10) * 10 + 300, np.floor(north / 10) * 10 - 300
    width, height = int((east - left) // 10) - 30, int((top - south) // 10) - 30
    grid = Grid(CRS.from_user_input(UTM33), Affine(10, 0, left, 0, -10, top), width, height)
    sampler = DemSampler(REAL_DEM, vertical="ellipsoid")
    heights = sampler.heights(grid)
    sampler.close()
    return grid, heights.astype(np.float64)


def real_flat() -> Case:
    _, dem = real_grid()
    return dem, np.full(dem.shape, float(np.nanquantile(dem, 0.3))), None


def real_drainage() -> Case:
    grid, dem = real_grid()
    return dem, drainage_heights(dem.astype(np.float32), grid) + 2.0, None


def real_noisy() -> Case:
    dem, surface, _ = real_flat()
    extent = (dem < surface).astype(np.uint8)
    shore = extent != ndimage.binary_erosion(extent, np.ones((3, 3)))
    rng = np.random.default_rng(20)
    flip = shore & (rng.random(extent.shape) < 0.03)
    extent[flip] = 0
    return dem, surface, extent


def real_pinholes() -> Case:
    """The flat level with ten 1-pixel dry holes deep inside the flood (speckle)."""
    dem, surface, _ = real_flat()
    extent = (dem < surface).astype(np.uint8)
    inside = ndimage.binary_erosion(extent == 1, iterations=4)
    rows, cols = np.nonzero(inside)
    pick = np.random.default_rng(20).choice(rows.size, 10, replace=False)
    extent[rows[pick], cols[pick]] = 0
    return dem, surface, extent


ANALYTIC: dict[str, Callable[[], Case]] = {
    "flume": flume,
    "oblique plane": oblique,
    "bowl": bowl,
    "valley": valley,
}
REAL: dict[str, Callable[[], Case]] = {
    "real DEM, flat level": real_flat,
    "real DEM, level along drainage +2 m": real_drainage,
    "real DEM, flat, 3% shore errors": real_noisy,
    "real DEM, flat, 10 pinholes": real_pinholes,
}


def _write(path: Path, array: np.ndarray, transform: Affine, nodata: float | None) -> Path:
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": UTM33,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def accuracy(name: str, make: Callable[[], Case], directory: Path) -> list[list[str]]:
    """Rows (case, method, RMSE, bias, max |error|, flooded Mpx) of both methods on one case."""
    dem, surface, extent = make()
    truth = surface - dem
    if extent is None:
        extent = (truth > 0).astype(np.uint8)
    transform = Affine(10, 0, 290_000, 0, -10, 4_700_000)
    dem_path = _write(directory / "dem.tif", dem.astype(np.float32), transform, None)
    extent_path = _write(directory / "extent.tif", extent, transform, 255)
    rows = []
    flooded = (extent == 1) & np.isfinite(dem)
    for method in METHODS:
        out = directory / f"depth-{method}.tif"
        flood_depth(extent_path, dem_path, out, method=method)
        with rasterio.open(out) as src:
            depth = src.read(1)
        error = depth[flooded] - np.clip(truth[flooded], 0, None)
        rows.append(
            [
                name,
                method,
                f"{np.sqrt(np.mean(error**2)):.3f}",
                f"{np.mean(error):+.3f}",
                f"{np.abs(error).max():.3f}",
                f"{flooded.sum() / 1e6:.2f}",
            ]
        )
    return rows


def depth_rows(real: bool = True) -> list[list[str]]:
    """Accuracy rows of both methods on the analytic cases (and the real DEM if present).

    Args:
        real: include the cases on the real DEM (skipped when it is absent).
    """
    cases = dict(ANALYTIC)
    if real and REAL_DEM.exists():
        cases.update(REAL)
    rows = [["case", "method", "RMSE m", "bias m", "max |err| m", "flooded Mpx"]]
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in cases.items():
            rows += accuracy(name, make, Path(tmp))
    return rows


def _terrain(top: int, height: int, size: int) -> np.ndarray:
    r, c = np.mgrid[top : top + height, 0:size].astype(np.float64)
    return (100 + 3 * np.sin(c / 230) * np.cos(r / 170) + 2 * np.sin((c + r) / 900)).astype(
        np.float32
    )


LEVEL = 100.5
IN_MEMORY = "in-memory FwDET (scipy EDT)"


def synthetic(size: int) -> tuple[Path, Path]:
    """A SIZE x SIZE terrain and its flood below LEVEL (cached)."""
    dem = cached(
        CACHE / f"depth-dem-{size}.tif",
        lambda p: write_blocks(
            p, (size, size), "float32", lambda t, h: _terrain(t, h, size), compress="ZSTD"
        ),
    )
    extent = cached(
        CACHE / f"depth-extent-{size}.tif",
        lambda p: write_blocks(
            p,
            (size, size),
            "uint8",
            lambda t, h: (_terrain(t, h, size) < LEVEL).astype(np.uint8),
            nodata=255,
            compress="ZSTD",
        ),
    )
    return extent, dem


def in_memory_fwdet(extent: Path, dem: Path, output: Path) -> None:
    """FwDET as a user would write it in memory: nearest boundary cell by scipy's EDT."""
    with rasterio.open(extent) as src:
        flooded = src.read(1) == 1
        profile = src.profile
    with rasterio.open(dem) as src:
        heights = src.read(1)
    boundary = flooded & ndimage.binary_dilation(~flooded)
    nearest = ndimage.distance_transform_edt(~boundary, return_distances=False, return_indices=True)
    level = heights[nearest[0], nearest[1]]
    del nearest
    depth = np.where(flooded, np.clip(level - heights, 0, None), np.nan).astype(np.float32)
    profile.update(dtype="float32", nodata=np.nan, compress="ZSTD", driver="GTiff")
    with rasterio.open(output, "w", **profile) as dst:
        dst.write(depth, 1)


def child(case: str, size: int) -> None:
    """Run one speed case and print its figures (peak RSS taken before the accuracy check)."""
    extent, dem = synthetic(size)
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "depth.tif"
        before = resource.getrusage(resource.RUSAGE_SELF)
        with Timer() as timer:
            if case == IN_MEMORY:
                in_memory_fwdet(extent, dem, output)
            else:
                flood_depth(extent, dem, output, method=case)
        after = resource.getrusage(resource.RUSAGE_SELF)
        peak_mb = after.ru_maxrss / 1024
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        squares, count = 0.0, 0
        with rasterio.open(output) as src:
            for top in range(0, size, 1000):
                height = min(1000, size - top)
                depth = src.read(1, window=((top, top + height), (0, size)))
                flooded = np.isfinite(depth)
                error = depth[flooded] - (LEVEL - _terrain(top, height, size))[flooded]
                squares += float(np.sum(error.astype(np.float64) ** 2))
                count += int(flooded.sum())
    print(
        json.dumps(
            {
                "seconds": timer.seconds,
                "cpu_seconds": cpu,
                "peak_rss_mb": peak_mb,
                "mpx": size * size / 1e6,
                "rmse": (squares / count) ** 0.5,
            }
        )
    )


def main() -> None:
    """Print the accuracy table and the speed/memory table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--child", default=None)
    parser.add_argument("--no-accuracy", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.size)
        return
    if not args.no_accuracy:
        print(table(depth_rows()))
        print()
    synthetic(args.size)
    rows = [["case", "grid", "seconds", "Mpx/s", "CPU-s/100 Mpx", "peak RSS MB", "RMSE m"]]
    for case in (*METHODS, IN_MEMORY):
        figures = run_child(__file__, "--child", case, "--size", str(args.size))
        rows.append(
            [
                case,
                f"{args.size}x{args.size}",
                f"{figures['seconds']:.1f}",
                f"{figures['mpx'] / figures['seconds']:.1f}",
                f"{100 * figures['cpu_seconds'] / figures['mpx']:.1f}",
                f"{figures['peak_rss_mb']:.0f}",
                f"{figures['rmse']:.3f}",
            ]
        )
    print(table(rows))


if __name__ == "__main__":
    main()
