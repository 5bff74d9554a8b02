"""Slant range to ground range with the annotation's coordinate conversion polynomials.

Shared by the simulator, which writes the polynomials, and the Python engine, which reads
them, so that both interpolate them in azimuth time the same way (linearly between the two
neighbouring polynomials, clamped at the ends, as xarray-sentinel does).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


@numba.njit(cache=True, nogil=True)
def time_weights(times: F64, t: float) -> tuple[int, int, float]:  # pragma: no cover - compiled
    """The polynomials around time t and the weight of the second one.

    Args:
        times: azimuth times of the polynomials, ascending, seconds.
        t: the azimuth time, seconds (clamped to the first and last polynomial).
    """
    n = times.size
    if n == 1 or t <= times[0]:
        k = 0
        w = 0.0
    elif t >= times[n - 1]:
        k = n - 2
        w = 1.0
    else:
        k = 0
        while times[k + 1] < t:
            k += 1
        w = (t - times[k]) / (times[k + 1] - times[k])
    return k, min(k + 1, n - 1), w


@numba.njit(cache=True, nogil=True)
def ground_range(
    coeffs: F64, k: int, k1: int, w: float, x: float
) -> float:  # pragma: no cover - compiled
    """The polynomial in x with coefficients interpolated between rows k and k1 (weight w).

    Args:
        coeffs: srgr coefficients (polynomials x degree + 1), ascending powers.
        k: the first polynomial.
        k1: the second polynomial.
        w: the weight of the second polynomial.
        x: slant range minus the polynomials' near slant range, metres.
    """
    g = 0.0
    for d in range(coeffs.shape[1] - 1, -1, -1):
        c = coeffs[k, d] * (1.0 - w) + coeffs[k1, d] * w
        g = g * x + c
    return g
