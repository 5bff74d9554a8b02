"""Streaming aggregation of water masks into water/valid counts, frequency and classes."""

from __future__ import annotations

import json
import logging
import math
import resource
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.io import DatasetReader, DatasetWriter
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from tqdm import tqdm

from s1flood import kernels, plots
from s1flood._version import __version__
from s1flood.errors import EmptyInputError, InvalidMaskError, InvalidOptionError, RasterReadError
from s1flood.parallel import PerThread, default_workers, ordered_map
from s1flood.raster import (
    BLOCK_ROWS,
    GDAL_ENV,
    BandSpec,
    CogOptions,
    Grid,
    check_outputs,
    open_raster,
    pixel_area_km2,
    reading,
    row_windows,
    staged_cogs,
    write_text_atomic,
)
from s1flood.results import JsonValue, fields_to_dict, resolve_path

log = logging.getLogger(__name__)

MAX_MASKS = int(np.iinfo(np.uint16).max)
MAX_OPEN_MASKS = 32
"""Masks a worker keeps open between windows; the rest are reopened per window."""
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


@dataclass(frozen=True)
class _MaskSource:
    """A mask and how it sits on the target grid: same grid, whole-pixel offset, or warped."""

    path: Path
    same_grid: bool
    offset: tuple[int, int] | None
    """(column, row) of the target grid's origin in the mask's grid, when pixel-aligned."""

    @property
    def warped(self) -> bool:
        return self.offset is None


def _check_thresholds(candidate: float, permanent: float) -> None:
    if not 0.0 <= candidate < 1.0:
        raise InvalidOptionError("candidate", candidate, "must be in [0, 1)")
    if not 0.0 < permanent <= 1.0:
        raise InvalidOptionError("permanent", permanent, "must be in (0, 1]")
    if candidate >= permanent:
        raise InvalidOptionError("candidate", candidate, f"must be below permanent ({permanent})")


def _mask_grid(path: Path) -> Grid:
    with open_raster(path) as dataset:
        if dataset.dtypes[0] != "uint8":
            raise InvalidMaskError(path, f"data type {dataset.dtypes[0]}")
        if dataset.count != 1:
            raise InvalidMaskError(path, f"{dataset.count} bands")
        return Grid.of(dataset)


def union_grid(grids: Sequence[Grid]) -> Grid:
    """The union of the grids' extents in the first grid's CRS, resolution and pixel alignment."""
    first = grids[0]
    t = first.transform
    if t.b or t.d:
        raise InvalidOptionError("masks", "rotated grid", "north-up grids only; give like")
    lefts, bottoms, rights, tops = zip(
        *(transform_bounds(g.crs, first.crs, *g.bounds, densify_pts=21) for g in grids),
        strict=True,
    )
    x_res, y_res = t.a, -t.e
    left = t.c + math.floor(round((min(lefts) - t.c) / x_res, 6)) * x_res
    right = t.c + math.ceil(round((max(rights) - t.c) / x_res, 6)) * x_res
    top = t.f - math.floor(round((t.f - max(tops)) / y_res, 6)) * y_res
    bottom = t.f - math.ceil(round((t.f - min(bottoms)) / y_res, 6)) * y_res
    return Grid(
        crs=first.crs,
        transform=Affine(x_res, 0.0, left, 0.0, -y_res, top),
        width=round((right - left) / x_res),
        height=round((top - bottom) / y_res),
    )


def pixel_offset(mask: Grid, target: Grid) -> tuple[int, int] | None:
    """Whole-pixel offset of the target grid in the mask grid, or None if they are not aligned."""
    if mask.crs != target.crs:
        return None
    m, t = mask.transform, target.transform
    pixel = max(abs(m.a), abs(m.e))
    if not Affine(m.a, m.b, 0, m.d, m.e, 0).almost_equals(
        Affine(t.a, t.b, 0, t.d, t.e, 0), precision=1e-9 * pixel
    ):
        return None
    column, row = (t.c - m.c) / m.a, (t.f - m.f) / m.e
    if abs(column - round(column)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return round(column), round(row)


def target_grid(paths: Sequence[Path], like: Path | None) -> tuple[Grid, list[_MaskSource]]:
    """Check every mask and choose the output grid (`like`'s, the shared one, or the union)."""
    grids = [_mask_grid(path) for path in paths]
    if like is not None:
        with open_raster(like) as reference:
            grid = Grid.of(reference)
    elif all(g.same_as(grids[0]) for g in grids):
        grid = grids[0]
    else:
        grid = union_grid(grids)
    sources = [
        _MaskSource(p, g.same_as(grid), pixel_offset(g, grid))
        for p, g in zip(paths, grids, strict=True)
    ]
    warped = sum(s.warped for s in sources)
    if warped:
        log.info("%d of %d masks are on another grid: warped (nearest)", warped, len(sources))
    return grid, sources


class _MaskReaders:
    """One thread's mask readers (warped onto the target grid where needed).

    The first `keep_open` masks stay open for the whole job; the others are opened for
    each read, so memory and file handles stay bounded whatever the number of masks.
    """

    def __init__(self, grid: Grid, sources: list[_MaskSource], keep_open: int) -> None:
        self.grid = grid
        self.kept = {s.path: self._open(s) for s in sources[:keep_open]}

    def _open(self, source: _MaskSource) -> tuple[DatasetReader, WarpedVRT | None]:
        dataset = open_raster(source.path)
        if not source.warped:
            return dataset, None
        vrt = WarpedVRT(
            dataset,
            crs=self.grid.crs,
            transform=self.grid.transform,
            width=self.grid.width,
            height=self.grid.height,
            resampling=Resampling.nearest,
            src_nodata=kernels.NODATA_U8,
            nodata=kernels.NODATA_U8,
        )
        return dataset, vrt

    def read(self, source: _MaskSource, window: Window, out: npt.NDArray[np.uint8]) -> None:
        """Read `window` of the target grid from a mask into `out` (255 where it has no data)."""
        opened = self.kept.get(source.path) or self._open(source)
        dataset, vrt = opened
        try:
            self._read_into(dataset, vrt, source, window, out)
        finally:
            if source.path not in self.kept:
                self._close(*opened)

    @staticmethod
    def _read_into(
        dataset: DatasetReader,
        vrt: WarpedVRT | None,
        source: _MaskSource,
        window: Window,
        out: npt.NDArray[np.uint8],
    ) -> None:
        with reading(source.path):
            if vrt is not None or source.same_grid:
                (vrt or dataset).read(1, window=window, out=out)
            else:
                column, row = source.offset or (0, 0)
                shifted = Window(
                    window.col_off + column, window.row_off + row, window.width, window.height
                )
                dataset.read(
                    1, window=shifted, out=out, boundless=True, fill_value=kernels.NODATA_U8
                )

    @staticmethod
    def _close(dataset: DatasetReader, vrt: WarpedVRT | None) -> None:
        if vrt is not None:
            vrt.close()
        dataset.close()

    def close(self) -> None:
        for opened in self.kept.values():
            self._close(*opened)
        self.kept.clear()


def _keep_open(workers: int) -> int:
    """Masks each worker keeps open: MAX_OPEN_MASKS, fewer if file handles are scarce."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, min(MAX_OPEN_MASKS, (soft - 128) // (2 * workers)))


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
    summary = {
        "scene_count": len(sources),
        "masks": [str(s.path) for s in sources],
        "warped_masks": [str(s.path) for s in sources if s.warped],
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


def _write_counts(
    grid: Grid,
    sources: list[_MaskSource],
    outputs: dict[str, Path],
    candidate: float,
    permanent: float,
    workers: int,
    progress: bool,
) -> npt.NDArray[np.int64]:
    """Stream all masks window by window into the four COGs; return class counts per row."""
    keep_open = _keep_open(workers)
    readers = PerThread(lambda: _MaskReaders(grid, sources, keep_open), lambda r: r.close())
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


def expand_mask_arguments(arguments: list[str]) -> list[Path]:
    """Mask paths from arguments, where ``@list.txt`` stands for the paths listed in that file.

    Args:
        arguments: mask paths, or ``@FILE`` entries naming a file with one path per line
            (relative to that file; blank lines and ``#`` comments skipped).
    """
    paths: list[Path] = []
    for argument in arguments:
        if not argument.startswith("@"):
            paths.append(Path(argument))
            continue
        listing = Path(argument[1:])
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RasterReadError(listing, f"cannot read mask list ({exc.strerror})") from None
        for line in lines:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                path = Path(entry)
                paths.append(path if path.is_absolute() else listing.parent / path)
    if not paths:
        raise EmptyInputError("water masks")
    return paths
