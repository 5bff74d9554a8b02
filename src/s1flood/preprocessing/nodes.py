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
            w00 = (1.0 - fi) * (1.0 - fj)
            w01 = (1.0 - fi) * fj
            w10 = fi * (1.0 - fj)
            w11 = fi * fj
            a = (
                w00 * l0[i0, j0]
                + w01 * l0[i0, j0 + 1]
                + w10 * l0[i0 + 1, j0]
                + w11 * l0[i0 + 1, j0 + 1]
            )
            b = (
                w00 * l1[i0, j0]
                + w01 * l1[i0, j0 + 1]
                + w10 * l1[i0 + 1, j0]
                + w11 * l1[i0 + 1, j0 + 1]
            )
            c = (
                w00 * s0[i0, j0]
                + w01 * s0[i0, j0 + 1]
                + w10 * s0[i0 + 1, j0]
                + w11 * s0[i0 + 1, j0 + 1]
            )
            d = (
                w00 * s1[i0, j0]
                + w01 * s1[i0, j0 + 1]
                + w10 * s1[i0 + 1, j0]
                + w11 * s1[i0 + 1, j0 + 1]
            )
            w = (h - h0) * inv_dh
            line[i, j] = a + (b - a) * w
            sample[i, j] = c + (d - c) * w
