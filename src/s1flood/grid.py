"""The target grid of an AOI: every scene of the AOI is written pixel for pixel onto it.

The grid depends on the AOI, the pixel size and the CRS only (never on a scene), so two
scenes of one AOI give pixel-aligned outputs by construction: the CRS is the UTM zone of the
AOI centroid unless one is given, and the bounds are the AOI's bounds in that CRS snapped
outwards to whole multiples of the pixel size.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import shapely.geometry
from affine import Affine
from pyproj import CRS, Transformer

from s1flood.aoi import parse_aoi_wkt
from s1flood.errors import InvalidOptionError
from s1flood.raster import Grid

log = logging.getLogger(__name__)

MAX_PIXELS = 4_000_000_000
"""Refuse grids beyond this many pixels (a typo in --resolution, not a real request)."""


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS of a point (EPSG:326xx north, 327xx south)."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def parse_crs(value: str | CRS | None, option: str = "crs") -> CRS | None:
    """A CRS from EPSG:XXXX, WKT or PROJ text; a one-line error if it is not one."""
    if value is None or isinstance(value, CRS):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        crs = CRS.from_user_input(text)
    except Exception as exc:  # pyproj raises CRSError with a long message
        raise InvalidOptionError(option, text, f"not a CRS ({type(exc).__name__})") from None
    if not crs.is_projected:
        raise InvalidOptionError(option, text, "use a projected CRS with metre units")
    return crs


def target_grid(
    aoi: str | shapely.geometry.Polygon, resolution: float = 10.0, crs: str | CRS | None = None
) -> Grid:
    """The target grid of an AOI (WKT in lon/lat or a polygon) at `resolution` metres."""
    polygon = parse_aoi_wkt(aoi) if isinstance(aoi, str) else aoi
    if not (math.isfinite(resolution) and 0.1 <= resolution <= 10_000.0):
        raise InvalidOptionError("resolution", resolution, "must be between 0.1 and 10000 m")
    target_crs = parse_crs(crs)
    if target_crs is None:
        centroid = polygon.centroid
        target_crs = utm_crs(float(centroid.x), float(centroid.y))
    to_target = Transformer.from_crs(CRS.from_epsg(4326), target_crs, always_xy=True)
    # densify the outline so that curved edges in the target CRS are inside the bounds
    ring = shapely.geometry.LineString(polygon.exterior.coords)
    step = max(ring.length / 400.0, 1e-5)
    dense = ring.segmentize(step)
    lon, lat = np.asarray(dense.coords).T
    x, y = to_target.transform(lon, lat)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InvalidOptionError("crs", str(crs), "the AOI cannot be projected to this CRS")
    r = float(resolution)
    left = math.floor(float(np.min(x)) / r) * r
    bottom = math.floor(float(np.min(y)) / r) * r
    right = math.ceil(float(np.max(x)) / r) * r
    top = math.ceil(float(np.max(y)) / r) * r
    width = max(1, round((right - left) / r))
    height = max(1, round((top - bottom) / r))
    if width * height > MAX_PIXELS:
        raise InvalidOptionError(
            "resolution", resolution, f"the AOI would need {width} x {height} pixels"
        )
    grid = Grid(target_crs, Affine(r, 0.0, left, 0.0, -r, top), width, height)
    log.info(
        "target grid: %s, %g m, %d x %d pixels, bounds %s",
        target_crs.to_string(),
        r,
        width,
        height,
        (left, bottom, right, top),
    )
    return grid


def grid_footprint_lonlat(grid: Grid) -> shapely.geometry.Polygon:
    """The outline of a grid in lon/lat (edges densified)."""
    left, bottom, right, top = grid.bounds
    box = shapely.geometry.box(left, bottom, right, top).exterior.segmentize(
        max(right - left, top - bottom) / 50.0
    )
    x, y = np.asarray(box.coords).T
    to_ll = Transformer.from_crs(grid.crs, CRS.from_epsg(4326), always_xy=True)
    lon, lat = to_ll.transform(x, y)
    return shapely.geometry.Polygon(np.column_stack([lon, lat]))
