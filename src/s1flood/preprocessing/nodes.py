"""Compiled interpolation of radar coordinates between the nodes of a region (see `geocoding`)."""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@numba.njit(cache=True, nogil=True)
def interpolate_nodes(
    l0: F64,
    s0: F64,
    l1: F64,
    s1: F64,
    step: int,
    h0: float,
    h1: float,
    heights: F32,
    line: F32,
    sample: F32,
) -> None:
    """(line, sample) of every pixel of a region, from its nodes at two heights.

    Bilinear between the nodes, linear in height between the two node heights.

    Args:
        l0: node lines at the lower height.
        s0: node samples at the lower height.
        l1: node lines at the upper height.
        s1: node samples at the upper height.
        step: node spacing, pixels.
        h0: the lower height, metres.
        h1: the upper height, metres.
        heights: ellipsoidal height of every pixel (NaN: none).
        line: the line of every pixel (written).
        sample: the sample of every pixel (written).
    """
    ny, nx = l0.shape
    rows, cols = heights.shape
    inv_dh = 1.0 / (h1 - h0)
    inv_step = 1.0 / step
    for i in range(rows):
        gi = i * inv_step
        i0 = min(int(gi), ny - 2)
        fi = gi - i0
        for j in range(cols):
            h = heights[i, j]
            if not math.isfinite(h):
                line[i, j] = math.nan
                sample[i, j] = math.nan
                continue
            gj = j * inv_step
            j0 = min(int(gj), nx - 2)
            fj = gj - j0
            a = _bilinear(l0, i0, j0, fi, fj)
            b = _bilinear(l1, i0, j0, fi, fj)
            c = _bilinear(s0, i0, j0, fi, fj)
            d = _bilinear(s1, i0, j0, fi, fj)
            w = (h - h0) * inv_dh
            line[i, j] = a + (b - a) * w
            sample[i, j] = c + (d - c) * w


@numba.njit(cache=True, nogil=True)
def _bilinear(nodes: F64, i0: int, j0: int, fi: float, fj: float) -> float:
    """The value at fractions (fi, fj) of the node cell whose first node is (i0, j0)."""
    w00 = (1.0 - fi) * (1.0 - fj)
    w01 = (1.0 - fi) * fj
    w10 = fi * (1.0 - fj)
    w11 = fi * fj
    value: float = (
        w00 * nodes[i0, j0]
        + w01 * nodes[i0, j0 + 1]
        + w10 * nodes[i0 + 1, j0]
        + w11 * nodes[i0 + 1, j0 + 1]
    )
    return value
