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
    # per row: the four node arrays blended between their two node rows, then per pixel only
    # the blend between two node columns (the same bilinear weights, in another order)
    along = np.empty((4, nx))
    j0s = np.empty(cols, np.int64)
    fjs = np.empty(cols)
    for j in range(cols):
        gj = j * inv_step
        j0s[j] = min(int(gj), nx - 2)
        fjs[j] = gj - j0s[j]
    for i in range(rows):
        gi = i * inv_step
        i0 = min(int(gi), ny - 2)
        fi = gi - i0
        for k in range(nx):
            along[0, k] = l0[i0, k] * (1.0 - fi) + l0[i0 + 1, k] * fi
            along[1, k] = l1[i0, k] * (1.0 - fi) + l1[i0 + 1, k] * fi
            along[2, k] = s0[i0, k] * (1.0 - fi) + s0[i0 + 1, k] * fi
            along[3, k] = s1[i0, k] * (1.0 - fi) + s1[i0 + 1, k] * fi
        for j in range(cols):
            h = heights[i, j]
            if not math.isfinite(h):
                line[i, j] = math.nan
                sample[i, j] = math.nan
                continue
            j0 = j0s[j]
            fj = fjs[j]
            a = along[0, j0] * (1.0 - fj) + along[0, j0 + 1] * fj
            b = along[1, j0] * (1.0 - fj) + along[1, j0 + 1] * fj
            c = along[2, j0] * (1.0 - fj) + along[2, j0 + 1] * fj
            d = along[3, j0] * (1.0 - fj) + along[3, j0 + 1] * fj
            w = (h - h0) * inv_dh
            line[i, j] = a + (b - a) * w
            sample[i, j] = c + (d - c) * w
