"""DEMs found and fetched for any AOI: the Copernicus DEM GLO-30 and GLO-90 tiles.

``dem="copernicus-30"`` (or ``"copernicus-90"``) makes `resolve_dem` find the 1 x 1 degree
Cloud Optimized GeoTIFF tiles covering the target grid plus a margin, named as the public
open-data buckets name them (``Copernicus_DSM_COG_10_N42_00_E012_00_DEM/
Copernicus_DSM_COG_10_N42_00_E012_00_DEM.tif``; ``_30_`` for GLO-90), download the whole tiles
once into the cache (``dem/<source>/``, reused by every scene and run, resumed with HTTP
ranges after a cut, retried on 5xx), and mosaic the AOI's window of them into one GeoTIFF of
ellipsoidal heights (``dem/mosaics/``), which the engines then read as any DEM file.

Tiles that do not exist (404: open sea) are sea level. Copernicus heights are above the
EGM2008 geoid; they become ellipsoidal heights with PROJ's EGM2008 grid
(``us_nga_egm08_25.tif``, e.g. from ``projsync --file us_nga_egm08_25.tif`` or copied into
PROJ's user data folder, ``pyproj.datadir.get_user_data_dir()``) where PROJ has it, else
with the bundled EGM96 grid (see `dem.py`, itself within 0.6 m of EGM96 for 99 % of the
globe). EGM96 and EGM2008 differ by well under 1 m over most of the globe but by several
metres (up to about 10 m) over high mountains with sparse gravity data in EGM96 (Himalaya,
Andes, central Africa); a height error shifts the terrain-corrected position by about the
error times the cotangent of the incidence angle (under 2 m per metre across the IW swath).
Base URLs: the discovery settings ``dem_copernicus_30_url`` / ``dem_copernicus_90_url``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from pyproj import Transformer
from rasterio.merge import merge
from rasterio.transform import from_origin

from s1flood.cache import atomic_path, cache_dir, entry_lock
from s1flood.errors import CatalogueError, DemCoverageError, InvalidOptionError
from s1flood.preprocessing.dem_fetch import fetch_tile, gdal_http_env, remote_tile

__all__ = [
    "DEM_SOURCES",
    "DemFetch",
    "DemSource",
    "geoid_undulation",
    "is_dem_source",
    "resolve_dem",
    "tile_name",
    "tile_width",
    "tiles_for_bounds",
]

log = logging.getLogger(__name__)

MARGIN_DEG = 0.01
"""Degrees added around the target grid's lon/lat bounds before tiles are chosen."""


@dataclass(frozen=True)
class DemSource:
    """A tiled global DEM: its name, tile code, pixels per degree of latitude, URL setting."""

    name: str
    code: str
    """The resolution code in tile names: ``10`` (arc seconds: GLO-30) or ``30`` (GLO-90)."""
    pixels: int
    """Pixels per degree of latitude (and of longitude below 50 degrees)."""
    url_setting: str
    """The discovery setting holding the base URL."""


DEM_SOURCES: dict[str, DemSource] = {
    "copernicus-30": DemSource("copernicus-30", "10", 3600, "dem_copernicus_30_url"),
    "copernicus-90": DemSource("copernicus-90", "30", 1200, "dem_copernicus_90_url"),
}


def is_dem_source(dem: Path | str | None) -> bool:
    """Whether a ``dem`` value names a DEM to fetch (not a file).

    Args:
        dem: the ``dem`` parameter as given.
    """
    return dem is not None and str(dem).strip().lower() in DEM_SOURCES


def tile_name(source: DemSource, lat: int, lon: int) -> str:
    """The tile name for the 1 x 1 degree cell whose south-west corner is (lat, lon).

    Args:
        source: the DEM.
        lat: the cell's southern latitude (integer degrees).
        lon: the cell's western longitude (integer degrees).
    """
    ns = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"
    ew = f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}"
    return f"Copernicus_DSM_COG_{source.code}_{ns}_00_{ew}_00_DEM"


def tile_width(source: DemSource, lat: int) -> int:
    """Columns of a tile: fewer towards the poles (the Copernicus DEM's latitude zones).

    Args:
        source: the DEM.
        lat: the tile's southern latitude.
    """
    zone = abs(lat + 0.5)  # the tile's centre latitude
    for limit, divisor in ((50, 1.0), (60, 1.5), (70, 2.0), (80, 3.0), (85, 5.0)):
        if zone < limit:
            return round(source.pixels / divisor)
    return source.pixels // 10


def tiles_for_bounds(west: float, south: float, east: float, north: float) -> list[tuple[int, int]]:
    """(lat, lon) of the south-west corners of the cells a lon/lat box touches.

    Args:
        west: western longitude.
        south: southern latitude.
        east: eastern longitude.
        north: northern latitude.
    """
    lats = range(math.floor(south), math.floor(north) + 1)
    lons = range(math.floor(west), math.floor(east) + 1)
    return [(lat, lon) for lat in lats for lon in lons if -90 <= lat < 90 and -180 <= lon < 180]


@dataclass
class DemFetch:
    """What `resolve_dem` fetched and wrote: the mosaic, tiles, requests, bytes, seconds."""

    source: str
    path: Path
    geoid: str
    tiles: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    cached: bool = False
    fetch: str = "tiles"
    """``tiles`` or ``windows`` (then requests and bytes are GDAL's range reads: not counted)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (paths as strings)."""
        out = asdict(self)
        out["path"] = str(self.path)
        return out


@cache
def _egm2008() -> Transformer | None:
    """PROJ's EGM2008 height to WGS 84 ellipsoid transformer, if its grid is available."""
    try:
        t = Transformer.from_crs("EPSG:9518", "EPSG:4979", always_xy=True, only_best=True)
    except Exception:
        return None
    if "ballpark" in t.description.lower():
        return None
    probe = t.transform(0.0, 0.0, 0.0)[2]
    return t if np.isfinite(probe) else None


def geoid_undulation(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], str]:
    """EGM2008 geoid height above the ellipsoid (m), and the model actually used.

    PROJ's EGM2008 grid when available (``EGM2008``), else the bundled EGM96 30' grid
    (``EGM96``; see the module docstring for the resulting error).

    Args:
        lon: longitudes, degrees.
        lat: latitudes, degrees.
    """
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    transformer = _egm2008()
    if transformer is not None:
        _, _, h = transformer.transform(lo, la, np.zeros_like(lo))
        return np.asarray(h, dtype=np.float64), "EGM2008"
    from s1flood.preprocessing.dem import egm96_undulation

    return egm96_undulation(lo, la), "EGM96"


def _config(settings: Any = None) -> Any:
    from s1flood.discovery.config import load_config

    return settings if settings is not None else load_config()


def _fetch_tile(
    source: DemSource, lat: int, lon: int, config: Any, report: DemFetch
) -> Path | str | None:
    """The tile to mosaic (cached file, or ``/vsicurl/`` URL), or None for a cell without one."""
    name = tile_name(source, lat, lon)
    url = f"{str(getattr(config, source.url_setting)).rstrip('/')}/{name}/{name}.tif"
    if str(config.dem_fetch).strip().lower() == "windows":
        return remote_tile(url, name, config)
    if str(config.dem_fetch).strip().lower() != "tiles":
        reason = "use tiles (whole tiles, cached) or windows (HTTP range reads)"
        raise InvalidOptionError("settings", f"dem_fetch={config.dem_fetch}", reason)
    return fetch_tile(url, cache_dir("dem") / source.name / f"{name}.tif", config, report)


def _snapped(
    west: float, south: float, east: float, north: float, dx: float, dy: float
) -> tuple[float, float, float, float]:
    """Bounds grown to the tiles' pixel lattice (pixel edges at n * d - d / 2)."""
    w = (math.floor((west + dx / 2) / dx)) * dx - dx / 2
    e = (math.ceil((east + dx / 2) / dx)) * dx - dx / 2
    s = (math.floor((south - dy / 2) / dy)) * dy + dy / 2
    n = (math.ceil((north - dy / 2) / dy)) * dy + dy / 2
    return w, s, e, n


def resolve_dem(
    dem: Path | str,
    bounds_lonlat: tuple[float, float, float, float],
    *,
    settings: Any = None,
) -> DemFetch:
    """Fetch (or find cached) the tiles of a named DEM and write the AOI's mosaic.

    The mosaic holds float32 ellipsoidal heights in EPSG:4326 on the tiles' own lattice
    (so no height is resampled twice), over ``bounds_lonlat`` plus `MARGIN_DEG`.

    Args:
        dem: ``copernicus-30`` or ``copernicus-90``.
        bounds_lonlat: (west, south, east, north) the heights must cover, degrees.
        settings: a `DiscoveryConfig` (default: `load_config()`, i.e. ``S1FLOOD_*``
            variables and the config file).
    """
    started = time.perf_counter()
    key = str(dem).strip().lower()
    if key not in DEM_SOURCES:
        choices = ", ".join(DEM_SOURCES)
        raise InvalidOptionError("dem", str(dem), f"not a file; a DEM to fetch is {choices}")
    source = DEM_SOURCES[key]
    config = _config(settings)
    west, south, east, north = bounds_lonlat
    west, south = west - MARGIN_DEG, south - MARGIN_DEG
    east, north = east + MARGIN_DEG, north + MARGIN_DEG
    cells = tiles_for_bounds(west, south, east, north)
    dy = 1.0 / source.pixels
    dx = min(1.0 / tile_width(source, lat) for lat, _ in cells)
    box = _snapped(west, south, east, north, dx, dy)
    _, geoid = geoid_undulation(0.0, 0.0)
    digest = hashlib.sha1(
        f"{source.name}|{box[0]:.9f}|{box[1]:.9f}|{box[2]:.9f}|{box[3]:.9f}|{geoid}".encode()
    ).hexdigest()[:16]
    mosaic = cache_dir("dem") / "mosaics" / f"{source.name}_{digest}.tif"
    report = DemFetch(source.name, mosaic, geoid, fetch=str(config.dem_fetch))
    report.tiles = [tile_name(source, lat, lon) for lat, lon in cells]
    if mosaic.exists():
        report.cached = True
    else:
        with entry_lock(mosaic):
            if mosaic.exists():
                report.cached = True
            else:
                _build(source, cells, box, dx, dy, mosaic, config, report)
    report.seconds = time.perf_counter() - started
    log.info(
        "DEM %s: %d tile(s) (%d sea), %d request(s), %.1f MB, %.1f s%s -> %s",
        source.name, len(report.tiles), len(report.missing), report.requests,
        report.bytes / 1e6, report.seconds, " (cached)" if report.cached else "", mosaic.name,
    )  # fmt: skip
    return report


def _build(
    source: DemSource,
    cells: list[tuple[int, int]],
    box: tuple[float, float, float, float],
    dx: float,
    dy: float,
    mosaic: Path,
    config: Any,
    report: DemFetch,
) -> None:
    """Fetch the tiles and write the mosaic of ellipsoidal heights (atomically)."""
    paths = []
    for lat, lon in cells:
        path = _fetch_tile(source, lat, lon, config, report)
        if path is None:
            report.missing.append(tile_name(source, lat, lon))
        else:
            paths.append(path)
    if not paths:
        raise DemCoverageError(
            source.name,
            f"no tile of {', '.join(report.tiles)} exists at "
            f"{getattr(config, source.url_setting)} (check {source.url_setting})",
        )
    west, south, east, north = box
    width = round((east - west) / dx)
    height = round((north - south) / dy)
    transform = from_origin(west, north, dx, dy)
    try:
        with rasterio.Env(GDAL_NUM_THREADS="1", **gdal_http_env(config)):
            heights, _ = merge(
                [str(p) for p in paths],
                bounds=(west, north - height * dy, west + width * dx, north),
                res=(dx, dy),
                nodata=np.nan,
                dtype="float32",
            )
    except rasterio.errors.RasterioIOError as exc:  # a range read failed (windows)
        cause = exc.__cause__ or exc  # GDAL's own message ("HTTP error code: 500 - URL")
        first = (str(cause).strip().splitlines() or [type(exc).__name__])[0]
        raise CatalogueError(f"DEM {source.name}: reading the tiles failed ({first})") from None
    band = heights[0, :height, :width].astype(np.float32)
    band[~np.isfinite(band)] = 0.0  # cells without a tile: sea level
    cols = west + dx * (np.arange(width) + 0.5)
    rows = north - dy * (np.arange(height) + 0.5)
    lon, lat = np.meshgrid(cols, rows)
    undulation, model = geoid_undulation(lon, lat)
    band = (band + undulation).astype(np.float32)  # summed in float64, rounded once
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
        "crs": "EPSG:4326", "transform": transform, "nodata": None, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 3,
    }  # fmt: skip
    with atomic_path(mosaic) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(band, 1)
        dst.update_tags(
            DEM_SOURCE=source.name,
            VERTICAL="ellipsoid (WGS 84)",
            GEOID=model,
            TILES=",".join(report.tiles),
            SEA_TILES=",".join(report.missing),
        )
        dst.set_band_description(1, "height above the WGS 84 ellipsoid (m)")
    report.geoid = model
