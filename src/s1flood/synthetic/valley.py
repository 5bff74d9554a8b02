"""A river valley that floods and recedes, as map-geometry sigma0 rasters with known water truth.

A stand-in for terrain-corrected Sentinel-1 scenes until preprocessing exists: every scene
is on one 10 m UTM grid, linear sigma0 (VV) with Gamma speckle of the GRDH number of looks,
NaN outside the part of the valley the scene observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from s1flood.raster import Grid, atomic_path
from s1flood.synthetic.speckle import GRDH_LOOKS, gamma_speckle

# Surface sigma0 (VV, dB) at a mid-swath incidence angle.
SIGMA0_DB = {"water": -22.0, "field": -10.5, "meadow": -8.5, "forest": -7.5, "urban": 0.5}
DEFAULT_LEVELS = (0.0, 1.2, 2.6, 1.9, 0.9, 0.2)
"""Water level above the river's normal stage (m) per acquisition: before, rise, peak, recession."""

UTM33N = CRS.from_epsg(32633)
ORIGIN = (285_000.0, 4_655_000.0)
"""Upper-left corner of the demo grid: the Tiber valley north of Rome (UTM 33N)."""


@dataclass(frozen=True)
class Valley:
    """Terrain and land cover of the valley on its grid."""

    grid: Grid
    height_above_river: npt.NDArray[np.float32]
    floodplain: npt.NDArray[np.bool_]
    permanent_water: npt.NDArray[np.bool_]
    cover: npt.NDArray[np.uint8]
    """Index into COVER_NAMES for every pixel that is not water."""


COVER_NAMES = ("field", "meadow", "forest", "urban")


@dataclass(frozen=True)
class Scene:
    """One simulated acquisition: where it is, its water truth and its observed footprint."""

    index: int
    level_m: float
    water: npt.NDArray[np.bool_]
    observed: npt.NDArray[np.bool_]


def make_valley(size: int = 1000, pixel: float = 10.0, seed: int = 0) -> Valley:
    """Terrain of a meandering river valley with a floodplain, a lake, fields, forest and a town."""
    rng = np.random.default_rng(seed)
    grid = Grid(UTM33N, Affine(pixel, 0, ORIGIN[0], 0, -pixel, ORIGIN[1]), size, size)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    centre = size * (0.45 + 0.08 * np.sin(2 * np.pi * rows / (0.7 * size)))
    distance_m = np.abs(cols - centre) * pixel
    floodplain_m = 0.28 * size * pixel
    rough = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), size / 40).astype(np.float32)
    rough /= np.abs(rough).max()
    height = np.where(
        distance_m < floodplain_m,
        distance_m / floodplain_m * 3.0 + 0.3 * rough,
        3.0 + (distance_m - floodplain_m) * 0.08 + 8 * rough,
    ).astype(np.float32)
    river = distance_m < 4 * pixel
    lake_row, lake_col = 0.7 * size, centre[int(0.7 * size), 0] + 0.18 * size
    lake = (rows - lake_row) ** 2 + (cols - lake_col) ** 2 < (0.05 * size) ** 2
    height[river | lake] = np.minimum(height[river | lake], 0.0)
    patches = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), size / 60)
    cover = np.where(patches > 0, 0, 1).astype(np.uint8)
    cover[distance_m > floodplain_m + 0.04 * size * pixel] = 2
    town = (rows - 0.25 * size) ** 2 + (cols - (centre[int(0.25 * size), 0] + 0.3 * size)) ** 2
    cover[town < (0.06 * size) ** 2] = 3
    return Valley(
        grid=grid,
        height_above_river=height,
        floodplain=distance_m < floodplain_m,
        permanent_water=river | lake,
        cover=cover,
    )


def scenes(
    valley: Valley, levels: tuple[float, ...] = DEFAULT_LEVELS, partial: int | None = 3
) -> list[Scene]:
    """Water truth per acquisition; scene `partial` only observes the western 70 %."""
    size = valley.grid.width
    result = []
    for index, level in enumerate(levels):
        water = valley.permanent_water | (valley.floodplain & (valley.height_above_river < level))
        observed = np.ones_like(water)
        if index == partial:
            observed[:, int(0.7 * size) :] = False
        result.append(Scene(index=index, level_m=level, water=water, observed=observed))
    return result


def sigma0(
    valley: Valley, scene: Scene, rng: np.random.Generator, looks: float = GRDH_LOOKS
) -> npt.NDArray[np.float32]:
    """Speckled linear sigma0 (VV) of one acquisition, NaN where not observed."""
    cover_db = np.array([SIGMA0_DB[name] for name in COVER_NAMES], dtype=np.float32)
    db = np.where(scene.water, SIGMA0_DB["water"], cover_db[valley.cover])
    values = gamma_speckle(10 ** (db / 10), rng, looks)
    values[~scene.observed] = np.nan
    return values


def write_raster(
    path: Path,
    grid: Grid,
    values: npt.NDArray[np.generic],
    nodata: float | None,
    description: str,
) -> None:
    """Write one band as a tiled, compressed GeoTIFF (atomically)."""
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": values.dtype.name,
        "crs": grid.crs.to_wkt(),
        "transform": grid.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(values, 1)
        dst.set_band_description(1, description)
