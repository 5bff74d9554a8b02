"""The input checks every engine runs before any pixel is computed: product, AOI, DEM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely.geometry

from s1flood.errors import AoiOutsideFootprintError
from s1flood.preprocessing.dem import DemSampler
from s1flood.preprocessing.model import PreprocessOptions
from s1flood.preprocessing.product import SarImage, open_polarisations


def open_inputs(product: Path, options: PreprocessOptions) -> tuple[list[SarImage], DemSampler]:
    """Open the product's polarisations and the DEM, checking both cover the AOI (before any work).

    Args:
        product: the ``.SAFE`` folder or its ``.zip``.
        options: the options naming the polarisations, AOI, grid and DEM.

    Returns:
        One image per polarisation of ``options.polarisations`` (band order), and the DEM.
    """
    sars = open_polarisations(product, options.polarisations)
    check_footprint(product, sars[0].footprint, options.aoi)
    dem = DemSampler(options.dem, options.dem_vertical)
    dem.check_covers(options.grid, options.aoi)
    return sars, dem


def check_footprint(path: Path, footprint: shapely.geometry.base.BaseGeometry, aoi: Any) -> None:
    """Raise `AoiOutsideFootprintError` unless the AOI intersects the product footprint.

    Args:
        path: the product (named in the error).
        footprint: the product's footprint (lon/lat).
        aoi: the AOI polygon (lon/lat).
    """
    if not footprint.intersects(aoi):
        raise AoiOutsideFootprintError(path, footprint.wkt)
