"""Flood scenario: acquisition dates with a river stage each, and the water truth per date.

The stage is the height of the water surface above the river's normal level: a flooded cell
is below ``river_level + stage`` and connected to the river channel. Permanent water (river,
lake) is water on every date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from s1flood.synthetic.rasterio_io import write_geotiff
from s1flood.synthetic.terrain import Terrain

LOGGER = logging.getLogger(__name__)

TRUTH_DRY, TRUTH_WATER, TRUTH_NODATA = 0, 1, 255
PHASES = ("before", "rising", "peak", "receding", "after")
PEAK_AT = 0.45
"""Time of the peak as a fraction of the window."""
PEAK_STAGE_M = 4.0
"""Default stage at the peak, metres above the normal river level."""
FALL_EXPONENT = 1.6
"""The recession's shape: ``((1 - f) / (1 - PEAK_AT)) ** FALL_EXPONENT``."""


@dataclass(frozen=True)
class Acquisition:
    """One date of the scenario."""

    index: int
    time: datetime
    stage: float  # m above the normal river level
    phase: str
    wind_db: float  # roughening of water backscatter (VV dB), 0 for calm water
    fraction: float = 0.0
    """Where the date lies on the hydrograph, as a fraction of the window (0..1)."""
    track: int = 0
    """The orbit track (0, 1) of a simulation over more than one relative orbit."""


def hydrograph(fraction: npt.ArrayLike, peak_at: float = PEAK_AT) -> npt.NDArray[np.float64]:
    """Relative stage (0..1) of a flood wave: fast rise to the peak, slower recession.

    Args:
        fraction: time as a fraction of the window (0..1).
        peak_at: the fraction at the peak.
    """
    f = np.asarray(fraction, dtype=np.float64)
    rise = np.clip(f / peak_at, 0.0, 1.0)
    fall = np.clip((1.0 - f) / (1.0 - peak_at), 0.0, 1.0)
    return np.where(f <= peak_at, np.sin(0.5 * np.pi * rise) ** 2, fall**FALL_EXPONENT)


def hydrograph_crossings(
    relative: npt.ArrayLike, peak_at: float = PEAK_AT
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """When the relative stage rises through and falls back through a level (`hydrograph`).

    Returns the fractions of the window (rise, fall); NaN where the level is not in (0, 1).

    Args:
        relative: the level as a fraction (0..1) of the peak stage.
        peak_at: the fraction at the peak.
    """
    r = np.asarray(relative, dtype=np.float64)
    inside = (r > 0.0) & (r < 1.0)
    rc = np.clip(r, 0.0, 1.0)
    rise = peak_at * np.arcsin(np.sqrt(rc)) / (0.5 * np.pi)
    fall = 1.0 - (1.0 - peak_at) * rc ** (1.0 / FALL_EXPONENT)
    return np.where(inside, rise, np.nan), np.where(inside, fall, np.nan)


def make_scenario(
    start: datetime,
    end: datetime,
    scenes: int,
    seed: int,
    peak_stage: float = PEAK_STAGE_M,
    wind: bool = False,
) -> list[Acquisition]:
    """Acquisition times evenly spread over [start, end], before/rising/peak/receding/after.

    Args:
        start: start of the window.
        end: end of the window.
        scenes: number of acquisitions.
        seed: the random seed.
        peak_stage: stage at the peak, metres.
        wind: roughen water by wind on some dates.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    if scenes == 1:
        fractions = np.array([PEAK_AT])
    else:
        fractions = np.linspace(0.0, 1.0, scenes)
        if scenes >= 3:
            # make sure one acquisition sees the peak
            fractions[np.argmin(np.abs(fractions - PEAK_AT))] = PEAK_AT
    span = (end - start).total_seconds()
    out = []
    for k, f in enumerate(fractions):
        rel = float(hydrograph(f))
        if f < PEAK_AT - 1e-9:
            phase = "before" if rel < 0.05 else "rising"
        elif abs(f - PEAK_AT) < 1e-9:
            phase = "peak"
        else:
            phase = "after" if rel < 0.05 else "receding"
        wind_db = float(rng.uniform(0.0, 6.0)) if wind and rng.random() < 0.5 else 0.0
        when = start + timedelta(seconds=round(float(f) * span))
        stage = round(peak_stage * rel, 3)
        out.append(Acquisition(k, when, stage, phase, wind_db, fraction=float(f)))
    return out


def water_truth(terrain: Terrain, stage: float) -> npt.NDArray[np.uint8]:
    """Truth mask on the DEM grid: 1 water (permanent or flooded), 0 dry, 255 no DEM.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        stage: flood stage above the normal river level, metres.
    """
    valid = terrain.valid
    permanent = terrain.permanent_water
    below = valid & (terrain.elevation < terrain.river_level + stage)
    candidate = below | terrain.river
    labels, _ = ndimage.label(candidate)
    keep = np.unique(labels[terrain.river])
    keep = keep[keep > 0]
    flooded = np.isin(labels, keep) & below
    water = permanent | flooded
    out = np.where(water, TRUTH_WATER, TRUTH_DRY).astype(np.uint8)
    out[~valid] = TRUTH_NODATA
    return out


def write_truth(terrain: Terrain, truth: npt.NDArray[np.uint8], path: Path) -> Path:
    """Write a truth mask as a GeoTIFF on the DEM grid (uint8, 255 nodata).

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        truth: the truth mask.
        path: the file to write.
    """
    return write_geotiff(path, truth, terrain.transform, terrain.crs, TRUTH_NODATA, "water truth")
