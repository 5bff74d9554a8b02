"""Projection of the scene into radar geometry: the DEM cells' power on the image.

Every DEM cell is projected with the product's own geometry (zero-Doppler time, slant range,
srgr polynomial) and its backscattered power ``sigma0 · area`` is spread over the image
pixels it falls in (sub-sampled, bilinear), which yields foreshortening, layover (several
cells in one pixel) and, with the shadow test, radar shadow. The background outside the DEM
and the digital numbers are in `measurement`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
import rasterio.warp

from s1flood.geodesy import WGS84_A, WGS84_B, ecef_to_geodetic, ellipsoid_normal
from s1flood.synthetic.backscatter import sigma0_linear
from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.terrain import Terrain, horizontal_crs

LOGGER = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
ECEF_CRS = "EPSG:4978"


@dataclass
class DemProjection:
    """Radar coordinates and illumination of every DEM cell for one geometry."""

    line: F64
    sample: F64
    local_incidence_deg: F32  # >= 90 where the facet faces away
    area: F32  # true surface area (m2)
    shadow: npt.NDArray[np.bool_]
    layover_fraction: float
    shadow_fraction: float


def dem_to_ecef(terrain: Terrain, rows: slice | None = None) -> F64:
    """ECEF (ny, nx, 3) of the DEM cell centres, with the transform sarsen uses.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        rows: the DEM rows to convert (default: all).
    """
    elev = terrain.elevation if rows is None else terrain.elevation[rows]
    row0 = 0 if rows is None else (rows.start or 0)
    ny, nx = elev.shape
    t = terrain.transform
    cols = t.c + t.a * (np.arange(nx) + 0.5)
    rws = t.f + t.e * (np.arange(row0, row0 + ny) + 0.5)
    xx, yy = np.meshgrid(cols, rws)
    zz = np.where(np.isfinite(elev), elev, 0.0)
    if terrain.geoid_height is not None:  # geoid heights: to the ellipsoid, as preprocessing
        zz = zz + (terrain.geoid_height if rows is None else terrain.geoid_height[rows])
    crs = horizontal_crs(terrain.crs)
    x, y, z = rasterio.warp.transform(crs, ECEF_CRS, xx.ravel(), yy.ravel(), zz.ravel())
    out = np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1).reshape(ny, nx, 3)
    out[~np.isfinite(elev)] = np.nan
    return out


def project_terrain(terrain: Terrain, geom: RadarGeometry) -> DemProjection:
    """Project the DEM into the image, with local incidence, facet area and radar shadow.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        geom: the image geometry.
    """
    ecef = dem_to_ecef(terrain)
    ny, nx, _ = ecef.shape
    line, sample, los = geom.project(ecef.reshape(-1, 3))
    line = line.reshape(ny, nx)
    sample = sample.reshape(ny, nx)
    los3 = los.reshape(ny, nx, 3)
    cos_loc = np.empty((ny, nx), np.float32)
    area = np.empty((ny, nx), np.float32)
    cot_inc = np.empty((ny, nx), np.float32)
    _facets(ecef, los3, cos_loc, area, cot_inc)
    # direction towards the sensor in DEM pixel units per horizontal metre, at the DEM centre
    c = (ny // 2, nx // 2)
    centre = ecef[c]
    if not np.all(np.isfinite(centre)):
        finite = np.argwhere(np.isfinite(ecef[..., 0]))
        c = tuple(finite[len(finite) // 2])
        centre = ecef[c]
    nrm = ellipsoid_normal(centre)
    look = los3[c].astype(np.float64)
    horiz = look - np.dot(look, nrm) * nrm
    horiz /= np.linalg.norm(horiz)
    step_m = 50.0
    p2 = centre + step_m * horiz
    lon, lat, h = ecef_to_geodetic(np.stack([centre, p2]))
    xs, ys = rasterio.warp.transform("EPSG:4979", terrain.crs, lon, lat, h)[:2]
    inv = ~terrain.transform
    c0 = inv * (xs[0], ys[0])
    c1 = inv * (xs[1], ys[1])
    dcol = (c1[0] - c0[0]) / step_m
    drow = (c1[1] - c0[1]) / step_m
    march = 0.5 / max(abs(dcol), abs(drow))
    shadow = np.zeros((ny, nx), np.bool_)
    elev = np.ascontiguousarray(terrain.elevation, dtype=np.float32)
    _shadow(elev, float(dcol), float(drow), float(march), cot_inc, float(np.nanmax(elev)), shadow)
    local = np.rad2deg(np.arccos(np.clip(cos_loc, -1.0, 1.0))).astype(np.float32)
    valid = terrain.valid
    n_valid = max(int(valid.sum()), 1)
    # layover: the facet's ground-range derivative along the look direction is negative
    ds = np.gradient(sample, axis=1) * dcol + np.gradient(sample, axis=0) * drow
    layover = float(((ds > 0) & valid).sum()) / n_valid if dcol or drow else 0.0
    proj = DemProjection(
        line=line,
        sample=sample,
        local_incidence_deg=local,
        area=area,
        shadow=shadow,
        layover_fraction=layover,
        shadow_fraction=float((shadow & valid).sum()) / n_valid,
    )
    LOGGER.info(
        "DEM projected: lines %.0f..%.0f, samples %.0f..%.0f, shadow %.2f%%, layover %.2f%%",
        np.nanmin(line),
        np.nanmax(line),
        np.nanmin(sample),
        np.nanmax(sample),
        100 * proj.shadow_fraction,
        100 * proj.layover_fraction,
    )
    return proj


@numba.njit(cache=True, nogil=True)
def _facets(
    ecef: F64, los: F32, cos_loc: F32, area: F32, cot_inc: F32
) -> None:  # pragma: no cover - compiled
    ny, nx = ecef.shape[0], ecef.shape[1]
    a2 = WGS84_A**2
    b2 = WGS84_B**2
    for i in range(ny):
        i0 = max(i - 1, 0)
        i1 = min(i + 1, ny - 1)
        for j in range(nx):
            j0 = max(j - 1, 0)
            j1 = min(j + 1, nx - 1)
            p = ecef[i, j]
            if not np.isfinite(p[0]):
                cos_loc[i, j] = np.nan
                area[i, j] = 0.0
                cot_inc[i, j] = np.nan
                continue
            dxa = ecef[i, j1] - ecef[i, j0]
            dya = ecef[i1, j] - ecef[i0, j]
            if not (np.isfinite(dxa[0]) and np.isfinite(dya[0])):
                dxa = (
                    ecef[i, min(j + 1, nx - 1)] - p
                    if np.isfinite(ecef[i, min(j + 1, nx - 1)][0])
                    else p - ecef[i, j0]
                )
                dya = ecef[i1, j] - p if np.isfinite(ecef[i1, j][0]) else p - ecef[i0, j]
                fx = 1.0
                fy = 1.0
            else:
                fx = 1.0 / (j1 - j0) if j1 > j0 else 1.0
                fy = 1.0 / (i1 - i0) if i1 > i0 else 1.0
            ux = dxa * fx
            uy = dya * fy
            n0 = ux[1] * uy[2] - ux[2] * uy[1]
            n1 = ux[2] * uy[0] - ux[0] * uy[2]
            n2 = ux[0] * uy[1] - ux[1] * uy[0]
            nn = np.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
            if n0 * p[0] + n1 * p[1] + n2 * p[2] < 0:
                n0, n1, n2 = -n0, -n1, -n2
            area[i, j] = nn
            if nn > 0:
                cos_loc[i, j] = (n0 * los[i, j, 0] + n1 * los[i, j, 1] + n2 * los[i, j, 2]) / nn
            else:
                cos_loc[i, j] = np.nan
            e0, e1, e2 = p[0] / a2, p[1] / a2, p[2] / b2
            en = np.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
            ci = (e0 * los[i, j, 0] + e1 * los[i, j, 1] + e2 * los[i, j, 2]) / en
            ci = min(max(ci, 1e-6), 1.0)
            cot_inc[i, j] = ci / np.sqrt(max(1.0 - ci * ci, 1e-12))


@numba.njit(cache=True, nogil=True)
def _shadow(
    elev: F32,
    dcol: float,
    drow: float,
    step: float,
    cot_inc: F32,
    hmax: float,
    out: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled
    ny, nx = elev.shape
    for i in range(ny):
        for j in range(nx):
            h = elev[i, j]
            ct = cot_inc[i, j]
            if not (np.isfinite(h) and np.isfinite(ct)) or ct <= 0:
                continue
            dmax = (hmax - h) / ct
            d = step
            while d <= dmax:
                r = round(i + d * drow)
                c = round(j + d * dcol)
                if r < 0 or r >= ny or c < 0 or c >= nx:
                    break
                hh = elev[r, c]
                if np.isfinite(hh) and hh > h + d * ct + 0.5:
                    out[i, j] = True
                    break
                d += step


@numba.njit(cache=True, nogil=True)
def _splat(
    line: F64, sample: F64, power: F32, line0: int, sample0: int, out: F32
) -> None:  # pragma: no cover - compiled
    """Spread each cell's power (npol, ny, nx) over the pixels it covers; last channel: cover."""
    npol = power.shape[0]
    ny, nx = line.shape
    height, width = out.shape[1], out.shape[2]
    for i in range(ny):
        i0 = max(i - 1, 0)
        i1 = min(i + 1, ny - 1)
        for j in range(nx):
            lc = line[i, j]
            sc = sample[i, j]
            if not (np.isfinite(lc) and np.isfinite(sc)):
                continue
            j0 = max(j - 1, 0)
            j1 = min(j + 1, nx - 1)
            dli = (line[i1, j] - line[i0, j]) / max(i1 - i0, 1)
            dsi = (sample[i1, j] - sample[i0, j]) / max(i1 - i0, 1)
            dlj = (line[i, j1] - line[i, j0]) / max(j1 - j0, 1)
            dsj = (sample[i, j1] - sample[i, j0]) / max(j1 - j0, 1)
            if not (
                np.isfinite(dli) and np.isfinite(dsi) and np.isfinite(dlj) and np.isfinite(dsj)
            ):
                dli = dsi = dlj = dsj = 0.0
            det = abs(dli * dsj - dlj * dsi)
            ext = max(abs(dli) + abs(dlj), abs(dsi) + abs(dsj))
            k = min(max(int(np.ceil(2.0 * ext)), 1), 32)
            wsub = 1.0 / (k * k)
            cover = det * wsub
            for a in range(k):
                u = (a + 0.5) / k - 0.5
                for b in range(k):
                    v = (b + 0.5) / k - 0.5
                    ll = lc + u * dli + v * dlj - line0
                    ss = sc + u * dsi + v * dsj - sample0
                    fl = np.floor(ll)
                    fs = np.floor(ss)
                    li = int(fl)
                    si = int(fs)
                    if li < -1 or li >= height or si < -1 or si >= width:
                        continue
                    wl = ll - fl
                    ws = ss - fs
                    for da in range(2):
                        r = li + da
                        if r < 0 or r >= height:
                            continue
                        w_r = wl if da == 1 else 1.0 - wl
                        for db in range(2):
                            c = si + db
                            if c < 0 or c >= width:
                                continue
                            w = w_r * (ws if db == 1 else 1.0 - ws)
                            for p in range(npol):
                                out[p, r, c] += power[p, i, j] * wsub * w
                            out[npol, r, c] += cover * w


@dataclass
class SceneModel:
    """The noise-free model of one acquisition in radar geometry, on the DEM window."""

    line0: int
    sample0: int
    power: F32  # (npol + 1, H, W): sigma0·area per pol, then cover (0..1+)

    def window(self, pol_index: int, line0: int, line1: int) -> tuple[F32, F32, int, int]:
        """Power and cover for image lines [line0, line1), with the window's sample offset.

        Args:
            pol_index: index of the polarisation.
            line0: first image line.
            line1: end image line (exclusive).
        """
        r0 = max(line0 - self.line0, 0)
        r1 = min(line1 - self.line0, self.power.shape[1])
        if r1 <= r0:
            empty = np.zeros((0, 0), np.float32)
            return empty, empty, 0, 0
        npol = self.power.shape[0] - 1
        return (
            self.power[pol_index, r0:r1],
            self.power[npol, r0:r1],
            self.line0 + r0,
            self.sample0,
        )


def render_scene(
    terrain: Terrain,
    proj: DemProjection,
    geom: RadarGeometry,
    landcover: npt.NDArray[np.uint8],
    polarisations: tuple[str, ...],
    texture_db: F32,
    wind_db: float,
) -> SceneModel:
    """Splat sigma0·area of every visible DEM cell into the image window it covers.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        proj: the DEM projected into the image.
        geom: the image geometry.
        landcover: land cover of the date.
        polarisations: the polarisations to render.
        texture_db: per-cell backscatter change of the date, dB.
        wind_db: roughening of open water by wind, dB.
    """
    valid = np.isfinite(proj.line) & np.isfinite(proj.sample)
    if not valid.any():
        return SceneModel(0, 0, np.zeros((len(polarisations) + 1, 0, 0), np.float32))
    margin = 4
    l0 = max(int(np.floor(np.min(proj.line[valid]))) - margin, 0)
    l1 = min(int(np.ceil(np.max(proj.line[valid]))) + margin, geom.n_lines)
    s0 = max(int(np.floor(np.min(proj.sample[valid]))) - margin, 0)
    s1 = min(int(np.ceil(np.max(proj.sample[valid]))) + margin, geom.n_samples)
    if l1 <= l0 or s1 <= s0:
        return SceneModel(0, 0, np.zeros((len(polarisations) + 1, 0, 0), np.float32))
    visible = ~proj.shadow & (proj.local_incidence_deg < 90.0) & terrain.valid
    power = np.empty((len(polarisations), *proj.line.shape), np.float32)
    for k, pol in enumerate(polarisations):
        s = sigma0_linear(landcover, pol, proj.local_incidence_deg, texture_db, wind_db)
        power[k] = np.where(visible, s * proj.area, 0.0)
    out = np.zeros((len(polarisations) + 1, l1 - l0, s1 - s0), np.float32)
    _splat(proj.line, proj.sample, power, l0, s0, out)
    # power per pixel ground area -> sigma0 on the ellipsoid
    spacing = geom.azimuth_ground_spacing(np.arange(s0, s1)) * geom.range_spacing
    out[: len(polarisations)] /= spacing.astype(np.float32)[None, None, :]
    return SceneModel(l0, s0, out)
