"""The input checks every engine runs before any pixel is computed: product, AOI, DEM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely.geometry

from s1flood.errors import AoiOutsideFootprintError
from s1flood.preprocessing.dem import DemSampler
from s1flood.preprocessing.model import PreprocessOptions
from s1flood.preprocessing.product import SarImage, open_product


def open_inputs(product: Path, options: PreprocessOptions) -> tuple[SarImage, DemSampler]:
    """Open the product and the DEM, checking that both cover the AOI (before any work).

    Args:
        product: the ``.SAFE`` folder or its ``.zip``.
        options: the options naming the polarisation, AOI, grid and DEM.
    """
    sar = open_product(product, options.polarisation)
    check_footprint(product, sar.footprint, options.aoi)
    dem = DemSampler(options.dem, options.dem_vertical)
    dem.check_covers(options.grid, options.aoi)
    return sar, dem


def check_footprint(path: Path, footprint: shapely.geometry.base.BaseGeometry, aoi: Any) -> None:
    """Raise `AoiOutsideFootprintError` unless the AOI intersects the product footprint.

    Args:
        path: the product (named in the error).
        footprint: the product's footprint (lon/lat).
        aoi: the AOI polygon (lon/lat).
    """
    if not footprint.intersects(aoi):
        raise AoiOutsideFootprintError(path, footprint.wkt)
