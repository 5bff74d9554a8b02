"""The three block passes over a scene: value range, histograms (scene and tiles), mask."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from s1flood.classification import kernels
from s1flood.classification.reading import FeatureReader
from s1flood.classification.selection import MIN_FRACTION, MIN_VALID_TILE, TileTally
from s1flood.classification.thresholds import NBINS, Histogram, histogram_edges
from s1flood.errors import DegenerateInputError
from s1flood.parallel import BlockPool, PerThread
from s1flood.raster import BandSpec, Grid, staged_cogs

MIN_VALID_PIXELS = 1000
U8 = npt.NDArray[np.uint8]


@dataclass
class Scene:
    """What the passes share: readers per thread, windows, options."""

    grid: Grid
    readers: PerThread[FeatureReader]
    references: PerThread[FeatureReader] | None
    excluded: U8 | None
    rows: int
    smoothing: int
    refine: int
    pool: BlockPool
    bar: tqdm[Any]

    @property
    def tops(self) -> list[int]:
        """First row of every window."""
        return list(range(0, self.grid.height, self.rows))

    def read(
        self, readers: PerThread[FeatureReader], top: int, halo: int, smooth: bool = True
    ) -> npt.NDArray[Any]:
        """Smoothed value of rows [top - halo, top + rows + halo), NaN where excluded."""
        return self.read_pair(readers, top, halo, smooth)[0]

    def read_pair(
        self,
        readers: PerThread[FeatureReader],
        top: int,
        halo: int,
        smooth: bool = True,
        difference: bool = False,
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        """`read`, and with ``difference`` the two bands' half membership difference alike."""
        rows = min(self.rows, self.grid.height - top)
        size = self.smoothing if smooth else 1
        reader = readers.get()
        values, above = reader.read(top, rows, halo + size // 2, size, difference)
        cut = slice(
            above - min(above, halo), above + rows + min(halo, self.grid.height - top - rows)
        )
        part = values[cut]
        if self.excluded is not None:
            first = top - min(above, halo)
            part[self.excluded[first : first + part.shape[0]] != 0] = np.nan
        return part, reader.difference[cut] if reader.difference is not None else None


FIXED_RANGE_DB = (-40.0, 10.0)
"""Histogram range of the split methods (0.2 dB bins; values outside go to the end bins), so
that they need no pass to find the value range."""


def _check_valid(path: Path, valid: int, lo: float, hi: float) -> None:
    if valid < MIN_VALID_PIXELS:
        raise DegenerateInputError(
            path, f"only {valid} valid pixels (at least {MIN_VALID_PIXELS} needed)"
        )
    if lo == hi:
        raise DegenerateInputError(path, f"constant raster: every valid pixel is {lo:g} dB")


def value_range(scene: Scene, path: Path) -> tuple[float, float]:
    """Smallest and largest valid value of the scene (a pass over the unsmoothed values)."""

    def block_range(top: int) -> tuple[float, float, int]:
        db = scene.read(scene.readers, top, 0, smooth=False)
        count = int(np.count_nonzero(np.isfinite(db)))
        if not count:
            return np.inf, -np.inf, 0
        return float(np.fmin.reduce(db, axis=None)), float(np.fmax.reduce(db, axis=None)), count

    lo, hi, valid = np.inf, -np.inf, 0
    for block_lo, block_hi, count in scene.pool.map(block_range, scene.tops):
        scene.bar.update()
        lo, hi, valid = min(lo, block_lo), max(hi, block_hi), valid + count
    _check_valid(path, valid, lo, hi)
    return lo, hi


def histogram_pass(
    scene: Scene,
    path: Path,
    tile: int,
    selection: tuple[float, float],
    exact_range: bool,
) -> tuple[Histogram, Histogram, TileTally, int]:
    """Scene histogram, summed histogram of the qualifying tiles, tile tally, valid pixels.

    `selection` is (minimum Ashman's D, brightest water mean in dB) of a tile. With
    `exact_range` the bins span the scene's value range (found in a first pass, as
    `np.histogram` would), otherwise `FIXED_RANGE_DB`.
    """
    edges = histogram_edges(*(value_range(scene, path) if exact_range else FIXED_RANGE_DB))
    min_valid = max(1, round(MIN_VALID_TILE * tile * tile))
    buffers: PerThread[npt.NDArray[np.int16]] = PerThread(
        lambda: np.empty((scene.rows, scene.grid.width), dtype=np.int16), lambda _: None
    )

    def binned(top: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[float]]:
        counts = np.zeros(NBINS, dtype=np.int64)
        pooled = np.zeros(NBINS, dtype=np.int64)
        tally = np.zeros(3, dtype=np.int64)
        extremes = np.array([np.inf, -np.inf])
        db = np.ascontiguousarray(scene.read(scene.readers, top, 0))
        bins = buffers.get()[: db.shape[0]]
        kernels.bin_block(db, edges, bins, extremes)
        kernels.tile_histograms(
            bins, edges, tile, min_valid, MIN_FRACTION, *selection, counts, pooled, tally
        )
        return counts, pooled, [*map(float, tally), *map(float, extremes)]

    total = np.zeros(NBINS, dtype=np.int64)
    pooled_total = np.zeros(NBINS, dtype=np.int64)
    tally = TileTally()
    lo, hi = np.inf, -np.inf
    for counts, pooled, (seen, enough, selected, low, high) in scene.pool.map(binned, scene.tops):
        total += counts
        pooled_total += pooled
        tally.tiles += int(seen)
        tally.with_enough_data += int(enough)
        tally.selected += int(selected)
        lo, hi = min(lo, low), max(hi, high)
        scene.bar.update()
    _check_valid(path, int(total.sum()), lo, hi)
    return Histogram(total, edges), Histogram(pooled_total, edges), tally, int(total.sum())


@dataclass
class PairHistograms:
    """Both bands' histograms from one pass: scene, tiles qualifying in both, in each alone."""

    scene: list[Histogram]
    both: list[Histogram]
    alone: list[Histogram]
    both_tally: TileTally
    alone_tally: list[TileTally]


def pair_histogram_pass(
    scene: Scene,
    readers: tuple[PerThread[FeatureReader], PerThread[FeatureReader]],
    path: Path,
    tile: int,
    selection: tuple[float, float, float],
) -> PairHistograms:
    """`histogram_pass` of two bands in one pass (bins `FIXED_RANGE_DB`), tiles in common.

    `selection` is (minimum Ashman's D, brightest water mean of the first band, of the
    second) in dB. A tile counts for both when it qualifies in each band.
    """
    edges = histogram_edges(*FIXED_RANGE_DB)
    min_valid = max(1, round(MIN_VALID_TILE * tile * tile))
    limits = np.array(selection[1:], dtype=np.float64)
    buffers: PerThread[npt.NDArray[np.int16]] = PerThread(
        lambda: np.empty((2, scene.rows, scene.grid.width), dtype=np.int16), lambda _: None
    )

    def binned(top: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[float]]:
        counts = np.zeros((2, NBINS), dtype=np.int64)
        pooled = np.zeros((4, NBINS), dtype=np.int64)
        tally = np.zeros(5, dtype=np.int64)
        extremes = np.array([np.inf, -np.inf])
        both = buffers.get()
        for position, band_readers in enumerate(readers):
            db = np.ascontiguousarray(scene.read(band_readers, top, 0))
            kernels.bin_block(db, edges, both[position, : db.shape[0]], extremes)
        rows = db.shape[0]
        kernels.tile_histograms_pair(
            both[0, :rows], both[1, :rows], edges, tile, min_valid, MIN_FRACTION,
            selection[0], limits, counts, pooled, tally,
        )  # fmt: skip
        return counts, pooled, [*map(float, tally), *map(float, extremes)]

    counts = np.zeros((2, NBINS), dtype=np.int64)
    pooled = np.zeros((4, NBINS), dtype=np.int64)
    tally = np.zeros(5, dtype=np.int64)
    lo, hi = np.inf, -np.inf
    for block_counts, block_pooled, values in scene.pool.map(binned, scene.tops):
        counts += block_counts
        pooled += block_pooled
        tally += np.array(values[:5], dtype=np.int64)
        lo, hi = min(lo, values[5]), max(hi, values[6])
        scene.bar.update(2)
    for band in range(2):
        _check_valid(path, int(counts[band].sum()), lo, hi)

    def tallied(selected: int) -> TileTally:
        return TileTally(int(tally[0]), int(tally[1]), selected)

    return PairHistograms(
        [Histogram(c, edges) for c in counts],
        [Histogram(pooled[0], edges), Histogram(pooled[1], edges)],
        [Histogram(pooled[2], edges), Histogram(pooled[3], edges)],
        tallied(int(tally[2])),
        [tallied(int(tally[3])), tallied(int(tally[4]))],
    )


@dataclass
class MaskOptions:
    """What the mask pass applies."""

    threshold_db: float
    seed_threshold_db: float
    """Seeds: pixels below it; water grows from them to `threshold_db` within the refine box."""
    reference_threshold_db: float
    water_spread_db: float
    land_spread_db: float
    confidence_scale: float
    change_db: float
    change_margin_db: float


def _disagreement(mean: npt.NDArray[Any], half: npt.NDArray[Any], mask: U8) -> list[int]:
    """Valid pixels that only the first band, and only the second, puts below its threshold."""
    valid = mask != kernels.NODATA_U8
    first, second = (mean + half) < 0, (mean - half) < 0
    return [int((first & ~second & valid).sum()), int((second & ~first & valid).sum())]


@dataclass
class MaskCounts:
    """What the mask pass counted."""

    per_row: npt.NDArray[np.int64]
    """[water, valid, confidence sum] per row."""
    new_water: int = 0
    disagreement: list[int] | None = None
    """Two bands: [pixels only the first calls water, pixels only the second does]."""


def mask_pass(
    scene: Scene,
    outputs: list[tuple[Path, BandSpec]],
    options: MaskOptions,
    when_written: Callable[[], object],
    two_bands: bool = False,
) -> MaskCounts:
    """Write mask, confidence (and change) COGs; count water, valid and new water per row.

    With `two_bands` also count where the bands disagree.
    """
    per_row = np.zeros((scene.grid.height, 3), dtype=np.int64)
    halo = scene.refine // 2
    new_total = [0]
    disagreement = [0, 0]
    lock = threading.Lock()
    empty_f32 = np.empty((0, 0), dtype=np.float32)
    empty_u8 = np.empty((0, 0), dtype=np.uint8)
    with staged_cogs(outputs, scene.grid) as writers:

        def work(top: int) -> None:
            rows = min(scene.rows, scene.grid.height - top)
            values, half = scene.read_pair(scene.readers, top, halo, difference=two_bands)
            db = np.ascontiguousarray(values)
            above = min(top, halo)
            change = empty_f32
            if scene.references is not None:
                ref = scene.read(scene.references, top, halo)
                change = np.ascontiguousarray(db - ref)
            seeds = np.empty_like(db)
            new = np.empty(db.shape, dtype=np.uint8) if change.size else empty_u8
            growing = scene.refine > 1
            kernels.water_block(
                db,
                options.threshold_db,
                options.seed_threshold_db if growing else options.threshold_db,
                change,
                options.change_db,
                options.change_margin_db,
                seeds,
                new,
            )
            if growing:
                near_seed = np.empty_like(seeds)
                kernels.box_mean(seeds, scene.refine, near_seed)
                seeds = near_seed
            core = slice(above, above + rows)
            mask = np.empty((rows, scene.grid.width), dtype=np.uint8)
            confidence = np.empty_like(mask)
            excluded = scene.excluded[top : top + rows] if scene.excluded is not None else empty_u8
            kernels.finish_block(
                np.ascontiguousarray(seeds[core]),
                np.ascontiguousarray(db[core]),
                options.threshold_db,
                options.reference_threshold_db,
                options.water_spread_db,
                options.land_spread_db,
                options.confidence_scale,
                np.ascontiguousarray(new[core]) if change.size else empty_u8,
                excluded,
                mask,
                confidence,
                per_row[top : top + rows],
            )
            from rasterio.windows import Window

            window = Window(0, top, scene.grid.width, rows)
            split = _disagreement(db[core], half[core], mask) if half is not None else [0, 0]
            with lock:
                disagreement[0] += split[0]
                disagreement[1] += split[1]
                writers[0].write(mask, 1, window=window)
                writers[1].write(confidence, 1, window=window)
                if change.size:
                    block = np.where(mask == kernels.NODATA_U8, kernels.NODATA_U8, new[core])
                    writers[2].write(block.astype(np.uint8), 1, window=window)
                    new_total[0] += int((block == 1).sum())

        for _ in scene.pool.map(work, scene.tops):
            scene.bar.update()
        when_written()
    return MaskCounts(per_row, new_total[0], disagreement if two_bands else None)
