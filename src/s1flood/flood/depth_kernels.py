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
HOLE = 2
"""A small dry hole inside one flooded region: neither flood nor shore (see `mark_small_holes`)."""
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
def mark_small_holes(extent: U8, max_area: int) -> int:
    """Set to `HOLE` every small dry hole in the flood; return how many cells were set.

    A hole is a 4-connected component of dry cells of at most `max_area` cells whose every
    8-neighbour outside it is flooded (none unknown, none beyond the array): the flood
    encloses it. Such a cell is not shore: the waterline does not run through it. A dry
    component touching the array's edge is never a hole (the caller reads `max_area` + 1
    cells more than it needs, so that this decides every cell it uses as the whole grid would).

    Every hole has a cell beside a flooded one, so only those cells start a search, and a
    search stops as soon as its component cannot be a hole: the work follows the shore's
    length, not the dry area.

    Args:
        extent: in/out: 1 flooded, 0 dry, else unknown; holes become `HOLE`.
        max_area: the largest hole (cells).
    """
    rows, cols = extent.shape
    # 0 not seen, 1 in the current search, 2 in a component that is no hole, 3 in a hole
    seen = np.zeros((rows, cols), dtype=np.uint8)
    size = max_area + 9
    queue_i = np.empty(size, dtype=np.int32)
    queue_j = np.empty(size, dtype=np.int32)
    marked = 0
    for si in range(1, rows - 1):
        for sj in range(1, cols - 1):
            if extent[si, sj] != DRY or seen[si, sj]:
                continue
            if not (
                extent[si - 1, sj] == FLOODED
                or extent[si + 1, sj] == FLOODED
                or extent[si, sj - 1] == FLOODED
                or extent[si, sj + 1] == FLOODED
            ):
                continue
            seen[si, sj] = 1
            queue_i[0], queue_j[0] = si, sj
            head, tail = 0, 1
            enclosed = True
            while head < tail and enclosed:
                i, j = queue_i[head], queue_j[head]
                head += 1
                for a in range(i - 1, i + 2):
                    for b in range(j - 1, j + 2):
                        if a < 0 or b < 0 or a >= rows or b >= cols:
                            enclosed = False
                            continue
                        v = extent[a, b]
                        if v == FLOODED:
                            continue
                        if v != DRY:
                            enclosed = False
                        elif a == i or b == j:
                            if seen[a, b] == 2:
                                enclosed = False
                            elif not seen[a, b]:
                                seen[a, b] = 1
                                queue_i[tail], queue_j[tail] = a, b
                                tail += 1
                if tail > max_area:
                    enclosed = False
            for p in range(tail):
                seen[queue_i[p], queue_j[p]] = 3 if enclosed else 2
            if enclosed:
                marked += tail
    for i in range(rows):
        for j in range(cols):
            if seen[i, j] == 3:
                extent[i, j] = HOLE
    return marked


@numba.njit(cache=True, nogil=True, inline="always")
def _beside_dry(extent: U8, i: int, j: int) -> bool:
    """Whether interior cell (i, j) has an observed dry 4-neighbour."""
    beside: bool = (
        extent[i - 1, j] == DRY
        or extent[i + 1, j] == DRY
        or extent[i, j - 1] == DRY
        or extent[i, j + 1] == DRY
    )
    return beside


@numba.njit(cache=True, nogil=True, inline="always")
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
            if label == 0 or not _beside_dry(extent, i + halo, j + halo):
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


@numba.njit(cache=True, nogil=True, inline="always")
def _better(
    distance: I32, level: F32, a: int, b: int, weight: int, d: int, v: float
) -> tuple[int, float]:
    """(distance, level) through neighbour (a, b) if it is nearer (or as near and lower)."""
    c = distance[a, b] + weight
    if c < d or (c == d and level[a, b] < v):
        return c, level[a, b]
    return d, v


@numba.njit(cache=True, nogil=True)
def _median_seeds(distance: I32, level: F32, radius: int) -> None:
    """Replace each seed's level (distance 0) by the median of the seeds' within `radius`."""
    rows, cols = distance.shape
    raw = level.copy()
    window = np.empty((2 * radius + 1) ** 2, dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            if distance[i, j] != 0:
                continue
            n = 0
            for a in range(max(0, i - radius), min(rows, i + radius + 1)):
                for b in range(max(0, j - radius), min(cols, j + radius + 1)):
                    if distance[a, b] == 0:
                        window[n] = raw[a, b]
                        n += 1
            level[i, j] = np.median(window[:n])


@numba.njit(cache=True, nogil=True)
def spread_shore_levels(
    extent: U8, heights: F32, max_rise: float, seed_radius: int, distance: I32, level: F32
) -> None:
    """Give every cell the level of its nearest shore cell (3-4 chamfer distance, two passes).

    Of shore cells at the same distance the lower level wins, so the result does not depend
    on the scan order or on where the tile starts.

    Args:
        extent: the tile and its halo (1 flooded, 0 dry, else unknown).
        heights: DEM heights on the same cells (NaN where none).
        max_rise: the largest rise (m) from a shore cell to a dry neighbour that places a level.
        seed_radius: each shore cell's level is the median of the shore levels within this many
            cells (a square), so that a misclassified shore cell does not carry its own.
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
            if not _beside_dry(extent, i, j):
                continue
            shore, value, _ = _shore_pair(extent, heights, empty, i, j, False, max_rise)
            if shore:
                distance[i, j] = 0
                level[i, j] = value
    if seed_radius > 0:
        _median_seeds(distance, level, seed_radius)
    for i in range(rows):
        for j in range(cols):
            d, v = distance[i, j], level[i, j]
            if j > 0:
                d, v = _better(distance, level, i, j - 1, STEP, d, v)
            if i > 0:
                if j > 0:
                    d, v = _better(distance, level, i - 1, j - 1, DIAGONAL, d, v)
                d, v = _better(distance, level, i - 1, j, STEP, d, v)
                if j < cols - 1:
                    d, v = _better(distance, level, i - 1, j + 1, DIAGONAL, d, v)
            distance[i, j], level[i, j] = d, v
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            d, v = distance[i, j], level[i, j]
            if j < cols - 1:
                d, v = _better(distance, level, i, j + 1, STEP, d, v)
            if i < rows - 1:
                if j < cols - 1:
                    d, v = _better(distance, level, i + 1, j + 1, DIAGONAL, d, v)
                d, v = _better(distance, level, i + 1, j, STEP, d, v)
                if j > 0:
                    d, v = _better(distance, level, i + 1, j - 1, DIAGONAL, d, v)
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
    core_rows, core_cols = out.shape
    first = halo - radius
    rows, cols = core_rows + 2 * radius, core_cols + 2 * radius
    total = np.zeros((rows + 1, cols + 1), dtype=np.float64)
    count = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    for i in range(rows):
        row_total = 0.0
        row_count = 0
        for j in range(cols):
            a, b = first + i, first + j
            if extent[a, b] == FLOODED and distance[a, b] <= reach:
                row_total += level[a, b]
                row_count += 1
            total[i + 1, j + 1] = total[i, j + 1] + row_total
            count[i + 1, j + 1] = count[i, j + 1] + row_count
    for i in range(core_rows):
        for j in range(core_cols):
            a, b = i + halo, j + halo
            if extent[a, b] != FLOODED or distance[a, b] > reach:
                out[i, j] = np.nan
                continue
            top, bottom = i, i + 2 * radius + 1
            left, right = j, j + 2 * radius + 1
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
def depth_where_level(extent: U8, heights: F32, level: F32, halo: int, out: F32) -> int:
    """Depth = level - height, at least 0, in the flooded core cells with a level and a height.

    Returns how many flooded core cells with a height have no level (NaN): they are left
    NaN in `out` for `depth_from_regions`.

    Args:
        extent: the tile and its halo (1 flooded).
        heights: DEM heights on the same cells (NaN where none).
        level: the core's water levels (NaN where none).
        halo: width of the halo around the core.
        out: out: the core's depths (m), NaN elsewhere.
    """
    rows, cols = out.shape
    missing = 0
    for i in range(rows):
        for j in range(cols):
            h = heights[i + halo, j + halo]
            w = level[i, j]
            flooded = extent[i + halo, j + halo] == FLOODED and h == h
            if flooded and w == w:
                out[i, j] = max(w - h, np.float32(0))
            else:
                out[i, j] = np.nan
                missing += flooded
    return missing


@numba.njit(cache=True, nogil=True)
def depth_from_regions(
    labels: I32,
    offset: int,
    region_of_label: I64,
    heights: F32,
    region_level: F32,
    drainage: F32,
    halo: int,
    out: F32,
) -> None:
    """Fill the NaN depths of flooded cells with a height from their region's level.

    The level is the region's plus the cell's drainage height where `drainage` has the
    core's shape (levels above drainage); a 1 x 1 `drainage` means none.

    Args:
        labels: the core's labels as the tile's own labelling gives them (0 outside the flood).
        offset: the tile's first global label less one.
        region_of_label: the region of every global label.
        heights: DEM heights of the tile and its halo (NaN where none).
        region_level: one level per region.
        drainage: drainage heights of the core, or a 1 x 1 array for none.
        halo: width of the halo around the core in `heights`.
        out: the core's depths (m), filled in place.
    """
    rows, cols = out.shape
    above = drainage.shape == out.shape
    for i in range(rows):
        for j in range(cols):
            label = labels[i, j]
            h = heights[i + halo, j + halo]
            if label == 0 or h != h or out[i, j] == out[i, j]:
                continue
            region = region_of_label[label + offset]
            w = region_level[region]
            if above:
                w += drainage[i, j]
            out[i, j] = max(w - h, np.float32(0))


@numba.njit(cache=True, nogil=True)
def boundary_depth(
    labels: I32,
    offset: int,
    region_of_label: I64,
    heights: F32,
    level: F32,
    region_level: F32,
    region_margin: F32,
    halo: int,
    out: F32,
) -> None:
    """Depth = level - height (at least 0) in the flooded core cells with a height.

    The level is the cell's spread level, kept within its region's median level plus or minus
    the region's margin (shore misclassified as dry or wet gives outlying levels), or the
    median itself where the cell has no spread level.

    Args:
        labels: the core's labels as the tile's own labelling gives them (0 outside the flood).
        offset: the tile's first global label less one.
        region_of_label: the region of every global label.
        heights: DEM heights of the tile and its halo (NaN where none).
        level: the core's spread levels (NaN beyond their reach).
        region_level: each region's median shore level.
        region_margin: how far from the median a level may lie, per region.
        halo: width of the halo around the core in `heights`.
        out: out: the core's depths (m), NaN outside the flood or the DEM.
    """
    rows, cols = out.shape
    for i in range(rows):
        for j in range(cols):
            label = labels[i, j]
            h = heights[i + halo, j + halo]
            if label == 0 or h != h:
                out[i, j] = np.nan
                continue
            region = region_of_label[label + offset]
            middle = region_level[region]
            margin = region_margin[region]
            w = level[i, j]
            if w != w:
                w = middle
            elif middle == middle:
                w = min(max(w, middle - margin), middle + margin)
            out[i, j] = max(w - h, np.float32(0))


@numba.njit(cache=True, nogil=True)
def finite_stats(values: F32) -> tuple[float, float, float, int]:
    """(min, max, sum, count) of the finite values (inf, -inf, 0, 0 if none).

    Args:
        values: a 2-D block.
    """
    low, high, total, count = np.inf, -np.inf, 0.0, 0
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            if v == v:
                low = min(low, v)
                high = max(high, v)
                total += v
                count += 1
    return low, high, total, count
