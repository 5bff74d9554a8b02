"""Streaming aggregation of water masks: counts, frequency, classes and the flood record."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling

from s1flood import kernels, plots
from s1flood._version import __version__
from s1flood.atomic import write_text_atomic
from s1flood.errors import EmptyInputError, InvalidOptionError
from s1flood.flood.change import plan_change
from s1flood.flood.record import RecordPlan
from s1flood.flood.streaming import stream
from s1flood.mask_sources import target_grid
from s1flood.parallel import default_workers
from s1flood.raster import GDAL_ENV, BandSpec, CogOptions, Grid, check_outputs, pixel_area_km2
from s1flood.results import JsonValue, fields_to_dict, resolve_path

log = logging.getLogger(__name__)

MAX_MASKS = int(np.iinfo(np.uint16).max)
CHANGE_DB = 3.0
CLASS_NAMES = ("dry", "flood_candidate", "permanent_water")
CLASS_COLORMAP = {
    0: (242, 239, 230, 255),
    1: (240, 140, 46, 255),
    2: (31, 78, 156, 255),
    255: (0, 0, 0, 0),
}
MAP_PIXELS = 900
"""Longest side of the quick-look map, read from the classes COG's overviews."""

OUTPUT_NAMES = {
    "water_count": "water_count.tif",
    "valid_count": "valid_count.tif",
    "frequency": "frequency.tif",
    "classes": "classes.tif",
    "map": "classes.png",
    "summary": "summary.json",
}


@dataclass
class AggregationResult:
    """What `aggregate` wrote and found."""

    outputs: dict[str, Path]
    scene_count: int
    grid: Grid
    area_km2: dict[str, float] = field(default_factory=dict)
    pixels: dict[str, int] = field(default_factory=dict)
    start_datetime: str | None = None
    """The first acquisition start of the masks (ISO 8601), None when no mask has a time."""
    end_datetime: str | None = None
    """The last acquisition start of the masks."""

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values; output paths relative to `base` where they sit under it.

        Args:
            base: folder that paths are made relative to; default none (paths as written).
        """
        return fields_to_dict(self, base)

    @classmethod
    def from_dict(cls, record: dict[str, Any], base: Path | None = None) -> AggregationResult:
        """The result that `to_dict` described.

        Args:
            record: a `to_dict` mapping.
            base: folder that relative paths in `record` are relative to.
        """
        return cls(
            outputs={k: resolve_path(v, base) or Path(v) for k, v in record["outputs"].items()},
            scene_count=int(record["scene_count"]),
            grid=Grid.from_dict(record["grid"]),
            area_km2={k: float(v) for k, v in record.get("area_km2", {}).items()},
            pixels={k: int(v) for k, v in record.get("pixels", {}).items()},
            start_datetime=record.get("start_datetime"),
            end_datetime=record.get("end_datetime"),
        )


def _check_thresholds(candidate: float, permanent: float) -> None:
    if not 0.0 <= candidate < 1.0:
        raise InvalidOptionError("candidate", candidate, "must be in [0, 1)")
    if not 0.0 < permanent <= 1.0:
        raise InvalidOptionError("permanent", permanent, "must be in (0, 1]")
    if candidate >= permanent:
        raise InvalidOptionError("candidate", candidate, f"must be below permanent ({permanent})")


class _Buffers:
    """One worker thread's block arrays, reused from window to window."""

    def __init__(self, rows: int, width: int) -> None:
        self.mask = np.empty((rows, width), dtype=np.uint8)
        self.water = np.empty((rows, width), dtype=np.uint16)
        self.valid = np.empty((rows, width), dtype=np.uint16)
        self.frequency = np.empty((rows, width), dtype=np.float32)
        self.classes = np.empty((rows, width), dtype=np.uint8)


def aggregate(
    masks: Sequence[Path | str],
    out_dir: Path | str,
    *,
    like: Path | str | None = None,
    candidate: float = 0.1,
    permanent: float = 0.9,
    event_start: str | None = None,
    reference_water: Path | str | None = None,
    reference_threshold: float = 0.5,
    dem: Path | str | None = None,
    sigma0: Sequence[Path | str] = (),
    change_db: float = CHANGE_DB,
    change_rule: str = "auto",
    overwrite: bool = False,
    workers: int | None = None,
    progress: bool = False,
    flood_record: bool = True,
) -> AggregationResult:
    """Aggregate water masks (0/1/255) into counts, frequency, classes and the flood record.

    Masks are read window by window, all masks per window, so memory is bounded by the
    window whatever the number of masks; masks on another grid are warped (nearest). Each
    mask's acquisition time comes from its tags or sidecar; masks of one acquisition are one
    observation. Flooded = water that is not reference water; the flood record
    (`s1flood.flood.record`) gives its extent, count, first/last day, durations, episodes
    and, with a DEM, its maximum depth.

    Args:
        masks: water masks (uint8 0/1/255 GeoTIFFs).
        out_dir: folder of the outputs.
        like: a raster whose grid the outputs take; default the masks' own or union grid.
        candidate: frequency above which a pixel is a flood candidate. Default 0.1.
        permanent: frequency from which a pixel is permanent water (and, without
            ``event_start``, reference water). Default 0.9.
        event_start: ISO 8601 start of the event: observations before it give reference
            water and are not flood. Default none.
        reference_water: a reference water raster on any grid (warped nearest), at or above
            ``reference_threshold`` reference water; where it has no value the series'
            rule holds. Default none.
        reference_threshold: threshold of ``reference_water`` (0.5 for a 0/1 mask, e.g. 50
            for a JRC occurrence in percent). Default 0.5.
        dem: a DEM (m, any grid) or ``copernicus-30`` / ``copernicus-90`` (fetched over the
            grid): writes ``depth_max`` from the flood extent. Default none.
        sigma0: the sigma0 COGs the masks were classified from (matched by the file name
            each mask's sidecar names); with ``event_start``, the backscatter change rule
            (`s1flood.flood.change`). Default none: the paths the sidecars name, if they
            exist.
        change_db: darkening (dB) against the pre-event sigma0 of the same relative orbit
            that makes water flood under the change rule. Default 3.
        change_rule: ``auto`` (the change rule wherever it applies), ``off`` (masks only).
            Default ``auto``.
        overwrite: replace existing outputs. Default false.
        workers: threads; default the CPUs available.
        progress: show a progress bar. Default false.
        flood_record: write the flood record; False: only the counts (of masks, not
            merged by acquisition), frequency, classes, map and summary. Default true.
    """
    from s1flood.flood import outputs as flood_outputs

    _check_thresholds(candidate, permanent)
    if change_rule not in ("auto", "off"):
        raise InvalidOptionError("change_rule", change_rule, "auto or off")
    if change_db <= 0:
        raise InvalidOptionError("change_db", change_db, "must be positive (a darkening in dB)")
    paths = [Path(m) for m in masks]
    if not paths:
        raise EmptyInputError("water masks")
    if len(paths) > MAX_MASKS:
        raise InvalidOptionError("masks", len(paths), f"at most {MAX_MASKS} masks")
    out_dir = Path(out_dir)
    outputs = {key: out_dir / name for key, name in OUTPUT_NAMES.items()}
    if flood_record:
        outputs.update(flood_outputs.output_paths(out_dir, dem is not None))
    check_outputs(list(outputs.values()), overwrite)
    flood_outputs.check_dem(dem)
    workers = workers or default_workers()
    with rasterio.Env(**GDAL_ENV):
        grid, sources = target_grid(paths, Path(like) if like is not None else None)
        log.info(
            "aggregating %d masks onto %d x %d pixels (%s)",
            len(sources),
            grid.width,
            grid.height,
            grid.to_dict()["crs"],
        )
        plan = flood_outputs.plan(sources, grid, event_start, reference_water, permanent)
        specs = _count_specs(candidate, permanent, len(sources))
        if flood_record:
            specs += plan.specs(permanent)
        reference = flood_outputs.reference_factory(reference_water, reference_threshold, grid)
        change = (
            plan_change(plan, sigma0, change_db, use_paths=not sigma0)
            if flood_record and change_rule == "auto"
            else None
        )
        plan.change = (
            f"water darker by >= {change_db:g} dB than the pre-event sigma0 of its orbit"
            if change is not None
            else ""
        )
        streamed = stream(
            grid, plan, outputs, specs, (candidate, permanent), reference, workers, progress,
            flood_record, change,
        )  # fmt: skip
        class_per_row = streamed.class_per_row
        area_per_row = pixel_area_km2(grid)
        pixels = {name: int(class_per_row[:, k].sum()) for k, name in enumerate(CLASS_NAMES)}
        pixels["nodata"] = grid.width * grid.height - sum(pixels.values())
        area = {
            name: round(float((class_per_row[:, k] * area_per_row).sum()), 6)
            for k, name in enumerate(CLASS_NAMES)
        }
        title = _map_title(plan)
        _write_map(outputs["classes"], outputs["map"], grid, title)
        record = (
            flood_outputs.finish(
                plan,
                streamed,
                outputs,
                grid,
                dem,
                title.replace("Water frequency classes", "Flood"),
            )
            if flood_record
            else flood_outputs.RecordSummary()
        )
    area.update(record.area_km2)
    start, end = plan.window()
    result = AggregationResult(
        outputs=outputs,
        scene_count=len(sources),
        grid=grid,
        area_km2=area,
        pixels=pixels,
        start_datetime=start,
        end_datetime=end,
    )
    names = recorded_names([s.path for s in sources], out_dir)
    summary = {
        "scene_count": len(sources),
        "masks": [names[s.path] for s in sources],
        "warped_masks": [names[s.path] for s in sources if s.warped],
        "thresholds": {"candidate": candidate, "permanent": permanent},
        "classes": {"0": "dry", "1": "flood candidate", "2": "permanent water", "255": "nodata"},
        "area_km2": area,
        "pixels": pixels,
        "grid": grid.to_dict(),
        **record.summary,
        "outputs": {k: p.name for k, p in outputs.items() if k != "summary"},
        "s1flood_version": __version__,
    }
    write_text_atomic(outputs["summary"], json.dumps(summary, indent=2) + "\n")
    log.info(
        "water frequency of %d scenes: %.3f km² permanent water, %.3f km² flood candidate; "
        "%.3f km² flooded",
        len(sources),
        area["permanent_water"],
        area["flood_candidate"],
        area.get("flooded", 0.0),
    )
    return result


def recorded_names(paths: Sequence[Path], out_dir: Path) -> dict[Path, str]:
    """How the summary names each mask: never where a runner happened to stage it.

    A mask inside the output folder is named relative to it; any other by its file name (the
    product identifier the classification gave it), or, where two masks share a file name, by
    its path relative to the folder all the masks share.

    Args:
        paths: the masks' paths.
        out_dir: the aggregation's output folder.
    """
    out = out_dir.resolve()
    resolved = {path: path.resolve() for path in paths}
    names: dict[Path, str] = {}
    outside = []
    for path, full in resolved.items():
        if full.is_relative_to(out):
            names[path] = full.relative_to(out).as_posix()
        else:
            outside.append(path)
    if len({resolved[p].name for p in outside}) == len(outside):
        names.update({p: resolved[p].name for p in outside})
    else:
        common = Path(os.path.commonpath([resolved[p] for p in outside]))
        names.update({p: resolved[p].relative_to(common).as_posix() for p in outside})
    return names


def _count_specs(candidate: float, permanent: float, scenes: int) -> list[tuple[str, BandSpec]]:
    count_tags = {"scene_count": str(scenes)}
    counts = CogOptions(level=1, predictor="2")
    return [
        ("water_count", BandSpec("uint16", None, "water_count", counts,
                                 {**count_tags, "long_name": "observations of water",
                                  "units": "observations"})),
        ("valid_count", BandSpec("uint16", None, "valid_count", counts,
                                 {**count_tags, "long_name": "valid observations",
                                  "units": "observations"})),
        ("frequency", BandSpec("float32", float("nan"), "water_frequency",
                               CogOptions(1, "NO", "NEAREST"),
                               {**count_tags, "long_name": "water_count / valid_count",
                                "units": "1"})),
        ("classes", BandSpec("uint8", kernels.NODATA_U8, "classes", CogOptions(),
                             {"candidate": str(candidate), "permanent": str(permanent),
                              "values": "0=dry 1=flood_candidate 2=permanent_water 255=nodata"},
                             CLASS_COLORMAP)),
    ]  # fmt: skip


def _write_map(classes_path: Path, png: Path, grid: Grid, title: str) -> None:
    scale = max(1.0, max(grid.width, grid.height) / MAP_PIXELS)
    shape = (max(1, round(grid.height / scale)), max(1, round(grid.width / scale)))
    with rasterio.open(classes_path) as dataset:
        classes = dataset.read(1, out_shape=shape, resampling=Resampling.nearest)
    epsg = grid.crs.to_epsg()
    plots.classes_png(
        png,
        classes,
        grid.bounds,
        f"EPSG:{epsg}" if epsg else grid.crs.name,
        title,
    )


def _map_title(plan: RecordPlan) -> str:
    """The classes map's title: the window's dates and the number of scenes."""
    scenes = sum(len(o.sources) for o in plan.observations)
    start, end = plan.window()
    if start is None or end is None:
        return f"Water frequency classes from {scenes} scenes"
    days = f"{start[:10]}" if start[:10] == end[:10] else f"{start[:10]} to {end[:10]}"
    return f"Water frequency classes, {days}: {scenes} scenes ({plan.timed} observations)"
