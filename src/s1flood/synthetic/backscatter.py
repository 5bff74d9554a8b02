"""C-band backscatter model: sigma0 per surface type, polarisation and local incidence angle.

``sigma0_dB(θ) = sigma0_dB(35°) + slope · (θ - 35°)`` per surface type, plus per-parcel texture
for fields and an optional wind roughening of water. Thermal noise: a noise-equivalent
sigma0 (NESZ) that is lowest at the centre of each IW subswath and highest at its edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from s1flood.synthetic.terrain import LandCover

REFERENCE_INCIDENCE_DEG = 35.0
POLARISATIONS = ("VV", "VH")


@dataclass(frozen=True)
class SurfaceModel:
    """sigma0 at 35° (dB) and its slope (dB per degree of local incidence), VV and VH."""

    vv_db: float
    vh_db: float
    vv_slope: float
    vh_slope: float

    def at(self, pol: str) -> tuple[float, float]:
        """(sigma0 at 35° in dB, slope in dB/deg) for one polarisation.

        Args:
            pol: the polarisation (VV, VH, HH or HV).
        """
        if pol == "VV":
            return self.vv_db, self.vv_slope
        if pol == "VH":
            return self.vh_db, self.vh_slope
        raise ValueError(f"unknown polarisation {pol!r}")


SURFACES: dict[LandCover, SurfaceModel] = {
    # calm open water: specular, steep fall-off with incidence
    LandCover.WATER: SurfaceModel(-22.0, -28.5, -0.30, -0.20),
    LandCover.CROPLAND: SurfaceModel(-10.0, -16.5, -0.12, -0.10),
    LandCover.BARE: SurfaceModel(-12.5, -21.0, -0.20, -0.15),
    LandCover.FOREST: SurfaceModel(-7.5, -13.0, -0.04, -0.03),
    # double bounce of buildings
    LandCover.URBAN: SurfaceModel(1.0, -7.0, -0.05, -0.05),
    # dry sand, tarmac: as dark as calm water in every scene
    LandCover.DARK: SurfaceModel(-23.0, -29.5, -0.25, -0.18),
}
WIND_GAIN_DB = {"VV": 1.0, "VH": 0.4}
"""Increase of water sigma0 per dB of wind roughening, by polarisation."""


def sigma0_table(pol: str, incidence_deg: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Linear sigma0 of every land-cover class (rows, by class value) at given incidences.

    Args:
        pol: the polarisation (VV, VH, HH or HV).
        incidence_deg: incidence angles, degrees.
    """
    inc = np.asarray(incidence_deg, dtype=np.float32)
    table = np.zeros((len(LandCover), *inc.shape), np.float32)
    for cls, model in SURFACES.items():
        db, slope = model.at(pol)
        table[int(cls)] = 10.0 ** ((db + slope * (inc - REFERENCE_INCIDENCE_DEG)) / 10.0)
    return table


def sigma0_linear(
    landcover: npt.NDArray[np.uint8],
    pol: str,
    local_incidence_deg: npt.NDArray[np.floating],
    texture_db: npt.NDArray[np.floating] | float = 0.0,
    wind_db: npt.NDArray[np.floating] | float = 0.0,
) -> npt.NDArray[np.float32]:
    """Linear sigma0 (per unit surface area) of each cell; 0 for nodata and facing away.

    Args:
        landcover: land-cover class of each cell.
        pol: the polarisation (VV, VH, HH or HV).
        local_incidence_deg: local incidence angle of each cell, degrees.
        texture_db: per-cell backscatter change, dB.
        wind_db: roughening of open water by wind (VV), dB.
    """
    db0 = np.zeros(len(LandCover), np.float32)
    slope = np.zeros(len(LandCover), np.float32)
    for cls, model in SURFACES.items():
        db0[int(cls)], slope[int(cls)] = model.at(pol)
    theta = np.asarray(local_incidence_deg, dtype=np.float32)
    db = db0[landcover] + slope[landcover] * (np.minimum(theta, 80.0) - REFERENCE_INCIDENCE_DEG)
    water = landcover == LandCover.WATER
    db = db + np.where(water, 0.0, texture_db) + np.where(water, WIND_GAIN_DB[pol] * wind_db, 0.0)
    out = (10.0 ** (db / 10.0)).astype(np.float32)
    out[(landcover == LandCover.NODATA) | ~(theta < 90.0)] = 0.0
    return out


def nesz_db(
    incidence_deg: npt.ArrayLike, subswath_limits_deg: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """Noise-equivalent sigma0 (dB): -25 dB mid subswath, rising to about -21.5 dB at its edges.

    Args:
        incidence_deg: incidence angles, degrees.
        subswath_limits_deg: incidence angles separating IW1/IW2 and IW2/IW3.
    """
    inc = np.asarray(incidence_deg, dtype=np.float64)
    edges = np.array([29.0, *subswath_limits_deg, 47.5])
    k = np.clip(np.searchsorted(edges, inc) - 1, 0, 2)
    lo, hi = edges[k], edges[k + 1]
    x = (inc - 0.5 * (lo + hi)) / (0.5 * (hi - lo))
    return np.asarray(-25.0 + 3.5 * np.clip(x, -1.2, 1.2) ** 2, dtype=np.float64)
