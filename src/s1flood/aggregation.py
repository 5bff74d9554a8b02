"""Streaming aggregation of water masks into water/valid counts, frequency and classes."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.enums import Resampling
from rasterio.io import DatasetWriter
from rasterio.windows import Window
from tqdm import tqdm

from s1flood import kernels, plots
from s1flood._version import __version__
from s1flood.atomic import write_text_atomic
from s1flood.errors import EmptyInputError, InvalidMaskError, InvalidOptionError
from s1flood.mask_sources import MaskReaders, MaskSource, keep_open, target_grid
from s1flood.parallel import PerThread, default_workers, ordered_map
from s1flood.raster import (
    BLOCK_ROWS,
    GDAL_ENV,
    BandSpec,
    CogOptions,
    Grid,
    check_outputs,
    pixel_area_km2,
    row_windows,
    staged_cogs,
)
from s1flood.results import JsonValue, fields_to_dict, resolve_path

log = logging.getLogger(__name__)

MAX_MASKS = int(np.iinfo(np.uint16).max)
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
    overwrite: bool = False,
    workers: int | None = None,
    progress: bool = False,
) -> AggregationResult:
    """Aggregate water masks (0/1/255) into counts, frequency (water/valid) and classes COGs.

    Masks are read window by window, all masks per window, so memory is bounded by the
    window whatever the number of masks; masks on another grid are warped (nearest).
    """
    _check_thresholds(candidate, permanent)
    paths = [Path(m) for m in masks]
    if not paths:
        raise EmptyInputError("water masks")
    if len(paths) > MAX_MASKS:
        raise InvalidOptionError("masks", len(paths), f"at most {MAX_MASKS} masks")
    out_dir = Path(out_dir)
    outputs = {key: out_dir / name for key, name in OUTPUT_NAMES.items()}
    check_outputs(list(outputs.values()), overwrite)
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
        class_per_row = _write_counts(
            grid, sources, outputs, candidate, permanent, workers, progress
        )
        area_per_row = pixel_area_km2(grid)
        pixels = {name: int(class_per_row[:, k].sum()) for k, name in enumerate(CLASS_NAMES)}
        pixels["nodata"] = grid.width * grid.height - sum(pixels.values())
        area = {
            name: round(float((class_per_row[:, k] * area_per_row).sum()), 6)
            for k, name in enumerate(CLASS_NAMES)
        }
        _write_map(outputs["classes"], outputs["map"], grid, len(sources))
    result = AggregationResult(
        outputs=outputs, scene_count=len(sources), grid=grid, area_km2=area, pixels=pixels
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
        "outputs": {k: p.name for k, p in outputs.items() if k != "summary"},
        "s1flood_version": __version__,
    }
    write_text_atomic(outputs["summary"], json.dumps(summary, indent=2) + "\n")
    log.info(
        "water frequency of %d scenes: %.3f km² permanent water, %.3f km² flood candidate",
        len(sources),
        area["permanent_water"],
        area["flood_candidate"],
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


def _write_counts(
    grid: Grid,
    sources: list[MaskSource],
    outputs: dict[str, Path],
    candidate: float,
    permanent: float,
    workers: int,
    progress: bool,
) -> npt.NDArray[np.int64]:
    """Stream all masks window by window into the four COGs; return class counts per row."""
    kept = keep_open(workers)
    readers = PerThread(lambda: MaskReaders(grid, sources, kept), lambda r: r.close())
    buffers = PerThread(lambda: _Buffers(BLOCK_ROWS, grid.width), lambda _: None)
    lock = threading.Lock()
    write: dict[str, DatasetWriter] = {}

    def count(window: Window) -> npt.NDArray[np.int64]:
        rows = int(window.height)
        mine = buffers.get()
        mask, water, valid = mine.mask[:rows], mine.water[:rows], mine.valid[:rows]
        water.fill(0)
        valid.fill(0)
        for source in sources:
            readers.get().read(source, window, mask)
            if kernels.accumulate_mask(mask, water, valid):
                values = np.unique(mask)
                bad = values[(values > kernels.WATER) & (values != kernels.NODATA_U8)]
                raise InvalidMaskError(source.path, f"value {bad[0]}")
        frequency, classes = mine.frequency[:rows], mine.classes[:rows]
        per_row = np.zeros((rows, 3), dtype=np.int64)
        kernels.frequency_classes(water, valid, candidate, permanent, frequency, classes, per_row)
        with lock:
            write["water_count"].write(water, 1, window=window)
            write["valid_count"].write(valid, 1, window=window)
            write["frequency"].write(frequency, 1, window=window)
            write["classes"].write(classes, 1, window=window)
        return per_row

    class_per_row = np.zeros((grid.height, 3), dtype=np.int64)
    windows = row_windows(grid.height, grid.width)
    count_tags = {"scene_count": str(len(sources))}
    counts = CogOptions(level=1, predictor="2")
    specs = [
        BandSpec("uint16", None, "water_count", counts,
                 {**count_tags, "long_name": "scenes observing water"}),
        BandSpec("uint16", None, "valid_count", counts,
                 {**count_tags, "long_name": "scenes observing the pixel"}),
        BandSpec("float32", float("nan"), "water_frequency", CogOptions(1, "NO", "NEAREST"),
                 {**count_tags, "long_name": "water_count / valid_count", "units": "1"}),
        BandSpec("uint8", kernels.NODATA_U8, "classes", CogOptions(),
                 {"candidate": str(candidate), "permanent": str(permanent),
                  "values": "0=dry 1=flood_candidate 2=permanent_water 255=nodata"},
                 CLASS_COLORMAP),
    ]  # fmt: skip
    names = ("water_count", "valid_count", "frequency", "classes")
    paths_specs = [(outputs[name], spec) for name, spec in zip(names, specs, strict=True)]
    with staged_cogs(paths_specs, grid) as writers:
        write.update(zip(names, writers, strict=True))
        try:
            with tqdm(
                total=len(windows),
                desc="aggregate",
                unit="block",
                disable=None if progress else True,
            ) as bar:
                for window, per_row in zip(
                    windows, ordered_map(count, windows, workers), strict=True
                ):
                    top = int(window.row_off)
                    class_per_row[top : top + per_row.shape[0]] = per_row
                    bar.update()
        finally:
            readers.close()
    return class_per_row


def _write_map(classes_path: Path, png: Path, grid: Grid, scene_count: int) -> None:
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
        f"Water frequency classes from {scene_count} scenes",
    )
