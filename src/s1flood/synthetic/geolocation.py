"""The annotation's geolocation grid and the footprint of a simulated image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from s1flood.geodesy import ecef_to_geodetic
from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.orbit import SPEED_OF_LIGHT

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GeolocationGrid:
    """Tie points of the annotation's geolocation grid, shape (n_lines, n_pixels) each."""

    line: npt.NDArray[np.int64]
    pixel: npt.NDArray[np.int64]
    azimuth_time: FloatArray
    slant_range_time: FloatArray
    latitude: FloatArray
    longitude: FloatArray
    height: FloatArray
    incidence: FloatArray  # deg
    elevation: FloatArray  # deg, off-nadir look angle


def geolocation_grid(geom: RadarGeometry, n_lines: int = 10, n_pixels: int = 21) -> GeolocationGrid:
    """Geolocation grid points on the ellipsoid at the reference height, like the annotation's.

    Args:
        geom: the image geometry.
        n_lines: tie-point lines.
        n_pixels: tie points per line.
    """
    lines = np.unique(np.linspace(0, geom.n_lines - 1, n_lines).round().astype(np.int64))
    pixels = np.unique(np.linspace(0, geom.n_samples - 1, n_pixels).round().astype(np.int64))
    shape = (lines.size, pixels.size)
    az = np.empty(shape)
    srt = np.empty(shape)
    lat = np.empty(shape)
    lon = np.empty(shape)
    hgt = np.empty(shape)
    inc = np.empty(shape)
    ele = np.empty(shape)
    for a, line in enumerate(lines):
        t = float(geom.line_time(line))
        g = pixels * geom.range_spacing
        pts, prof = geom.ground_points(t, g)
        rng = geom.ground_to_slant(t, g).ravel()
        lo, la, h = ecef_to_geodetic(pts)
        az[a] = t
        srt[a] = 2.0 * rng / SPEED_OF_LIGHT
        lat[a], lon[a], hgt[a] = la, lo, h
        inc[a] = np.rad2deg(np.interp(rng, prof.slant_range, prof.incidence))
        ele[a] = np.rad2deg(np.interp(rng, prof.slant_range, prof.look_angle))
    line_grid, pixel_grid = np.meshgrid(lines, pixels, indexing="ij")
    return GeolocationGrid(line_grid, pixel_grid, az, srt, lat, lon, hgt, inc, ele)


def footprint_lonlat(geom: RadarGeometry) -> list[tuple[float, float]]:
    """Image corners (lon, lat) at the reference height: first/last line x near/far sample.

    Args:
        geom: the image geometry.
    """
    corners = []
    for line, sample in (
        (0, 0),
        (0, geom.n_samples - 1),
        (geom.n_lines - 1, geom.n_samples - 1),
        (geom.n_lines - 1, 0),
    ):
        t = float(geom.line_time(line))
        pts, _ = geom.ground_points(t, np.array([sample * geom.range_spacing]))
        lo, la, _ = ecef_to_geodetic(pts)
        corners.append((float(lo[0]), float(la[0])))
    return corners
