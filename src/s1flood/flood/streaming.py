"""Streaming the observations window by window into the counts and the flood record COGs.

Per window, every observation is read once (the masks of one acquisition merged), added to
the water/valid counts and packed two bits per pixel (`record_kernels`); then one kernel
walks each pixel's series in time order. Window rows shrink when the packed series would
pass `PACKED_BUDGET`, so memory stays bounded whatever the number of scenes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rasterio.io import DatasetWriter
from rasterio.windows import Window
from tqdm import tqdm

from s1flood import kernels
from s1flood.errors import InvalidMaskError
from s1flood.flood import record_kernels as rk
from s1flood.flood.change import ChangeBuffers, ChangePlan
from s1flood.flood.change import apply as apply_change
from s1flood.flood.observations import Observation
from s1flood.flood.record import PRE_EVENT_FRACTION, RecordPlan
from s1flood.flood.reference import ReferenceReader
from s1flood.mask_sources import MaskReaders, MaskSource, keep_open
from s1flood.parallel import PerThread, ordered_map
from s1flood.raster import BLOCK_ROWS, BandSpec, Grid, pixel_area_km2, row_windows, staged_cogs

PACKED_BUDGET = 96 * 2**20
"""Bytes of one worker's packed series per window (rows shrink to stay below it)."""


def window_rows(observations: int, width: int) -> int:
    """Rows per window: `BLOCK_ROWS`, halved while the packed series passes the budget.

    Args:
        observations: the number of observations.
        width: the grid width.
    """
    per_row = width * max(1, -(-observations // 4))
    rows = BLOCK_ROWS
    while rows > 16 and rows * per_row > PACKED_BUDGET:
        rows //= 2
    return rows


@dataclass
class Streamed:
    """What streaming found besides the COGs: classes per row, per-observation areas."""

    class_per_row: npt.NDArray[np.int64]
    per_observation: npt.NDArray[np.float64]
    """(observations, `record_kernels.PER_OBSERVATION`) km²."""
    stats: dict[str, float] = field(default_factory=dict)
    """Flooded and reference water km², earliest first / latest last flooded day, longest
    durations, most episodes (NaN where none)."""


STAT_NAMES = ("flooded_km2", "reference_water_km2", "first_flooded", "last_flooded",
              "duration_min_days", "duration_max_days", "flood_episodes")  # fmt: skip


def _window_stats(
    blocks: dict[str, npt.NDArray[Any]], area: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """A window's `STAT_NAMES` values (NaN where the window has none)."""
    out = np.full(len(STAT_NAMES), np.nan)
    out[0] = float(((blocks["flood_extent"] == 1).sum(axis=1) * area).sum())
    out[1] = float(((blocks["reference_water"] == 1).sum(axis=1) * area).sum())
    for position, key in enumerate(STAT_NAMES[2:], start=2):
        block = blocks[key]
        known = block[block != (rk.NODATA_U8 if block.dtype == np.uint8 else rk.NODATA_U16)]
        if known.size:
            out[position] = float(known.min() if key == "first_flooded" else known.max())
    return out


def _combine(totals: npt.NDArray[np.float64], window: npt.NDArray[np.float64]) -> None:
    totals[:2] += window[:2]
    totals[2] = np.fmin(totals[2], window[2])
    totals[3:] = np.fmax(totals[3:], window[3:])


class _Buffers:
    """One worker thread's block arrays, reused from window to window."""

    def __init__(self, rows: int, width: int, observations: int) -> None:
        shape = (rows, width)
        self.mask = np.empty(shape, dtype=np.uint8)
        self.other = np.empty(shape, dtype=np.uint8)
        self.water = np.empty(shape, dtype=np.uint16)
        self.valid = np.empty(shape, dtype=np.uint16)
        self.frequency = np.empty(shape, dtype=np.float32)
        self.classes = np.empty(shape, dtype=np.uint8)
        self.packed = np.empty((max(1, -(-observations // 4)), rows, width), dtype=np.uint8)
        self.given = np.full(shape, 255, dtype=np.uint8)
        self.record = {
            key: np.empty(shape, dtype=dtype)
            for key, dtype in (
                ("reference_water", np.uint8),
                ("flood_extent", np.uint8),
                ("flood_count", np.uint16),
                ("first_flooded", np.uint16),
                ("last_flooded", np.uint16),
                ("duration_min_days", np.uint16),
                ("duration_max_days", np.uint16),
                ("flood_episodes", np.uint8),
            )
        }


def _check(bad: bool, mask: npt.NDArray[np.uint8], source: MaskSource) -> None:
    if bad:
        values = np.unique(mask)
        wrong = values[(values > kernels.WATER) & (values != kernels.NODATA_U8)]
        raise InvalidMaskError(source.path, f"value {wrong[0]}")


def _read_observation(
    readers: MaskReaders, observation: Observation, window: Window, mine: _Buffers, rows: int
) -> npt.NDArray[np.uint8]:
    mask = mine.mask[:rows]
    first, *others = observation.sources
    readers.read(first, window, mask)
    for source in others:
        other = mine.other[:rows]
        readers.read(source, window, other)
        _check(rk.merge_masks(mask, other), other, source)
    return mask


def stream(
    grid: Grid,
    plan: RecordPlan,
    outputs: dict[str, Path],
    specs: list[tuple[str, BandSpec]],
    thresholds: tuple[float, float],
    reference: Callable[[], ReferenceReader] | None,
    workers: int,
    progress: bool,
    record: bool = True,
    change: ChangePlan | None = None,
) -> Streamed:
    """Write the counts, frequency, classes and flood record COGs of `plan`'s observations.

    Args:
        grid: the output grid.
        plan: the observations and how each enters the record.
        outputs: output paths by key (`specs`' keys).
        specs: each output's key and band spec, in writing order.
        thresholds: the frequency classes' candidate and permanent thresholds.
        reference: makes one thread's reader of a user reference raster, or None.
        workers: worker threads.
        progress: show a progress bar.
        record: also the flood record; False: the counts of every mask (not merged by
            acquisition), frequency and classes only, as before the record existed.
        change: the backscatter change rule's plan (`s1flood.flood.change`), or None.
    """
    candidate, permanent = thresholds
    sources = [s for o in plan.observations for s in o.sources]
    n = len(plan.observations)
    rows_per_window = window_rows(n if record else 0, grid.width)
    area_per_row = pixel_area_km2(grid)
    kept = keep_open(workers)
    readers = PerThread(lambda: MaskReaders(grid, sources, kept), lambda r: r.close())
    buffers = PerThread(
        lambda: _Buffers(rows_per_window, grid.width, n if record else 0), lambda _: None
    )
    given = PerThread(reference or (lambda: None), lambda r: r.close() if r else None)
    orbits = change.orbits if change is not None else 0
    change_buffers = PerThread(
        lambda: ChangeBuffers(orbits, rows_per_window, grid.width), lambda _: None
    )
    lock = threading.Lock()
    write: dict[str, DatasetWriter] = {}

    def one(
        window: Window,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        rows, top = int(window.height), int(window.row_off)
        mine = buffers.get()
        water, valid, packed = mine.water[:rows], mine.valid[:rows], mine.packed[:, :rows]
        water.fill(0)
        valid.fill(0)
        if not record:
            for source in sources:
                readers.get().read(source, window, mine.mask[:rows])
                bad = kernels.accumulate_mask(mine.mask[:rows], water, valid)
                _check(bad, mine.mask[:rows], source)
        packed.fill(0)
        changes = change_buffers.get() if change is not None else None
        if changes is not None:
            changes.reset(rows)
        for index, observation in enumerate(plan.observations if record else ()):
            mask = _read_observation(readers.get(), observation, window, mine, rows)
            marked = False
            if change is not None and changes is not None:
                kind = int(plan.kinds[index])
                marked, bad = apply_change(change, changes, index, kind, mask, grid, window)
                _check(bad, mask, observation.sources[0])
            bad = rk.pack_observation(mask, index, packed, water, valid, marked)
            _check(bad, mask, observation.sources[0])
        frequency, classes = mine.frequency[:rows], mine.classes[:rows]
        per_row = np.zeros((rows, 3), dtype=np.int64)
        kernels.frequency_classes(water, valid, candidate, permanent, frequency, classes, per_row)
        per_observation = np.zeros((n, rk.PER_OBSERVATION), dtype=np.float64)
        if not record:
            with lock:
                for key, writer in write.items():
                    writer.write({"water_count": water, "valid_count": valid,
                                  "frequency": frequency, "classes": classes}[key], 1,
                                 window=window)  # fmt: skip
            return per_row, per_observation, np.zeros(len(STAT_NAMES))
        reader = given.get()
        if reader is not None:
            reader.read(window, mine.given[:rows])
        blocks = {key: array[:rows] for key, array in mine.record.items()}
        rk.flood_record(
            packed, water, valid, plan.days, plan.kinds, mine.given[:rows], reader is not None,
            plan.event_mode, permanent, PRE_EVENT_FRACTION, area_per_row[top : top + rows],
            blocks["reference_water"], blocks["flood_extent"], blocks["flood_count"],
            blocks["first_flooded"], blocks["last_flooded"], blocks["duration_min_days"],
            blocks["duration_max_days"], blocks["flood_episodes"], per_observation,
        )  # fmt: skip
        blocks.update(water_count=water, valid_count=valid, frequency=frequency, classes=classes)
        with lock:
            for key, writer in write.items():
                writer.write(blocks[key], 1, window=window)
        return per_row, per_observation, _window_stats(blocks, area_per_row[top : top + rows])

    class_per_row = np.zeros((grid.height, 3), dtype=np.int64)
    totals = np.zeros((n, rk.PER_OBSERVATION), dtype=np.float64)
    summed = np.zeros(len(STAT_NAMES))
    summed[2:] = np.nan
    windows = row_windows(grid.height, grid.width, rows_per_window)
    with staged_cogs([(outputs[key], spec) for key, spec in specs], grid) as writers:
        write.update(zip([key for key, _ in specs], writers, strict=True))
        try:
            with tqdm(
                total=len(windows),
                desc="aggregate",
                unit="block",
                disable=None if progress else True,
            ) as bar:
                for window, (per_row, per_obs, window_stats) in zip(
                    windows, ordered_map(one, windows, workers), strict=True
                ):
                    top = int(window.row_off)
                    class_per_row[top : top + per_row.shape[0]] = per_row
                    totals += per_obs
                    _combine(summed, window_stats)
                    bar.update()
        finally:
            readers.close()
            given.close()
    stats = {name: float(v) for name, v in zip(STAT_NAMES, summed, strict=True)}
    return Streamed(class_per_row, totals, stats)
