"""IW GRD acquisition geometry: zero-Doppler azimuth time, slant and ground range.

One :class:`RadarGeometry` holds everything a GRD annotation says about geometry (orbit state
vectors, first/last line time, near slant range, slant-range-to-ground-range polynomials) and
uses the *same* model to project ground points into the image, so that a reader of the
product (xarray-sentinel + sarsen, or s1flood's own engine) geolocates the image back where
the simulator put it. Time is in seconds from ``epoch`` (the scene's reference datetime).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from s1flood.geodesy import WGS84_A, WGS84_B, ellipsoid_normal
from s1flood.synthetic.orbit import (
    CircularOrbit,
    OrbitPolynomial,
    StateVectors,
    sample_state_vectors,
)
from s1flood.synthetic.projection import project_kernel

LOGGER = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

RANGE_SAMPLING_RATE = 64_345_238.12571428  # Hz, IW
RADAR_FREQUENCY = 5.405000454334350e09  # Hz
GRD_PIXEL_SPACING = 10.0  # m, IW GRDH
SRGR_DEGREE = 8
NEAR_RANGE_INCIDENCE_DEG = 30.5
"""Incidence angle at the near edge of a full IW swath."""
SUBSWATHS = ("IW1", "IW2", "IW3")
SUBSWATH_LIMITS_DEG = (36.3, 41.3)
"""Incidence angles separating IW1/IW2 and IW2/IW3."""


def round_us(t: float) -> float:
    """Round a time in seconds to whole microseconds, as the annotation writes times.

    Args:
        t: azimuth time, seconds from the epoch.
    """
    return round(t * 1e6) / 1e6


@dataclass(frozen=True)
class GroundProfile:
    """Points of the zero-Doppler plane on the ellipsoid raised by a height, near to far."""

    look_angle: FloatArray  # rad, off-nadir
    slant_range: FloatArray  # m
    arc: FloatArray  # m, along the ground from the first point
    points: FloatArray  # (n, 3) ECEF
    sensor: FloatArray  # (3,)
    incidence: FloatArray  # rad


def ground_profile(
    poly: OrbitPolynomial,
    t: float,
    height: float,
    look_min_deg: float = 15.0,
    look_max_deg: float = 50.0,
    step_rad: float = 1e-5,
) -> GroundProfile:
    """Intersect right-looking rays of the zero-Doppler plane at time t with the ellipsoid.

    Args:
        poly: the orbit polynomial.
        t: azimuth time, seconds from the epoch.
        height: height above the ellipsoid, metres.
        look_min_deg: smallest off-nadir look angle, degrees.
        look_max_deg: largest off-nadir look angle, degrees.
        step_rad: look angle step, radians.
    """
    sensor = poly.position(t)
    vel = poly.velocity(t)
    vhat = vel / np.linalg.norm(vel)
    down = -sensor / np.linalg.norm(sensor)
    down = down - np.dot(down, vhat) * vhat
    down /= np.linalg.norm(down)
    right = np.cross(down, vhat)
    theta = np.arange(np.deg2rad(look_min_deg), np.deg2rad(look_max_deg), step_rad)
    d = np.cos(theta)[:, None] * down + np.sin(theta)[:, None] * right
    big_a, big_b = WGS84_A + height, WGS84_B + height
    scale = np.array([1.0 / big_a**2, 1.0 / big_a**2, 1.0 / big_b**2])
    alpha = np.sum(d * d * scale, axis=1)
    beta = np.sum(d * sensor * scale, axis=1)
    gamma = np.sum(sensor * sensor * scale) - 1.0
    disc = beta**2 - alpha * gamma
    if np.any(disc < 0):
        raise RuntimeError("look angle range misses the Earth")
    s = (-beta - np.sqrt(disc)) / alpha
    pts = sensor + s[:, None] * d
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    normal = ellipsoid_normal(pts)
    los = (sensor - pts) / s[:, None]
    inc = np.arccos(np.clip(np.sum(normal * los, axis=1), -1.0, 1.0))
    return GroundProfile(theta, s, arc, pts, sensor, inc)


@dataclass(frozen=True)
class RadarGeometry:
    """Geometry of one GRD image; times in seconds from ``epoch``."""

    epoch: datetime
    direction: str
    orbit: CircularOrbit
    state_vectors: StateVectors
    orbit_poly: OrbitPolynomial
    first_line_time: float
    last_line_time: float
    n_lines: int
    n_samples: int
    range_spacing: float
    near_slant_range: float
    reference_height: float
    cc_times: FloatArray  # coordinate conversion azimuth times
    srgr: FloatArray  # (K, D) ground range = sum c_i (R - sr0)^i
    grsr: FloatArray  # (K, D) slant range = sum c_i g^i
    azimuth_spacing: float

    @property
    def line_interval(self) -> float:
        """Azimuth time between lines (s), as readers derive it from first/last line times."""
        return (self.last_line_time - self.first_line_time) / (self.n_lines - 1)

    def datetime_at(self, t: float) -> datetime:
        """Datetime of a time in seconds from the epoch (microsecond precision).

        Args:
            t: azimuth time, seconds from the epoch.
        """
        return self.epoch + timedelta(microseconds=round(t * 1e6))

    def line_time(self, line: npt.ArrayLike) -> FloatArray:
        """Azimuth time of (fractional) image lines.

        Args:
            line: (fractional) image lines.
        """
        return self.first_line_time + np.asarray(line, dtype=np.float64) * self.line_interval

    def _coefficients(self, table: FloatArray, t: npt.ArrayLike) -> FloatArray:
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        return np.stack(
            [np.interp(tt, self.cc_times, table[:, k]) for k in range(table.shape[1])], axis=-1
        )

    def slant_to_ground(self, t: npt.ArrayLike, slant_range: npt.ArrayLike) -> FloatArray:
        """Ground range (m) of a slant range (m) at azimuth time t, with the srgr polynomial.

        Args:
            t: azimuth times, seconds from the epoch.
            slant_range: slant ranges, metres.
        """
        c = self._coefficients(self.srgr, t)
        x = np.asarray(slant_range, dtype=np.float64) - self.near_slant_range
        powers = x[..., None] ** np.arange(c.shape[-1])
        return np.asarray(np.sum(c * powers, axis=-1), dtype=np.float64)

    def ground_to_slant(self, t: npt.ArrayLike, ground_range: npt.ArrayLike) -> FloatArray:
        """Slant range (m) of a ground range (m) at azimuth time t, with the grsr polynomial.

        Args:
            t: azimuth times, seconds from the epoch.
            ground_range: ground ranges from the near edge, metres.
        """
        c = self._coefficients(self.grsr, t)
        g = np.asarray(ground_range, dtype=np.float64)
        powers = g[..., None] ** np.arange(c.shape[-1])
        return np.asarray(np.sum(c * powers, axis=-1), dtype=np.float64)

    def ground_points(
        self, t: float, ground_range: npt.ArrayLike, height: float | None = None
    ) -> tuple[FloatArray, GroundProfile]:
        """ECEF points (n, 3) at ground ranges of the image line at time t, on the ellipsoid.

        Args:
            t: azimuth time, seconds from the epoch.
            ground_range: ground ranges from the near edge, metres.
            height: height above the ellipsoid (default: the reference height).
        """
        h = self.reference_height if height is None else height
        prof = ground_profile(self.orbit_poly, t, h)
        rng = self.ground_to_slant(t, ground_range).ravel()
        pts = np.stack([np.interp(rng, prof.slant_range, prof.points[:, k]) for k in range(3)])
        return pts.T, prof

    def incidence_by_sample(self, samples: npt.ArrayLike, t: float | None = None) -> FloatArray:
        """Ellipsoid incidence angle (rad) of image samples on the line at time t (mid image).

        Args:
            samples: image samples.
            t: azimuth time (default: mid image).
        """
        tt = 0.5 * (self.first_line_time + self.last_line_time) if t is None else t
        g = np.asarray(samples, dtype=np.float64) * self.range_spacing
        prof = ground_profile(self.orbit_poly, tt, self.reference_height)
        rng = self.ground_to_slant(tt, g.ravel())
        return np.interp(rng, prof.slant_range, prof.incidence).reshape(g.shape)

    def azimuth_ground_spacing(self, samples: npt.ArrayLike) -> FloatArray:
        """Ground distance between consecutive lines (m) at image samples (mid image)."""
        t = 0.5 * (self.first_line_time + self.last_line_time)
        dt = 0.5
        g = np.asarray(samples, dtype=np.float64).ravel() * self.range_spacing
        p0, _ = self.ground_points(t - dt, g)
        p1, _ = self.ground_points(t + dt, g)
        speed = np.linalg.norm(p1 - p0, axis=1) / (2 * dt)
        return np.asarray(speed * self.line_interval, dtype=np.float64).reshape(np.shape(samples))

    def subswath_of_sample(self, samples: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """Subswath index (0, 1, 2 for IW1..IW3) of image samples, from their incidence.

        Args:
            samples: image samples.
        """
        inc = np.rad2deg(self.incidence_by_sample(samples))
        return np.asarray(np.searchsorted(SUBSWATH_LIMITS_DEG, inc), dtype=np.int8)

    def project(
        self, ecef: FloatArray, t_guess: float | None = None
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float32]]:
        """Image line, sample and unit line of sight (n, 3) of ECEF points (n, 3).

        Args:
            ecef: ECEF points (n, 3), metres.
            t_guess: first guess of the zero-Doppler time (default: mid image).
        """
        pts = np.ascontiguousarray(ecef, dtype=np.float64)
        n = pts.shape[0]
        line = np.empty(n, np.float64)
        sample = np.empty(n, np.float64)
        los = np.empty((n, 3), np.float32)
        guess = 0.5 * (self.first_line_time + self.last_line_time) if t_guess is None else t_guess
        project_kernel(
            pts,
            self.orbit_poly.coefficients,
            self.orbit_poly.epoch,
            guess,
            self.cc_times,
            self.srgr,
            self.near_slant_range,
            self.first_line_time,
            self.line_interval,
            self.range_spacing,
            line,
            sample,
            los,
        )
        return line, sample, los


def _fit_power_poly(x: FloatArray, y: FloatArray, degree: int) -> FloatArray:
    poly = np.polynomial.Polynomial.fit(x, y, degree)
    return np.asarray(poly.convert().coef, dtype=np.float64)


def _range_polynomials(
    poly: OrbitPolynomial,
    times: tuple[float, float],
    sr0: float,
    g_max: float,
    reference_height: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Times, srgr and grsr polynomials (one a second, around the image) fitted on profiles."""
    t_first, t_last = times
    n_cc = max(3, int(np.ceil((t_last - t_first + 2.0) / 1.0)) + 1)
    cc_times = np.array([round_us(t) for t in np.linspace(t_first - 1.0, t_last + 1.0, n_cc)])
    srgr = np.empty((n_cc, SRGR_DEGREE + 1))
    grsr = np.empty((n_cc, SRGR_DEGREE + 1))
    for k, t in enumerate(cc_times):
        prof = ground_profile(poly, float(t), reference_height)
        arc0 = float(np.interp(sr0, prof.slant_range, prof.arc))
        g = prof.arc - arc0
        sel = (g >= -500.0) & (g <= g_max)
        srgr[k] = _fit_power_poly(prof.slant_range[sel] - sr0, g[sel], SRGR_DEGREE)
        grsr[k] = _fit_power_poly(g[sel], prof.slant_range[sel], SRGR_DEGREE)
        resid = np.polynomial.polynomial.polyval(prof.slant_range[sel] - sr0, srgr[k]) - g[sel]
        if np.abs(resid).max() > 0.25:
            LOGGER.warning("srgr polynomial residual %.3f m", np.abs(resid).max())
    return cc_times, srgr, grsr


def build_geometry(
    orbit: CircularOrbit,
    epoch: datetime,
    direction: str,
    target_ecef: FloatArray,
    n_lines: int,
    n_samples: int,
    target_line: float,
    target_sample: float | None,
    reference_height: float,
    range_spacing: float = GRD_PIXEL_SPACING,
    azimuth_spacing: float = GRD_PIXEL_SPACING,
) -> RadarGeometry:
    """Lay an image of n_lines x n_samples around a target seen at zero Doppler at t = 0.

    The target falls on ``target_line``; it falls on ``target_sample`` when given, otherwise
    the near edge of the swath is at 30.5° incidence (a full IW swath).

    Args:
        orbit: the orbit seeing the target at t = 0.
        epoch: the datetime of t = 0.
        direction: ascending or descending.
        target_ecef: the target, ECEF metres.
        n_lines: image lines.
        n_samples: image samples.
        target_line: the image line of the target.
        target_sample: the image sample of the target (None: a full swath).
        reference_height: terrain height of the annotation, metres.
        range_spacing: ground range pixel spacing, metres.
        azimuth_spacing: azimuth pixel spacing, metres.
    """
    # azimuth time interval from the ground speed of the zero-Doppler footprint at the target
    pos, vel = orbit.state(0.0)
    ground_speed = float(np.linalg.norm(vel) * np.linalg.norm(target_ecef) / np.linalg.norm(pos))
    dt_line = azimuth_spacing / ground_speed
    t_first = round_us(-target_line * dt_line)
    t_last = round_us(t_first + (n_lines - 1) * dt_line)
    svs = sample_state_vectors(orbit, t_first, t_last)
    poly = OrbitPolynomial.fit(svs)

    prof0 = ground_profile(poly, 0.0, reference_height)
    if target_sample is not None:
        sensor = poly.position(0.0)
        r_target = float(np.linalg.norm(target_ecef - sensor))
        arc_target = float(np.interp(r_target, prof0.slant_range, prof0.arc))
        arc_near = arc_target - target_sample * range_spacing
        sr0 = float(np.interp(arc_near, prof0.arc, prof0.slant_range))
    else:
        sr0 = float(
            np.interp(np.deg2rad(NEAR_RANGE_INCIDENCE_DEG), prof0.incidence, prof0.slant_range)
        )
    g_max = (n_samples - 1) * range_spacing + 5_000.0
    cc_times, srgr, grsr = _range_polynomials(poly, (t_first, t_last), sr0, g_max, reference_height)
    return RadarGeometry(
        epoch=epoch,
        direction=direction,
        orbit=orbit,
        state_vectors=svs,
        orbit_poly=poly,
        first_line_time=t_first,
        last_line_time=t_last,
        n_lines=n_lines,
        n_samples=n_samples,
        range_spacing=range_spacing,
        near_slant_range=sr0,
        reference_height=reference_height,
        cc_times=cc_times,
        srgr=srgr,
        grsr=grsr,
        azimuth_spacing=azimuth_spacing,
    )
