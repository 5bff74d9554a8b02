"""The flood record's part of an aggregation: its plan, its files, its summary section."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from s1flood.flood import timeseries
from s1flood.flood.observations import read_observations
from s1flood.flood.record import (
    RECORD_FILES,
    RECORD_OUTPUTS,
    TIME_PRODUCTS,
    RecordPlan,
    plan_record,
)
from s1flood.flood.reference import ReferenceReader, check_overlap
from s1flood.flood.streaming import Streamed
from s1flood.mask_sources import MaskSource
from s1flood.raster import Grid

log = logging.getLogger(__name__)

EXTRA_FILES = {
    "timeseries": "timeseries.csv",
    "flooded_area_plot": "flooded_area.png",
}
DEPTH_FILE = "depth_max.tif"


def output_paths(out_dir: Path, with_depth: bool) -> dict[str, Path]:
    """The flood record's output paths by key.

    Args:
        out_dir: the aggregation's output folder.
        with_depth: whether ``depth_max`` is written (a DEM is given).
    """
    names = {**RECORD_FILES, **EXTRA_FILES}
    if with_depth:
        names["depth_max"] = DEPTH_FILE
    return {key: out_dir / name for key, name in names.items()}


def plan(
    sources: list[MaskSource],
    grid: Grid,
    event_start: str | None,
    reference_water: Path | str | None,
    permanent: float,
) -> RecordPlan:
    """The observations of `sources` and how each enters the record (checks the inputs).

    Args:
        sources: the masks.
        grid: the output grid.
        event_start: ISO 8601 event start, or None.
        reference_water: a user reference water raster, or None.
        permanent: the frequency rule's threshold.
    """
    if reference_water is not None:
        check_overlap(Path(reference_water), grid)
    timed, untimed = read_observations(sources)
    found = plan_record(
        timed,
        untimed,
        event_start,
        Path(reference_water).name if reference_water is not None else None,
        permanent,
    )
    if found.note:
        log.info("time products: %s", found.note)
    return found


def reference_factory(
    reference_water: Path | str | None, threshold: float, grid: Grid
) -> Callable[[], ReferenceReader] | None:
    """What makes a thread's reader of the reference raster (None without one).

    Args:
        reference_water: the raster, or None.
        threshold: values at or above it are reference water.
        grid: the output grid.
    """
    if reference_water is None:
        return None
    path = Path(reference_water)
    return lambda: ReferenceReader(path, grid, threshold)


@contextlib.contextmanager
def depth_extent(outputs: dict[str, Path], grid: Grid) -> Iterator[Path]:
    """The flood extent with reference water as nodata, as a temporary GeoTIFF.

    The border between flood and reference water is no shore: depth's water level comes
    from the flood's dry shore only.

    Args:
        outputs: the output paths (``flood_extent``, ``reference_water``).
        grid: the output grid.
    """
    import rasterio

    from s1flood.atomic import TempGroup
    from s1flood.raster import row_windows

    temporaries = TempGroup(outputs["flood_extent"])
    path = temporaries.path(".depth-extent.tif")
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1,
        "dtype": "uint8", "crs": grid.crs.to_wkt(), "transform": grid.transform,
        "nodata": 255, "tiled": True, "blockxsize": 512, "blockysize": 512,
        "compress": "ZSTD", "zstd_level": 1, "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    try:
        with (
            rasterio.open(outputs["flood_extent"]) as extent,
            rasterio.open(outputs["reference_water"]) as reference,
            rasterio.open(path, "w", **profile) as out,
        ):
            for window in row_windows(grid.height, grid.width):
                block = extent.read(1, window=window)
                block[reference.read(1, window=window) == 1] = 255
                out.write(block, 1, window=window)
        yield path
    finally:
        temporaries.release()


def check_dem(dem: Path | str | None) -> None:
    """Refuse, before any work, a DEM that is neither a readable raster nor a DEM's name.

    Args:
        dem: a DEM GeoTIFF, ``copernicus-30`` / ``copernicus-90``, or None.
    """
    from s1flood.preprocessing.dem_sources import is_dem_source
    from s1flood.raster import open_raster

    if dem is not None and not is_dem_source(dem):
        open_raster(dem).close()


def dem_file(dem: Path | str, grid: Grid) -> Path:
    """The DEM as a file: as given, or a named DEM's mosaic over the grid (fetched once).

    Args:
        dem: a DEM GeoTIFF or ``copernicus-30`` / ``copernicus-90``.
        grid: the output grid.
    """
    from rasterio.warp import transform_bounds

    from s1flood.preprocessing.dem_sources import is_dem_source, resolve_dem

    if not is_dem_source(dem):
        return Path(dem)
    bounds = transform_bounds(grid.crs.to_wkt(), "EPSG:4326", *grid.bounds, densify_pts=21)
    return resolve_dem(dem, bounds).path


def _date(day: float) -> str | None:
    """A day number (days since 1970-01-01) as an ISO date; None for NaN."""
    if math.isnan(day):
        return None
    return str(np.datetime64(int(day), "D"))


@dataclass
class RecordSummary:
    """The record's areas and its section of ``summary.json``."""

    area_km2: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def finish(
    plan: RecordPlan,
    streamed: Streamed,
    outputs: dict[str, Path],
    grid: Grid,
    dem: Path | str | None,
    title: str,
) -> RecordSummary:
    """Write the time series, its plot and (with a DEM) the depth; the summary section.

    Args:
        plan: the record's plan.
        streamed: what streaming found.
        outputs: the output paths.
        grid: the output grid.
        dem: a DEM, or None.
        title: the plot's title.
    """
    records = timeseries.rows(plan, streamed.per_observation)
    timeseries.write_csv(outputs["timeseries"], records)
    timeseries.write_png(outputs["flooded_area_plot"], records, title)
    flagged = [r for r in records if r["advisory"]]
    for record in flagged:
        log.warning("%s: %s", record["time"] or record["masks"][0], record["advisory"])
    stats = streamed.stats
    area = {
        "flooded": round(stats["flooded_km2"], 6),
        "reference_water": round(stats["reference_water_km2"], 6),
    }
    extremes = {
        "first_flooded": _date(stats["first_flooded"]),
        "last_flooded": _date(stats["last_flooded"]),
        **{
            f"longest_{key}": None if math.isnan(stats[key]) else int(stats[key])
            for key in ("duration_min_days", "duration_max_days")
        },
        "most_flood_episodes": None
        if math.isnan(stats["flood_episodes"])
        else int(stats["flood_episodes"]),
    }
    start, end = plan.window()
    section: dict[str, Any] = {
        "observations": plan.timed,
        "untimed_masks": [s.path.name for o in plan.observations[plan.timed :] for s in o.sources],
        "start_datetime": start,
        "end_datetime": end,
        "event_start": plan.event_start.isoformat().replace("+00:00", "Z")
        if plan.event_start
        else None,
        "reference_rule": plan.reference,
        "change_rule": plan.change or "off: water that is not reference water",
        "time_note": plan.note,
        "time_products": list(TIME_PRODUCTS),
        "extremes": extremes,
        "record_outputs": {
            key: {"units": units, "nodata": nodata, "meaning": meaning}
            for key, (_, nodata, units, _, meaning) in RECORD_OUTPUTS.items()
        },
        "timeseries": records,
    }
    if dem is not None:
        from s1flood.flood.depth import flood_depth

        with depth_extent(outputs, grid) as extent:
            depth = flood_depth(
                extent, dem_file(dem, grid), outputs["depth_max"], extent_name="flood_extent.tif"
            )
        section["depth"] = depth.to_dict() | {"output": outputs["depth_max"].name}
        section["record_outputs"]["depth_max"] = {
            "units": "m",
            "nodata": "nan",
            "meaning": "maximum flood depth from the flood extent and the DEM "
            f"({depth.method} water level per connected flooded region)",
        }
    return RecordSummary(area, {"flood_record": section})
