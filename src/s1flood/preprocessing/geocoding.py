"""Range-Doppler geocoding onto the target grid, fast.

For a map point (lon, lat, h) the zero-Doppler azimuth time solves
``v(t) · (P - S(t)) = 0`` (Newton iterations on the orbit polynomial, compiled with numba);
the slant range ``|P - S(t)|`` becomes a GRD sample through the annotation's
slant-to-ground-range polynomials, and the time becomes a line.

Solving this per output pixel is what makes sarsen slow. Here it is solved only on a coarse
grid of nodes of each tile, at the lowest and the highest DEM height of the tile; every
pixel's (line, sample) is then interpolated bilinearly between nodes and linearly in height.
The mapping is smooth, so the interpolation error peaks at the centres of the node cells: it
is measured there, against the exact solution at the DEM's height, for every tile, and the
tile is done again at half the node spacing while any centre is off by more than
`TOLERANCE_PX` (a tenth of a pixel by default).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from s1flood.geodesy import geodetic_to_ecef
from s1flood.preprocessing.nodes import interpolate_nodes
from s1flood.preprocessing.orbit import OrbitModel
from s1flood.preprocessing.product import SarImage
from s1flood.preprocessing.shadow import (
    LAYOVER,
    SHADOW,
    SensorDirection,
    mark_shadow_and_layover,
)
from s1flood.raster import Grid
from s1flood.srgr import ground_range, time_weights

__all__ = ["LAYOVER", "SHADOW", "Coverage", "Geocoder", "MappedRegion", "RegionMapper", "coverage"]

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

TOLERANCE_PX = 0.1
NODE_STEP = 32
OUTSIDE_MARGIN_PX = 16.0
"""Pixels beyond the image edge all nodes of a region must lie for it to be skipped."""


@numba.njit(cache=True, nogil=True)
def _zero_doppler(
    points: F64,
    coeffs: F64,
    center: float,
    scale: float,
    t_guess: float,
    t_out: F64,
    r_out: F64,
) -> None:
    """Zero-Doppler time (s) and slant range (m) of ECEF points, Newton on the polynomial."""
    n_coeff = coeffs.shape[0]
    t = t_guess
    for i in range(points.shape[0]):
        px = points[i, 0]
        py = points[i, 1]
        pz = points[i, 2]
        if not (math.isfinite(px) and math.isfinite(py) and math.isfinite(pz)):
            t_out[i] = math.nan
            r_out[i] = math.nan
            continue
        if not math.isfinite(t):
            t = t_guess
        dx = 0.0
        dy = 0.0
        dz = 0.0
        for _ in range(30):
            x = (t - center) / scale
            # position, first and half second derivative in x (Horner)
            p0 = coeffs[n_coeff - 1, 0]
            p1 = coeffs[n_coeff - 1, 1]
            p2 = coeffs[n_coeff - 1, 2]
            d0 = 0.0
            d1 = 0.0
            d2 = 0.0
            e0 = 0.0
            e1 = 0.0
            e2 = 0.0
            for k in range(n_coeff - 2, -1, -1):
                e0 = e0 * x + d0
                e1 = e1 * x + d1
                e2 = e2 * x + d2
                d0 = d0 * x + p0
                d1 = d1 * x + p1
                d2 = d2 * x + p2
                p0 = p0 * x + coeffs[k, 0]
                p1 = p1 * x + coeffs[k, 1]
                p2 = p2 * x + coeffs[k, 2]
            vx = d0 / scale
            vy = d1 / scale
            vz = d2 / scale
            ax = 2.0 * e0 / (scale * scale)
            ay = 2.0 * e1 / (scale * scale)
            az = 2.0 * e2 / (scale * scale)
            dx = px - p0
            dy = py - p1
            dz = pz - p2
            f = vx * dx + vy * dy + vz * dz
            fp = ax * dx + ay * dy + az * dz - (vx * vx + vy * vy + vz * vz)
            step = -f / fp
            t += step
            if abs(step) < 1e-10:
                break
        x = (t - center) / scale
        p0 = coeffs[n_coeff - 1, 0]
        p1 = coeffs[n_coeff - 1, 1]
        p2 = coeffs[n_coeff - 1, 2]
        for k in range(n_coeff - 2, -1, -1):
            p0 = p0 * x + coeffs[k, 0]
            p1 = p1 * x + coeffs[k, 1]
            p2 = p2 * x + coeffs[k, 2]
        t_out[i] = t
        r_out[i] = math.sqrt((px - p0) ** 2 + (py - p1) ** 2 + (pz - p2) ** 2)


@numba.njit(cache=True, nogil=True)
def _range_to_sample(
    t: F64, r: F64, cc_t: F64, cc_sr0: F64, cc_srgr: F64, inv_spacing: float, out: F64
) -> None:
    """GRD sample of slant ranges r at times t (srgr coefficients interpolated in time)."""
    for i in range(t.size):
        ti = t[i]
        if not math.isfinite(ti):
            out[i] = math.nan
            continue
        k, k1, w = time_weights(cc_t, ti)
        sr0 = cc_sr0[k] * (1.0 - w) + cc_sr0[k1] * w
        g = ground_range(cc_srgr, k, k1, w, r[i] - sr0)
        out[i] = g * inv_spacing


@dataclass
class Geocoder:
    """Map points to (line, sample) of one GRD image."""

    orbit: OrbitModel
    line_interval: float
    cc_t: F64
    cc_sr0: F64
    cc_srgr: F64
    range_spacing: float
    n_lines: int
    n_samples: int

    @classmethod
    def of(cls, sar: SarImage, orbit: OrbitModel) -> Geocoder:
        """The geocoder of an image with an orbit whose reference is its first line time.

        Args:
            sar: the product image.
            orbit: the orbit model.
        """
        return cls(
            orbit,
            sar.line_interval,
            np.ascontiguousarray(sar.seconds(sar.cc_times)),
            np.ascontiguousarray(sar.cc_sr0),
            np.ascontiguousarray(sar.cc_srgr),
            sar.range_pixel_spacing,
            sar.n_lines,
            sar.n_samples,
        )

    def radar_coordinates(self, ecef: F64) -> tuple[F64, F64, F64, F64]:
        """(line, sample, azimuth time, slant range) of ECEF points (n, 3).

        Args:
            ecef: ECEF points (n, 3), metres.
        """
        pts = np.ascontiguousarray(ecef, dtype=np.float64)
        n = pts.shape[0]
        t = np.empty(n)
        r = np.empty(n)
        guess = 0.5 * (self.n_lines - 1) * self.line_interval
        o = self.orbit
        _zero_doppler(pts, o.coefficients, o.center, o.scale, guess, t, r)
        sample = np.empty(n)
        _range_to_sample(
            t, r, self.cc_t, self.cc_sr0, self.cc_srgr, 1.0 / self.range_spacing, sample
        )
        return t / self.line_interval, sample, t, r

    def lonlat_to_radar(self, lon: F64, lat: F64, h: F64) -> tuple[F64, F64]:
        """(line, sample) of lon/lat/ellipsoidal heights.

        Args:
            lon: longitudes, degrees.
            lat: latitudes, degrees.
            h: heights above the ellipsoid, metres.
        """
        ecef = geodetic_to_ecef(lon, lat, h).reshape(-1, 3)
        line, sample, _, _ = self.radar_coordinates(ecef)
        return line.reshape(np.shape(lon)), sample.reshape(np.shape(lon))


@numba.njit(cache=True, nogil=True)
def _coverage(
    line: F32, sample: F32, mask: U8, n_lines: int, n_samples: int, shadow: int, layover: int
) -> tuple[int, int, int, float, float, float, float]:
    rows, cols = line.shape
    n = 0
    n_shadow = 0
    n_layover = 0
    l_min = math.inf
    l_max = -math.inf
    s_min = math.inf
    s_max = -math.inf
    for i in range(rows):
        for j in range(cols):
            li = line[i, j]
            si = sample[i, j]
            if not (li >= 0.0 and li <= n_lines - 1 and si >= 0.0 and si <= n_samples - 1):
                continue
            n += 1
            if mask[i, j] == shadow:
                n_shadow += 1
            elif mask[i, j] == layover:
                n_layover += 1
            l_min = min(l_min, li)
            l_max = max(l_max, li)
            s_min = min(s_min, si)
            s_max = max(s_max, si)
    return n, n_shadow, n_layover, l_min, l_max, s_min, s_max


@dataclass(frozen=True)
class Coverage:
    """Which pixels of a region fall on the image: counts and their radar bounds."""

    inside: int
    shadow: int
    layover: int
    bounds: tuple[float, float, float, float]
    """Smallest and largest line, smallest and largest sample of the pixels inside."""


def coverage(line: F32, sample: F32, mask: U8, n_lines: int, n_samples: int) -> Coverage:
    """The pixels whose (line, sample) lie on an image of `n_lines` x `n_samples`, in one pass.

    Args:
        line: image line of every pixel (NaN: none).
        sample: image sample of every pixel (NaN: none).
        mask: `SHADOW`, `LAYOVER` or 0 per pixel.
        n_lines: image lines.
        n_samples: image samples.
    """
    n, n_shadow, n_layover, l0, l1, s0, s1 = _coverage(
        line, sample, mask, n_lines, n_samples, SHADOW, LAYOVER
    )
    return Coverage(n, n_shadow, n_layover, (l0, l1, s0, s1))


@dataclass
class MappedRegion:
    """(line, sample) of every pixel of a region of the target grid, and its mask."""

    line: F32
    sample: F32
    mask: U8
    step: int
    max_error_px: float
    look: tuple[float, float, float] = (0.0, 0.0, 1.0)
    """Unit vector towards the sensor in map axes (x east, y north, z up)."""


class RegionMapper:
    """Map regions (tiles) of the target grid to radar coordinates (see module doc)."""

    def __init__(self, geocoder: Geocoder, grid: Grid, tolerance_px: float = TOLERANCE_PX) -> None:
        self.geocoder = geocoder
        self.grid = grid
        self.tolerance = tolerance_px
        self._crs_wkt = grid.crs.to_wkt()
        self._local = threading.local()

    def _transformer(self) -> Transformer:
        # one per thread: pyproj transformers are not shared between threads
        transformer: Transformer | None = getattr(self._local, "transformer", None)
        if transformer is None:
            transformer = Transformer.from_crs(
                CRS.from_wkt(self._crs_wkt), CRS.from_epsg(4326), always_xy=True
            )
            self._local.transformer = transformer
        return transformer

    def _lonlat(self, transformer: Transformer, rows: F64, cols: F64) -> tuple[F64, F64]:
        t = self.grid.transform
        x = t.c + t.a * (cols + 0.5) + t.b * (rows + 0.5)
        y = t.f + t.d * (cols + 0.5) + t.e * (rows + 0.5)
        lon, lat = transformer.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def map(self, row0: int, col0: int, heights: F32, shadow: bool = True) -> MappedRegion:
        """Map the region whose top-left pixel is (row0, col0) and whose heights are given.

        Args:
            row0: grid row of the region's first pixel.
            col0: grid column of the region's first pixel.
            heights: ellipsoidal heights of the region, metres (NaN: none).
            shadow: also mark radar shadow and layover.
        """
        rows, cols = heights.shape
        finite = np.isfinite(heights)
        line = np.full((rows, cols), np.nan, np.float32)
        sample = np.full((rows, cols), np.nan, np.float32)
        mask = np.zeros((rows, cols), np.uint8)
        if not finite.any():
            return MappedRegion(line, sample, mask, 0, 0.0)
        h0 = float(heights[finite].min())
        h1 = float(heights[finite].max())
        if h1 - h0 < 1.0:
            h1 = h0 + 1.0
        transformer = self._transformer()
        step = min(NODE_STEP, max(rows, cols))
        while True:
            node_r = np.arange(0, rows - 1 + step, step, dtype=np.float64)
            node_c = np.arange(0, cols - 1 + step, step, dtype=np.float64)
            if node_r.size < 2:
                node_r = np.array([0.0, float(step)])
            if node_c.size < 2:
                node_c = np.array([0.0, float(step)])
            rr, cc = np.meshgrid(node_r + row0, node_c + col0, indexing="ij")
            lon, lat = self._lonlat(transformer, rr.ravel(), cc.ravel())
            both = np.concatenate([lon, lon]), np.concatenate([lat, lat])
            hh = np.concatenate([np.full(lon.size, h0), np.full(lon.size, h1)])
            ln, sm = self.geocoder.lonlat_to_radar(both[0], both[1], hh)
            shape = rr.shape
            l0 = ln[: lon.size].reshape(shape)
            l1 = ln[lon.size :].reshape(shape)
            s0 = sm[: lon.size].reshape(shape)
            s1 = sm[lon.size :].reshape(shape)
            if self._outside(ln, sm):
                return MappedRegion(line, sample, mask, step, 0.0)
            interpolate_nodes(l0, s0, l1, s1, step, h0, h1, heights, line, sample)
            if step == 1:
                error = 0.0
                break
            error = self._check(transformer, row0, col0, heights, line, sample, step)
            if error <= self.tolerance:
                break
            log.debug("node step %d: error %.3f px > %.3f, refining", step, error, self.tolerance)
            step //= 2
        direction = SensorDirection.of_nodes(s0, s1, step, h1 - h0, abs(self.grid.transform.a))
        if direction is None:
            return MappedRegion(line, sample, mask, step, error)
        if shadow:
            mark_shadow_and_layover(heights, sample, direction, mask)
        return MappedRegion(line, sample, mask, step, error, direction.look())

    def _outside(self, line: F64, sample: F64) -> bool:
        """Whether the nodes say that the whole region lies off the image.

        A pixel's radar coordinates are a convex blend of its cell's nodes at the two
        heights; `OUTSIDE_MARGIN_PX` covers what a finer node step could move.
        """
        g = self.geocoder
        m = OUTSIDE_MARGIN_PX
        with np.errstate(invalid="ignore"):
            return bool(
                np.all(line < -m)
                or np.all(line > g.n_lines - 1 + m)
                or np.all(sample < -m)
                or np.all(sample > g.n_samples - 1 + m)
            )

    def _check(
        self,
        transformer: Transformer,
        row0: int,
        col0: int,
        heights: F32,
        line: F32,
        sample: F32,
        step: int,
    ) -> float:
        rows, cols = heights.shape
        half = step // 2
        cr = np.arange(half, rows, step)
        cc = np.arange(half, cols, step)
        if cr.size == 0 or cc.size == 0:
            return 0.0
        grid_r, grid_c = np.meshgrid(cr, cc, indexing="ij")
        h_all = heights[grid_r.ravel(), grid_c.ravel()].astype(np.float64)
        ok = np.isfinite(h_all)
        if not ok.any():
            return 0.0
        ri = grid_r.ravel()[ok]
        ci = grid_c.ravel()[ok]
        h = h_all[ok]
        lon, lat = self._lonlat(
            transformer, ri.astype(np.float64) + row0, ci.astype(np.float64) + col0
        )
        ln, sm = self.geocoder.lonlat_to_radar(lon, lat, h)
        err = np.maximum(np.abs(line[ri, ci] - ln), np.abs(sample[ri, ci] - sm))
        err = err[np.isfinite(err)]
        return float(err.max()) if err.size else 0.0
