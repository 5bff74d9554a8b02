"""Orbits: the annotation's state vectors or a precise/restituted orbit file (EOF).

An EOF file (Earth Explorer XML, ``AUX_POEORB`` or ``AUX_RESORB``) is used when it is for the
product's satellite and its validity window covers the acquisition with a margin; a
directory is searched for such a file (precise before restituted, newest first). Positions
are interpolated by a least-squares polynomial in time over the state vectors around the
acquisition, and velocities by its derivative, so that both are consistent.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import numpy.typing as npt

from s1flood.errors import OrbitFileError

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]

MARGIN = timedelta(seconds=60)
"""State vectors needed on either side of the acquisition."""
POLY_DEGREE = 5


@dataclass(frozen=True)
class OrbitFile:
    """A parsed EOF file."""

    path: Path
    mission: str
    """S1A, S1B, S1C..."""
    file_type: str
    validity_start: datetime
    validity_stop: datetime
    times: npt.NDArray[np.datetime64]
    positions: F64
    velocities: F64

    def covers(self, start: datetime, stop: datetime) -> bool:
        """Whether the validity window covers [start, stop] with `MARGIN` on both sides.

        Args:
            start: start of the acquisition.
            stop: end of the acquisition.
        """
        return self.validity_start <= start - MARGIN and stop + MARGIN <= self.validity_stop


def _utc(text: str | None) -> datetime:
    if not text:
        raise ValueError("missing time")
    return datetime.fromisoformat(text.strip().removeprefix("UTC=")).replace(tzinfo=UTC)


def parse_eof(path: Path | str) -> OrbitFile:
    """Parse an EOF orbit file, or raise `OrbitFileError`.

    Args:
        path: the EOF file.
    """
    path = Path(path)
    if not path.is_file():
        raise OrbitFileError(path, "no such orbit file")
    try:
        root = ET.parse(path).getroot()
        header = root.find("Earth_Explorer_Header/Fixed_Header")
        if header is None:
            raise ValueError("no Earth_Explorer_Header/Fixed_Header")
        mission_text = header.findtext("Mission") or ""
        match = re.search(r"Sentinel-1([A-Z])", mission_text) or re.match(r"S1([A-Z])", path.name)
        if match is None:
            raise ValueError(f"mission {mission_text!r} is not a Sentinel-1 satellite")
        file_type = (header.findtext("File_Type") or "").strip()
        start = _utc(header.findtext("Validity_Period/Validity_Start"))
        stop = _utc(header.findtext("Validity_Period/Validity_Stop"))
        osvs = root.findall("Data_Block/List_of_OSVs/OSV")
        if not osvs:
            raise ValueError("no OSV records")
        times = np.array(
            [np.datetime64(_utc(o.findtext("UTC")).replace(tzinfo=None), "ns") for o in osvs]
        )
        pos = np.array([[float(o.findtext(k) or "nan") for k in ("X", "Y", "Z")] for o in osvs])
        vel = np.array([[float(o.findtext(k) or "nan") for k in ("VX", "VY", "VZ")] for o in osvs])
    except (ET.ParseError, ValueError, OSError) as exc:
        raise OrbitFileError(path, f"not a readable EOF orbit file ({exc})") from None
    if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(vel))):
        raise OrbitFileError(path, "state vectors with missing values")
    return OrbitFile(path, f"S1{match.group(1)}", file_type, start, stop, times, pos, vel)


def _rank(orbit: OrbitFile) -> tuple[int, datetime]:
    precise = 1 if "POEORB" in orbit.file_type else 0
    return precise, orbit.validity_start


def select_orbit_file(
    orbit: Path | str, mission: str, start: datetime, stop: datetime
) -> OrbitFile | None:
    """The orbit file to use for an acquisition.

    A file is checked and used, or rejected with `OrbitFileError` (other satellite, validity
    window not covering). In a directory the best covering ``*.EOF`` is chosen; ``None``
    when none covers (the caller then uses the annotation orbit).

    Args:
        orbit: an EOF file or a folder of them.
        mission: S1A, S1B, ...
        start: start of the acquisition.
        stop: end of the acquisition.
    """
    orbit = Path(orbit)
    if orbit.is_dir():
        candidates = []
        for path in sorted(orbit.glob("*.EOF")) + sorted(orbit.glob("*.eof")):
            if not path.name.upper().startswith(mission.upper()):
                continue
            try:
                parsed = parse_eof(path)
            except OrbitFileError as exc:
                log.warning("skipping %s", exc)
                continue
            if parsed.mission == mission and parsed.covers(start, stop):
                candidates.append(parsed)
        if not candidates:
            log.info("no orbit file in %s covers %s %s..%s", orbit, mission, start, stop)
            return None
        best = max(candidates, key=_rank)
        log.info("orbit file %s selected from %s", best.path.name, orbit)
        return best
    parsed = parse_eof(orbit)
    if parsed.mission != mission:
        raise OrbitFileError(orbit, f"orbit file is for {parsed.mission}, the product is {mission}")
    if not parsed.covers(start, stop):
        raise OrbitFileError(
            orbit,
            f"validity {parsed.validity_start:%Y-%m-%dT%H:%M:%S}.."
            f"{parsed.validity_stop:%Y-%m-%dT%H:%M:%S} does not cover the acquisition "
            f"{start:%Y-%m-%dT%H:%M:%S}..{stop:%Y-%m-%dT%H:%M:%S}",
        )
    return parsed


class OrbitModel:
    """Position and velocity of the satellite as polynomials of time (s from a reference)."""

    def __init__(
        self,
        reference: np.datetime64,
        times: npt.NDArray[np.datetime64],
        positions: F64,
        degree: int = POLY_DEGREE,
        source: str = "annotation",
    ) -> None:
        t = (
            (times.astype("datetime64[ns]") - reference.astype("datetime64[ns]"))
            / np.timedelta64(1, "ns")
            * 1e-9
        )
        t = np.asarray(t, dtype=np.float64)
        if t.size < 4:
            raise ValueError("at least 4 state vectors are needed")
        self.reference = reference
        self.source = source
        self.t_min = float(t.min())
        self.t_max = float(t.max())
        self.center = 0.5 * (self.t_min + self.t_max)
        self.scale = max(0.5 * (self.t_max - self.t_min), 1.0)
        degree = min(degree, t.size - 1)
        x = (t - self.center) / self.scale
        # coefficients[k] multiplies x**k; shape (degree + 1, 3)
        vander = np.vander(x, degree + 1, increasing=True)
        coeffs, *_ = np.linalg.lstsq(vander, positions, rcond=None)
        self.coefficients = np.ascontiguousarray(coeffs, dtype=np.float64)
        residual = vander @ coeffs - positions
        self.rms = float(np.sqrt(np.mean(residual**2)))

    @classmethod
    def around(
        cls,
        reference: np.datetime64,
        times: npt.NDArray[np.datetime64],
        positions: F64,
        start: np.datetime64,
        stop: np.datetime64,
        source: str,
    ) -> OrbitModel:
        """A model fitted on the state vectors within `MARGIN` of [start, stop].

        Args:
            reference: the time origin (first line time).
            times: state vector times.
            positions: state vector positions (n, 3), ECEF metres.
            start: start of the acquisition.
            stop: end of the acquisition.
            source: where the vectors come from (logged and tagged).
        """
        margin = np.timedelta64(int(MARGIN.total_seconds() * 1e9), "ns")
        keep = (times >= start - margin) & (times <= stop + margin)
        if keep.sum() < 6:  # widen to the nearest vectors
            order = np.argsort(np.abs(times - (start + (stop - start) / 2)))
            keep = np.zeros(times.size, bool)
            keep[order[: min(10, times.size)]] = True
        return cls(reference, times[keep], positions[keep], source=source)

    def position(self, t: npt.ArrayLike) -> F64:
        """ECEF position (..., 3) at times t (s from the reference)."""
        x = (np.asarray(t, dtype=np.float64) - self.center) / self.scale
        out = np.zeros((*x.shape, 3))
        for coeff in self.coefficients[::-1]:
            out = out * x[..., None] + coeff
        return out

    def velocity(self, t: npt.ArrayLike) -> F64:
        """ECEF velocity (..., 3) at times t (derivative of the position polynomial)."""
        x = (np.asarray(t, dtype=np.float64) - self.center) / self.scale
        out = np.zeros((*x.shape, 3))
        n = self.coefficients.shape[0]
        for k in range(n - 1, 0, -1):
            out = out * x[..., None] + k * self.coefficients[k]
        return out / self.scale
