"""Compiled kernels of the flood depth (numba, GIL released so tiles run in parallel threads).

Every kernel works on one tile (extended by a halo where it needs neighbours) and writes into
arrays the caller owns. Extent values: 1 flooded, 0 observed dry, anything else unknown.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

FLOODED = 1
DRY = 0
FAR = np.int32(2**30)
"""Chamfer distance of a cell no shore reaches."""
STEP = 3
DIAGONAL = 4
"""Integer chamfer weights (3-4): exact ties, and a distance never below 3 x the Chebyshev one."""

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

_DI4 = np.array([-1, 1, 0, 0], dtype=np.int64)
_DJ4 = np.array([0, 0, -1, 1], dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _shore_pair(
    extent: U8,
    heights: F32,
    drainage: F32,
    i: int,
    j: int,
    use_drainage: bool,
    max_rise: float,
) -> tuple[bool, float, float]:
    """The shore level at flooded cell (i, j): midway between its height and its dry neighbours'.

    The waterline lies between a flooded shore cell and the observed dry cells beside it, so
    the mean of the two heights is an unbiased level on a plane (the flooded cell's height
    alone is low by half a pixel's rise). A dry neighbour more than `max_rise` above the
    cell is a bank or a wall, which bounds the level but does not place it: left out.
    Returns (is shore, level, level above drainage).
    """
    rows, cols = extent.shape
    wet = heights[i, j]
    total = 0.0
    total_drain = 0.0
    count = 0
    for d in range(4):
        a, b = i + _DI4[d], j + _DJ4[d]
        if a < 0 or b < 0 or a >= rows or b >= cols or extent[a, b] != DRY:
            continue
        h = heights[a, b]
        if h != h or h - wet > max_rise:
            continue
        total += h
        if use_drainage:
            total_drain += drainage[a, b]
        count += 1
    if count == 0 or wet != wet:
        return False, 0.0, 0.0
    level = 0.5 * (wet + total / count)
    above = 0.0
    if use_drainage:
        above = level - 0.5 * (drainage[i, j] + total_drain / count)
    return True, level, above


@numba.njit(cache=True, nogil=True)
def shore_samples(
    extent: U8,
    heights: F32,
    drainage: F32,
    use_drainage: bool,
    labels: I32,
    halo: int,
    max_rise: float,
    ids: I32,
    levels: F32,
    above: F32,
) -> int:
    """Shore levels of the core cells (those `halo` cells inside `extent`); return how many.

    Args:
        extent: the tile and its halo (1 flooded, 0 dry, else unknown).
        heights: DEM heights on the same cells (NaN where none).
        drainage: drainage heights on the same cells (read only if `use_drainage`).
        use_drainage: whether to give the levels above drainage too.
        labels: region labels of the core (0 outside the flood).
        halo: width of the halo around the core.
        max_rise: the largest rise (m) from a shore cell to a dry neighbour that places a level.
        ids: out: the label of each sample.
        levels: out: each sample's level (m).
        above: out: each sample's level above drainage (m).
    """
    rows, cols = labels.shape
    n = 0
    for i in range(rows):
        for j in range(cols):
            label = labels[i, j]
            if label == 0:
                continue
            shore, level, over = _shore_pair(
                extent, heights, drainage, i + halo, j + halo, use_drainage, max_rise
            )
            if shore:
                ids[n] = label
                levels[n] = level
                above[n] = over
                n += 1
    return n


@numba.njit(cache=True, nogil=True)
def label_maxima(labels: I32, values: F32, count: int) -> F32:
    """The largest finite value of each label 1..count (index 0 unused; -inf if none).

    Args:
        labels: region labels (0 outside every region).
        values: values on the same cells (NaN ignored).
        count: the largest label.
    """
    out = np.full(count + 1, -np.inf, dtype=np.float32)
    rows, cols = labels.shape
    for i in range(rows):
        for j in range(cols):
            label = labels[i, j]
            v = values[i, j]
            if label > 0 and v == v and v > out[label]:
                out[label] = v
    return out


@numba.njit(cache=True, nogil=True)
def spread_shore_levels(
    extent: U8, heights: F32, max_rise: float, distance: I32, level: F32
) -> None:
    """Give every cell the level of its nearest shore cell (3-4 chamfer distance, two passes).

    Of shore cells at the same distance the lower level wins, so the result does not depend
    on the scan order or on where the tile starts.

    Args:
        extent: the tile and its halo (1 flooded, 0 dry, else unknown).
        heights: DEM heights on the same cells (NaN where none).
        max_rise: the largest rise (m) from a shore cell to a dry neighbour that places a level.
        distance: out: chamfer distance (3 per pixel step) to the nearest shore cell.
        level: out: that shore cell's level (m).
    """
    rows, cols = extent.shape
    empty = np.zeros((1, 1), dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            distance[i, j] = FAR
            level[i, j] = np.inf
            if extent[i, j] != FLOODED or i == 0 or j == 0 or i == rows - 1 or j == cols - 1:
                continue
            shore, value, _ = _shore_pair(extent, heights, empty, i, j, False, max_rise)
            if shore:
                distance[i, j] = 0
                level[i, j] = value
    for i in range(rows):
        for j in range(cols):
            d, v = distance[i, j], level[i, j]
            for a, b, w in ((i - 1, j - 1, DIAGONAL), (i - 1, j, STEP), (i - 1, j + 1, DIAGONAL)):
                if a >= 0 and 0 <= b < cols and distance[a, b] < FAR:
                    c = distance[a, b] + w
                    if c < d or (c == d and level[a, b] < v):
                        d, v = c, level[a, b]
            if j > 0 and distance[i, j - 1] < FAR:
                c = distance[i, j - 1] + STEP
                if c < d or (c == d and level[i, j - 1] < v):
                    d, v = c, level[i, j - 1]
            distance[i, j], level[i, j] = d, v
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            d, v = distance[i, j], level[i, j]
            for a, b, w in ((i + 1, j + 1, DIAGONAL), (i + 1, j, STEP), (i + 1, j - 1, DIAGONAL)):
                if a < rows and 0 <= b < cols and distance[a, b] < FAR:
                    c = distance[a, b] + w
                    if c < d or (c == d and level[a, b] < v):
                        d, v = c, level[a, b]
            if j < cols - 1 and distance[i, j + 1] < FAR:
                c = distance[i, j + 1] + STEP
                if c < d or (c == d and level[i, j + 1] < v):
                    d, v = c, level[i, j + 1]
            distance[i, j], level[i, j] = d, v


@numba.njit(cache=True, nogil=True)
def smoothed_levels(
    extent: U8, distance: I32, level: F32, reach: int, radius: int, halo: int, out: F32
) -> None:
    """Mean spread level over the flooded cells within `radius` of each flooded core cell.

    Only cells whose nearest shore lies within `reach` chamfer units take part (further ones
    would depend on what the tile holds); a core cell beyond it gets NaN.

    Args:
        extent: the tile and its halo (1 flooded).
        distance: chamfer distance to the nearest shore cell (see `spread_shore_levels`).
        level: the nearest shore cell's level.
        reach: the largest distance used (chamfer units).
        radius: half-width of the square the mean is taken over (pixels).
        halo: width of the halo around the core.
        out: out: the core's smoothed levels (NaN outside the flood and beyond `reach`).
    """
    rows, cols = extent.shape
    total = np.zeros((rows + 1, cols + 1), dtype=np.float64)
    count = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    for i in range(rows):
        row_total = 0.0
        row_count = 0
        for j in range(cols):
            if extent[i, j] == FLOODED and distance[i, j] <= reach:
                row_total += level[i, j]
                row_count += 1
            total[i + 1, j + 1] = total[i, j + 1] + row_total
            count[i + 1, j + 1] = count[i, j + 1] + row_count
    core_rows, core_cols = out.shape
    for i in range(core_rows):
        for j in range(core_cols):
            a, b = i + halo, j + halo
            if extent[a, b] != FLOODED or distance[a, b] > reach:
                out[i, j] = np.nan
                continue
            top, bottom = a - radius, a + radius + 1
            left, right = b - radius, b + radius + 1
            n = count[bottom, right] - count[top, right] - count[bottom, left] + count[top, left]
            s = total[bottom, right] - total[top, right] - total[bottom, left] + total[top, left]
            out[i, j] = s / n


@numba.njit(cache=True, nogil=True)
def filled_heights(heights: F32, order: I64, receiver: I64) -> F32:
    """The depression-filled surface of a priority-flood tree (the rise it adds kept).

    Args:
        heights: DEM heights (NaN where none).
        order: flat cell indices, outlets first (`hand.flow_tree`).
        receiver: the cell each cell drains to, -1 for outlets (`hand.flow_tree`).
    """
    flat = heights.ravel()
    filled = flat.copy()
    for p in range(order.size):
        k = order[p]
        r = receiver[k]
        if r >= 0:
            filled[k] = max(flat[k], filled[r] + np.float32(1e-6))
    return filled.reshape(heights.shape)


@numba.njit(cache=True, nogil=True)
def union_roots(size: int, first: I64, second: I64) -> I64:
    """Union-find over labels 0..size-1 joined in pairs; the smallest label of each set as root.

    Args:
        size: number of labels.
        first: one label of each joined pair.
        second: the other label of each pair.
    """
    parent = np.arange(size, dtype=np.int64)
    for p in range(first.size):
        a, b = first[p], second[p]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    for k in range(size):
        r = k
        while parent[r] != r:
            r = parent[r]
        parent[k] = r
    return parent


@numba.njit(cache=True, nogil=True)
def depth_from_levels(
    flooded_regions: I64, heights: F32, region_level: F32, level: F32, drainage: F32, out: F32
) -> None:
    """Depth = water level - height, at least 0, in every flooded cell with a height.

    The level is `level` where it is finite, else the region's (`region_level`), plus the
    drainage height where `drainage` has the core's shape (levels above drainage).

    Args:
        flooded_regions: the region index of every core cell, -1 outside the flood.
        heights: DEM heights of the core (NaN where none).
        region_level: one level per region.
        level: per-cell levels (NaN to use the region's), or a 1 x 1 array for none.
        drainage: drainage heights of the core, or a 1 x 1 array for none.
        out: out: depths (m), NaN outside the flood or the DEM.
    """
    rows, cols = heights.shape
    per_cell = level.shape == heights.shape
    above = drainage.shape == heights.shape
    for i in range(rows):
        for j in range(cols):
            region = flooded_regions[i, j]
            h = heights[i, j]
            if region < 0 or h != h:
                out[i, j] = np.nan
                continue
            w = level[i, j] if per_cell else np.float32(np.nan)
            if w != w:
                w = region_level[region]
                if above:
                    w += drainage[i, j]
            out[i, j] = max(w - h, np.float32(0))
