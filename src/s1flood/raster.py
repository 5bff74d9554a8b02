"""Raster I/O: opening with clear errors, block windows, atomic Cloud Optimized GeoTIFF output."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.crs
import rasterio.shutil
from affine import Affine
from pyproj import CRS, Geod
from rasterio._err import CPLE_BaseError
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.io import DatasetReader, DatasetWriter
from rasterio.transform import array_bounds
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from s1flood.atomic import TempGroup, atomic_path, clear_stale, raise_if_disk_full
from s1flood.errors import (
    MissingCRSError,
    OutputExistsError,
    OutputNotWritableError,
    RasterReadError,
    first_line,
)

log = logging.getLogger(__name__)

BLOCK_ROWS = 512
"""Rows per processing window; windows span the full raster width."""

COG_BLOCKSIZE = 512
GDAL_ENV: dict[str, Any] = {"GDAL_CACHEMAX": 32 * 2**20, "GDAL_NUM_THREADS": 1}
"""GDAL settings for s1flood raster jobs: a small block cache (in bytes: rasterio passes an int
to GDALSetCacheMax64), as windows are tile-aligned and read once; no codec threads of GDAL's
own inside our worker threads (the COG step asks for its own compression threads)."""


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS, affine transform and size."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @classmethod
    def of(cls, dataset: DatasetReader) -> Grid:
        """The grid of an open dataset."""
        return cls(
            CRS.from_user_input(dataset.crs), dataset.transform, dataset.width, dataset.height
        )

    def same_as(self, other: Grid, tolerance: float = 1e-6) -> bool:
        """Whether two grids are pixel for pixel the same (transform within a pixel fraction)."""
        if (self.width, self.height) != (other.width, other.height) or self.crs != other.crs:
            return False
        pixel = max(abs(self.transform.a), abs(self.transform.e))
        return bool(self.transform.almost_equals(other.transform, precision=tolerance * pixel))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in grid CRS units."""
        west, south, east, north = array_bounds(self.height, self.width, self.transform)
        return (min(west, east), min(south, north), max(west, east), max(south, north))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (EPSG code or WKT, GDAL-order transform, shape)."""
        epsg = self.crs.to_epsg()
        return {
            "crs": f"EPSG:{epsg}" if epsg else self.crs.to_wkt(),
            "transform": list(self.transform.to_gdal()),
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Grid:
        """The grid that `to_dict` described.

        Args:
            record: a mapping with ``crs`` (EPSG code or WKT), ``transform`` (GDAL order),
                ``width`` and ``height``.
        """
        return cls(
            CRS.from_user_input(record["crs"]),
            Affine.from_gdal(*record["transform"]),
            int(record["width"]),
            int(record["height"]),
        )


def warped_onto(
    dataset: DatasetReader, grid: Grid, resampling: Resampling, nodata: float, **options: Any
) -> WarpedVRT:
    """`dataset` as a virtual raster on `grid` (use it in a ``with`` block, or close it).

    Args:
        dataset: an open raster, in any CRS.
        grid: the grid to read it on (CRS, transform, size).
        resampling: how source pixels become grid pixels (e.g. ``Resampling.nearest``).
        nodata: the value of grid pixels the source does not cover.
        options: further `WarpedVRT` options, passed as given (``src_nodata``, ``src_crs``,
            ``dtype``).
    """
    return WarpedVRT(
        dataset,
        crs=rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()),
        transform=grid.transform,
        width=grid.width,
        height=grid.height,
        nodata=nodata,
        resampling=resampling,
        **options,
    )


def open_raster(path: Path | str) -> DatasetReader:
    """Open a georeferenced raster for reading, or raise a one-line `InputError`."""
    path = Path(path)
    if not path.exists():
        raise RasterReadError(path, "no such file")
    if path.is_dir():
        raise RasterReadError(path, "is a directory, not a raster file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset: DatasetReader = rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterReadError(path, f"not a readable raster ({first_line(exc)})") from None
    if dataset.crs is None or dataset.transform == Affine.identity():
        dataset.close()
        raise MissingCRSError(path)
    return dataset


@contextlib.contextmanager
def reading(path: Path | str) -> Iterator[None]:
    """Turn a failed read of `path` (corrupt, truncated) into a one-line `RasterReadError`.

    Args:
        path: the raster read inside the block.
    """
    try:
        yield
    except (RasterioError, CPLE_BaseError) as exc:
        cause = exc.__cause__ or exc.__context__ or exc
        raise RasterReadError(path, f"corrupt or truncated raster ({first_line(cause)})") from None


def row_windows(height: int, width: int, rows: int = BLOCK_ROWS) -> list[Window]:
    """Full-width windows of `rows` rows covering a raster top to bottom."""
    return [Window(0, top, width, min(rows, height - top)) for top in range(0, height, rows)]


def pixel_area_km2(grid: Grid) -> npt.NDArray[np.float64]:
    """Area of one pixel per row in km² (rows differ only for geographic CRSs)."""
    transform = grid.transform
    if grid.crs.is_geographic:
        geod = Geod(ellps="WGS84")
        lon0 = transform.c
        lon1 = lon0 + transform.a
        tops = transform.f + transform.e * np.arange(grid.height)
        areas = np.empty(grid.height)
        for row, top in enumerate(tops):
            bottom = top + transform.e
            area, _ = geod.polygon_area_perimeter(
                [lon0, lon1, lon1, lon0], [top, top, bottom, bottom]
            )
            areas[row] = abs(area) / 1e6
        return areas
    unit_m = grid.crs.axis_info[0].unit_conversion_factor if grid.crs.axis_info else 1.0
    area_m2 = abs(transform.a * transform.e - transform.b * transform.d) * unit_m**2
    return np.full(grid.height, area_m2 / 1e6)


def check_writable_dir(directory: Path) -> None:
    """Create `directory` if needed and check that files can be written in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritableError(directory, exc.strerror or str(exc)) from None
    if not directory.is_dir():
        raise OutputNotWritableError(directory, "not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputNotWritableError(directory, "permission denied")


def check_outputs(paths: Sequence[Path], overwrite: bool) -> None:
    """Fail before any work if an output exists (without overwrite) or cannot be written."""
    for path in paths:
        check_writable_dir(path.parent)
        if path.exists() and not overwrite:
            raise OutputExistsError(path)


@dataclass(frozen=True)
class CogOptions:
    """How a band is stored: compression (DEFLATE or ZSTD), level, predictor, overviews."""

    level: int = 6
    predictor: str = "NO"
    resampling: str = "NEAREST"
    compress: str = "DEFLATE"


@dataclass
class BandSpec:
    """What a COG output holds besides its pixels: one band, or several of one data type."""

    dtype: str
    nodata: float | None
    description: str
    options: CogOptions = field(default_factory=CogOptions)
    tags: dict[str, Any] = field(default_factory=dict)
    """Dataset tags."""
    colormap: dict[int, tuple[int, int, int, int]] | None = None
    band_tags: tuple[dict[str, Any], ...] = ()
    """Tags per band, one mapping each; more than one makes a multi-band output whose band
    descriptions are their ``description`` values. Empty: one band, `description`."""

    @property
    def count(self) -> int:
        """The number of bands."""
        return max(1, len(self.band_tags))


class StagedCog:
    """A COG output in two steps: blocks go to a staging GeoTIFF, `finish` makes the COG.

    Subclasses may add GTiff creation options of the staging file (`stage_options`).

    The staging file (ZSTD level 1: fast, small in the page cache) lives in the target
    directory; `finish` has GDAL's COG driver compress it (threaded) with overviews into a
    temporary name that is then renamed onto `path`. Nothing appears at `path` unless every
    step succeeds; `discard` removes what is left either way, and temporaries a killed earlier
    write of `path` stranded are removed first (`s1flood.atomic`).
    """

    stage_options: ClassVar[dict[str, Any]] = {}

    def __init__(self, path: Path, grid: Grid, spec: BandSpec) -> None:
        self.path = path
        self.spec = spec
        clear_stale(path)
        self.temporaries = TempGroup(path)
        self.stage = self.temporaries.path(".stage.tif")
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "width": grid.width,
            "height": grid.height,
            "count": spec.count,
            "dtype": spec.dtype,
            "crs": grid.crs.to_wkt(),
            "transform": grid.transform,
            "nodata": spec.nodata,
            "tiled": True,
            "blockxsize": COG_BLOCKSIZE,
            "blockysize": COG_BLOCKSIZE,
            "BIGTIFF": "IF_SAFER",
            "compress": "ZSTD",
            "zstd_level": 1,
            **self.stage_options,
        }
        self.writer: DatasetWriter = rasterio.open(self.stage, "w", **profile)
        if spec.tags:
            self.writer.update_tags(**spec.tags)
        self.writer.set_band_description(1, spec.description)
        for index, tags in enumerate(spec.band_tags, start=1):
            band = {k: v for k, v in tags.items() if k != "description"}
            self.writer.set_band_description(index, str(tags.get("description", "")))
            self.writer.update_tags(index, **band)
        if spec.colormap:
            self.writer.write_colormap(1, spec.colormap)

    def finish(self) -> Path:
        """Close the staging file and turn it into the COG at `path`."""
        self.writer.close()
        return self._copy_to_cog(self.stage)

    def _copy_to_cog(self, source: Path) -> Path:
        """Have GDAL's COG driver copy `source` to `path` (its overviews, or new ones)."""
        options = self.spec.options
        with rasterio.Env(**GDAL_ENV), atomic_path(self.path) as tmp:
            rasterio.shutil.copy(
                source,
                tmp,
                driver="COG",
                COMPRESS=options.compress,
                LEVEL=options.level,
                PREDICTOR=options.predictor,
                BLOCKSIZE=COG_BLOCKSIZE,
                OVERVIEWS="AUTO",
                OVERVIEW_RESAMPLING=options.resampling,
                NUM_THREADS="ALL_CPUS",
                BIGTIFF="IF_SAFER",
            )
        log.info("wrote %s", self.path)
        return self.path

    def discard(self) -> None:
        """Remove the staging file (after `finish`, or instead of it)."""
        if not self.writer.closed:
            self.writer.close()
        self.temporaries.release()


@contextlib.contextmanager
def staged_cogs(
    outputs: Sequence[tuple[Path, BandSpec]], grid: Grid
) -> Iterator[list[DatasetWriter]]:
    """Yield writers for several COG outputs; on success finish them all, in parallel threads."""
    staged: list[StagedCog] = []
    try:
        with rasterio.Env(**GDAL_ENV):
            for path, spec in outputs:
                staged.append(StagedCog(path, grid, spec))
            yield [s.writer for s in staged]
        with ThreadPoolExecutor(len(staged), thread_name_prefix="s1flood-cog") as pool:
            list(pool.map(StagedCog.finish, staged))
    except Exception as exc:
        for folder in dict.fromkeys(path.parent for path, _ in outputs):
            raise_if_disk_full(exc, folder)
        raise
    finally:
        for s in staged:
            s.discard()


@contextlib.contextmanager
def cog_writer(path: Path, grid: Grid, spec: BandSpec) -> Iterator[DatasetWriter]:
    """Yield a writer for one COG output at `path` (see `StagedCog`)."""
    with staged_cogs([(path, spec)], grid) as (writer,):
        yield writer
