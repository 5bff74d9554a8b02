"""Small GeoTIFF helpers for the simulator: atomic writes of single-band rasters."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path in the same directory; move it onto ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_geotiff(
    path: Path,
    array: npt.NDArray[Any],
    transform: Any,
    crs: Any,
    nodata: float | None = None,
    description: str | None = None,
) -> Path:
    """Write a single-band tiled, compressed GeoTIFF atomically."""
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
