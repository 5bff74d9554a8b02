"""The true flood record of a simulation, derived from its ``scenario.json``.

Per pixel, over the acquisitions that observe it (inside its track's footprint, and valid in
the masks when those are given): the first and last flooded dates (days since 1970-01-01 UTC),
the number of flooded and of observed acquisitions, and the true flooded span in days, the
time the river stage stayed above the pixel's flood onset stage (between the acquisitions the
stage follows the scenario's hydrograph). Flooded means water that is not permanent water
(water at the river's normal level). What the record of the masks should find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import Resampling

from s1flood.errors import InvalidOptionError
from s1flood.raster import Grid, warped_onto
from s1flood.synthetic.scenario import TRUTH_NODATA, TRUTH_WATER, hydrograph_crossings

Bool = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

NO_DATE = -1
"""First/last flooded day of a pixel never seen flooded."""


@dataclass
class TruthRecord:
    """The true flood record on one grid (the DEM's, or the grid the truth was read onto)."""

    times: list[datetime]
    relative_orbits: list[int]
    phases: list[str]
    flooded: Bool
    """(acquisitions, rows, cols): flooded (water, not permanent) and observed."""
    observed: Bool
    """(acquisitions, rows, cols): observed by the acquisition (and valid, when given)."""
    permanent_water: Bool
    always_dark: Bool | None
    """Always-dark land, or None when the simulation has none."""
    span_days: F32
    """The true flooded span (days); NaN where the pixel never floods or is permanent water."""
    grid: Grid

    @property
    def days(self) -> I32:
        """The day (since 1970-01-01 UTC) of each acquisition."""
        return np.array([_day(t) for t in self.times], np.int32)

    @property
    def peak(self) -> int:
        """The index of the peak acquisition (the first, if none is marked peak)."""
        return self.phases.index("peak") if "peak" in self.phases else 0

    @property
    def flood_count(self) -> npt.NDArray[np.int16]:
        """Flooded observations per pixel."""
        return np.asarray(self.flooded.sum(axis=0), dtype=np.int16)

    @property
    def observed_count(self) -> npt.NDArray[np.int16]:
        """Observations per pixel."""
        return np.asarray(self.observed.sum(axis=0), dtype=np.int16)

    @property
    def extent(self) -> Bool:
        """Flooded in at least one observation (the maximum observed flood extent)."""
        return np.asarray(self.flooded.any(axis=0), dtype=bool)

    @property
    def first_flooded(self) -> I32:
        """The first flooded day per pixel; `NO_DATE` where never flooded."""
        first = np.argmax(self.flooded, axis=0)
        return np.where(self.extent, self.days[first], NO_DATE).astype(np.int32)

    @property
    def last_flooded(self) -> I32:
        """The last flooded day per pixel; `NO_DATE` where never flooded."""
        n = self.flooded.shape[0]
        last = n - 1 - np.argmax(self.flooded[::-1], axis=0)
        return np.where(self.extent, self.days[last], NO_DATE).astype(np.int32)


def truth_record(
    scenario: Path, like: Path | None = None, valid: Bool | None = None
) -> TruthRecord:
    """The true flood record of a simulation.

    Memory: one byte per pixel and acquisition for each of two stacks.

    Args:
        scenario: the simulation's ``scenario.json``.
        like: a raster whose grid the truth is read onto (nearest); default the DEM grid.
        valid: (acquisitions, rows, cols) on that grid: where each acquisition's mask is
            valid; the truth then counts only those observations.
    """
    doc = json.loads(Path(scenario).read_text(encoding="utf-8"))
    if "truth" not in doc or "hydrograph" not in doc:
        raise InvalidOptionError(
            "scenario", str(scenario), "has no truth section (simulated by an older s1flood)"
        )
    base = Path(scenario).parent
    truth, acquisitions = doc["truth"], doc["acquisitions"]
    grid = _grid(base / acquisitions[0]["truth"], like)
    permanent = _read(base / truth["permanent_water"], grid)[0] == TRUTH_WATER
    footprints = {int(k): _read(base / v, grid)[0] == 1 for k, v in truth["observed"].items()}
    n = len(acquisitions)
    observed = np.empty((n, grid.height, grid.width), bool)
    flooded = np.empty_like(observed)
    for k, acq in enumerate(acquisitions):
        water = _read(base / acq["truth"], grid)[0]
        observed[k] = footprints[int(acq["relative_orbit"])] & (water != TRUTH_NODATA)
        if valid is not None:
            observed[k] &= valid[k]
        flooded[k] = (water == TRUTH_WATER) & ~permanent & observed[k]
    dark = None
    if truth.get("always_dark"):
        dark = _read(base / truth["always_dark"], grid)[0] == 1
    onset = _read(base / truth["flood_onset_stage"], grid)[0]
    return TruthRecord(
        times=[datetime.fromisoformat(a["time"]) for a in acquisitions],
        relative_orbits=[int(a["relative_orbit"]) for a in acquisitions],
        phases=[str(a["phase"]) for a in acquisitions],
        flooded=flooded,
        observed=observed,
        permanent_water=permanent,
        always_dark=dark,
        span_days=flooded_span_days(doc, onset),
        grid=grid,
    )


def flooded_span_days(doc: dict[str, Any], onset: F32) -> F32:
    """How long (days) the river stage stays above each pixel's flood onset stage.

    The stage follows the hydrograph (`s1flood.synthetic.scenario.hydrograph`) through the
    acquisitions: the fraction of the window of each acquisition maps to its time, linearly
    in between. NaN where the onset is below 0 (permanent water), at or above the peak stage
    (never flooded) or unknown.

    Args:
        doc: the parsed ``scenario.json``.
        onset: the flood onset stage per pixel (m).
    """
    hydro, acquisitions = doc["hydrograph"], doc["acquisitions"]
    fractions = np.array([float(a["fraction"]) for a in acquisitions])
    seconds = np.array([datetime.fromisoformat(a["time"]).timestamp() for a in acquisitions])
    if len(fractions) < 2:
        return np.full(onset.shape, np.nan, np.float32)
    with np.errstate(invalid="ignore"):
        rise, fall = hydrograph_crossings(onset / float(hydro["peak_stage_m"]), hydro["peak_at"])
    t_rise = np.interp(rise, fractions, seconds)
    t_fall = np.interp(fall, fractions, seconds)
    return np.asarray((t_fall - t_rise) / 86400.0, dtype=np.float32)


def truth_depth(scenario: Path, index: int, like: Path | None = None) -> F32:
    """The true water depth (m) of one acquisition; NaN where dry.

    Args:
        scenario: the simulation's ``scenario.json``.
        index: the acquisition's index.
        like: a raster whose grid the depth is read onto (nearest); default the DEM grid.
    """
    doc = json.loads(Path(scenario).read_text(encoding="utf-8"))
    base = Path(scenario).parent
    path = base / doc["acquisitions"][index]["level"]
    return np.asarray(_read(path, _grid(path, like))[1], dtype=np.float32)


def _day(t: datetime) -> int:
    return int((t.astimezone(UTC).timestamp()) // 86400)


def _grid(default: Path, like: Path | None) -> Grid:
    with rasterio.open(like if like is not None else default) as src:
        return Grid.of(src)


def _read(path: Path, grid: Grid) -> npt.NDArray[Any]:
    """All bands of a truth raster on a grid (nearest; outside: its nodata, NaN or 255)."""
    with rasterio.open(path) as src:
        nodata = src.nodata if src.nodata is not None else TRUTH_NODATA
        if Grid.of(src).same_as(grid):
            return np.asarray(src.read())
        with warped_onto(src, grid, Resampling.nearest, nodata) as warped:
            return np.asarray(warped.read())
