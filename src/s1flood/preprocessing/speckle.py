"""Speckle filters on linear backscatter in radar geometry (compiled, NaN-aware).

Both filters use the multiplicative speckle model (Lee 1980) with the noise variance
``1 / ENL``: ``out = m + b · (y - m)``, ``b = max(0, var_x / var_y)``,
``var_x = (var_y - m² / ENL) / (1 + 1 / ENL)``. ``lee`` takes the local statistics over the
square window (running box sums, so its cost does not grow with the window);
``refined_lee`` (Lee 1981, as SNAP implements it) takes them over the half of the window on
the same side of the strongest edge, found from the gradients of 3 x 3 sub-window means.
Callers filter windows with an overlap of half the window size (see the Python engine).
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from s1flood.errors import InvalidOptionError

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
GRDH_ENL = 4.4
"""Equivalent number of looks of IW GRDH products."""
FILTERS = ("lee", "refined-lee", "none")


@numba.njit(cache=True, nogil=True)
def _lee(image: F32, half: int, cu2: float, out: F32) -> None:
    """Lee over square windows: running sums down the columns, then along each row."""
    rows, cols = image.shape
    col_sum = np.zeros(cols)
    col_sq = np.zeros(cols)
    col_n = np.zeros(cols)
    for i in range(-half, rows):
        entering = i + half
        if entering < rows:
            _add_row(image, entering, 1.0, col_sum, col_sq, col_n)
        leaving = i - half - 1
        if leaving >= 0:
            _add_row(image, leaving, -1.0, col_sum, col_sq, col_n)
        if i < 0:
            continue
        total = 0.0
        sq = 0.0
        n = 0.0
        for j in range(-half, cols):
            entering = j + half
            if entering < cols:
                total += col_sum[entering]
                sq += col_sq[entering]
                n += col_n[entering]
            leaving = j - half - 1
            if leaving >= 0:
                total -= col_sum[leaving]
                sq -= col_sq[leaving]
                n -= col_n[leaving]
            if j < 0:
                continue
            y = image[i, j]
            if not np.isfinite(y):
                out[i, j] = np.nan
                continue
            out[i, j] = _lee_estimate(y, total, sq, n, cu2)


@numba.njit(cache=True, nogil=True)
def _add_row(image: F32, row: int, sign: float, col_sum: F64, col_sq: F64, col_n: F64) -> None:
    """Add (sign 1) or remove (sign -1) one row's finite pixels to the column sums."""
    for j in range(image.shape[1]):
        v = image[row, j]
        if np.isfinite(v):
            x = np.float64(v)
            col_sum[j] += sign * x
            col_sq[j] += sign * x * x
            col_n[j] += sign


@numba.njit(cache=True, nogil=True)
def _lee_estimate(y: float, total: float, sq: float, n: float, cu2: float) -> float:
    """Lee's estimate of a pixel from the sum, sum of squares and count of its neighbours."""
    m: float = total / n
    var_y = max(sq / n - m * m, 0.0)
    if var_y <= 0.0:
        return m
    var_x = (var_y - m * m * cu2) / (1.0 + cu2)
    b = max(var_x / var_y, 0.0)
    estimate: float = m + b * (y - m)
    return estimate


@numba.njit(cache=True, nogil=True)
def _refined_lee(image: F32, size: int, cu2: float, out: F32) -> None:
    rows, cols = image.shape
    half = size // 2
    stride = (size - 3) // 2
    means = np.empty((3, 3))
    for i in range(rows):
        for j in range(cols):
            y = image[i, j]
            if not np.isfinite(y):
                out[i, j] = np.nan
                continue
            _sub_window_means(image, i, j, half, stride, y, means)
            direction, side = _edge(means)
            total, sq, n = _half_window_sums(image, i, j, half, direction, side)
            out[i, j] = _lee_estimate(y, total, sq, n, cu2)


@numba.njit(cache=True, nogil=True)
def _sub_window_means(
    image: F32, i: int, j: int, half: int, stride: int, y: float, means: F64
) -> None:
    """3 x 3 sub-window means (3 x 3 pixels each) covering the window around (i, j)."""
    rows, cols = image.shape
    for a in range(3):
        for b in range(3):
            total = 0.0
            n = 0
            for u in range(3):
                for v in range(3):
                    r = i - half + a * stride + u
                    k = j - half + b * stride + v
                    if 0 <= r < rows and 0 <= k < cols:
                        x = image[r, k]
                        if np.isfinite(x):
                            total += x
                            n += 1
            means[a, b] = total / n if n > 0 else y


@numba.njit(cache=True, nogil=True)
def _edge(means: F64) -> tuple[int, bool]:
    r"""The strongest edge of the sub-window means and the side of it the centre is on.

    Directions: 0 vertical edge, 1 diagonal (\), 2 horizontal edge, 3 diagonal (/).
    """
    g0 = abs(means[0, 2] + means[1, 2] + means[2, 2] - means[0, 0] - means[1, 0] - means[2, 0])
    g1 = abs(means[0, 1] + means[0, 2] + means[1, 2] - means[1, 0] - means[2, 0] - means[2, 1])
    g2 = abs(means[2, 0] + means[2, 1] + means[2, 2] - means[0, 0] - means[0, 1] - means[0, 2])
    g3 = abs(means[1, 2] + means[2, 2] + means[2, 1] - means[0, 0] - means[0, 1] - means[1, 0])
    direction = 0
    best = g0
    if g1 > best:
        direction = 1
        best = g1
    if g2 > best:
        direction = 2
        best = g2
    if g3 > best:
        direction = 3
    centre = means[1, 1]
    if direction == 0:
        side = abs(means[1, 2] - centre) < abs(means[1, 0] - centre)
    elif direction == 1:
        side = abs(means[0, 2] - centre) < abs(means[2, 0] - centre)
    elif direction == 2:
        side = abs(means[2, 1] - centre) < abs(means[0, 1] - centre)
    else:
        side = abs(means[2, 2] - centre) < abs(means[0, 0] - centre)
    return direction, side


@numba.njit(cache=True, nogil=True)
def _half_window_sums(
    image: F32, i: int, j: int, half: int, direction: int, side: bool
) -> tuple[float, float, int]:
    """Sum, sum of squares and count of the finite pixels on the centre's side of the edge."""
    rows, cols = image.shape
    total = 0.0
    sq = 0.0
    n = 0
    for u in range(-half, half + 1):
        r = i + u
        if r < 0 or r >= rows:
            continue
        for v in range(-half, half + 1):
            k = j + v
            if k < 0 or k >= cols:
                continue
            if direction == 0:
                keep = v >= 0 if side else v <= 0
            elif direction == 1:
                keep = v - u >= 0 if side else v - u <= 0
            elif direction == 2:
                keep = u >= 0 if side else u <= 0
            else:
                keep = u + v >= 0 if side else u + v <= 0
            if not keep:
                continue
            x = image[r, k]
            if np.isfinite(x):
                total += x
                sq += x * x
                n += 1
    return total, sq, n


def check_filter(name: str, window: int) -> str:
    """Validate a filter name and window; return the normalised name.

    Args:
        name: lee, refined-lee or none.
        window: window size, odd, pixels.
    """
    key = (name or "none").strip().lower().replace("_", "-")
    if key not in FILTERS:
        raise InvalidOptionError("speckle", name, f"use one of {', '.join(FILTERS)}")
    if key != "none" and not (isinstance(window, int) and window >= 3 and window % 2 == 1):
        raise InvalidOptionError("window", window, "must be an odd number of pixels >= 3")
    if key == "refined-lee" and window < 5:
        raise InvalidOptionError("window", window, "refined Lee needs a window of 5 or more")
    if window > 31:
        raise InvalidOptionError("window", window, "must be at most 31")
    return key


def speckle_filter(image: F32, name: str, window: int, enl: float = GRDH_ENL) -> F32:
    """Filter a linear backscatter window (NaN = no data) with `name` (lee, refined-lee, none).

    Args:
        image: linear backscatter (NaN: no data).
        name: lee, refined-lee or none.
        window: window size, odd, pixels.
        enl: equivalent number of looks of the image.
    """
    key = check_filter(name, window)
    if key == "none":
        return image
    src = np.ascontiguousarray(image, dtype=np.float32)
    out = np.empty_like(src)
    if key == "lee":
        _lee(src, window // 2, 1.0 / enl, out)
    else:
        _refined_lee(src, window, 1.0 / enl, out)
    return out
