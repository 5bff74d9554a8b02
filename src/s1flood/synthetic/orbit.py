"""Sentinel-1-like orbit: a circular near-polar sun-synchronous orbit in Earth-fixed coordinates.

The orbit is placed so that a target point is seen at zero Doppler at time 0 with a chosen
incidence angle, on the right of the ground track, on an ascending or descending pass.
State vectors, like the ones in a product annotation, are sampled from it; the polynomial
fitted to them (as sarsen does) is the orbit model every geometric computation then uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize

from s1flood.errors import InvalidOptionError
from s1flood.geodesy import WGS84_A, ellipsoid_normal, geodetic_to_ecef

LOGGER = logging.getLogger(__name__)

EARTH_ROTATION_RATE = 7.2921159e-5  # rad/s
EARTH_GM = 3.986004418e14  # m3/s2
SPEED_OF_LIGHT = 299_792_458.0  # m/s

S1_ALTITUDE = 693_000.0
"""Reference altitude of the Sentinel-1 orbit above the equator (m)."""
S1_SEMI_MAJOR_AXIS = WGS84_A + S1_ALTITUDE
S1_INCLINATION_DEG = 98.18
STATE_VECTOR_INTERVAL_S = 10.0
ORBIT_DIRECTIONS = ("ascending", "descending")

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CircularOrbit:
    """A circular orbit expressed in the Earth-fixed frame; time in seconds from its epoch."""

    semi_major_axis: float
    inclination: float  # rad
    arg_latitude0: float  # rad, argument of latitude at t = 0
    node_longitude0: float  # rad, Earth-fixed longitude of the ascending node at t = 0

    @property
    def mean_motion(self) -> float:
        """Angular rate along the orbit (rad/s)."""
        return float(np.sqrt(EARTH_GM / self.semi_major_axis**3))

    def state(self, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Earth-fixed position and velocity, each of shape (..., 3), at times t (s)."""
        tt = np.asarray(t, dtype=np.float64)
        n = self.mean_motion
        u = self.arg_latitude0 + n * tt
        om = self.node_longitude0 - EARTH_ROTATION_RATE * tt
        dom = -EARTH_ROTATION_RATE
        ci, si = np.cos(self.inclination), np.sin(self.inclination)
        cu, su, co, so = np.cos(u), np.sin(u), np.cos(om), np.sin(om)
        a = self.semi_major_axis
        pos = a * np.stack([cu * co - su * ci * so, cu * so + su * ci * co, su * si], axis=-1)
        vel = a * np.stack(
            [
                (-su * co - cu * ci * so) * n + (-cu * so - su * ci * co) * dom,
                (-su * so + cu * ci * co) * n + (cu * co - su * ci * so) * dom,
                cu * si * n + 0.0 * dom,
            ],
            axis=-1,
        )
        return pos, vel

    def is_ascending(self, t: float = 0.0) -> bool:
        """True where the satellite moves northwards at time t.

        Args:
            t: azimuth time, seconds from the epoch.
        """
        _, vel = self.state(t)
        return bool(vel[2] > 0.0)


def _look_residuals(
    orbit: CircularOrbit, target: FloatArray, incidence: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    pos, vel = orbit.state(0.0)
    look = target - pos
    rng = np.linalg.norm(look, axis=-1)
    doppler = np.sum(look * vel, axis=-1) / (rng * np.linalg.norm(vel, axis=-1))
    normal = ellipsoid_normal(target)
    cos_inc = np.sum(normal * (pos - target), axis=-1) / rng
    inc_err = np.arccos(np.clip(cos_inc, -1.0, 1.0)) - incidence
    down = -pos / np.linalg.norm(pos, axis=-1, keepdims=True)
    right = np.cross(down, vel)
    side = np.sum(look * right, axis=-1)
    return doppler, inc_err, side


def solve_orbit(
    lon_deg: float,
    lat_deg: float,
    height: float,
    incidence_deg: float,
    direction: str,
    semi_major_axis: float = S1_SEMI_MAJOR_AXIS,
    inclination_deg: float = S1_INCLINATION_DEG,
) -> CircularOrbit:
    """Place a circular orbit that sees a target at zero Doppler at t = 0, looking right.

    Args:
        lon_deg: target longitude, degrees.
        lat_deg: target latitude, degrees.
        height: target height above the ellipsoid, metres.
        incidence_deg: incidence angle at the target, degrees.
        direction: ascending or descending.
        semi_major_axis: orbit radius, metres.
        inclination_deg: orbit inclination, degrees.
    """
    if direction not in ORBIT_DIRECTIONS:
        raise InvalidOptionError("orbit_direction", direction, "use ascending or descending")
    target = geodetic_to_ecef(lon_deg, lat_deg, height)
    incidence = np.deg2rad(incidence_deg)
    inc = np.deg2rad(inclination_deg)
    # coarse grid search over the argument of latitude (on the right half) and the node
    if direction == "ascending":
        u_grid = np.deg2rad(np.arange(-89.75, 90.0, 0.25))
    else:
        u_grid = np.deg2rad(np.arange(90.25, 270.0, 0.25))
    node_grid = np.deg2rad(np.arange(0.0, 360.0, 0.25))
    uu, nn = np.meshgrid(u_grid, node_grid, indexing="ij")
    grid_orbit = CircularOrbit(semi_major_axis, inc, uu, nn)
    doppler, inc_err, side = _look_residuals(grid_orbit, target, incidence)
    cost = np.where(side > 0, np.abs(doppler) + np.abs(inc_err), np.inf)
    best = np.unravel_index(int(np.argmin(cost)), cost.shape)
    x0 = np.array([uu[best], nn[best]])

    def residuals(x: FloatArray) -> FloatArray:
        o = CircularOrbit(semi_major_axis, inc, float(x[0]), float(x[1]))
        d, e, _ = _look_residuals(o, target, incidence)
        return np.array([float(d), float(e)])

    sol = optimize.least_squares(residuals, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15)
    orbit = CircularOrbit(semi_major_axis, inc, float(sol.x[0]), float(sol.x[1]))
    d, e, s = _look_residuals(orbit, target, incidence)
    if abs(float(d)) > 1e-9 or abs(float(e)) > 1e-7 or float(s) <= 0:
        raise RuntimeError(f"orbit solution failed (doppler {d}, incidence error {e})")
    if orbit.is_ascending() != (direction == "ascending"):
        raise RuntimeError("orbit solution has the wrong pass direction")
    return orbit


@dataclass(frozen=True)
class StateVectors:
    """Orbit state vectors: times (s from the orbit epoch), positions and velocities (n, 3)."""

    time: FloatArray
    position: FloatArray
    velocity: FloatArray


def sample_state_vectors(orbit: CircularOrbit, t_start: float, t_stop: float) -> StateVectors:
    """State vectors every 10 s covering [t_start, t_stop] with a margin, rounded as in products.

    Positions are kept to 1 mm and velocities to 1 µm/s like the real annotation.

    Args:
        orbit: the orbit.
        t_start: first time to cover, seconds.
        t_stop: last time to cover, seconds.
    """
    first = np.floor((t_start - 60.0) / STATE_VECTOR_INTERVAL_S) * STATE_VECTOR_INTERVAL_S
    count = int(np.ceil((t_stop + 60.0 - first) / STATE_VECTOR_INTERVAL_S)) + 1
    count = max(count, 16)
    times = first + STATE_VECTOR_INTERVAL_S * np.arange(count)
    pos, vel = orbit.state(times)
    return StateVectors(times, np.round(pos, 3), np.round(vel, 6))


@dataclass(frozen=True)
class OrbitPolynomial:
    """Per-axis polynomial of position in time, ascending powers of (t - epoch), like sarsen's."""

    epoch: float
    coefficients: FloatArray  # shape (3, degree + 1)

    @classmethod
    def fit(cls, state_vectors: StateVectors, degree: int = 5) -> OrbitPolynomial:
        """Least-squares fit of the positions, epoch at the middle of the state vectors.

        Args:
            state_vectors: the state vectors.
            degree: polynomial degree.
        """
        t = state_vectors.time
        epoch = float(t[0] + (t[-1] - t[0]) / 2.0)
        coeffs = np.polynomial.polynomial.polyfit(t - epoch, state_vectors.position, degree)
        return cls(epoch, np.ascontiguousarray(coeffs.T))

    def position(self, t: npt.ArrayLike) -> FloatArray:
        """Position (..., 3) at times t.

        Args:
            t: times, seconds.
        """
        x = np.asarray(t, dtype=np.float64) - self.epoch
        return np.stack(
            [np.polynomial.polynomial.polyval(x, c) for c in self.coefficients], axis=-1
        )

    def velocity(self, t: npt.ArrayLike) -> FloatArray:
        """Velocity (..., 3) at times t (derivative of the position polynomial)."""
        x = np.asarray(t, dtype=np.float64) - self.epoch
        return np.stack(
            [
                np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(c))
                for c in self.coefficients
            ],
            axis=-1,
        )
