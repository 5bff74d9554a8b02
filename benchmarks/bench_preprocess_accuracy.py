"""Accuracy of the Python engine on simulated products: water IoU, geolocation, sarsen agreement.

Usage: python benchmarks/bench_preprocess_accuracy.py [--out DIR]
Prints: water IoU after the core classifier at the flood peak (flat floodplain), geolocation
offset against the truth (phase correlation, pixels), and the median difference to sarsen's
GTC over homogeneous areas (beta0, no speckle filter, no noise removal, on sarsen's DEM grid).
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.windows import from_bounds
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from s1flood.aoi import parse_aoi_wkt
from s1flood.classification import classify
from s1flood.preprocessing import PreprocessOptions, preprocess
from s1flood.preprocessing.python_engine import PythonEngine
from s1flood.raster import Grid
from s1flood.synthetic.simulate import simulate

AOI = "POLYGON((12.40 41.89, 12.47 41.89, 12.47 41.94, 12.40 41.94, 12.40 41.89))"


def offset_px(db: np.ndarray, truth: np.ndarray) -> float:
    v = ndimage.uniform_filter(np.where(np.isfinite(db), db, np.nanmean(db)), 5)
    water = (truth == 1).astype(float)
    shift, _, _ = phase_cross_correlation(
        water - water.mean(), -(v - v.mean()), upsample_factor=20, normalization=None
    )
    return float(np.hypot(*shift))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_pp_acc_"))
    sim = simulate(AOI, "2024-05-01", "2024-05-25", out / "sim", 3, "small", seed=1, progress=False)
    for k, acq in enumerate(sim.acquisitions):
        tif = out / f"sigma0_{k}.tif"
        res = preprocess(sim.products[k], tif, aoi_wkt=AOI, dem=sim.dem, overwrite=True)
        mask = out / f"water_{k}.tif"
        try:
            classify(tif, mask, overwrite=True)
        except Exception as exc:  # too little water for a threshold of its own
            print(f"scene {k} ({acq.phase}): not classified ({exc})")
            continue
        with rasterio.open(tif) as s, rasterio.open(mask) as m, rasterio.open(sim.truths[k]) as t:
            db = s.read(1)
            water = m.read(1)
            truth = t.read(1, window=from_bounds(*s.bounds, t.transform))
        ok = (water != 255) & (truth != 255)
        iou = ((water == 1) & (truth == 1) & ok).sum() / (((water == 1) | (truth == 1)) & ok).sum()
        print(
            f"scene {k} ({acq.phase}): water {100 * (truth[ok] == 1).mean():.0f}% "
            f"IoU {iou:.4f}  offset {offset_px(db, truth):.2f} px  "
            f"{res.seconds:.2f} s  max interpolation error {res.max_geocoding_error_px:.4f} px"
        )
    # sarsen GTC agreement on the peak product, on sarsen's own (DEM) grid
    from sarsen import apps, sentinel1

    gtc = out / "gtc.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        apps.terrain_correction(
            sentinel1.Sentinel1SarProduct(str(sim.products[0]), "IW/VV"),
            str(sim.dem),
            output_urlpath=str(gtc),
        )
    with rasterio.open(gtc) as src:
        ref = src.read(1)
        grid = Grid(CRS.from_wkt(src.crs.to_wkt()), src.transform, src.width, src.height)
    options = PreprocessOptions(
        aoi=parse_aoi_wkt(AOI),
        grid=grid,
        dem=sim.dem,
        speckle="none",
        lut="beta",
        noise_removal=False,
    )
    mine_tif = out / "beta0.tif"
    mine_tif.unlink(missing_ok=True)
    mine_tif.with_suffix(".json").unlink(missing_ok=True)
    PythonEngine().run(sim.products[0], mine_tif, options)
    with rasterio.open(mine_tif) as src:
        mine = 10 ** (src.read(1) / 10)
    both = np.isfinite(mine) & np.isfinite(ref) & (ref > 0)
    n = ndimage.uniform_filter(both.astype(float), 9)
    mm = ndimage.uniform_filter(np.where(both, mine, 0), 9) / np.maximum(n, 1e-9)
    mr = ndimage.uniform_filter(np.where(both, ref, 0), 9) / np.maximum(n, 1e-9)
    sq = ndimage.uniform_filter(np.where(both, ref, 0) ** 2, 9) / np.maximum(n, 1e-9)
    cv = np.sqrt(np.maximum(sq - mr**2, 0)) / np.maximum(mr, 1e-12)
    hom = (n > 0.999) & (cv < 0.8)
    diff = 10 * np.log10(mm[hom] / mr[hom])
    print(
        f"vs sarsen GTC (beta0, {hom.sum()} homogeneous px): median {np.median(diff):+.3f} dB, "
        f"p5..p95 {np.percentile(diff, 5):+.2f}..{np.percentile(diff, 95):+.2f} dB"
    )


if __name__ == "__main__":
    main()
