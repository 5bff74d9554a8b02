"""Radiometric calibration with thermal noise removal, on one image window.

``sigma0 = (DN² - N) / A²`` where ``A`` is the sigma-nought (or beta/gamma) calibration LUT
and ``N = noise_range(line, pixel) · noise_azimuth(line)`` the thermal noise power, both
interpolated bilinearly from their sparse line x pixel grids as ESA's product specification
prescribes; the azimuth noise LUT applies per block (sub-swath rectangle) of the image.
Border noise: pixels with DN = 0 (the invalid border of post-2018 GRD products, and the
area the IPF trimmed) are NaN; negative noise-removed values are clipped to 0, as SNAP does.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from s1flood.preprocessing.product import Lut2D, SarImage

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U16 = npt.NDArray[np.uint16]


def interpolate_lut(lut: Lut2D, line0: int, sample0: int, rows: int, cols: int) -> F32:
    """A LUT interpolated bilinearly on the window [line0, +rows) x [sample0, +cols).

    Along pixels only the LUT lines around the window are interpolated; the blend between
    them is one compiled pass.

    Args:
        lut: the LUT.
        line0: first image line of the window.
        sample0: first image sample of the window.
        rows: window lines.
        cols: window samples.
    """
    samples = np.arange(sample0, sample0 + cols, dtype=np.float64)
    n = lut.lines.size
    if n == 1:
        along = np.interp(samples, lut.pixels, lut.values[0]).astype(np.float32)
        return np.broadcast_to(along, (rows, cols)).copy()
    lines = np.arange(line0, line0 + rows, dtype=np.float64)
    k = np.clip(np.searchsorted(lut.lines, lines, side="right") - 1, 0, n - 2)
    f = np.clip((lines - lut.lines[k]) / (lut.lines[k + 1] - lut.lines[k]), 0.0, 1.0)
    first = int(k[0])
    along = np.stack(
        [np.interp(samples, lut.pixels, row) for row in lut.values[first : int(k[-1]) + 2]]
    )
    out = np.empty((rows, cols), np.float32)
    _blend_rows(along, k - first, f, out)
    return out


@numba.njit(cache=True, nogil=True)
def _blend_rows(along: F64, k: I64, f: F64, out: F32) -> None:
    """out[i] = along[k[i]] · (1 - f[i]) + along[k[i] + 1] · f[i]."""
    rows, cols = out.shape
    for i in range(rows):
        a = along[k[i]]
        b = along[k[i] + 1]
        w = f[i]
        for j in range(cols):
            out[i, j] = a[j] * (1.0 - w) + b[j] * w


def noise_power(sar: SarImage, line0: int, sample0: int, rows: int, cols: int) -> F32 | None:
    """Thermal noise power (DN²) on a window, or None when the product has no noise LUT.

    Args:
        sar: the product image.
        line0: first image line of the window.
        sample0: first image sample of the window.
        rows: window lines.
        cols: window samples.
    """
    if sar.noise_range is None:
        return None
    noise = interpolate_lut(sar.noise_range, line0, sample0, rows, cols)
    line1 = line0 + rows - 1
    sample1 = sample0 + cols - 1
    for block in sar.noise_azimuth:
        r0 = max(block.first_line, line0)
        r1 = min(block.last_line, line1)
        c0 = max(block.first_sample, sample0)
        c1 = min(block.last_sample, sample1)
        if r0 > r1 or c0 > c1:
            continue
        lines = np.arange(r0, r1 + 1, dtype=np.float64)
        factor = np.interp(lines, block.lines, block.lut).astype(np.float32)
        noise[r0 - line0 : r1 - line0 + 1, c0 - sample0 : c1 - sample0 + 1] *= factor[:, None]
    return noise


@numba.njit(cache=True, nogil=True)
def _calibrate(dn: U16, lut: F32, noise: F32, use_noise: bool, out: F32) -> None:
    rows, cols = dn.shape
    for i in range(rows):
        for j in range(cols):
            d = np.float32(dn[i, j])
            if d == 0:
                out[i, j] = np.nan
                continue
            p = d * d
            if use_noise:
                p -= noise[i, j]
            a = lut[i, j]
            v = p / (a * a)
            out[i, j] = v if v > 0 else np.float32(0.0)


def calibrate(
    sar: SarImage,
    dn: U16,
    line0: int,
    sample0: int,
    lut: str = "sigma",
    remove_noise: bool = True,
) -> F32:
    """Calibrated backscatter (linear, float32, NaN at DN 0) of a DN window.

    Args:
        sar: the product image.
        dn: the DN window.
        line0: first image line of the window.
        sample0: first image sample of the window.
        lut: sigma, beta or gamma.
        remove_noise: subtract the thermal noise first.
    """
    rows, cols = dn.shape
    table = {"sigma": sar.sigma, "beta": sar.beta, "gamma": sar.gamma}[lut]
    a = interpolate_lut(table, line0, sample0, rows, cols)
    noise = noise_power(sar, line0, sample0, rows, cols) if remove_noise else None
    out = np.empty((rows, cols), np.float32)
    _calibrate(
        np.ascontiguousarray(dn, dtype=np.uint16),
        a,
        noise if noise is not None else a,
        noise is not None,
        out,
    )
    return out
