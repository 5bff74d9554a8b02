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
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from s1flood.preprocessing.orbit import OrbitModel
from s1flood.preprocessing.product import SarImage
from s1flood.raster import Grid

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

WGS84_A = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
TOLERANCE_PX = 0.1
NODE_STEP = 32
SHADOW = 1
LAYOVER = 2


@numba.njit(cache=True, nogil=True)
def _geodetic_to_ecef(lon: F64, lat: F64, h: F64, out: F64) -> None:
    deg = math.pi / 180.0
    for i in range(lon.size):
        phi = lat[i] * deg
        lam = lon[i] * deg
        s = math.sin(phi)
        n = WGS84_A / math.sqrt(1.0 - WGS84_E2 * s * s)
        c = math.cos(phi)
        out[i, 0] = (n + h[i]) * c * math.cos(lam)
        out[i, 1] = (n + h[i]) * c * math.sin(lam)
        out[i, 2] = (n * (1.0 - WGS84_E2) + h[i]) * s


def geodetic_to_ecef(lon: npt.ArrayLike, lat: npt.ArrayLike, h: npt.ArrayLike) -> F64:
    """ECEF (n, 3) of WGS 84 longitudes, latitudes (degrees) and ellipsoidal heights."""
    lo = np.ascontiguousarray(np.ravel(lon), dtype=np.float64)
    la = np.ascontiguousarray(np.ravel(lat), dtype=np.float64)
    hh = np.ascontiguousarray(np.broadcast_to(np.ravel(h), lo.shape), dtype=np.float64)
    out = np.empty((lo.size, 3))
    _geodetic_to_ecef(lo, la, hh, out)
    return out


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
    n = cc_t.size
    deg = cc_srgr.shape[1]
    for i in range(t.size):
        ti = t[i]
        if not math.isfinite(ti):
            out[i] = math.nan
            continue
        if n == 1 or ti <= cc_t[0]:
            k = 0
            w = 0.0
        elif ti >= cc_t[n - 1]:
            k = n - 2
            w = 1.0
        else:
            k = 0
            while cc_t[k + 1] < ti:
                k += 1
            w = (ti - cc_t[k]) / (cc_t[k + 1] - cc_t[k])
        k1 = min(k + 1, n - 1)
        sr0 = cc_sr0[k] * (1.0 - w) + cc_sr0[k1] * w
        x = r[i] - sr0
        g = 0.0
        for d in range(deg - 1, -1, -1):
            c = cc_srgr[k, d] * (1.0 - w) + cc_srgr[k1, d] * w
            g = g * x + c
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
        """The geocoder of an image with an orbit whose reference is its first line time."""
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
        """(line, sample, azimuth time, slant range) of ECEF points (n, 3)."""
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
        """(line, sample) of lon/lat/ellipsoidal heights."""
        line, sample, _, _ = self.radar_coordinates(geodetic_to_ecef(lon, lat, h))
        return line.reshape(np.shape(lon)), sample.reshape(np.shape(lon))


@numba.njit(cache=True, nogil=True)
def _interpolate_nodes(
    l0: F64,
    s0: F64,
    l1: F64,
    s1: F64,
    step: int,
    h0: float,
    h1: float,
    heights: F32,
    line: F32,
    sample: F32,
) -> None:
    ny, nx = l0.shape
    rows, cols = heights.shape
    inv_dh = 1.0 / (h1 - h0)
    inv_step = 1.0 / step
    for i in range(rows):
        gi = i * inv_step
        i0 = min(int(gi), ny - 2)
        fi = gi - i0
        for j in range(cols):
            h = heights[i, j]
            if not math.isfinite(h):
                line[i, j] = math.nan
                sample[i, j] = math.nan
                continue
            gj = j * inv_step
            j0 = min(int(gj), nx - 2)
            fj = gj - j0
            w00 = (1.0 - fi) * (1.0 - fj)
            w01 = (1.0 - fi) * fj
            w10 = fi * (1.0 - fj)
            w11 = fi * fj
            a = (
                w00 * l0[i0, j0]
                + w01 * l0[i0, j0 + 1]
                + w10 * l0[i0 + 1, j0]
                + w11 * l0[i0 + 1, j0 + 1]
            )
            b = (
                w00 * l1[i0, j0]
                + w01 * l1[i0, j0 + 1]
                + w10 * l1[i0 + 1, j0]
                + w11 * l1[i0 + 1, j0 + 1]
            )
            c = (
                w00 * s0[i0, j0]
                + w01 * s0[i0, j0 + 1]
                + w10 * s0[i0 + 1, j0]
                + w11 * s0[i0 + 1, j0 + 1]
            )
            d = (
                w00 * s1[i0, j0]
                + w01 * s1[i0, j0 + 1]
                + w10 * s1[i0 + 1, j0]
                + w11 * s1[i0 + 1, j0 + 1]
            )
            w = (h - h0) * inv_dh
            line[i, j] = a + (b - a) * w
            sample[i, j] = c + (d - c) * w


@numba.njit(cache=True, nogil=True)
def _bilinear(a: F32, y: float, x: float) -> float:
    rows, cols = a.shape
    if not (y >= 0.0 and x >= 0.0 and y <= rows - 1 and x <= cols - 1):
        return math.nan
    i = min(int(y), rows - 2) if rows > 1 else 0
    j = min(int(x), cols - 2) if cols > 1 else 0
    fy = y - i
    fx = x - j
    i1 = min(i + 1, rows - 1)
    j1 = min(j + 1, cols - 1)
    value: float = (
        a[i, j] * (1 - fy) * (1 - fx)
        + a[i, j1] * (1 - fy) * fx
        + a[i1, j] * fy * (1 - fx)
        + a[i1, j1] * fy * fx
    )
    return value


@numba.njit(cache=True, nogil=True)
def _layover(heights: F32, sample: F32, drow: float, dcol: float, mask: U8) -> None:
    """Mark layover: the sample does not grow away from the sensor ((drow, dcol) points to it)."""
    rows, cols = heights.shape
    for i in range(rows):
        for j in range(cols):
            if not math.isfinite(heights[i, j]):
                continue
            near = _bilinear(sample, i + drow, j + dcol)
            if math.isfinite(near) and sample[i, j] - near <= 0.0:
                mask[i, j] = LAYOVER


@numba.njit(cache=True, nogil=True)
def _shadow_sweep(heights: F32, slope: float, ascending: bool, rise: float, mask: U8) -> None:
    """Mark radar shadow in one sweep away from the sensor.

    Lines advance `slope` rows per column; a pixel is shadowed when an earlier pixel of its
    line has a larger ``h + rise * distance`` (terrain above the line of sight). A line's
    pixels are the nearest ones (within half a pixel across the line).
    """
    rows, cols = heights.shape
    offset = math.ceil(abs(slope) * cols) + 1
    n_lines = rows + 2 * offset + 1
    best = np.full(n_lines, -np.inf)
    step = math.sqrt(1.0 + slope * slope) * rise
    for k in range(cols):
        j = k if ascending else cols - 1 - k
        for i in range(rows):
            h = heights[i, j]
            if not math.isfinite(h):
                continue
            line = math.floor(i - k * slope + 0.5) + offset
            q = h + k * step
            if best[line] > q + 0.05:
                if mask[i, j] == 0:
                    mask[i, j] = SHADOW
            elif q > best[line]:
                best[line] = q


@numba.njit(cache=True, nogil=True)
def _max_slope_per_px(heights: F32) -> float:
    """An upper bound of the slope of the bilinear height surface (height per pixel)."""
    rows, cols = heights.shape
    dx = 0.0
    dy = 0.0
    for i in range(rows):
        for j in range(cols):
            h = heights[i, j]
            if j + 1 < cols:
                d = abs(heights[i, j + 1] - h)
                if d > dx:
                    dx = d
            if i + 1 < rows:
                d = abs(heights[i + 1, j] - h)
                if d > dy:
                    dy = d
    return math.sqrt(dx * dx + dy * dy)


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

    def _transformer(self) -> Transformer:
        # one per call: pyproj transformers are not shared between threads
        return Transformer.from_crs(
            CRS.from_wkt(self._crs_wkt), CRS.from_epsg(4326), always_xy=True
        )

    def _lonlat(self, transformer: Transformer, rows: F64, cols: F64) -> tuple[F64, F64]:
        t = self.grid.transform
        x = t.c + t.a * (cols + 0.5) + t.b * (rows + 0.5)
        y = t.f + t.d * (cols + 0.5) + t.e * (rows + 0.5)
        lon, lat = transformer.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def map(self, row0: int, col0: int, heights: F32, shadow: bool = True) -> MappedRegion:
        """Map the region whose top-left pixel is (row0, col0) and whose heights are given."""
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
            _interpolate_nodes(l0, s0, l1, s1, step, h0, h1, heights, line, sample)
            if step == 1:
                error = 0.0
                break
            error = self._check(transformer, row0, col0, heights, line, sample, step)
            if error <= self.tolerance:
                break
            log.debug("node step %d: error %.3f px > %.3f, refining", step, error, self.tolerance)
            step //= 2
        look = self._look(s0, s1, step, h1 - h0)
        if shadow:
            self._shadow(heights, sample, l0, s0, s1, step, h1 - h0, mask)
        return MappedRegion(line, sample, mask, step, error, look)

    def _look(self, s0: F64, s1: F64, step: int, dh: float) -> tuple[float, float, float]:
        """The unit look vector (towards the sensor) in map axes, from the node mapping."""
        ds_dcol = float(np.nanmean(np.diff(s0, axis=1))) / step
        ds_drow = float(np.nanmean(np.diff(s0, axis=0))) / step
        norm = math.hypot(ds_dcol, ds_drow)
        ds_dh = float(np.nanmean(s1 - s0)) / dh
        if not (norm > 0 and math.isfinite(norm) and math.isfinite(ds_dh)):
            return (0.0, 0.0, 1.0)
        pixel_m = abs(self.grid.transform.a)
        tan_elevation = abs(ds_dh) / (norm / pixel_m)
        elevation = math.atan(tan_elevation)
        # towards the sensor: decreasing sample; map y is minus the row direction
        east = -ds_dcol / norm
        north = ds_drow / norm
        return (
            math.cos(elevation) * east,
            math.cos(elevation) * north,
            math.sin(elevation),
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

    def _shadow(
        self,
        heights: F32,
        sample: F32,
        l0: F64,
        s0: F64,
        s1: F64,
        step: int,
        dh: float,
        mask: U8,
    ) -> None:
        # the direction towards the sensor (decreasing sample at a fixed height), per pixel
        ds_dcol = float(np.nanmean(np.diff(s0, axis=1))) / step
        ds_drow = float(np.nanmean(np.diff(s0, axis=0))) / step
        norm = math.hypot(ds_dcol, ds_drow)
        ds_dh = float(np.nanmean(s1 - s0)) / dh
        if not (norm > 0 and math.isfinite(norm) and math.isfinite(ds_dh)):
            return
        drow, dcol = -ds_drow / norm, -ds_dcol / norm
        # at a fixed sample, d(height)/d(ground) = |grad S| / |dS/dh|: the wavefront; the
        # line of sight is perpendicular to it, rising by |dS/dh| / |grad S| per ground unit
        pixel_m = abs(self.grid.transform.a)
        tan_elevation = abs(ds_dh) / (norm / pixel_m)
        rise = tan_elevation * pixel_m
        # no terrain slope steeper than the line of sight or the wavefront: nothing to mark
        wavefront_rise = norm / abs(ds_dh) if ds_dh else math.inf
        if _max_slope_per_px(heights) < 0.9 * min(rise, wavefront_rise):
            return
        _layover(heights, sample, drow, dcol, mask)
        # sweep away from the sensor along the axis closer to the range direction
        if abs(dcol) >= abs(drow):
            _shadow_sweep(heights, -drow / abs(dcol), dcol < 0, rise, mask)
        else:
            transposed = np.ascontiguousarray(mask.T)
            _shadow_sweep(
                np.ascontiguousarray(heights.T), -dcol / abs(drow), drow < 0, rise, transposed
            )
            mask[:] = transposed.T


@numba.njit(cache=True, nogil=True)
def _resample_db(
    image: F32,
    line0: int,
    sample0: int,
    line: F32,
    sample: F32,
    mask: U8,
    floor: float,
    out: F32,
) -> None:
    rows, cols = line.shape
    h, w = image.shape
    for i in range(rows):
        for j in range(cols):
            li = line[i, j] - line0
            si = sample[i, j] - sample0
            out[i, j] = np.nan
            if mask[i, j] != 0 or not (li >= 0.0 and si >= 0.0):
                continue
            r = int(li)
            c = int(si)
            if r + 1 >= h or c + 1 >= w:
                if r == h - 1 and c == w - 1 and li == r and si == c:
                    v = image[r, c]
                else:
                    continue
            else:
                fy = li - r
                fx = si - c
                v = (
                    image[r, c] * (1 - fy) * (1 - fx)
                    + image[r, c + 1] * (1 - fy) * fx
                    + image[r + 1, c] * fy * (1 - fx)
                    + image[r + 1, c + 1] * fy * fx
                )
            if math.isfinite(v):
                out[i, j] = 10.0 * math.log10(max(v, floor))


def resample_to_db(
    image: F32, line0: int, sample0: int, line: F32, sample: F32, mask: U8, floor: float = 1e-5
) -> F32:
    """Bilinear samples of a linear radar window at (line, sample), in dB (NaN: no data)."""
    out = np.empty(line.shape, np.float32)
    _resample_db(
        np.ascontiguousarray(image, dtype=np.float32),
        line0,
        sample0,
        line,
        sample,
        mask,
        floor,
        out,
    )
    return out


@numba.njit(cache=True, nogil=True)
def _splat_area(
    heights: F32,
    line: F32,
    sample: F32,
    line0: int,
    sample0: int,
    pixel_m: float,
    look_x: float,
    look_y: float,
    look_z: float,
    area: F64,
) -> None:
    """Add each map pixel's illuminated area to the radar pixels it falls on (bilinear).

    A map pixel is a facet of the DEM; its area projected on the plane perpendicular to the
    look vector (map x east, y north, z up; towards the sensor) is
    ``pixel² · max(0, (-dh/dx, -dh/dy, 1) · look)`` (Small 2011, terrain flattening).
    """
    rows, cols = heights.shape
    h, w = area.shape
    inv2 = 1.0 / (2.0 * pixel_m)
    for i in range(1, rows - 1):
        for j in range(1, cols - 1):
            li = line[i, j] - line0
            si = sample[i, j] - sample0
            if not (li >= 0.0 and si >= 0.0 and li < h - 1 and si < w - 1):
                continue
            hx = (heights[i, j + 1] - heights[i, j - 1]) * inv2
            hy = (heights[i - 1, j] - heights[i + 1, j]) * inv2  # rows go south
            if not (math.isfinite(hx) and math.isfinite(hy)):
                continue
            projected = -hx * look_x - hy * look_y + look_z
            if projected <= 0.0:
                continue
            a = projected * pixel_m * pixel_m
            r = int(li)
            c = int(si)
            fy = li - r
            fx = si - c
            area[r, c] += a * (1 - fy) * (1 - fx)
            area[r, c + 1] += a * (1 - fy) * fx
            area[r + 1, c] += a * fy * (1 - fx)
            area[r + 1, c + 1] += a * fy * fx


def illuminated_area(
    heights: F32,
    line: F32,
    sample: F32,
    window: tuple[int, int, int, int],
    pixel_m: float,
    look: tuple[float, float, float],
) -> F64:
    """Illuminated area (m²) per radar pixel of `window` (line0, line1, sample0, sample1)."""
    l0, l1, s0, s1 = window
    area = np.zeros((l1 - l0, s1 - s0))
    _splat_area(heights, line, sample, l0, s0, pixel_m, look[0], look[1], look[2], area)
    return area
