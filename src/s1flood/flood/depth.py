"""Maximum flood depth from a flood extent and a DEM, per connected flooded region.

Two deterministic estimators of the water level, both from the flood's shore: the flooded
cells beside observed dry cells (cells beside nodata or the grid's edge are not shore, nor
cells beside a small hole: a 4-connected dry component of at most `MAX_HOLE_PX` cells whose
every neighbour is flooded, a speckle or a misclassified pixel inside the water, which would
pull the level down to the terrain there; holes are outside the flood, so their depth stays
nodata), each
giving the level midway between its height and its dry neighbours' (the waterline lies
between them; a dry neighbour rising more than `BANK_SLOPE` is a bank that bounds the
level without placing it, left out):

- ``boundary`` (FwDET v2.1 type, Cohen et al. 2019): each shore level is replaced by the
  median of the shore levels within `SEED_RADIUS_PX`; every flooded cell takes the level of
  its nearest shore cell (3-4 chamfer distance, lower level on ties), averaged over the
  flooded cells of a 5 x 5 square and kept within `CLIP_SPREADS` robust spreads of its
  region's median shore level (misclassified shore cells give outlying levels); cells
  further than `SPREAD_REACH_PX` from any shore take that median.
- ``hand`` (HydroSAR type): a region's level above drainage is the median over its shore of
  the height above the drainage its cells flow to (from the project's HAND flow tree, on the
  depression-filled surface, so a closed basin's water sits level); the water surface is
  the drainage height plus that level. A median, not basin-hopping: deterministic.

Depth = water level - terrain height, at least 0: a flooded cell the level does not reach
has depth 0, never nodata. Depth is nodata (NaN) only outside the flood or where the DEM
has no height (one warning says how much). A region without any shore takes the highest
level among its own cells (depth 0 there).

Memory: two passes over tiles of `window` x `window` cells. Pass 1 labels each tile's
flooded regions (8-connected), keeps only their shore samples and the labels on the tile's
four edges; union-find merges the labels across tile edges into regions, whose levels come
from their shore samples. Pass 2 labels each tile again (same labels) and writes its depths.
Nothing of the size of the grid is held but the shore samples (12 bytes per shore cell) and,
for ``hand``, the drainage heights at a resolution of at most `HAND_MAX_PIXELS` cells.
``auto`` is ``boundary``, measured by ``benchmarks/bench_depth.py`` (RMSE / bias in m,
boundary vs hand): flume 0.000/0.000 vs 1.77/-0.17, bowl 0.004/-0.002 vs 0.002/-0.002,
valley with a falling water surface 0.010/-0.010 vs 0.17/+0.06, the real DEM with a flat
level 0.11/-0.05 vs 2.54/-1.64 and with 3 % of the shore misclassified 0.27/-0.16 vs
2.66/-1.82; hand is better only where the water follows the drainage across 100 m of
relief (0.79/+0.02 vs 1.08/-0.37), which a connected water body does not.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.windows import Window
from scipy import ndimage

from s1flood.classification.exclusion import CHANNEL_AREA_KM2
from s1flood.classification.hand import flow_tree, hand_from_tree
from s1flood.errors import InvalidOptionError
from s1flood.flood import depth_kernels as k
from s1flood.mask_sources import mask_grid, pixel_offset
from s1flood.parallel import PerThread, default_workers, ordered_map
from s1flood.preprocessing.dem import DemSampler, _sample_bilinear
from s1flood.raster import (
    BandSpec,
    CogOptions,
    Grid,
    check_writable_dir,
    cog_writer,
    open_raster,
    pixel_area_km2,
    reading,
)

log = logging.getLogger(__name__)

METHODS = ("auto", "boundary", "hand")
AUTO_METHOD = "boundary"
SPREAD_REACH_PX = 120
"""Furthest a shore level spreads inward (pixels); beyond, a region's median shore level."""
SMOOTH_RADIUS_PX = 2
"""Half-width of the square the boundary levels are averaged over (pixels)."""
CLIP_SPREADS = 3.0
"""A boundary level further than this many robust spreads from its region's median is clipped."""
SEED_RADIUS_PX = 7
"""Each shore level is the median of the shore levels within this many pixels."""
HALO_PX = SPREAD_REACH_PX + SMOOTH_RADIUS_PX + SEED_RADIUS_PX + 1
BANK_SLOPE = 0.1
"""A dry cell rising more than this (m per m) from the flooded cell beside it is a bank."""
MAX_HOLE_PX = 64
"""A dry component of at most this many pixels enclosed by the flood is a hole, not shore."""
HAND_MAX_PIXELS = 4_000_000
"""Most cells the drainage heights are computed on (a coarser grid above this)."""
MIN_WINDOW = 64
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
UNKNOWN = 255

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
NO_ARRAY = np.zeros((1, 1), dtype=np.float32)


@dataclass
class DepthResult:
    """What `flood_depth` wrote and measured."""

    method: str
    output: Path
    regions: int
    flooded_pixels: int
    outside_dem_pixels: int
    outside_dem_km2: float
    depth_min_m: float | None
    depth_mean_m: float | None
    depth_max_m: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (the output as a string)."""
        record = asdict(self)
        record["output"] = str(self.output)
        return record


@dataclass(frozen=True)
class _Tile:
    row: int
    col: int
    top: int
    left: int
    height: int
    width: int


@dataclass
class _Summary:
    """Pass 1's record of one tile: its labels' shore samples, maxima and edges."""

    labels: int
    ids: I32
    levels: F32
    above: F32
    max_level: F32
    max_above: F32
    edges: dict[str, I32] = field(default_factory=dict)
    flooded: int = 0
    outside: int = 0
    outside_km2: float = 0.0


@dataclass
class _Regions:
    """Every label's region and every region's level."""

    offsets: list[int]
    region_of_label: I64
    count: int
    level: F32
    level_above: F32
    spread: F32
    """Each region's robust spread of shore levels (1.4826 x median absolute deviation)."""


class _Job:
    """One depth computation: the inputs opened per thread and the tiles of the grid."""

    def __init__(
        self, extent: Path, dem: Path, method: str, window: int, extent_name: str | None = None
    ) -> None:
        self.extent_path = extent
        self.extent_name = extent_name or extent.name
        self.grid = mask_grid(extent)
        self.method = method
        self.sampler = DemSampler(dem, vertical="ellipsoid")
        with open_raster(dem) as src:
            dem_grid = Grid.of(src)
        self.dem_offset = pixel_offset(dem_grid, self.grid)
        """(column, row) of the grid's origin in the DEM when their pixels coincide."""
        self.dems: PerThread[DatasetReader] = PerThread(
            lambda: open_raster(dem), lambda ds: ds.close()
        )
        self.extents: PerThread[DatasetReader] = PerThread(
            lambda: open_raster(extent), lambda ds: ds.close()
        )
        g = self.grid
        self.tiles = [
            _Tile(r, c, top, left, min(window, g.height - top), min(window, g.width - left))
            for r, top in enumerate(range(0, g.height, window))
            for c, left in enumerate(range(0, g.width, window))
        ]
        self.areas = pixel_area_km2(g)
        self.max_rise = BANK_SLOPE * 1000.0 * math.sqrt(float(np.mean(self.areas)))
        self.drainage: F32 | None = None
        self.drainage_factor = 1
        self.halo = HALO_PX if method == "boundary" else 1

    def close(self) -> None:
        """Close every dataset the threads opened."""
        self.extents.close()
        self.dems.close()
        self.sampler.close()

    def read_extent(self, tile: _Tile, halo: int) -> U8:
        """The tile's extent with `halo` cells around it (255 beyond the grid), holes marked.

        Read `MAX_HOLE_PX` + 1 cells further, so that whether a dry cell within `halo` is a
        small hole (`depth_kernels.HOLE`, not shore) is decided as on the whole grid.
        """
        margin = MAX_HOLE_PX + 1
        extent = self._read_extent(tile, halo + margin)
        k.mark_small_holes(extent, MAX_HOLE_PX)
        return np.ascontiguousarray(extent[margin:-margin, margin:-margin])

    def _read_extent(self, tile: _Tile, halo: int) -> U8:
        """The tile's extent with `halo` cells around it (255 beyond the grid)."""
        g = self.grid
        top, left = tile.top - halo, tile.left - halo
        out = np.full((tile.height + 2 * halo, tile.width + 2 * halo), UNKNOWN, np.uint8)
        r0, c0 = max(top, 0), max(left, 0)
        r1 = min(tile.top + tile.height + halo, g.height)
        c1 = min(tile.left + tile.width + halo, g.width)
        with reading(self.extent_path):
            self.extents.get().read(
                1,
                window=Window(c0, r0, c1 - c0, r1 - r0),
                out=out[r0 - top : r1 - top, c0 - left : c1 - left],
            )
        return out

    def heights(self, tile: _Tile, halo: int) -> F32:
        """DEM heights (bilinear) on the tile and `halo` cells around it, NaN where none."""
        if self.dem_offset is not None:
            return self._aligned_heights(tile, halo)
        t = self.grid.transform * Affine.translation(tile.left - halo, tile.top - halo)
        sub = Grid(self.grid.crs, t, tile.width + 2 * halo, tile.height + 2 * halo)
        return self.sampler.heights(sub)

    def _aligned_heights(self, tile: _Tile, halo: int) -> F32:
        """Heights read as they are from a DEM whose pixels are the grid's (bilinear = copy)."""
        assert self.dem_offset is not None
        ds = self.dems.get()
        column, row = self.dem_offset
        top, left = tile.top - halo + row, tile.left - halo + column
        out = np.full((tile.height + 2 * halo, tile.width + 2 * halo), np.nan, np.float32)
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + out.shape[0], ds.height), min(left + out.shape[1], ds.width)
        if r0 >= r1 or c0 >= c1:
            return out
        part = out[r0 - top : r1 - top, c0 - left : c1 - left]
        with reading(self.sampler.path):
            ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), out=part)
        if ds.nodata is not None and np.isfinite(ds.nodata):
            part[part == np.float32(ds.nodata)] = np.nan
        return out

    def drainage_on(self, tile: _Tile, halo: int) -> F32:
        """Drainage heights on the tile and `halo` around it (bilinear from the coarse grid)."""
        assert self.drainage is not None
        f = self.drainage_factor
        h, w = self.drainage.shape
        rows = np.arange(tile.top - halo, tile.top + tile.height + halo, dtype=np.float64)
        cols = np.arange(tile.left - halo, tile.left + tile.width + halo, dtype=np.float64)
        rows = np.clip((rows + 0.5) / f - 0.5, 0, h - 1)
        cols = np.clip((cols + 0.5) / f - 0.5, 0, w - 1)
        out = np.full((rows.size, cols.size), np.nan, np.float32)
        _sample_bilinear(self.drainage, rows, cols, out)
        return out

    def prepare_drainage(self) -> None:
        """Drainage heights of the whole grid, coarsened to at most `HAND_MAX_PIXELS` cells."""
        g = self.grid
        f = max(1, math.ceil(math.sqrt(g.width * g.height / HAND_MAX_PIXELS)))
        coarse = Grid(g.crs, g.transform * Affine.scale(f), -(-g.width // f), -(-g.height // f))
        resampling = Resampling.average if f > 1 else Resampling.bilinear
        heights = self.sampler.heights(coarse, resampling)
        self.drainage, self.drainage_factor = drainage_heights(heights, coarse), f
        log.info("drainage heights on a %d x %d grid", coarse.width, coarse.height)


def drainage_heights(heights: F32, grid: Grid) -> F32:
    """The height of the drainage each cell flows to, on the depression-filled surface.

    HAND's flow tree (`classification.hand`) over the filled surface: a cell's drainage is
    the filled height of the first channel cell on its flow path, so a closed basin drains
    to its spill height. The grid's edge cells, outlets of their own, take their inner
    neighbours' drainage; NaN cells of the DEM take the nearest cell's.

    Args:
        heights: DEM heights on `grid` (NaN where none).
        grid: the grid of `heights` (for the channels' contributing area).
    """
    heights = np.ascontiguousarray(heights, dtype=np.float32)
    channel_cells = max(50, round(CHANNEL_AREA_KM2 / float(np.mean(pixel_area_km2(grid)))))
    order, receiver = flow_tree(heights)
    filled = k.filled_heights(heights, order, receiver)
    drainage: F32 = (filled - hand_from_tree(filled, order, receiver, channel_cells)).astype(
        np.float32
    )
    if min(drainage.shape) > 2:
        # the edge cells are outlets of their own in the flow tree: their inner neighbours'
        drainage[0], drainage[-1] = drainage[1], drainage[-2]
        drainage[:, 0], drainage[:, -1] = drainage[:, 1], drainage[:, -2]
    missing = ~np.isfinite(drainage)
    if missing.all():
        return np.zeros_like(drainage)
    if missing.any():
        nearest = ndimage.distance_transform_edt(
            missing, return_distances=False, return_indices=True
        )
        drainage = drainage[tuple(nearest)]
    return drainage


def _edges(labels: I32) -> dict[str, I32]:
    return {
        "top": labels[0].copy(),
        "bottom": labels[-1].copy(),
        "left": labels[:, 0].copy(),
        "right": labels[:, -1].copy(),
    }


def _summarise(job: _Job, tile: _Tile) -> _Summary:
    """Pass 1 on one tile: label its flooded regions, sample their shores."""
    extent = job.read_extent(tile, 1)
    flooded = extent[1:-1, 1:-1] == k.FLOODED
    labels, count = ndimage.label(flooded, structure=EIGHT_CONNECTED, output=np.int32)
    empty = np.zeros(0, np.float32)
    if count == 0:
        none = np.full(1, -np.inf, np.float32)
        return _Summary(0, np.zeros(0, np.int32), empty, empty, none, none, _edges(labels))
    heights = job.heights(tile, 1)
    use_drainage = job.method == "hand"
    drainage = job.drainage_on(tile, 1) if use_drainage else NO_ARRAY
    size = int(flooded.sum())
    ids = np.empty(size, np.int32)
    levels = np.empty(size, np.float32)
    above = np.empty(size, np.float32)
    n = k.shore_samples(
        extent, heights, drainage, use_drainage, labels, 1, job.max_rise, ids, levels, above
    )
    core = heights[1:-1, 1:-1]
    max_level = k.label_maxima(labels, core, count)
    max_above = (
        k.label_maxima(labels, core - drainage[1:-1, 1:-1], count) if use_drainage else max_level
    )
    outside_rows = (flooded & ~np.isfinite(core)).sum(axis=1)
    areas = job.areas[tile.top : tile.top + tile.height]
    return _Summary(
        count,
        ids[:n].copy(),
        levels[:n].copy(),
        above[:n].copy(),
        max_level,
        max_above,
        _edges(labels),
        size,
        int(outside_rows.sum()),
        float((outside_rows * areas).sum()),
    )


def _touching(a: I32, b: I32, offset_a: int, offset_b: int, diagonal: bool) -> list[I64]:
    """Pairs of global labels of two facing edge lines (`diagonal`: 8-connected)."""
    pairs: list[I64] = []
    shifts = (-1, 0, 1) if diagonal else (0,)
    n = a.size
    for s in shifts:
        x = a[max(0, -s) : n - max(0, s)]
        y = b[max(0, s) : n - max(0, -s)]
        both = (x > 0) & (y > 0)
        if both.any():
            pairs.append(np.stack([x[both] + offset_a, y[both] + offset_b]).astype(np.int64))
    return pairs


def _regions(job: _Job, summaries: list[_Summary]) -> _Regions:
    """Merge the tiles' labels across their edges and give every region its levels."""
    offsets = np.concatenate([[0], np.cumsum([s.labels for s in summaries])]).astype(int)
    total = int(offsets[-1])
    by_position = {(t.row, t.col): i for i, t in enumerate(job.tiles)}
    pairs: list[I64] = []
    for i, tile in enumerate(job.tiles):
        here = summaries[i]
        above = by_position.get((tile.row - 1, tile.col))
        left = by_position.get((tile.row, tile.col - 1))
        if above is not None:
            up = summaries[above]
            pairs += _touching(
                here.edges["top"], up.edges["bottom"], offsets[i], offsets[above], True
            )
        if left is not None:
            side = summaries[left]
            pairs += _touching(
                here.edges["left"], side.edges["right"], offsets[i], offsets[left], True
            )
        for corner, mine, theirs in (((-1, -1), 0, -1), ((-1, 1), -1, 0)):
            other = by_position.get((tile.row + corner[0], tile.col + corner[1]))
            if other is not None:
                a = here.edges["top"][mine]
                b = summaries[other].edges["bottom"][theirs]
                if a > 0 and b > 0:
                    pairs.append(np.array([[a + offsets[i]], [b + offsets[other]]], np.int64))
    joined = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), np.int64)
    roots = k.union_roots(total + 1, joined[0], joined[1])
    unique_roots, region = np.unique(roots[1:], return_inverse=True)
    region_of_label = np.concatenate([[-1], region]).astype(np.int64)
    count = int(unique_roots.size)
    ids = np.concatenate([s.ids.astype(np.int64) + offsets[i] for i, s in enumerate(summaries)])
    sample_regions = region_of_label[ids]
    fallback = np.full(count, -np.inf, np.float32)
    fallback_above = np.full(count, -np.inf, np.float32)
    for i, s in enumerate(summaries):
        if s.labels:
            r = region_of_label[offsets[i] + 1 : offsets[i + 1] + 1]
            np.maximum.at(fallback, r, s.max_level[1:])
            np.maximum.at(fallback_above, r, s.max_above[1:])
    levels = np.concatenate([s.levels for s in summaries])
    level = _medians(sample_regions, levels, fallback)
    level_above = _medians(
        sample_regions, np.concatenate([s.above for s in summaries]), fallback_above
    )
    deviation = np.abs(levels - level[sample_regions]).astype(np.float32)
    spread = 1.4826 * _medians(sample_regions, deviation, np.zeros(count, np.float32))
    return _Regions([int(o) for o in offsets], region_of_label, count, level, level_above, spread)


def _medians(regions: I64, values: F32, fallback: F32) -> F32:
    """The median of each region's values (the lower middle one), else `fallback`."""
    out = fallback.copy()
    if regions.size == 0:
        return out
    order = np.lexsort((values, regions))
    ordered = regions[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    out[ordered[starts]] = values[order[(starts + ends - 1) // 2]]
    return out


def _fill_from_regions(
    job: _Job, regions: _Regions, index: int, extent: U8, heights: F32, levels: F32, out: F32
) -> None:
    """Give the flooded cells of tile `index` still without depth their region's level."""
    halo = job.halo
    core = extent[halo:-halo, halo:-halo] == k.FLOODED
    labels, _ = ndimage.label(core, structure=EIGHT_CONNECTED, output=np.int32)
    drainage = job.drainage_on(job.tiles[index], 0) if job.method == "hand" else NO_ARRAY
    offset = regions.offsets[index]
    k.depth_from_regions(
        labels, offset, regions.region_of_label, heights, levels, drainage, halo, out
    )


def _depth_tile(job: _Job, regions: _Regions, index: int) -> tuple[F32, tuple[float, ...]]:
    """Pass 2 on one tile: its depths (NaN outside the flood or the DEM) and their stats."""
    tile = job.tiles[index]
    halo = job.halo
    extent = job.read_extent(tile, halo)
    out = np.full((tile.height, tile.width), np.nan, np.float32)
    if not (extent[halo:-halo, halo:-halo] == k.FLOODED).any():
        return out, k.finite_stats(out)
    heights = job.heights(tile, halo)
    if job.method == "hand":
        _fill_from_regions(job, regions, index, extent, heights, regions.level_above, out)
        return out, k.finite_stats(out)
    distance = np.empty(extent.shape, np.int32)
    spread = np.empty(extent.shape, np.float32)
    k.spread_shore_levels(extent, heights, job.max_rise, SEED_RADIUS_PX, distance, spread)
    level = np.empty(out.shape, np.float32)
    reach = k.STEP * SPREAD_REACH_PX
    k.smoothed_levels(extent, distance, spread, reach, SMOOTH_RADIUS_PX, halo, level)
    core = extent[halo:-halo, halo:-halo] == k.FLOODED
    labels, _ = ndimage.label(core, structure=EIGHT_CONNECTED, output=np.int32)
    k.boundary_depth(
        labels,
        regions.offsets[index],
        regions.region_of_label,
        heights,
        level,
        regions.level,
        (CLIP_SPREADS * regions.spread).astype(np.float32),
        halo,
        out,
    )
    return out, k.finite_stats(out)


def _resolve(method: str, window: int) -> str:
    if method not in METHODS:
        raise InvalidOptionError("method", method, f"use one of {', '.join(METHODS)}")
    if window < MIN_WINDOW:
        raise InvalidOptionError("window", window, f"use at least {MIN_WINDOW}")
    return AUTO_METHOD if method == "auto" else method


def flood_depth(
    flood_extent: Path,
    dem: Path,
    output: Path,
    *,
    method: str = "auto",
    window: int = 1024,
    extent_name: str | None = None,
) -> DepthResult:
    """Write the maximum flood depth (m) of a flood extent over a DEM as a float32 COG.

    Args:
        flood_extent: a uint8 raster on the output grid: 1 flooded, 0 not flooded, 255 nodata.
        dem: terrain heights (m), a GeoTIFF in any CRS; read bilinear onto the extent's grid.
        output: the depth COG to write (replaced atomically): metres, NaN outside the flood
            or the DEM, 0 inside the flood where the terrain is above the water level.
        method: ``boundary`` (FwDET-type level spread in from the shore), ``hand``
            (HydroSAR-type level above drainage per region) or ``auto`` (``boundary``).
        window: tile size (pixels) the grid is processed in; bounds the memory.
        extent_name: what the depth COG's tags call the extent (a temporary copy's
            name would make every run's file differ); default its file name.
    """
    resolved = _resolve(method, window)
    check_writable_dir(output.parent)
    job = _Job(Path(flood_extent), Path(dem), resolved, window, extent_name)
    try:
        return _run(job, output)
    finally:
        job.close()


def _run(job: _Job, output: Path) -> DepthResult:
    workers = default_workers()
    if job.method == "hand":
        job.prepare_drainage()
    summaries = list(ordered_map(lambda t: _summarise(job, t), job.tiles, workers))
    regions = _regions(job, summaries)
    flooded = sum(s.flooded for s in summaries)
    outside = sum(s.outside for s in summaries)
    outside_km2 = sum(s.outside_km2 for s in summaries)
    del summaries
    log.info("%d flooded pixels in %d regions", flooded, regions.count)
    if outside:
        log.warning(
            "%s has no heights under %d of %d flooded pixels (%.1f%% of the flood, %.3f km²): "
            "depth is nodata there",
            job.sampler.path.name,
            outside,
            flooded,
            100 * outside / flooded,
            outside_km2,
        )
    spec = BandSpec(
        "float32",
        float("nan"),
        "depth_max",
        CogOptions(level=1, predictor="FLOATING_POINT", resampling="AVERAGE", compress="ZSTD"),
        tags={
            "units": "m",
            "quantity": "maximum flood depth",
            "meaning": "water level minus terrain height, 0 inside the flood where the terrain "
            "is above the level; NaN outside the flood or the DEM",
            "method": job.method,
            "flood_extent": job.extent_name,
            "dem": job.sampler.path.name,
        },
    )
    low, high, total, count = math.inf, -math.inf, 0.0, 0
    with cog_writer(output, job.grid, spec) as writer:
        writer.set_band_unit(1, "m")
        indices = range(len(job.tiles))
        tiles = ordered_map(lambda i: _depth_tile(job, regions, i), indices, workers)
        for tile, (depth, stats) in zip(job.tiles, tiles, strict=True):
            writer.write(depth, 1, window=Window(tile.left, tile.top, tile.width, tile.height))
            low, high = min(low, stats[0]), max(high, stats[1])
            total += stats[2]
            count += int(stats[3])
    return DepthResult(
        job.method,
        output,
        regions.count,
        flooded,
        outside,
        outside_km2,
        low if count else None,
        total / count if count else None,
        high if count else None,
    )
