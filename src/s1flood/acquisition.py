"""When and from where a scene was seen: acquisition start, platform, relative orbit, pass.

Classification writes these into every water mask (GeoTIFF tags ``ACQUISITION_START``,
``PLATFORM``, ``RELATIVE_ORBIT``, ``ORBIT_DIRECTION``) and its JSON sidecar (``acquisition``);
aggregation reads them back from the files, never from file names. They come from the STAC
Item that preprocessing writes beside the sigma0 COG (read from the product's manifest and
annotation), or are given for a plain raster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s1flood.errors import InvalidOptionError

TAGS = {
    "start": "ACQUISITION_START",
    "platform": "PLATFORM",
    "relative_orbit": "RELATIVE_ORBIT",
    "orbit_direction": "ORBIT_DIRECTION",
}
"""Field -> GeoTIFF tag of the mask."""
DIRECTIONS = ("ascending", "descending")


def parse_time(value: str, parameter: str = "acquisition_start") -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (a time without zone is UTC).

    Args:
        value: e.g. ``2024-05-01``, ``2024-05-01T05:30:12Z`` or ``2024-05-01T07:30:12+02:00``.
        parameter: the parameter named in the error.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidOptionError(parameter, value, "not an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """A UTC time as ISO 8601 with a ``Z`` (microseconds only when non-zero).

    Args:
        value: an aware datetime.
    """
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Acquisition:
    """One scene's acquisition: start (UTC), platform, relative orbit, orbit direction.

    Every field may be unknown (None, 0 for the relative orbit).
    """

    start: datetime | None = None
    platform: str | None = None
    relative_orbit: int = 0
    orbit_direction: str | None = None

    @classmethod
    def of(
        cls,
        start: str | datetime | None = None,
        platform: str | None = None,
        relative_orbit: int = 0,
        orbit_direction: str | None = None,
    ) -> Acquisition:
        """An acquisition from given values, checked (one-line errors naming the parameter).

        Args:
            start: acquisition start, ISO 8601 (UTC unless a zone is given).
            platform: e.g. ``sentinel-1a``.
            relative_orbit: relative orbit number (1 to 175); 0 unknown.
            orbit_direction: ``ascending`` or ``descending``.
        """
        when = parse_time(start) if isinstance(start, str) and start.strip() else None
        if isinstance(start, datetime):
            when = start if start.tzinfo else start.replace(tzinfo=UTC)
        if not 0 <= int(relative_orbit) <= 175:
            raise InvalidOptionError("relative_orbit", relative_orbit, "must be 1 to 175, or 0")
        direction = (orbit_direction or "").strip().lower() or None
        if direction is not None and direction not in DIRECTIONS:
            raise InvalidOptionError("orbit_direction", orbit_direction, "ascending or descending")
        return cls(when, (platform or "").strip().lower() or None, int(relative_orbit), direction)

    def merged(self, given: Acquisition) -> Acquisition:
        """These values, each replaced by `given`'s where `given` knows it.

        Args:
            given: values that take precedence (e.g. given on the command line).
        """
        return Acquisition(
            given.start or self.start,
            given.platform or self.platform,
            given.relative_orbit or self.relative_orbit,
            given.orbit_direction or self.orbit_direction,
        )

    @property
    def known(self) -> bool:
        """Whether the start time is known."""
        return self.start is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (the sidecar's ``acquisition``)."""
        return {
            "start": format_time(self.start) if self.start else None,
            "platform": self.platform,
            "relative_orbit": self.relative_orbit or None,
            "orbit_direction": self.orbit_direction,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Acquisition:
        """The acquisition `to_dict` (or a STAC-like mapping of the same names) described.

        Args:
            record: a mapping with ``start``, ``platform``, ``relative_orbit``,
                ``orbit_direction`` (any may be missing).
        """
        return cls.of(
            record.get("start"),
            record.get("platform"),
            int(record.get("relative_orbit") or 0),
            record.get("orbit_direction"),
        )

    def tags(self) -> dict[str, str]:
        """The GeoTIFF tags of a mask (only the known fields)."""
        values = self.to_dict()
        return {TAGS[k]: str(v) for k, v in values.items() if v is not None}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Acquisition:
        """The acquisition a mask's GeoTIFF tags hold (`tags`).

        Args:
            tags: the dataset tags of a mask.
        """
        return cls.from_dict({k: tags.get(tag) for k, tag in TAGS.items()})


def from_stac_item(item: Path) -> Acquisition:
    """The acquisition a preprocessing STAC Item describes; unknown if there is none.

    Args:
        item: the STAC Item JSON beside a sigma0 COG (``sigma0.json``).
    """
    try:
        record = json.loads(item.read_text(encoding="utf-8"))
        properties = record["properties"]
    except (OSError, ValueError, KeyError, TypeError):
        return Acquisition()
    return Acquisition.from_dict(
        {
            "start": properties.get("start_datetime") or properties.get("datetime"),
            "platform": properties.get("platform"),
            "relative_orbit": properties.get("sat:relative_orbit"),
            "orbit_direction": properties.get("sat:orbit_state"),
        }
    )


def of_backscatter(backscatter: Path) -> Acquisition:
    """The acquisition of a backscatter raster: from its STAC Item beside it, else unknown.

    Args:
        backscatter: a sigma0 COG as preprocessing writes it (``NAME.tif`` with ``NAME.json``).
    """
    return from_stac_item(backscatter.with_suffix(".json"))


def of_mask(mask: Path) -> Acquisition:
    """The acquisition a water mask records: its GeoTIFF tags, else its sidecar's.

    Args:
        mask: a water mask written by classification.
    """
    from s1flood.raster import open_raster

    with open_raster(mask) as dataset:
        tags = dataset.tags()
    found = Acquisition.from_tags(tags)
    if found.known:
        return found
    try:
        record = json.loads(mask.with_suffix(".json").read_text(encoding="utf-8"))
        return found.merged(Acquisition.from_dict(record.get("acquisition") or {}))
    except (OSError, ValueError, AttributeError, InvalidOptionError):
        return found
