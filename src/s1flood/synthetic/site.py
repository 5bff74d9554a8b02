"""The site of a simulation: its terrain (generated or read) and the point the radar aims at."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely.geometry
from pyproj import Transformer
from rasterio.crs import CRS

from s1flood.errors import InvalidOptionError
from s1flood.grid import utm_crs
from s1flood.synthetic.terrain import Terrain, generate_valley, load_dem, write_dem

LOGGER = logging.getLogger(__name__)

DEM_RESOLUTION = 10.0
MAX_DEM_EXTENT_M = 45_000.0


@dataclass(frozen=True)
class Site:
    """The terrain of a simulation, where it is stored, and the scene centre."""

    terrain: Terrain
    dem_path: Path
    lon: float
    """Longitude of the scene centre (the AOI centroid, or the DEM centre), degrees."""
    lat: float
    """Latitude of the scene centre, degrees."""
    reference_height: float
    """Median height of the terrain (m, to the centimetre): the annotation's terrain height."""


def make_site(
    aoi: shapely.geometry.Polygon,
    aoi_wkt: str,
    dem: Path | None,
    image_extent_m: float | None,
    seed: int,
    out_dir: Path,
) -> Site:
    """Read the given DEM, or generate a river valley around the AOI and write it.

    Args:
        aoi: the area of interest (lon/lat).
        aoi_wkt: the AOI as given (named in errors).
        dem: a DEM GeoTIFF to use, or None to generate one.
        image_extent_m: the ground extent the image needs (None: the AOI's only).
        seed: the random seed of the generated terrain.
        out_dir: the simulation folder (a generated DEM goes to ``dem/dem.tif``).
    """
    centroid = aoi.centroid
    lon, lat = float(centroid.x), float(centroid.y)
    if dem is not None:
        terrain = load_dem(Path(dem), seed)
        dem_path = Path(dem)
    else:
        terrain = _generate_valley(aoi, aoi_wkt, lon, lat, image_extent_m, seed)
        dem_path = write_dem(terrain, out_dir / "dem" / "dem.tif")
    valid_heights = terrain.elevation[terrain.valid]
    if terrain.geoid_height is not None:  # the annotation's height is ellipsoidal
        valid_heights = valid_heights + terrain.geoid_height[terrain.valid]
    ref_height = float(np.round(np.median(valid_heights), 2))
    if dem is not None:
        lon, lat = _dem_centre(terrain, aoi, dem)
    return Site(terrain, dem_path, lon, lat, ref_height)


def _generate_valley(
    aoi: shapely.geometry.Polygon,
    aoi_wkt: str,
    lon: float,
    lat: float,
    image_extent_m: float | None,
    seed: int,
) -> Terrain:
    """A generated river valley in the AOI's UTM zone, covering the AOI and the image."""
    crs = CRS.from_epsg(utm_crs(lon, lat).to_epsg())
    to_utm = Transformer.from_crs(
        pyproj.CRS.from_epsg(4326), pyproj.CRS.from_user_input(crs.to_wkt()), always_xy=True
    )
    xs, ys = to_utm.transform(*np.asarray(aoi.exterior.coords).T)
    aoi_bounds = (float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys)))
    bounds = _dem_bounds(aoi_bounds, image_extent_m)
    if max(bounds[2] - bounds[0], bounds[3] - bounds[1]) > MAX_DEM_EXTENT_M:
        raise InvalidOptionError(
            "aoi",
            aoi_wkt[:60],
            f"too large to simulate (over {MAX_DEM_EXTENT_M / 1000:.0f} km)",
        )
    LOGGER.info("generating a %s DEM over %s", crs, bounds)
    return generate_valley(bounds, crs, DEM_RESOLUTION, seed)


def _dem_centre(terrain: Terrain, aoi: shapely.geometry.Polygon, dem: Path) -> tuple[float, float]:
    """The lon/lat of a given DEM's centre; an error if the DEM misses the AOI."""
    t = terrain.transform
    cx = t.c + t.a * terrain.shape[1] / 2
    cy = t.f + t.e * terrain.shape[0] / 2
    to_ll = Transformer.from_crs(
        pyproj.CRS.from_user_input(terrain.crs.to_wkt()),
        pyproj.CRS.from_epsg(4326),
        always_xy=True,
    )
    if not aoi.intersects(_dem_footprint(terrain, to_ll)):
        raise InvalidOptionError("dem", str(dem), "the DEM does not overlap the AOI")
    lon, lat = (float(v) for v in to_ll.transform(cx, cy))
    return lon, lat


def _dem_bounds(
    aoi_bounds_utm: tuple[float, float, float, float], image_extent_m: float | None
) -> tuple[float, float, float, float]:
    """DEM bounds: the AOI plus 1 km, at least the image extent, snapped to whole pixels."""
    xmin, ymin, xmax, ymax = aoi_bounds_utm
    cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
    half_x = 0.5 * (xmax - xmin) + 1_000.0
    half_y = 0.5 * (ymax - ymin) + 1_000.0
    if image_extent_m is not None:
        half_x = max(half_x, 0.5 * image_extent_m)
        half_y = max(half_y, 0.5 * image_extent_m)
    r = DEM_RESOLUTION
    return (
        np.floor((cx - half_x) / r) * r,
        np.floor((cy - half_y) / r) * r,
        np.ceil((cx + half_x) / r) * r,
        np.ceil((cy + half_y) / r) * r,
    )


def _dem_footprint(terrain: Terrain, to_ll: Transformer) -> shapely.geometry.Polygon:
    """The DEM's outline in lon/lat."""
    t = terrain.transform
    ny, nx = terrain.shape
    corners = [
        (t.c, t.f),
        (t.c + t.a * nx, t.f),
        (t.c + t.a * nx, t.f + t.e * ny),
        (t.c, t.f + t.e * ny),
    ]
    return shapely.geometry.Polygon([to_ll.transform(x, y) for x, y in corners])
