"""Terrain exclusion: height above nearest drainage (HAND) and slope from a DEM.

HAND (Rennó et al. 2008; Nobre et al. 2011) is computed here without an external hydrology
library (pysheds 0.5, the current release, fails on numpy 2 with ``np.in1d``): a
priority-flood (Barnes et al. 2014) from the DEM's edges visits every cell in order of its
filled height, which gives each cell the neighbour it drains to (a D8 flow tree over the
depression-filled surface); flow accumulation runs down that tree in reverse visiting order;
cells draining at least `channel_cells` cells are channels; HAND is a cell's height above the
channel cell its flow path first reaches.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DI = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DJ = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _push(keys: F64, items: I64, size: int, key: float, item: int) -> int:
    i = size
    keys[i] = key
    items[i] = item
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        items[parent], items[i] = items[i], items[parent]
        i = parent
    return size + 1


@numba.njit(cache=True, nogil=True)
def _pop(keys: F64, items: I64, size: int) -> tuple[float, int, int]:
    key, item = keys[0], items[0]
    size -= 1
    keys[0], items[0] = keys[size], items[size]
    i = 0
    while True:
        left, right, smallest = 2 * i + 1, 2 * i + 2, i
        if left < size and keys[left] < keys[smallest]:
            smallest = left
        if right < size and keys[right] < keys[smallest]:
            smallest = right
        if smallest == i:
            break
        keys[smallest], keys[i] = keys[i], keys[smallest]
        items[smallest], items[i] = items[i], items[smallest]
        i = smallest
    return key, item, size


@numba.njit(cache=True, nogil=True)
def flow_tree(dem: F32) -> tuple[I64, I64]:
    """Priority-flood from the edges (and NaN cells): visiting order and receiver per cell.

    Returns `order` (flat indices, outlets first) and `receiver` (flat index each cell drains
    to, -1 for outlets and NaN cells).
    """
    rows, cols = dem.shape
    n = rows * cols
    receiver = np.full(n, -1, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.float64)
    items = np.empty(n, dtype=np.int64)
    size = 0
    count = 0
    for i in range(rows):
        for j in range(cols):
            k = i * cols + j
            v = dem[i, j]
            if v != v:
                seen[k] = True
                continue
            edge = i == 0 or j == 0 or i == rows - 1 or j == cols - 1
            if not edge:
                for d in range(8):
                    if dem[i + _DI[d], j + _DJ[d]] != dem[i + _DI[d], j + _DJ[d]]:
                        edge = True
                        break
            if edge:
                seen[k] = True
                size = _push(keys, items, size, v, k)
    while size > 0:
        level, k, size = _pop(keys, items, size)
        order[count] = k
        count += 1
        i, j = k // cols, k % cols
        for d in range(8):
            a, b = i + _DI[d], j + _DJ[d]
            if a < 0 or b < 0 or a >= rows or b >= cols:
                continue
            m = a * cols + b
            if seen[m]:
                continue
            seen[m] = True
            receiver[m] = k
            # a tiny rise makes filled depressions and flats drain towards the outlet
            size = _push(keys, items, size, max(float(dem[a, b]), level + 1e-6), m)
    return order[:count], receiver


@numba.njit(cache=True, nogil=True)
def hand_from_tree(dem: F32, order: I64, receiver: I64, channel_cells: int) -> F32:
    """HAND of every cell given the flow tree (NaN where the DEM is NaN)."""
    rows, cols = dem.shape
    flat = dem.ravel()
    accumulation = np.ones(order.size if order.size else 1, dtype=np.int64)
    position = np.full(rows * cols, -1, dtype=np.int64)
    for p in range(order.size):
        position[order[p]] = p
    for p in range(order.size - 1, -1, -1):
        r = receiver[order[p]]
        if r >= 0:
            accumulation[position[r]] += accumulation[p]
    drainage = np.full(rows * cols, np.nan, dtype=np.float32)
    hand = np.full(rows * cols, np.nan, dtype=np.float32)
    for p in range(order.size):
        k = order[p]
        r = receiver[k]
        if accumulation[p] >= channel_cells or r < 0:
            drainage[k] = flat[k]
        else:
            drainage[k] = drainage[r]
        hand[k] = max(flat[k] - drainage[k], np.float32(0))
    return hand.reshape(rows, cols)


def height_above_drainage(dem: F32, channel_cells: int) -> F32:
    """HAND in the DEM's units (m) for every cell; NaN where the DEM is NaN.

    Args:
        dem: heights (m) on a regular grid, NaN for no data.
        channel_cells: cells a channel drains at least (its contributing area in cells).
    """
    dem = np.ascontiguousarray(dem, dtype=np.float32)
    order, receiver = flow_tree(dem)
    hand: F32 = hand_from_tree(dem, order, receiver, int(channel_cells))
    return hand


def slope_degrees(dem: F32, pixel_x_m: float, pixel_y_m: float) -> F32:
    """Terrain slope (degrees) by central differences; NaN where the DEM is NaN.

    Args:
        dem: heights (m), NaN for no data.
        pixel_x_m: pixel width (m).
        pixel_y_m: pixel height (m).
    """
    gy, gx = np.gradient(dem.astype(np.float64), pixel_y_m, pixel_x_m)
    slope: F32 = np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)
    return slope
