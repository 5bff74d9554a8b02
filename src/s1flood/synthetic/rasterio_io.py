"""Small raster helpers for the simulator: atomic single-band GeoTIFFs, radar-geometry files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import DatasetWriter

from s1flood.atomic import atomic_path


def write_geotiff(
    path: Path,
    array: npt.NDArray[Any],
    transform: Any,
    crs: Any,
    nodata: float | None = None,
    description: str | None = None,
) -> Path:
    """Write a single-band tiled, compressed GeoTIFF atomically.

    Args:
        path: the file to write.
        array: the band.
        transform: the affine transform.
        crs: the CRS.
        nodata: the nodata value.
        description: the band description.
    """
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": array.shape[0],
        "width": array.shape[1],
        "count": 1,
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": transform,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if array.shape[0] < 256 or array.shape[1] < 256:
        profile.update(tiled=False)
        del profile["blockxsize"], profile["blockysize"]
    if nodata is not None:
        profile["nodata"] = nodata
    if np.issubdtype(array.dtype, np.floating):
        profile["predictor"] = 3
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(array, 1)
        if description:
            dst.set_band_description(1, description)
    return path


def open_for_writing(
    path: Path, driver: str, shape: tuple[int, int], dtype: str, **options: Any
) -> DatasetWriter:
    """Open a single-band raster without a geotransform (radar geometry, GCPs, previews).

    Args:
        path: the file to write.
        driver: the GDAL driver (GTiff, PNG).
        shape: (rows, columns).
        dtype: the band's data type.
        options: further creation options (``gcps``, ``crs``, ``compress``).
    """
    with warnings.catch_warnings():
        # radar geometry has no geotransform, as real measurement files
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        dataset: DatasetWriter = rasterio.open(
            path,
            "w",
            driver=driver,
            width=shape[1],
            height=shape[0],
            count=1,
            dtype=dtype,
            **options,
        )
    return dataset
