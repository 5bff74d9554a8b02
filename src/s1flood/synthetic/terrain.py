"""Terrain for the simulator: a generated river valley, or a DEM given by the user.

The generated DEM is a meandering river with natural levees in a flat floodplain, two
terraces, hills with slopes steep enough for radar layover and shadow, and a lake on the
lower terrace. Both kinds of terrain get the same derived layers: permanent water, the
river water-surface level at each cell (for flood levels) and a land-cover map.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
from rasterio.crs import CRS
from rasterio.transform import Affine
from scipy import ndimage

from s1flood.errors import InvalidOptionError
from s1flood.raster import open_raster
from s1flood.synthetic.rasterio_io import write_geotiff

LOGGER = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
Bool = npt.NDArray[np.bool_]


class LandCover(enum.IntEnum):
    """Surface types of the backscatter model."""

    NODATA = 0
    WATER = 1
    CROPLAND = 2
    BARE = 3
    FOREST = 4
    URBAN = 5
    DARK = 6
    """Land that is dark in every scene (dry sand, tarmac): looks like calm water."""


@dataclass
class Terrain:
    """A DEM and the layers the scenario and the backscatter model need, on the DEM grid."""

    elevation: F32  # m, NaN where unknown
    transform: Affine
    crs: CRS
    river: Bool  # permanent river channel
    lake: Bool  # permanent lake
    river_level: F32  # water-surface height of the nearest river cell (m)
    landcover: npt.NDArray[np.uint8]
    texture_db: F32  # per-parcel backscatter offset (dB)
    parcel: npt.NDArray[np.int32]  # parcel id, for date-to-date changes of crops
    path: Path | None = None
    geoid_height: F32 | None = None
    """EGM96 geoid height above the ellipsoid (m) per cell where the DEM holds geoid heights
    (a compound CRS with a vertical datum, as preprocessing reads it); None: ellipsoidal."""

    @property
    def shape(self) -> tuple[int, int]:
        """Rows, columns."""
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def valid(self) -> Bool:
        """Cells with a known elevation."""
        return np.isfinite(self.elevation)

    @property
    def permanent_water(self) -> Bool:
        """River channel and lake."""
        return self.river | self.lake

    def pixel_size_m(self) -> tuple[float, float]:
        """Approximate (x, y) pixel size in metres, also for geographic CRSs."""
        dx, dy = abs(self.transform.a), abs(self.transform.e)
        if self.crs.is_geographic:
            lat = self.transform.f + self.transform.e * self.shape[0] / 2
            return dx * 111_320.0 * np.cos(np.deg2rad(lat)), dy * 110_574.0
        return dx, dy


def _smooth_noise(shape: tuple[int, int], cell: float, rng: np.random.Generator) -> F32:
    """Unit-variance smooth random field with features of about ``cell`` pixels."""
    ny, nx = shape
    cny, cnx = int(ny / cell) + 4, int(nx / cell) + 4
    coarse = rng.standard_normal((cny, cnx))
    fine = ndimage.zoom(coarse, (ny + 3 * cell) / cny, order=3, prefilter=False)
    fine = fine[:ny, :nx] if fine.shape[0] >= ny and fine.shape[1] >= nx else np.resize(fine, shape)
    fine = fine - fine.mean()
    std = fine.std()
    return np.asarray(fine / (std if std > 0 else 1.0), dtype=np.float32)


def generate_valley(
    bounds: tuple[float, float, float, float],
    crs: CRS,
    resolution: float,
    seed: int,
) -> Terrain:
    """Generate a river-valley DEM over projected ``bounds`` (xmin, ymin, xmax, ymax).

    Args:
        bounds: projected bounds (xmin, ymin, xmax, ymax).
        crs: the projected CRS.
        resolution: pixel size, metres.
        seed: the random seed.
    """
    xmin, ymin, xmax, ymax = bounds
    nx = round((xmax - xmin) / resolution)
    ny = round((ymax - ymin) / resolution)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    transform = Affine(resolution, 0.0, xmin, 0.0, -resolution, ymax)
    xs = (np.arange(nx) + 0.5) * resolution - (xmax - xmin) / 2
    ys = (ny / 2 - np.arange(ny) - 0.5) * resolution
    xx, yy = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    angle = rng.uniform(-0.6, 0.6) + (np.pi / 2 if rng.random() < 0.5 else 0.0)
    u = xx * np.cos(angle) + yy * np.sin(angle)  # along the river (downstream)
    v = -xx * np.sin(angle) + yy * np.cos(angle)  # across
    lam1, lam2 = rng.uniform(3500, 5500), rng.uniform(1200, 2000)
    amp1, amp2 = rng.uniform(350, 600), rng.uniform(60, 140)
    ph1, ph2 = rng.uniform(0, 2 * np.pi, 2)
    vc = amp1 * np.sin(2 * np.pi * u / lam1 + ph1) + amp2 * np.sin(2 * np.pi * u / lam2 + ph2)
    dvc = amp1 * 2 * np.pi / lam1 * np.cos(2 * np.pi * u / lam1 + ph1) + amp2 * 2 * np.pi / lam2 * (
        np.cos(2 * np.pi * u / lam2 + ph2)
    )
    signed = (v - vc) / np.sqrt(1.0 + dvc**2)
    dist = np.abs(signed)
    base = rng.uniform(40.0, 120.0)
    z0 = base - 0.0005 * u  # water surface, 0.5 m/km downstream
    half_width = 40.0
    noise_big = _smooth_noise((ny, nx), 3000 / resolution, rng)
    fp_width = 1600.0 + 400.0 * noise_big  # floodplain half width (m)
    micro = _smooth_noise((ny, nx), 150 / resolution, rng)
    # floodplain: levees near the river, gentle rise, micro relief
    elev = z0 + 0.8 + 2.6 * np.clip(dist / fp_width, 0, 1) ** 1.5 + 0.35 * micro
    elev += 1.3 * np.exp(-np.maximum(dist - half_width, 0) / 120.0)
    # terraces: risers of 5 m and 12 m
    t1 = fp_width
    t2 = fp_width + 900.0 + 300.0 * _smooth_noise((ny, nx), 2000 / resolution, rng)
    elev += 5.0 / (1.0 + np.exp(-(dist - t1) / 15.0))
    elev += 12.0 / (1.0 + np.exp(-(dist - t2) / 25.0))
    # hills beyond the upper terrace, fractal, a few hundred metres
    hills = np.zeros((ny, nx), np.float32)
    for cell, amp in ((4000, 1.0), (1500, 0.5), (600, 0.25), (250, 0.12)):
        hills += amp * _smooth_noise((ny, nx), cell / resolution, rng)
    hills = (hills - hills.min()) / max(float(np.ptp(hills)), 1e-6)
    ramp = np.clip((dist - t2 - 100.0) / 1500.0, 0, 1) ** 1.3
    elev += ramp * (60.0 + 380.0 * hills)
    _add_peaks(elev, ramp, (xx, yy), (xs, ys), rng)
    river = dist <= half_width
    elev = np.where(river, z0, elev)
    elev, lake = _add_lake(elev, signed, (t1, t2), (xx, yy), (xs, ys), rng)
    elevation = elev.astype(np.float32)
    return _finish(elevation, transform, crs, river, lake, rng)


def load_dem(path: Path, seed: int) -> Terrain:
    """Read a user DEM (any CRS) and derive a river, levels and land cover from it.

    Args:
        path: the DEM GeoTIFF.
        seed: the random seed.
    """
    with open_raster(path) as src:
        data = src.read(1, masked=True).astype(np.float32)
        transform, crs = src.transform, src.crs
    elevation = np.asarray(data.filled(np.nan), dtype=np.float32)
    if transform.e > 0:  # north-up
        elevation = elevation[::-1].copy()
        transform = transform * Affine.translation(0, elevation.shape[0]) * Affine.scale(1, -1)
    if np.isfinite(elevation).sum() < 100 or min(elevation.shape) < 32:
        raise InvalidOptionError("dem", str(path), "the DEM is too small (at least 32x32 cells)")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    river = _trace_river(elevation)
    terrain = _finish(elevation, transform, crs, river, np.zeros_like(river), rng)
    terrain.path = path
    if pyproj.CRS.from_user_input(crs.to_wkt()).is_compound:
        terrain.geoid_height = _geoid_heights(terrain)
    return terrain


def horizontal_crs(crs: CRS) -> CRS:
    """The horizontal part of a compound CRS (the CRS itself otherwise).

    Args:
        crs: a CRS.
    """
    full = pyproj.CRS.from_user_input(crs.to_wkt())
    if full.is_compound and full.sub_crs_list:
        return CRS.from_wkt(full.sub_crs_list[0].to_wkt())
    return crs


def _geoid_heights(terrain: Terrain, step: int = 16) -> F32:
    """EGM96 undulation per DEM cell, from a net of every ``step``-th cell (it is smooth)."""
    from rasterio.warp import transform as warp_transform
    from scipy.interpolate import RegularGridInterpolator

    from s1flood.preprocessing.dem import egm96_undulation

    ny, nx = terrain.shape
    rows = np.unique(np.r_[np.arange(0, ny, step), ny - 1]).astype(np.float64)
    cols = np.unique(np.r_[np.arange(0, nx, step), nx - 1]).astype(np.float64)
    cc, rr = np.meshgrid(cols + 0.5, rows + 0.5)
    t = terrain.transform
    xs, ys = t.c + t.a * cc + t.b * rr, t.f + t.d * cc + t.e * rr
    lon, lat = warp_transform(horizontal_crs(terrain.crs), "EPSG:4326", xs.ravel(), ys.ravel())
    net = egm96_undulation(np.asarray(lon), np.asarray(lat)).reshape(rr.shape)
    interp = RegularGridInterpolator((rows, cols), net)
    r, c = np.mgrid[0:ny, 0:nx]
    return np.asarray(interp((r, c)), dtype=np.float32)


def _trace_river(elevation: F32) -> Bool:
    """Least-cost path through low ground between two distant edge cells, a few cells wide."""
    from skimage.graph import MCP_Geometric

    filled = np.where(np.isfinite(elevation), elevation, np.nanmax(elevation))
    smooth = ndimage.gaussian_filter(filled, 2.0)
    ny, nx = smooth.shape
    edge = np.zeros((ny, nx), bool)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    edge_idx = np.argwhere(edge)
    outlet = tuple(edge_idx[np.argmin(smooth[edge])])
    far = np.hypot(edge_idx[:, 0] - outlet[0], edge_idx[:, 1] - outlet[1]) > 0.6 * max(ny, nx)
    cand = edge_idx[far]
    source = tuple(cand[np.argmin(smooth[cand[:, 0], cand[:, 1]])])
    cost = (smooth - smooth.min() + 1.0) ** 3
    mcp = MCP_Geometric(cost)
    mcp.find_costs([outlet], [source])
    path = np.array(mcp.traceback(source))
    river = np.zeros((ny, nx), bool)
    river[path[:, 0], path[:, 1]] = True
    width_px = 1 if min(ny, nx) < 200 else 2
    return np.asarray(ndimage.binary_dilation(river, iterations=width_px), dtype=bool)


def _add_peaks(
    elev: npt.NDArray[Any],
    ramp: npt.NDArray[Any],
    grid_xy: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    axes: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    rng: np.random.Generator,
) -> None:
    """Add up to three steep peaks (slopes of 55-60°) on the hills, in place.

    They give layover on their near side and shadow on their far side.
    """
    xx, yy = grid_xy
    xs, ys = axes
    hill_cells = np.argwhere(ramp[::8, ::8] > 0.6) * 8
    if hill_cells.size:
        for k in rng.choice(len(hill_cells), size=min(3, len(hill_cells)), replace=False):
            r0, c0 = hill_cells[k]
            radius = rng.uniform(350.0, 500.0)
            height = radius * np.tan(np.deg2rad(rng.uniform(55.0, 60.0)))
            rr = np.hypot(xx - xs[c0], yy - ys[r0])
            elev += height * np.clip(1.0 - rr / radius, 0, 1) ** 1.1 * ramp


def _add_lake(
    elev: npt.NDArray[Any],
    signed: npt.NDArray[Any],
    terraces: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    grid_xy: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    axes: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """A lake on the lower terrace, on one side of the river: the new elevation and its mask."""
    t1, t2 = terraces
    xx, yy = grid_xy
    xs, ys = axes
    lake = np.zeros(elev.shape, bool)
    side = rng.choice([-1.0, 1.0])
    cand = np.argwhere(((signed * side) > t1 + 250) & ((signed * side) < t2 - 350))
    if cand.size:
        r0, c0 = cand[rng.integers(len(cand))]
        a, b = rng.uniform(350, 550), rng.uniform(200, 320)
        th = rng.uniform(0, np.pi)
        dx, dy = xx - xs[c0], yy - ys[r0]
        e = ((dx * np.cos(th) + dy * np.sin(th)) / a) ** 2 + (
            (-dx * np.sin(th) + dy * np.cos(th)) / b
        ) ** 2
        lake = e <= 1.0
        if lake.any():
            level = float(np.min(elev[(e > 1.0) & (e < 1.4)])) - 1.0
            bank = (e > 1.0) & (e < 2.0)
            elev = np.where(lake, level, elev)
            elev = np.where(bank, np.minimum(elev, level + 1.0 + 8.0 * (np.sqrt(e) - 1.0)), elev)
    return elev, lake


def _finish(
    elevation: F32,
    transform: Affine,
    crs: CRS,
    river: Bool,
    lake: Bool,
    rng: np.random.Generator,
) -> Terrain:
    valid = np.isfinite(elevation)
    river &= valid
    lake &= valid
    # water level of the nearest river cell; river made monotone downstream is not needed here
    filled = np.where(valid, elevation, np.nanmax(elevation))
    river_surface = np.where(river, ndimage.minimum_filter(filled, 5), np.nan)
    _, idx = ndimage.distance_transform_edt(~river, return_indices=True)
    river_level = river_surface[idx[0], idx[1]].astype(np.float32)
    dist_px = np.asarray(ndimage.distance_transform_edt(~river), dtype=np.float32)
    terrain = Terrain(
        elevation=elevation,
        transform=transform,
        crs=crs,
        river=river,
        lake=lake,
        river_level=river_level,
        landcover=np.zeros(elevation.shape, np.uint8),
        texture_db=np.zeros(elevation.shape, np.float32),
        parcel=np.zeros(elevation.shape, np.int32),
    )
    px, py = terrain.pixel_size_m()
    dist_m = dist_px * float(np.sqrt(px * py))
    gy, gx = np.gradient(filled, py, px)
    slope_deg = np.rad2deg(np.arctan(np.hypot(gx, gy)))
    hand = elevation - river_level
    shape = elevation.shape
    cell = 1.0 / np.sqrt(px * py)
    patches = _smooth_noise(shape, 700 * cell, rng)
    landcover = np.full(shape, LandCover.CROPLAND, np.uint8)
    forest = (slope_deg > 20.0) | ((hand > 60.0) & (patches > 0.0)) | (patches > 1.5)
    landcover[forest] = LandCover.FOREST
    # a town on the terrace: above the floods, near the river
    town = np.argwhere(
        (hand > 6.0) & (hand < 20.0) & (dist_m > 250) & (dist_m < 1500) & (slope_deg < 5)
    )
    if town.size:
        r0, c0 = town[rng.integers(len(town))]
        rows, cols = np.ogrid[: shape[0], : shape[1]]
        radius = rng.uniform(300.0, 500.0)
        blob = np.hypot((rows - r0) * py, (cols - c0) * px) < radius * (
            1.0 + 0.25 * _smooth_noise(shape, 300 * cell, rng)
        )
        landcover[blob & (hand > 5.0) & (slope_deg < 10)] = LandCover.URBAN
    # agricultural parcels: rotated grid of fields, some of them bare soil
    th = rng.uniform(0, np.pi)
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    fu = (cols * px * np.cos(th) + rows * py * np.sin(th)) / 320.0
    fv = (-cols * px * np.sin(th) + rows * py * np.cos(th)) / 170.0
    parcel = (np.floor(fu).astype(np.int64) * 7919 + np.floor(fv).astype(np.int64)) % 1_000_003
    parcel_rng = np.random.default_rng(np.random.SeedSequence([int(rng.integers(2**31)), 3]))
    offsets = parcel_rng.uniform(-2.0, 2.0, size=1_000_003).astype(np.float32)
    bare = parcel_rng.random(1_000_003) < 0.2
    crop = landcover == LandCover.CROPLAND
    landcover[crop & bare[parcel]] = LandCover.BARE
    texture = np.where(crop, offsets[parcel], 0.0).astype(np.float32)
    landcover[river | lake] = LandCover.WATER
    landcover[~valid] = LandCover.NODATA
    terrain.landcover = landcover
    terrain.texture_db = texture
    terrain.parcel = parcel.astype(np.int32)
    return terrain


def write_dem(terrain: Terrain, path: Path) -> Path:
    """Write the elevation as a float32 GeoTIFF (NaN nodata) and remember the path.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        path: the file to write.
    """
    write_geotiff(path, terrain.elevation, terrain.transform, terrain.crs, np.nan, "elevation")
    terrain.path = path
    return path


def write_landcover(terrain: Terrain, path: Path) -> Path:
    """Write the land-cover classes (uint8, 0 nodata) for inspection.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        path: the file to write.
    """
    return write_geotiff(path, terrain.landcover, terrain.transform, terrain.crs, 0, "landcover")


def terrain_summary(terrain: Terrain) -> dict[str, Any]:
    """A few numbers that describe the terrain, for logs and tests.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
    """
    e = terrain.elevation
    return {
        "shape": terrain.shape,
        "min": float(np.nanmin(e)),
        "max": float(np.nanmax(e)),
        "river_cells": int(terrain.river.sum()),
        "lake_cells": int(terrain.lake.sum()),
        "classes": {c.name: int((terrain.landcover == c).sum()) for c in LandCover},
    }
