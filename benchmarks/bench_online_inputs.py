"""Benchmark: ``s1flood preprocess PRODUCT --aoi DEMO_AOI --dem copernicus-30 --orbit auto``.

Usage: python benchmarks/bench_online_inputs.py [--size tiny|small|demo]

Against local stand-ins on 127.0.0.1 (tests/servers): a Copernicus DEM GLO-30 bucket holding
the real-named tile over the demo AOI (3600 x 3600 float32 COG; heights: the simulator's
terrain made geoid heights, analytic hills elsewhere) and an S3 orbit bucket (a POEORB built
from the product's state vectors among others, listed two keys a page). Prints, for a cold
cache and a warm one: wall time of the CLI, requests and body bytes per stand-in. Then
compares the sigma0 with the one made from the simulator's own DEM file given by hand.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import rasterio
import rasterio.warp
from rasterio.warp import Resampling, reproject

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from s1flood.demo import DEMO_AOI  # noqa: E402
from s1flood.preprocessing.dem_sources import geoid_undulation  # noqa: E402
from servers.dem_tiles import analytic_heights, start_dem_bucket  # noqa: E402
from servers.orbits import (  # noqa: E402
    circular_orbit,
    eof_name,
    eof_text,
    product_orbit,
    start_orbit_bucket,
)


def terrain_heights(dem: Path):
    """Geoid heights of the simulator's terrain where it has some, analytic hills elsewhere."""

    def heights(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        d = lat[0, 0] - lat[1, 0]
        transform = rasterio.transform.from_origin(lon[0, 0] - d / 2, lat[0, 0] + d / 2, d, d)
        out = np.full(lon.shape, np.nan, np.float32)
        with rasterio.open(dem) as src:
            reproject(
                rasterio.band(src, 1), out, dst_transform=transform, dst_crs="EPSG:4326",
                dst_nodata=np.nan, resampling=Resampling.bilinear,
            )  # fmt: skip
        out -= geoid_undulation(lon, lat)[0].astype(np.float32)  # ellipsoidal -> geoid
        hills = analytic_heights(lon, lat)
        return np.where(np.isfinite(out), out, hills).astype(np.float32)

    return heights


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return seconds, done.stdout.strip().splitlines()[-1]


def in_process(product: Path, env: dict[str, str], cache: Path, dem: object) -> None:
    """The fetch steps alone (no processing), cold then warm, in this process."""
    from s1flood.aoi import parse_aoi_wkt
    from s1flood.grid import target_grid
    from s1flood.preprocessing.dem_sources import resolve_dem
    from s1flood.preprocessing.orbit_sources import resolve_orbit

    saved = dict(os.environ)
    os.environ.update(env, S1FLOOD_CACHE_DIR=str(cache))
    try:
        grid = target_grid(parse_aoi_wkt(DEMO_AOI), 10.0, None)
        bounds = rasterio.warp.transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
        for case in ("cold", "warm", "windows"):
            if case == "windows":  # range reads of the AOI's blocks, fresh cache
                os.environ.update(S1FLOOD_DEM_FETCH="windows", S1FLOOD_CACHE_DIR=f"{cache}-w")
            served, asked = getattr(dem, "sent", 0), len(dem.log)  # type: ignore[attr-defined]
            d = resolve_dem("copernicus-30", bounds)
            d.bytes = getattr(dem, "sent", 0) - served  # as the stand-in served them
            d.requests = len(dem.log) - asked  # type: ignore[attr-defined]
            o = resolve_orbit(product)
            print(
                f"fetch only, {case}: DEM {d.seconds:.2f} s, {d.requests} req, "
                f"{d.bytes / 1e6:.2f} MB, tiles {d.tiles} (sea {d.missing}), geoid {d.geoid}; "
                f"orbit {o.seconds:.2f} s, {o.requests} req, {o.bytes / 1e3:.1f} kB, {o.kind}"
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny")
    args = parser.parse_args()
    from s1flood.steps import simulate

    work = Path(tempfile.mkdtemp(prefix="bench-online-"))
    simulate(aoi=DEMO_AOI, start="2026-10-20T00:00:00Z", end="2026-11-20T00:00:00Z",
             out=work / "sim", scenes=1, size=args.size)  # fmt: skip
    product = next((work / "sim" / "products").glob("*.SAFE"))
    t = time.perf_counter()
    dem = start_dem_bucket(
        work / "tiles", [(42, 12)], "10", terrain_heights(work / "sim/dem/dem.tif")
    )
    print(f"stand-in tile written in {time.perf_counter() - t:.1f} s")
    times, pos, vel = product_orbit(str(product))
    made = times[-1].replace(microsecond=0) + timedelta(days=20)
    objects = {
        f"AUX_POEORB/{eof_name('S1A', 'POEORB', made, times[0], times[-1])}": eof_text(
            "S1A", "POEORB", made, times, pos, vel
        ).encode()
    }
    for days in (-2, -1, 1, 2):  # neighbours in the listing
        v0 = times[0] + timedelta(days=days)
        ts, p, v = circular_orbit(v0, v0 + timedelta(hours=26), 10.0)
        objects[
            f"AUX_POEORB/{eof_name('S1A', 'POEORB', made + timedelta(days=days), ts[0], ts[-1])}"
        ] = eof_text("S1A", "POEORB", made + timedelta(days=days), ts, p, v).encode()
    orbits = start_orbit_bucket(objects)
    env = {
        **os.environ,
        "S1FLOOD_CACHE_DIR": str(work / "cache"),
        "S1FLOOD_DEM_COPERNICUS_30_URL": dem.url,
        "S1FLOOD_ORBIT_URL": orbits.url,
        "S1FLOOD_ORBIT_SERVICES": "bucket",
    }
    in_process(product, env, work / "cache-in-process", dem)
    cli = [sys.executable, "-m", "s1flood.cli", "preprocess", str(product), "--aoi", DEMO_AOI]
    print(f"product {product.name} ({args.size}); AOI {DEMO_AOI}")
    print(
        f"{'case':<12} {'seconds':>8} {'DEM req':>8} {'DEM MB':>8} {'orbit req':>9} {'orbit MB':>9}"
    )
    for case in ("cold cache", "warm cache"):
        before = (
            len(dem.log),
            getattr(dem, "sent", 0),
            len(orbits.log),
            getattr(orbits, "sent", 0),
        )
        out = work / f"{case.split()[0]}.tif"
        seconds, line = run(
            [*cli, "-o", str(out), "--dem", "copernicus-30", "--orbit", "auto"], env
        )
        print(
            f"{case:<12} {seconds:8.2f} {len(dem.log) - before[0]:8d} "
            f"{(getattr(dem, 'sent', 0) - before[1]) / 1e6:8.2f} {len(orbits.log) - before[2]:9d} "
            f"{(getattr(orbits, 'sent', 0) - before[3]) / 1e6:9.3f}"
        )
    print(f"  {line}")
    seconds, line = run(
        [*cli, "-o", str(work / "by-hand.tif"), "--dem", str(work / "sim/dem/dem.tif")], env
    )
    print(f"{'DEM by hand':<12} {seconds:8.2f}  (the simulator's own 10 m DEM, annotation orbit)")
    with rasterio.open(work / "cold.tif") as a, rasterio.open(work / "by-hand.tif") as b:
        x, y = a.read(1), b.read(1)
    both = np.isfinite(x) & np.isfinite(y)
    diff = np.abs(x[both] - y[both])
    print(
        f"sigma0 fetched vs by hand: valid {np.isfinite(x).mean():.3f} vs "
        f"{np.isfinite(y).mean():.3f}, |dB difference| median {np.median(diff):.3f}, "
        f"p95 {np.percentile(diff, 95):.3f}"
    )
    dem.close()
    orbits.close()
    print(f"outputs in {work}")


if __name__ == "__main__":
    main()
