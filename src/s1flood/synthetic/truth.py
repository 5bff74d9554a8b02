"""The simulator's truth beyond the water masks, on the DEM grid.

- the *flood onset stage* of every cell: the lowest river stage at which the cell is water
  connected to the river (`flood_onset_stage`), from which the continuous flooded span of each
  cell follows (`s1flood.synthetic.truth_record`);
- per acquisition, the water-surface height and the depth of the water (`water_level`);
- the permanent water (water at the river's normal level) and, per orbit track, the cells the
  image sees (`observed_footprint`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import rasterio.features
import rasterio.warp
import shapely.geometry

from s1flood.synthetic.dark_land import add_dark_land
from s1flood.synthetic.rasterio_io import write_geotiff
from s1flood.synthetic.render import DemProjection
from s1flood.synthetic.scenario import (
    PEAK_STAGE_M,
    TRUTH_DRY,
    TRUTH_NODATA,
    TRUTH_WATER,
    water_truth,
)
from s1flood.synthetic.terrain import Terrain

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]

LEVEL_BANDS = ("water_surface_height_m", "depth_m")
"""The bands of a level truth: the water surface (m, the DEM's heights) and the water depth
above the DEM (m); NaN where the cell is dry or has no DEM."""


ONSET_CAP_M = 20.0
"""Onset stages are computed up to this height (m); cells above it never flood (NaN)."""


def flood_onset_stage(terrain: Terrain, cap_m: float = ONSET_CAP_M) -> F32:
    """The lowest river stage (m above the normal level) at which each cell is flooded.

    `s1flood.synthetic.scenario.water_truth` calls a cell flooded at stage ``s`` where it lies
    below ``river_level + s`` and a 4-connected path of such cells joins it to the river: the
    onset stage is the smallest over all such paths of the largest height above the river
    level along the path (a minimax path, found by a priority flood from the river). A cell is
    flooded at stage ``s`` exactly where its onset is below ``s``. The river channel is
    ``-inf``; NaN where no DEM, no path, or the onset would exceed ``cap_m``.

    Args:
        terrain: the terrain (DEM, river channel, river level).
        cap_m: the highest onset computed, metres (above any stage the scenario reaches).
    """
    valid = terrain.valid
    hand = np.where(valid, terrain.elevation - terrain.river_level, np.inf).astype(np.float32)
    river = terrain.river & valid
    out = np.full(terrain.shape, np.nan, np.float32)
    _priority_flood(hand, river, np.float32(cap_m), out)
    return out


@numba.njit(cache=True, nogil=True)
def _priority_flood(
    hand: F32, river: npt.NDArray[np.bool_], cap: np.float32, out: F32
) -> None:  # pragma: no cover - compiled
    """Minimax path value from the river cells (-inf) over 4-neighbours, below ``cap``."""
    ny, nx = hand.shape
    keys = np.empty(ny * nx, np.float32)
    cells = np.empty(ny * nx, np.int64)
    n = 0
    for i in range(ny):
        for j in range(nx):
            if river[i, j]:
                out[i, j] = -np.inf
                keys[n] = -np.inf
                cells[n] = i * nx + j
                n += 1  # all keys equal: already a heap
    while n > 0:
        value, cell = keys[0], cells[0]
        n -= 1
        _sift_down(keys, cells, n, keys[n], cells[n])
        i, j = cell // nx, cell % nx
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            r, c = i + di, j + dj
            if r < 0 or r >= ny or c < 0 or c >= nx or not np.isnan(out[r, c]):
                continue
            h = hand[r, c]
            if not h < cap:
                continue
            v = max(value, h)
            out[r, c] = v
            # push (v, r * nx + c)
            k = n
            n += 1
            while k > 0:
                parent = (k - 1) // 2
                if keys[parent] <= v:
                    break
                keys[k], cells[k] = keys[parent], cells[parent]
                k = parent
            keys[k], cells[k] = v, r * nx + c


@numba.njit(cache=True, nogil=True)
def _sift_down(
    keys: F32, cells: npt.NDArray[np.int64], n: int, key: np.float32, cell: np.int64
) -> None:  # pragma: no cover - compiled
    """Put (key, cell) at the root of the heap of size n and sift it down."""
    if n == 0:
        return
    k = 0
    while True:
        child = 2 * k + 1
        if child >= n:
            break
        if child + 1 < n and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[k], cells[k] = keys[child], cells[child]
        k = child
    keys[k], cells[k] = key, cell


def water_level(terrain: Terrain, stage: float, truth: U8, onset: F32) -> tuple[F32, F32]:
    """Water-surface height and water depth (m) of one date; NaN where dry or no DEM.

    Water fed by the river stands at ``river_level + stage`` (never below the ground); other
    water (a lake the river has not reached) at its own surface, depth 0. The depth of the
    permanent river is its rise above its normal surface (the DEM has no bathymetry).

    Args:
        terrain: the terrain (DEM, river level).
        stage: the date's river stage above the normal level, metres.
        truth: the date's water truth (`water_truth`).
        onset: the flood onset stage of every cell (`flood_onset_stage`).
    """
    water = truth == TRUTH_WATER
    ground = terrain.elevation
    fed = water & (onset < stage)
    surface = np.where(fed, np.maximum(terrain.river_level + np.float32(stage), ground), ground)
    height = np.where(water, surface, np.nan).astype(np.float32)
    depth = np.where(water, surface - ground, np.nan).astype(np.float32)
    return height, depth


def write_level(terrain: Terrain, height: F32, depth: F32, path: Path) -> Path:
    """Write a level truth: band 1 water-surface height, band 2 depth (float32 m, NaN nodata).

    Args:
        terrain: the terrain (DEM grid).
        height: the water-surface height, metres.
        depth: the water depth, metres.
        path: the file to write.
    """
    bands = np.stack([height, depth])
    return write_geotiff(
        path, bands, terrain.transform, terrain.crs, np.nan, LEVEL_BANDS, compress="zstd"
    )


def permanent_water(terrain: Terrain) -> U8:
    """Water at the river's normal level (stage 0): 1 water, 0 dry, 255 no DEM.

    Args:
        terrain: the terrain (DEM, river channel, lake).
    """
    return water_truth(terrain, 0.0)


def observed_footprint(terrain: Terrain, proj: DemProjection, shape: tuple[int, int]) -> U8:
    """The DEM cells an orbit track's image covers: 1 inside, 0 outside, 255 no DEM.

    Args:
        terrain: the terrain (DEM grid).
        proj: the DEM projected into the track's image.
        shape: the image's (lines, samples).
    """
    inside = (
        np.isfinite(proj.line)
        & np.isfinite(proj.sample)
        & (proj.line >= 0)
        & (proj.line <= shape[0] - 1)
        & (proj.sample >= 0)
        & (proj.sample <= shape[1] - 1)
    )
    out = np.where(inside, TRUTH_WATER, TRUTH_DRY).astype(np.uint8)
    out[~terrain.valid] = TRUTH_NODATA
    return out


def write_mask(terrain: Terrain, mask: U8, path: Path, description: str) -> Path:
    """Write a uint8 truth mask (0, 1, 255 nodata) on the DEM grid.

    Args:
        terrain: the terrain (DEM grid).
        mask: the mask.
        path: the file to write.
        description: the band description.
    """
    return write_geotiff(path, mask, terrain.transform, terrain.crs, TRUTH_NODATA, description)


@dataclass
class StaticTruth:
    """The truth that holds for every date, and where it was written."""

    onset: F32
    """The flood onset stage of every DEM cell (`flood_onset_stage`)."""
    files: dict[str, Path]
    """``permanent_water``, ``flood_onset_stage`` and, with dark land, ``always_dark``."""
    observed: dict[int, Path] = field(default_factory=dict)
    """Per relative orbit, the footprint of its image (`observed_footprint`)."""

    def add_footprint(
        self, terrain: Terrain, proj: DemProjection, shape: tuple[int, int], relative_orbit: int
    ) -> Path:
        """Write the footprint of one orbit track's image and remember it.

        Args:
            terrain: the terrain (DEM grid).
            proj: the DEM projected into the track's image.
            shape: the image's (lines, samples).
            relative_orbit: the track's relative orbit.
        """
        folder = self.files["permanent_water"].parent
        path = write_mask(
            terrain,
            observed_footprint(terrain, proj, shape),
            folder / f"observed_{relative_orbit:03d}.tif",
            f"observed by relative orbit {relative_orbit}",
        )
        self.observed[relative_orbit] = path
        return path

    def doc(self, base: Path) -> dict[str, Any]:
        """The ``truth`` section of ``scenario.json``: the files, relative to ``base``.

        Args:
            base: the simulation folder.
        """

        def rel(path: Path) -> str:
            return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)

        out: dict[str, Any] = {key: rel(path) for key, path in self.files.items()}
        out.setdefault("always_dark", None)
        out["observed"] = {str(k): rel(v) for k, v in self.observed.items()}
        return out


def write_static_truth(
    terrain: Terrain, seed: int, dark_land: bool, folder: Path, aoi: Bool | None = None
) -> StaticTruth:
    """Write the permanent water, the flood onset stage and (optionally) add always-dark land.

    Args:
        terrain: the terrain; with ``dark_land`` its land cover gets the dark patches.
        seed: the random seed.
        dark_land: add always-dark land above the highest flood level.
        folder: the truth folder.
        aoi: the AOI's cells, where the dark patches are put when it has room.
    """
    onset = flood_onset_stage(terrain)
    files: dict[str, Path] = {
        "permanent_water": write_mask(
            terrain, permanent_water(terrain), folder / "permanent_water.tif", "permanent water"
        ),
        "flood_onset_stage": write_geotiff(
            folder / "flood_onset_stage.tif",
            onset,
            terrain.transform,
            terrain.crs,
            np.nan,
            "flood onset stage (m above the normal river level; -inf river channel)",
            compress="zstd",
        ),
    }
    if dark_land:
        dark = add_dark_land(terrain, seed, PEAK_STAGE_M + 1.0, aoi)
        mask = np.where(dark, TRUTH_WATER, TRUTH_DRY).astype(np.uint8)
        mask[~terrain.valid] = TRUTH_NODATA
        files["always_dark"] = write_mask(terrain, mask, folder / "always_dark.tif", "always dark")
    return StaticTruth(onset, files)


def aoi_cells(terrain: Terrain, aoi: shapely.geometry.Polygon) -> Bool:
    """The DEM cells inside an AOI polygon (lon/lat).

    Args:
        terrain: the terrain (DEM grid).
        aoi: the area of interest, lon/lat.
    """
    shape = rasterio.warp.transform_geom("EPSG:4326", terrain.crs, shapely.geometry.mapping(aoi))
    inside = rasterio.features.geometry_mask([shape], terrain.shape, terrain.transform, invert=True)
    return np.asarray(inside, dtype=bool)
