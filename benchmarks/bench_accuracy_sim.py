"""Water classification on simulated scenes: each scene preprocessed and classified alone.

Simulates a flood (small scenes, seed 1: before, rising, peak, receding, after) twice, calm
and with wind-roughened water on some dates, preprocesses every product with the Python
engine (VV and VH, stacked into one two-band raster as ``polarisation="VV+VH"`` writes it)
and classifies each scene alone with the default method, without and with the DEM.
Prints per scene: phase, wind, true water %, the path taken, water IoU against the truth of
VV alone, VH alone and both (the dual-polarisation default), false water on steep terrain
(slope > 10 deg, where radar shadow and layover fall), false water on urban land cover, and
the same with the DEM given (excluded pixels are nodata).

    .venv/bin/python benchmarks/bench_accuracy_sim.py [--out DIR] [--method split]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import from_bounds

from s1flood.classification import classify
from s1flood.classification.hand import slope_degrees
from s1flood.preprocessing import preprocess
from s1flood.synthetic.simulate import simulate

sys.path.insert(0, str(Path(__file__).parent))
from common import stack_bands, table

AOI = "POLYGON((12.40 41.89, 12.47 41.89, 12.47 41.94, 12.40 41.94, 12.40 41.89))"
URBAN = 5


def on_grid(path: Path, like: rasterio.io.DatasetReader) -> np.ndarray:
    with rasterio.open(path) as src:
        if src.transform == like.transform and src.shape == like.shape:
            return src.read(1)
        return src.read(1, window=from_bounds(*like.bounds, src.transform), out_shape=like.shape)


def score(mask: np.ndarray, truth: np.ndarray, steep: np.ndarray, urban: np.ndarray) -> list:
    ok = (mask != 255) & (truth != 255)
    water, wet = (mask == 1) & ok, (truth == 1) & ok
    iou = (water & wet).sum() / max((water | wet).sum(), 1)
    false = water & ~wet
    return [f"{iou:.3f}", str(int((false & steep).sum())), str(int((false & urban).sum()))]


def _no_terrain(like: rasterio.io.DatasetReader) -> tuple[np.ndarray, np.ndarray]:
    nothing = np.zeros(like.shape, dtype=bool)
    return nothing, nothing


def run(out: Path, wind: bool, method: str) -> list[list[str]]:
    sim = simulate(
        AOI, "2024-05-01", "2024-05-25", out / "sim", 5, "small", seed=1, progress=False, wind=wind
    )
    rows = []
    for k, acq in enumerate(sim.acquisitions):
        one = {}
        for pol in ("VV", "VH"):
            one[pol] = out / f"sigma0_{k}_{pol}.tif"
            preprocess(
                sim.products[k], one[pol], aoi_wkt=AOI, dem=sim.dem, polarisation=pol,
                overwrite=True,
            )  # fmt: skip
        tif = stack_bands(one, out / f"sigma0_{k}.tif")
        single = []
        for pol in ("VV", "VH"):
            alone = classify(tif, out / f"water_{k}_{pol}.tif", band=pol, method=method,
                             overwrite=True)  # fmt: skip
            with rasterio.open(alone.mask) as m, rasterio.open(tif) as s:
                single.append(score(m.read(1), on_grid(sim.truths[k], s), *_no_terrain(s))[0])
        plain = classify(tif, out / f"water_{k}.tif", method=method, overwrite=True)
        hand = classify(tif, out / f"water_dem_{k}.tif", method=method, dem=sim.dem, overwrite=True)
        with rasterio.open(tif) as s:
            truth = on_grid(sim.truths[k], s)
            dem = on_grid(sim.dem, s).astype(np.float32)
            steep = slope_degrees(dem, abs(s.transform.a), abs(s.transform.e)) > 10
            urban = (on_grid(sim.landcover, s) == URBAN) if sim.landcover else np.zeros_like(steep)
        with rasterio.open(plain.mask) as m:
            a = score(m.read(1), truth, steep, urban)
        with rasterio.open(hand.mask) as m:
            b = score(m.read(1), truth, steep, urban)
        wet = 100 * (truth == 1).sum() / max((truth != 255).sum(), 1)
        rows.append(
            [
                acq.phase,
                f"{acq.wind_db:.1f}",
                f"{wet:.1f}",
                *single,
                plain.path,
                *a,
                hand.path,
                *b,
                str(hand.pixels.get("excluded", 0)),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--method", default="split")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_sim_acc_"))
    header = [
        "phase",
        "wind dB",
        "water %",
        "IoU VV",
        "IoU VH",
        "path VV+VH",
        "IoU VV+VH",
        "false@steep",
        "false@urban",
        "path+DEM",
        "IoU+DEM",
        "false@steep+DEM",
        "false@urban+DEM",
        "excluded px",
    ]
    for wind in (False, True):
        print(
            f"\n{'wind-roughened water on some dates' if wind else 'calm water'} "
            f"(method {args.method})"
        )
        print(table([header, *run(out / ("wind" if wind else "calm"), wind, args.method)]))


if __name__ == "__main__":
    main()
