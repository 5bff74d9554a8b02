"""Names of a simulated Sentinel-1A product: mission, times, orbit numbers, datatake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

S1A_EPOCH = datetime(2014, 4, 3, 21, 0, tzinfo=UTC)
ORBITS_PER_CYCLE = 175
CYCLE_DAYS = 12.0


@dataclass(frozen=True)
class ProductIdentity:
    """Fields of a product name: mission, times, orbit, datatake, unique id."""

    mission: str
    start: datetime
    stop: datetime
    absolute_orbit: int
    relative_orbit: int
    datatake: int
    unique_id: str
    orbit_pass: str  # ASCENDING / DESCENDING
    anx_time: datetime
    polarisations: tuple[str, ...] = ("VV", "VH")

    @property
    def name(self) -> str:
        """Product name without extension, e.g. S1A_IW_GRDH_1SDV_..._0A1B2C_1F2E."""
        pols = "DV" if set(self.polarisations) == {"VV", "VH"} else "SV"
        return (
            f"{self.mission}_IW_GRDH_1S{pols}_{self.start:%Y%m%dT%H%M%S}_{self.stop:%Y%m%dT%H%M%S}"
            f"_{self.absolute_orbit:06d}_{self.datatake:06X}_{self.unique_id}"
        )

    def file_stem(self, pol: str) -> str:
        """Stem of the per-polarisation files, e.g. s1a-iw-grd-vv-...-001.

        Args:
            pol: the polarisation (VV, VH, HH or HV).
        """
        number = {"VV": 1, "VH": 2, "HH": 1, "HV": 2}[pol]
        return (
            f"{self.mission.lower()}-iw-grd-{pol.lower()}-{self.start:%Y%m%dt%H%M%S}-"
            f"{self.stop:%Y%m%dt%H%M%S}-{self.absolute_orbit:06d}-{self.datatake:06x}-{number:03d}"
        )


def orbit_numbers(when: datetime, relative_orbit: int | None) -> tuple[int, int]:
    """Absolute and relative orbit of S1A near a time; keep a given relative orbit.

    Args:
        when: a time of the acquisition.
        relative_orbit: the relative orbit to keep (None: the nearest).
    """
    per_orbit = CYCLE_DAYS * 86400.0 / ORBITS_PER_CYCLE
    absolute = int((when - S1A_EPOCH).total_seconds() // per_orbit) + 1
    if relative_orbit is not None:
        current = (absolute - 73) % ORBITS_PER_CYCLE + 1
        shift = (relative_orbit - current + ORBITS_PER_CYCLE // 2) % ORBITS_PER_CYCLE - (
            ORBITS_PER_CYCLE // 2
        )
        absolute += shift
    return absolute, (absolute - 73) % ORBITS_PER_CYCLE + 1
