"""Benchmark: radiometric and geometric accuracy of simulated products.

Simulates a small flood series, then prints for one product:
- calibration round trip (xarray-sentinel sigma0 with noise removal vs the model), per
  homogeneous class, in dB, and the speckle ENL (model: 4.4);
- the offset (pixels) between the water truth and the water of the product after sarsen's
  terrain correction onto the simulation DEM (phase cross-correlation, 1/20 pixel).

Usage: python benchmarks/bench_simulate_accuracy.py [--size 600x600] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
import xarray_sentinel
from rasterio.errors import NotGeoreferencedWarning
from sarsen import apps, sentinel1
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from s1flood.synthetic.simulate import simulate

AOI = "POLYGON((12.40 41.90, 12.46 41.90, 12.46 41.95, 12.40 41.95, 12.40 41.90))"


def calibration(safe: Path, model_path: Path, pol: str) -> None:
    ds = xr.open_dataset(safe, engine="sentinel-1", group=f"IW/{pol}")
    cal = xr.open_dataset(safe, engine="sentinel-1", group=f"IW/{pol}/calibration")
    nr = xr.open_dataset(safe, engine="sentinel-1", group=f"IW/{pol}/noise_range")
    na = xr.open_dataset(safe, engine="sentinel-1", group=f"IW/{pol}/noise_azimuth")
    dn = ds.measurement.compute()
    sigma = xarray_sentinel.calibrate_intensity(dn, cal.sigmaNought).values
    lut = cal.sigmaNought.interp(line=dn.line, pixel=dn.pixel).values
    noise = nr.noiseRangeLut.interp(line=dn.line, pixel=dn.pixel).values
    noise = noise * na.noiseAzimuthLut.interp(line=dn.line).values[:, None] / lut**2
    model = rasterio.open(model_path).read(1).astype(np.float64)
    hi, lo = ndimage.maximum_filter(model, 5), ndimage.minimum_filter(model, 5)
    homogeneous = (hi <= lo * 1.1) & (lo > 0)
    bins = np.round(10 * np.log10(np.where(model > 0, model, 1e-10)) * 2) / 2
    for value in np.unique(bins[homogeneous]):
        sel = homogeneous & (bins == value)
        if sel.sum() < 2000:
            continue
        raw = 10 * np.log10(sigma[sel].mean() / model[sel].mean())
        removed = 10 * np.log10((sigma[sel] - noise[sel]).mean() / model[sel].mean())
        ratio = sigma[sel] / (model[sel] + noise[sel])
        enl = ratio.mean() ** 2 / ratio.var()
        print(
            f"{pol} model {value:6.1f} dB  n={sel.sum():7d}  bias raw {raw:+.3f} dB  "
            f"noise-removed {removed:+.3f} dB  ENL {enl:.2f}"
        )


def geolocation(safe: Path, dem: Path, truth: Path, work: Path) -> None:
    out = work / "gtc.tif"
    t0 = time.perf_counter()
    apps.terrain_correction(
        sentinel1.Sentinel1SarProduct(str(safe), "IW/VV"), str(dem), output_urlpath=str(out)
    )
    elapsed = time.perf_counter() - t0
    with rasterio.open(out) as src, rasterio.open(truth) as tr:
        gtc = src.read(1)[::-1] if src.transform.e > 0 else src.read(1)
        water = tr.read(1) == 1
    valid = np.isfinite(gtc) & (gtc > 0)
    db = 10 * np.log10(np.where(valid, gtc, 1.0))
    db = ndimage.uniform_filter(np.where(valid, db, db[valid].mean()), 5)
    rc = np.argwhere(valid).mean(0).astype(int)
    h = 5
    while valid[rc[0] - h - 1 : rc[0] + h + 1, rc[1] - h - 1 : rc[1] + h + 1].all():
        h += 1
    win = (slice(rc[0] - h + 3, rc[0] + h - 3), slice(rc[1] - h + 3, rc[1] + h - 3))
    w = water[win].astype(float)
    shift, _, _ = phase_cross_correlation(
        w - w.mean(), -(db[win] - db[win].mean()), upsample_factor=20, normalization=None
    )
    agree = ((db[win] < -15.0) == water[win]).mean()
    print(f"sarsen GTC: {elapsed:.1f} s for {gtc.size / 1e6:.2f} Mpx")
    print(
        f"water truth vs terrain-corrected image offset (rows, cols): {shift[0]:+.2f}, "
        f"{shift[1]:+.2f} px (|offset| {np.hypot(*shift):.2f} px; acceptance < 1 px)"
    )
    print(f"threshold water agreement in a {w.shape[0]}x{w.shape[1]} window: {agree:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="600x600")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore", NotGeoreferencedWarning)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        res = simulate(
            AOI,
            "2024-05-01",
            "2024-05-25",
            work,
            scenes=3,
            size=args.size,
            seed=args.seed,
            progress=False,
            write_model=True,
        )
        for k, safe in enumerate(res.products):
            print(
                f"--- {safe.name} ({res.acquisitions[k].phase}, stage "
                f"{res.acquisitions[k].stage} m)"
            )
            if k == 1:
                for pol in ("VV", "VH"):
                    model = work / "model" / f"{safe.stem}_sigma0_{pol.lower()}.tif"
                    calibration(safe, model, pol)
            geolocation(safe, res.dem, res.truths[k], work)


if __name__ == "__main__":
    main()
