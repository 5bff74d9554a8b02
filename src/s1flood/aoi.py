"""Area of interest (WKT polygon, lon/lat) and ISO 8601 time window: parsing and validation.

Every failure is an :class:`~s1flood.errors.InvalidOptionError` whose message fits on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import shapely
import shapely.errors
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from s1flood.errors import InvalidOptionError, first_line

__all__ = ["TimeWindow", "parse_aoi_wkt", "parse_iso_datetime", "parse_time_window"]


def parse_aoi_wkt(wkt: str, option: str = "aoi") -> shapely.geometry.Polygon:
    """Parse a WKT polygon in lon/lat degrees (EPSG:4326) and check that it is usable.

    A MULTIPOLYGON with a single part is accepted and returned as its polygon.
    """
    text = (wkt or "").strip()
    if not text:
        raise InvalidOptionError(option, wkt, "empty; expected a WKT POLYGON in lon/lat")
    try:
        geom: BaseGeometry = shapely.from_wkt(text)
    except (shapely.errors.ShapelyError, ValueError, TypeError) as exc:
        raise InvalidOptionError(
            option, _short(text), f"not valid WKT: {first_line(exc)}"
        ) from None
    if isinstance(geom, shapely.geometry.MultiPolygon) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if not isinstance(geom, shapely.geometry.Polygon):
        raise InvalidOptionError(
            option, _short(text), f"a {geom.geom_type} is not a POLYGON; give an area"
        )
    if geom.is_empty or geom.area <= 0.0:
        raise InvalidOptionError(option, _short(text), "the polygon has no area")
    if not geom.is_valid:
        raise InvalidOptionError(
            option, _short(text), f"invalid polygon ({shapely.is_valid_reason(geom)})"
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180.0 or maxx > 180.0 or miny < -90.0 or maxy > 90.0:
        raise InvalidOptionError(
            option, _short(text), "coordinates must be lon/lat degrees (EPSG:4326)"
        )
    if abs(miny) > 82.0 or abs(maxy) > 82.0:
        raise InvalidOptionError(option, _short(text), "latitudes beyond ±82° are not covered")
    return geom


def parse_iso_datetime(value: str | date | object, option: str = "start") -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC.

    A `date` (what YAML makes of ``2024-05-01`` in a job file) is its midnight.

    Args:
        value: the text, a datetime or a date.
        option: the parameter's name in errors.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif not isinstance(value, str):
        raise InvalidOptionError(
            option, value, "not an ISO 8601 date or date-time (e.g. 2024-05-01T06:00:00Z)"
        )
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidOptionError(
                option, value, "not an ISO 8601 date or date-time (e.g. 2024-05-01T06:00:00Z)"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 or 9999-12-31T23:00-05:00
        raise InvalidOptionError(option, value, "outside the years 1 to 9999 in UTC") from None


@dataclass(frozen=True)
class TimeWindow:
    """A closed UTC time window."""

    start: datetime
    end: datetime

    @property
    def duration_seconds(self) -> float:
        """Length of the window in seconds."""
        return (self.end - self.start).total_seconds()


def parse_time_window(
    start: str | datetime,
    end: str | datetime,
    start_option: str = "start",
    end_option: str = "end",
) -> TimeWindow:
    """Parse and check a time window: end strictly after start."""
    start_dt = parse_iso_datetime(start, start_option)
    end_dt = parse_iso_datetime(end, end_option)
    if end_dt <= start_dt:
        raise InvalidOptionError(
            end_option, end_dt.isoformat(), f"must be after {start_option} {start_dt.isoformat()}"
        )
    return TimeWindow(start_dt, end_dt)


def _short(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."
