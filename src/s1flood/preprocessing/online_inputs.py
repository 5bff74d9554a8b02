"""``dem`` and ``orbit`` values that name something to fetch, turned into files.

`resolve_inputs` is called by `s1flood.preprocessing.preprocess` once the target grid is
known: ``dem="copernicus-30"`` / ``"copernicus-90"`` becomes the cached mosaic of ellipsoidal
heights (`dem_sources`), ``orbit="auto"`` the cached POEORB/RESORB file or None for the
annotation orbit (`orbit_sources`); files and folders pass through untouched.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rasterio.warp import transform_bounds

from s1flood.preprocessing.dem_sources import is_dem_source, resolve_dem
from s1flood.preprocessing.orbit_sources import is_orbit_auto, resolve_orbit
from s1flood.raster import Grid

__all__ = ["resolve_inputs"]

log = logging.getLogger(__name__)


def resolve_inputs(
    product: Path | str,
    grid: Grid,
    dem: Path | str,
    dem_vertical: str,
    orbit: Path | str | None,
) -> tuple[Path, str, Path | None]:
    """The DEM file, its vertical reference and the orbit file (or None) to process with.

    Args:
        product: the product (its name gives the satellite and times for ``orbit="auto"``).
        grid: the target grid the DEM must cover.
        dem: a DEM file, or ``copernicus-30`` / ``copernicus-90``.
        dem_vertical: the ``dem_vertical`` parameter (a fetched DEM is always ``ellipsoid``).
        orbit: an EOF file or folder, ``auto``, or None (annotation orbit).
    """
    if is_dem_source(dem):
        bounds = transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21)
        fetched = resolve_dem(dem, bounds)
        if dem_vertical != "auto":
            log.info("dem_vertical=%s ignored: the fetched DEM is converted", dem_vertical)
        dem, dem_vertical = fetched.path, "ellipsoid"
    if is_orbit_auto(orbit):
        orbit = resolve_orbit(product).path
    return Path(dem), dem_vertical, Path(orbit) if orbit else None
