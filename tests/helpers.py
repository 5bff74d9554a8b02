"""Shared test helpers: writing small georeferenced rasters."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine

UTM33 = "EPSG:32633"
ORIGIN = (290_000.0, 4_650_000.0)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def transform(pixel: float = 10.0, origin: tuple[float, float] = ORIGIN) -> Affine:
    return Affine(pixel, 0, origin[0], 0, -pixel, origin[1])


def write_tif(
    path: Path,
    array: np.ndarray,
    *,
    crs: str | None = UTM33,
    affine: Affine | None = None,
    nodata: float | None = None,
    descriptions: list[str] | None = None,
    units: list[str] | None = None,
    tags: dict[str, Any] | None = None,
    tiled: bool = True,
) -> Path:
    data = array if array.ndim == 3 else array[np.newaxis]
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "nodata": nodata,
    }
    if tiled and min(data.shape[1:]) >= 64:
        profile.update(tiled=True, blockxsize=64, blockysize=64)
    if crs is not None:
        profile.update(crs=crs, transform=affine or transform())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        dst = rasterio.open(path, "w", **profile)
    with dst:
        dst.write(data)
        for i, text in enumerate(descriptions or [], start=1):
            dst.set_band_description(i, text)
        for i, unit in enumerate(units or [], start=1):
            dst.set_band_unit(i, unit)
        if tags:
            dst.update_tags(**tags)
    return path


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def bimodal_scene(
    rng: np.random.Generator, shape: tuple[int, int] = (400, 400), looks: float = 4.4
) -> tuple[np.ndarray, np.ndarray]:
    """Linear sigma0 of a scene with a water body (-22 dB) in land (-10/-7 dB), Gamma speckle."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    water = (cols < shape[1] * (0.3 + 0.1 * np.sin(rows / 25.0))) | (
        (rows - shape[0] * 0.7) ** 2 + (cols - shape[1] * 0.7) ** 2 < (shape[0] * 0.12) ** 2
    )
    land_db = np.where((rows // 40 + cols // 40) % 2 == 0, -10.0, -7.0)
    db = np.where(water, -22.0, land_db)
    speckle = rng.gamma(looks, 1.0 / looks, size=shape)
    return (10 ** (db / 10) * speckle).astype(np.float32), water
