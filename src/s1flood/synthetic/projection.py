"""Compiled zero-Doppler projection of ECEF points into a simulated GRD image.

Newton iterations on the orbit polynomial give the zero-Doppler time of each point (warm
started from the previous point); the slant range becomes a ground range through the srgr
polynomials (`s1flood.srgr`, as the engine reads them).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from s1flood.srgr import ground_range, time_weights

FloatArray = npt.NDArray[np.float64]


@numba.njit(cache=True, nogil=True)
def _orbit_state(
    coeffs: FloatArray, t: float, sv: FloatArray, vv: FloatArray, av: FloatArray
) -> None:  # pragma: no cover - compiled
    """Position, velocity and acceleration at time t (from the polynomial epoch), Horner."""
    ndeg = coeffs.shape[1]
    for ax in range(3):
        p = 0.0
        v = 0.0
        a = 0.0
        for k in range(ndeg - 1, -1, -1):
            c = coeffs[ax, k]
            a = a * t + 2.0 * v
            v = v * t + p
            p = p * t + c
        sv[ax] = p
        vv[ax] = v
        av[ax] = a


@numba.njit(cache=True, nogil=True)
def _zero_doppler(
    px: float, py: float, pz: float, coeffs: FloatArray, t: float
) -> tuple[float, float, float, float]:  # pragma: no cover - compiled
    """Zero-Doppler time of a point from a first guess t, and the sensor position then."""
    sx = sy = sz = 0.0
    sv = np.zeros(3)
    vv = np.zeros(3)
    av = np.zeros(3)
    for _it in range(12):
        _orbit_state(coeffs, t, sv, vv, av)
        dx, dy, dz = px - sv[0], py - sv[1], pz - sv[2]
        f = dx * vv[0] + dy * vv[1] + dz * vv[2]
        fp = dx * av[0] + dy * av[1] + dz * av[2] - (vv[0] ** 2 + vv[1] ** 2 + vv[2] ** 2)
        step = f / fp
        t -= step
        sx, sy, sz = sv[0], sv[1], sv[2]
        if abs(step) < 1e-9:
            break
    return t, sx, sy, sz


@numba.njit(cache=True, nogil=True)
def project_kernel(
    pts: FloatArray,
    coeffs: FloatArray,
    epoch: float,
    t_guess: float,
    cc_times: FloatArray,
    srgr: FloatArray,
    sr0: float,
    t0: float,
    dt: float,
    spacing: float,
    out_line: FloatArray,
    out_sample: FloatArray,
    out_los: npt.NDArray[np.float32],
) -> None:  # pragma: no cover - compiled
    """Image line, sample and unit line of sight of ECEF points (see `RadarGeometry.project`).

    Args:
        pts: ECEF points (n, 3), metres (NaN rows give NaN).
        coeffs: orbit polynomial coefficients (3, degree + 1), ascending powers.
        epoch: the polynomial's time origin, seconds.
        t_guess: first guess of the zero-Doppler time, seconds.
        cc_times: azimuth times of the srgr polynomials, seconds.
        srgr: srgr coefficients (K, D): ground range = sum c_i (R - sr0)^i.
        sr0: near slant range of the srgr polynomials, metres.
        t0: time of the first image line, seconds.
        dt: azimuth time interval between lines, seconds.
        spacing: ground range pixel spacing, metres.
        out_line: image line of every point (written).
        out_sample: image sample of every point (written).
        out_los: unit vector from the point to the sensor, (n, 3) (written).
    """
    t = t_guess - epoch
    for n in range(pts.shape[0]):
        px, py, pz = pts[n, 0], pts[n, 1], pts[n, 2]
        if not (np.isfinite(px) and np.isfinite(py) and np.isfinite(pz)):
            out_line[n] = np.nan
            out_sample[n] = np.nan
            out_los[n, 0] = np.nan
            out_los[n, 1] = np.nan
            out_los[n, 2] = np.nan
            continue
        if not np.isfinite(t):
            t = t_guess - epoch
        t, sx, sy, sz = _zero_doppler(px, py, pz, coeffs, t)
        dx, dy, dz = px - sx, py - sy, pz - sz
        rng = np.sqrt(dx * dx + dy * dy + dz * dz)
        ta = t + epoch
        k, k1, w = time_weights(cc_times, ta)
        g = ground_range(srgr, k, k1, w, rng - sr0)
        out_line[n] = (ta - t0) / dt
        out_sample[n] = g / spacing
        out_los[n, 0] = -dx / rng
        out_los[n, 1] = -dy / rng
        out_los[n, 2] = -dz / rng
