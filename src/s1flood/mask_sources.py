"""The masks an aggregation reads: their grids, the target grid, and window readers.

A mask sits on the target grid in one of three ways: the same grid (read as it is), the same
pixel grid with another extent (read with a whole-pixel offset) or another grid or CRS
(warped, nearest). Readers keep a bounded number of masks open per worker.
"""

from __future__ import annotations

import logging
import math
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from affine import Affine
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from s1flood import kernels
from s1flood.errors import EmptyInputError, InvalidMaskError, InvalidOptionError, RasterReadError
from s1flood.raster import Grid, open_raster, reading, warped_onto

log = logging.getLogger(__name__)

MAX_OPEN_MASKS = 32
"""Masks a worker keeps open between windows; the rest are reopened per window."""


@dataclass(frozen=True)
class MaskSource:
    """A mask and how it sits on the target grid: same grid, whole-pixel offset, or warped."""

    path: Path
    same_grid: bool
    offset: tuple[int, int] | None
    """(column, row) of the target grid's origin in the mask's grid, when pixel-aligned."""

    @property
    def warped(self) -> bool:
        """Whether the mask is warped onto the target grid (not pixel-aligned with it)."""
        return self.offset is None


def mask_grid(path: Path) -> Grid:
    """The grid of a water mask, after checking it is a one-band uint8 raster.

    Args:
        path: the water mask.
    """
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


def target_grid(paths: Sequence[Path], like: Path | None) -> tuple[Grid, list[MaskSource]]:
    """Check every mask and choose the output grid (`like`'s, the shared one, or the union)."""
    grids = [mask_grid(path) for path in paths]
    if like is not None:
        with open_raster(like) as reference:
            grid = Grid.of(reference)
    elif all(g.same_as(grids[0]) for g in grids):
        grid = grids[0]
    else:
        grid = union_grid(grids)
    sources = [
        MaskSource(p, g.same_as(grid), pixel_offset(g, grid))
        for p, g in zip(paths, grids, strict=True)
    ]
    warped = sum(s.warped for s in sources)
    if warped:
        log.info("%d of %d masks are on another grid: warped (nearest)", warped, len(sources))
    return grid, sources


class MaskReaders:
    """One thread's mask readers (warped onto the target grid where needed).

    The first `keep_open` masks stay open for the whole job; the others are opened for
    each read, so memory and file handles stay bounded whatever the number of masks.
    """

    def __init__(self, grid: Grid, sources: list[MaskSource], keep_open: int) -> None:
        self.grid = grid
        self.kept = {s.path: self._open(s) for s in sources[:keep_open]}

    def _open(self, source: MaskSource) -> tuple[DatasetReader, WarpedVRT | None]:
        dataset = open_raster(source.path)
        if not source.warped:
            return dataset, None
        vrt = warped_onto(
            dataset,
            self.grid,
            Resampling.nearest,
            kernels.NODATA_U8,
            src_nodata=kernels.NODATA_U8,
        )
        return dataset, vrt

    def read(self, source: MaskSource, window: Window, out: npt.NDArray[np.uint8]) -> None:
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
        source: MaskSource,
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
        """Close every mask kept open."""
        for opened in self.kept.values():
            self._close(*opened)
        self.kept.clear()


def keep_open(workers: int) -> int:
    """Masks each worker keeps open: MAX_OPEN_MASKS, fewer if file handles are scarce."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, min(MAX_OPEN_MASKS, (soft - 128) // (2 * workers)))


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
