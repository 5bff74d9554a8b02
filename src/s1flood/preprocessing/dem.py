"""DEM access: heights above the WGS 84 ellipsoid on any window of the target grid.

The DEM may be in any CRS; it is resampled (bilinear) onto the requested grid by GDAL.
Heights above the EGM96 geoid are turned into ellipsoidal heights with the EGM96 undulation
grid shipped with s1flood (``data/egm96_30min.npz``: NGA's EGM96 15' grid, public domain,
thinned to 30', bilinear; within 0.6 m of the 15' grid for 99 % of the globe), because
PROJ's geoid grids are not available offline.

Which heights a DEM holds: ``vertical="auto"`` reads the CRS (a compound CRS with an EGM96
or other geoid vertical datum: geoid heights; a horizontal CRS only: ellipsoidal heights, as
sarsen assumes); ``"egm96"`` or ``"ellipsoid"`` say it explicitly (SRTM and Copernicus DEM
tiles are geoid heights with a horizontal CRS only: set ``dem_vertical="egm96"`` for them).
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from importlib import resources
from pathlib import Path

import numba
import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.crs
import shapely.geometry
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.windows import Window

from s1flood.errors import DemCoverageError, InvalidOptionError
from s1flood.raster import GDAL_ENV, Grid, open_raster, warped_onto

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
VERTICAL_CHOICES = ("auto", "egm96", "ellipsoid")


@cache
def _egm96() -> F64:
    ref = resources.files("s1flood.preprocessing").joinpath("data/egm96_30min.npz")
    with resources.as_file(ref) as path, np.load(path) as data:
        grid = data["undulation_cm"].astype(np.float64) / 100.0
    # wrap in longitude: columns 0..719 are 0..359.5 E, add 360 E
    return np.concatenate([grid, grid[:, :1]], axis=1)


def egm96_undulation(lon: npt.ArrayLike, lat: npt.ArrayLike) -> F64:
    """EGM96 geoid height above the WGS 84 ellipsoid (m), bilinear on the 30' grid.

    Args:
        lon: longitudes, degrees.
        lat: latitudes, degrees.
    """
    grid = _egm96()
    lo = np.mod(np.asarray(lon, dtype=np.float64), 360.0)
    la = np.clip(np.asarray(lat, dtype=np.float64), -90.0, 90.0)
    y = (90.0 - la) / 0.5
    x = lo / 0.5
    i = np.clip(np.floor(y).astype(np.int64), 0, grid.shape[0] - 2)
    j = np.clip(np.floor(x).astype(np.int64), 0, grid.shape[1] - 2)
    fy = y - i
    fx = x - j
    out = (
        grid[i, j] * (1 - fy) * (1 - fx)
        + grid[i, j + 1] * (1 - fy) * fx
        + grid[i + 1, j] * fy * (1 - fx)
        + grid[i + 1, j + 1] * fy * fx
    )
    return np.asarray(out, dtype=np.float64)


def _vertical_kind(crs: CRS, vertical: str, path: Path) -> str:
    if vertical not in VERTICAL_CHOICES:
        raise InvalidOptionError("dem_vertical", vertical, f"use {', '.join(VERTICAL_CHOICES)}")
    if vertical != "auto":
        return vertical
    if crs.is_compound and len(crs.sub_crs_list) > 1:
        name = crs.sub_crs_list[1].name
        if "EGM96" not in name.upper():
            log.warning("%s: vertical datum %s read as EGM96 geoid heights", path.name, name)
        return "egm96"
    log.info(
        "%s: no vertical CRS; heights taken as ellipsoidal (if not, set dem_vertical to egm96)",
        path.name,
    )
    return "ellipsoid"


@numba.njit(cache=True, nogil=True)
def _sample_bilinear(src: F32, rows: F64, cols: F64, out: F32) -> None:
    """Bilinear samples of `src` at the outer product of fractional rows and columns."""
    h, w = src.shape
    for i in range(rows.size):
        y = rows[i]
        if not (y >= 0.0 and y <= h - 1):
            continue
        r = min(int(y), h - 2) if h > 1 else 0
        fy = y - r
        r1 = min(r + 1, h - 1)
        for j in range(cols.size):
            x = cols[j]
            if not (x >= 0.0 and x <= w - 1):
                continue
            c = min(int(x), w - 2) if w > 1 else 0
            fx = x - c
            c1 = min(c + 1, w - 1)
            out[i, j] = (
                src[r, c] * (1 - fy) * (1 - fx)
                + src[r, c1] * (1 - fy) * fx
                + src[r1, c] * fy * (1 - fx)
                + src[r1, c1] * fy * fx
            )


class DemSampler:
    """Ellipsoidal heights of a DEM on windows of a target grid (thread-safe)."""

    def __init__(self, path: Path | str, vertical: str = "auto") -> None:
        self.path = Path(path)
        with open_raster(self.path) as src:
            self.crs = CRS.from_user_input(src.crs.to_wkt())
            self.bounds = tuple(src.bounds)
            self.nodata = src.nodata
            self.resolution = src.res
        self.vertical = _vertical_kind(self.crs, vertical, self.path)
        horizontal = self.crs.sub_crs_list[0] if self.crs.is_compound else self.crs
        self._src_crs = rasterio.crs.CRS.from_wkt(horizontal.to_wkt())
        self._same: bool | None = None
        self._local = threading.local()
        self._opened: list[DatasetReader] = []
        self._lock = threading.Lock()

    def _dataset(self) -> DatasetReader:
        ds: DatasetReader | None = getattr(self._local, "ds", None)
        if ds is None:
            ds = open_raster(self.path)
            self._local.ds = ds
            with self._lock:
                self._opened.append(ds)
        return ds

    def close(self) -> None:
        """Close the datasets opened by worker threads."""
        with self._lock:
            for ds in self._opened:
                ds.close()
            self._opened.clear()

    def heights(self, grid: Grid, resampling: Resampling = Resampling.bilinear) -> F32:
        """Ellipsoidal heights (float32, NaN where the DEM has none) on `grid`.

        Args:
            grid: the grid to sample on.
            resampling: how DEM pixels become grid pixels.
        """
        ds = self._dataset()
        if resampling == Resampling.bilinear and self._same_lattice(ds, grid):
            out = self._direct(ds, grid)
            if self.vertical == "egm96":
                out += self._undulation(grid)
            return out
        with (
            rasterio.Env(**GDAL_ENV),
            warped_onto(
                ds,
                grid,
                resampling,
                np.nan,
                src_crs=self._src_crs,
                src_nodata=self.nodata,
                dtype="float32",
            ) as vrt,
        ):
            out = np.asarray(vrt.read(1), dtype=np.float32)
        if self.vertical == "egm96":
            out += self._undulation(grid)
        return out

    def _same_lattice(self, ds: DatasetReader, grid: Grid) -> bool:
        """Whether the DEM is north-up in the grid's CRS (then no reprojection is needed)."""
        t = ds.transform
        if self._same is None:
            self._same = self.crs.equals(grid.crs) or (
                not self.crs.is_compound and self.crs.to_wkt() == grid.crs.to_wkt()
            )
        return bool(self._same) and t.b == 0 and t.d == 0 and grid.transform.b == 0

    def _direct(self, ds: DatasetReader, grid: Grid) -> F32:
        """Bilinear heights from a DEM in the grid's CRS: one window read, compiled sampling."""
        s = ds.transform
        t = grid.transform
        cols = ((t.c + t.a * (np.arange(grid.width) + 0.5)) - s.c) / s.a - 0.5
        rows = ((t.f + t.e * (np.arange(grid.height) + 0.5)) - s.f) / s.e - 0.5
        c0 = max(0, int(np.floor(cols.min())) - 1)
        c1 = min(ds.width, int(np.ceil(cols.max())) + 2)
        r0 = max(0, int(np.floor(rows.min())) - 1)
        r1 = min(ds.height, int(np.ceil(rows.max())) + 2)
        out = np.full((grid.height, grid.width), np.nan, np.float32)
        if c0 >= c1 or r0 >= r1:
            return out
        with rasterio.Env(**GDAL_ENV):
            block = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), out_dtype="float32")
        if self.nodata is not None and np.isfinite(self.nodata):
            block[block == np.float32(self.nodata)] = np.nan
        _sample_bilinear(block, rows - r0, cols - c0, out)
        return out

    @staticmethod
    def _undulation(grid: Grid, nodes: int = 9) -> F32:
        """EGM96 undulation on a grid (the geoid is smooth: from a 9 x 9 net, bilinear)."""
        rows = np.linspace(0, grid.height, nodes)
        cols = np.linspace(0, grid.width, nodes)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        t = grid.transform
        x = t.c + t.a * cc + t.b * rr
        y = t.f + t.d * cc + t.e * rr
        to_ll = Transformer.from_crs(grid.crs, CRS.from_epsg(4326), always_xy=True)
        lon, lat = to_ll.transform(x, y)
        n = egm96_undulation(lon, lat)
        pr = np.arange(grid.height) + 0.5
        pc = np.arange(grid.width) + 0.5
        along = np.stack([np.interp(pc, cols, n[k]) for k in range(nodes)])
        full = np.stack([np.interp(pr, rows, along[:, j]) for j in range(grid.width)], axis=1)
        return full.astype(np.float32)

    def check_covers(self, grid: Grid, aoi_lonlat: shapely.geometry.Polygon) -> None:
        """Raise `DemCoverageError` unless the DEM has heights over the whole AOI.

        Args:
            grid: the target grid.
            aoi_lonlat: the AOI (lon/lat).
        """
        to_dem = Transformer.from_crs(CRS.from_epsg(4326), self.crs, always_xy=True)
        lon, lat = np.asarray(aoi_lonlat.exterior.segmentize(0.001).coords).T
        x, y = to_dem.transform(lon, lat)
        left, bottom, right, top = self.bounds
        aoi_box = shapely.geometry.box(np.min(x), np.min(y), np.max(x), np.max(y))
        dem_box = shapely.geometry.box(left, bottom, right, top)
        if not aoi_box.intersects(dem_box):
            raise DemCoverageError(self.path, "the DEM lies entirely outside the AOI")
        # heights on a coarse version of the grid, at points inside the AOI
        factor = max(1, int(np.ceil(max(grid.width, grid.height) / 256)))
        coarse = Grid(
            grid.crs,
            grid.transform * Affine.scale(factor),
            max(1, -(-grid.width // factor)),
            max(1, -(-grid.height // factor)),
        )
        heights = self.heights(coarse, Resampling.nearest)
        rows, cols = np.mgrid[0 : coarse.height, 0 : coarse.width]
        ct = coarse.transform
        gx = ct.c + ct.a * (cols + 0.5) + ct.b * (rows + 0.5)
        gy = ct.f + ct.d * (cols + 0.5) + ct.e * (rows + 0.5)
        to_ll = Transformer.from_crs(grid.crs, CRS.from_epsg(4326), always_xy=True)
        glon, glat = to_ll.transform(gx, gy)
        inside = shapely.contains_xy(aoi_lonlat, glon, glat)
        if not inside.any():
            return
        missing = float(np.mean(~np.isfinite(heights[inside])))
        if missing > 0.001:
            raise DemCoverageError(self.path, f"no heights for {100 * missing:.1f}% of the AOI")
