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
    description: str | tuple[str, ...] | None = None,
    compress: str = "deflate",
) -> Path:
    """Write a tiled, compressed GeoTIFF atomically: one band, or one per plane of a 3-D array.

    Args:
        path: the file to write.
        array: the band (rows, columns), or the bands (bands, rows, columns).
        transform: the affine transform.
        crs: the CRS.
        nodata: the nodata value.
        description: the band description, or one per band.
        compress: the GDAL compression (``zstd`` writes several times faster).
    """
    bands = array if array.ndim == 3 else array[None]
    descriptions = (description,) if isinstance(description, str) else description
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": bands.shape[1],
        "width": bands.shape[2],
        "count": bands.shape[0],
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": transform,
        "compress": compress,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if bands.shape[1] < 256 or bands.shape[2] < 256:
        profile.update(tiled=False)
        del profile["blockxsize"], profile["blockysize"]
    if nodata is not None:
        profile["nodata"] = nodata
    if np.issubdtype(array.dtype, np.floating):
        profile["predictor"] = 3
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(bands)
        for k, text in enumerate(descriptions or ()):
            dst.set_band_description(k + 1, text)
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
