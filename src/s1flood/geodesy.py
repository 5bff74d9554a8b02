"""WGS 84 geodesy shared by the simulator and the preprocessing engine.

One argument order everywhere: longitude, latitude (degrees), then ellipsoidal height (m);
functions that return geodetic coordinates return them in that order too. The ellipsoid is
WGS 84 with the semi-minor axis as Sentinel-1 annotations give it (``ellipsoidSemiMinorAxis``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

WGS84_A = 6_378_137.0
"""Semi-major axis (m)."""
WGS84_B = 6_356_752.314245
"""Semi-minor axis (m)."""
WGS84_E2 = 1.0 - (WGS84_B / WGS84_A) ** 2
"""First eccentricity squared."""


def geodetic_to_ecef(lon: npt.ArrayLike, lat: npt.ArrayLike, height: npt.ArrayLike) -> F64:
    """Earth-centred, Earth-fixed coordinates (..., 3) of geodetic points (broadcast).

    Args:
        lon: longitudes, degrees east.
        lat: geodetic latitudes, degrees north.
        height: heights above the ellipsoid, metres.
    """
    la = np.deg2rad(np.asarray(lat, dtype=np.float64))
    lo = np.deg2rad(np.asarray(lon, dtype=np.float64))
    h = np.asarray(height, dtype=np.float64)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(la) ** 2)
    x = (n + h) * np.cos(la) * np.cos(lo)
    y = (n + h) * np.cos(la) * np.sin(lo)
    z = (n * (1.0 - WGS84_E2) + h) * np.sin(la)
    return np.asarray(np.stack(np.broadcast_arrays(x, y, z), axis=-1), dtype=np.float64)


def ecef_to_geodetic(xyz: npt.ArrayLike) -> tuple[F64, F64, F64]:
    """Longitude, latitude (degrees) and ellipsoidal height (m) of ECEF points (Bowring).

    Args:
        xyz: ECEF coordinates, shape (..., 3), metres.
    """
    p3 = np.asarray(xyz, dtype=np.float64)
    x, y, z = p3[..., 0], p3[..., 1], p3[..., 2]
    ep2 = (WGS84_A**2 - WGS84_B**2) / WGS84_B**2
    p = np.hypot(x, y)
    theta = np.arctan2(z * WGS84_A, p * WGS84_B)
    lat = np.arctan2(
        z + ep2 * WGS84_B * np.sin(theta) ** 3, p - WGS84_E2 * WGS84_A * np.cos(theta) ** 3
    )
    for _ in range(2):  # refine: sub-millimetre at any height of interest
        n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
        h = p / np.cos(lat) - n
        lat = np.arctan2(z, p * (1.0 - WGS84_E2 * n / (n + h)))
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    h = p / np.cos(lat) - n
    lon = np.arctan2(y, x)
    return np.rad2deg(lon), np.rad2deg(lat), h


def ellipsoid_normal(xyz: npt.ArrayLike) -> F64:
    """Outward unit normal (..., 3) of the ellipsoid through ECEF points (geodetic up).

    Args:
        xyz: ECEF coordinates, shape (..., 3), metres.
    """
    p3 = np.asarray(xyz, dtype=np.float64)
    nrm = np.stack(
        [p3[..., 0] / WGS84_A**2, p3[..., 1] / WGS84_A**2, p3[..., 2] / WGS84_B**2], axis=-1
    )
    return np.asarray(nrm / np.linalg.norm(nrm, axis=-1, keepdims=True), dtype=np.float64)
