"""Always-dark land for the simulator: dry sand and tarmac, as dark as calm water in every scene.

A flood rule that calls every dark pixel water calls these patches flood; a rule that compares
each scene with the series' own reference must not. The patches lie on flat ground above the
highest flood level (the terrace by the floodplain), so they are dry on every date.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from s1flood.synthetic.terrain import LandCover, Terrain

Bool = npt.NDArray[np.bool_]

SAND_PATCHES = 3
"""Number of round patches of dry sand."""
STRIP_LENGTH_M, STRIP_WIDTH_M = 1500.0, 60.0
"""A runway (tarmac) strip."""


def add_dark_land(terrain: Terrain, seed: int, above_m: float, within: Bool | None = None) -> Bool:
    """Turn a few patches of flat land above ``above_m`` into always-dark land, in place.

    Returns the mask of the dark cells (also ``LandCover.DARK`` in ``terrain.landcover``).

    Args:
        terrain: the terrain; its land cover is changed.
        seed: the random seed of the patches.
        above_m: height above the river level the patches stay above (the highest flood
            stage plus a margin), metres.
        within: the cells the patches are centred in (e.g. the AOI), if it holds any
            allowed cell; default anywhere.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
    hand = terrain.elevation - terrain.river_level
    px, py = terrain.pixel_size_m()
    filled = np.where(terrain.valid, terrain.elevation, np.nanmedian(terrain.elevation))
    gy, gx = np.gradient(filled, py, px)
    slope_deg = np.rad2deg(np.arctan(np.hypot(gx, gy)))
    land = np.isin(terrain.landcover, (LandCover.CROPLAND, LandCover.BARE, LandCover.FOREST))
    allowed = land & (hand > above_m) & (hand < above_m + 15.0) & (slope_deg < 4.0)
    dark = np.zeros(terrain.shape, bool)
    rows, cols = np.ogrid[: terrain.shape[0], : terrain.shape[1]]
    inner = ndimage.binary_erosion(allowed, iterations=5)
    if within is not None and (inner & within).any():
        inner &= within
    seeds = np.argwhere(inner)
    if not seeds.size:
        return dark
    picks = seeds[rng.choice(len(seeds), size=min(SAND_PATCHES + 1, len(seeds)))]
    for k, (r0, c0) in enumerate(picks):
        dy, dx = (rows - r0) * py, (cols - c0) * px
        if k == 0:  # a runway in a random direction
            th = rng.uniform(0, np.pi)
            along = dx * np.cos(th) + dy * np.sin(th)
            across = -dx * np.sin(th) + dy * np.cos(th)
            patch = (np.abs(along) < STRIP_LENGTH_M / 2) & (np.abs(across) < STRIP_WIDTH_M / 2)
        else:
            patch = np.hypot(dx, dy) < rng.uniform(150.0, 350.0)
        dark |= patch
    dark &= allowed
    terrain.landcover[dark] = LandCover.DARK
    return dark
