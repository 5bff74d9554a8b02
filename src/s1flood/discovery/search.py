"""Step 1: AOI + time window to a sorted, de-duplicated list of covering scenes."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from s1flood.aoi import parse_aoi_wkt, parse_time_window
from s1flood.discovery.catalogue import Catalogue, SearchQuery
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.registry import open_catalogue
from s1flood.discovery.scene import Scene, to_datetime
from s1flood.errors import InvalidOptionError

__all__ = [
    "DiscoveryResult",
    "OrbitSummary",
    "coverage_fraction",
    "deduplicate",
    "discover",
    "render",
]

logger = logging.getLogger(__name__)
_GEOD = Geod(ellps="WGS84")
_DIRECTIONS = ("ascending", "descending")


def _area(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def coverage_fraction(footprint: BaseGeometry | None, aoi: BaseGeometry) -> float:
    """Fraction (0..1) of the AOI's geodesic area inside ``footprint``.

    Args:
        footprint: the scene footprint (lon/lat), or ``None``.
        aoi: the area of interest (lon/lat).
    """
    if footprint is None or footprint.is_empty:
        return 0.0
    if not footprint.is_valid:
        footprint = shapely.make_valid(footprint)
    total = _area(aoi)
    if total <= 0.0:
        return 0.0
    return min(1.0, _area(footprint.intersection(aoi)) / total)


def deduplicate(scenes: list[Scene]) -> tuple[list[Scene], list[Scene]]:
    """Keep the newest product of every acquisition; return (kept, dropped).

    Two products are the same acquisition when platform, mode, product family (GRD), start
    second and absolute orbit agree (reprocessings, COG and SAFE versions of one take).
    Newest is the later ``published`` time, then the later name (uid) as a tie-break.

    Args:
        scenes: scenes as catalogues list them.
    """
    groups: dict[tuple[Any, ...], list[Scene]] = defaultdict(list)
    for scene in scenes:
        groups[scene.acquisition_key].append(scene)
    kept: list[Scene] = []
    dropped: list[Scene] = []
    epoch = datetime.min.replace(tzinfo=UTC)
    for group in groups.values():
        group.sort(key=lambda s: (s.published or epoch, s.name), reverse=True)
        kept.append(group[0])
        dropped.extend(group[1:])
    return kept, dropped


@dataclass(frozen=True)
class OrbitSummary:
    """Scenes of one relative orbit."""

    relative_orbit: int | None
    orbit_direction: str | None
    count: int
    first: datetime
    last: datetime
    min_coverage: float
    mean_coverage: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (times as ``YYYY-MM-DDTHH:MM:SSZ``, coverages to 4 decimals)."""
        return {
            "relative_orbit": self.relative_orbit,
            "orbit_direction": self.orbit_direction,
            "count": self.count,
            "first": self.first.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last": self.last.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "min_coverage": round(self.min_coverage, 4),
            "mean_coverage": round(self.mean_coverage, 4),
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> OrbitSummary:
        """The summary a :meth:`to_dict` record stands for.

        Args:
            record: a dict as :meth:`to_dict` returns it.
        """
        return cls(
            relative_orbit=record.get("relative_orbit"),
            orbit_direction=record.get("orbit_direction"),
            count=int(record["count"]),
            first=_utc(record["first"]),
            last=_utc(record["last"]),
            min_coverage=float(record["min_coverage"]),
            mean_coverage=float(record["mean_coverage"]),
        )


@dataclass(frozen=True)
class DiscoveryResult:
    """Scenes found, sorted by start time, with what was filtered out and why."""

    catalogue: str
    aoi_wkt: str
    start: datetime
    end: datetime
    scenes: list[Scene]
    orbits: list[OrbitSummary]
    listed: int
    duplicates: list[str] = field(default_factory=list)
    below_coverage: list[str] = field(default_factory=list)
    filtered: int = 0
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Product names, in time order: the array that step 2 scatters over."""
        return [scene.name for scene in self.scenes]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: what a notebook glues and the next step reads back."""
        return {
            "catalogue": self.catalogue,
            "aoi": self.aoi_wkt,
            "start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": self.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "filters": self.filters,
            "count": len(self.scenes),
            "listed": self.listed,
            "filtered_out": self.filtered,
            "duplicates_removed": self.duplicates,
            "below_min_coverage": self.below_coverage,
            "orbits": [orbit.to_dict() for orbit in self.orbits],
            "scenes": [scene.to_dict() for scene in self.scenes],
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> DiscoveryResult:
        """The result a :meth:`to_dict` record stands for.

        Args:
            record: a dict as :meth:`to_dict` returns it.
        """
        return cls(
            catalogue=str(record["catalogue"]),
            aoi_wkt=str(record["aoi"]),
            start=_utc(record["start"]),
            end=_utc(record["end"]),
            scenes=[Scene.from_dict(scene) for scene in record.get("scenes", [])],
            orbits=[OrbitSummary.from_dict(orbit) for orbit in record.get("orbits", [])],
            listed=int(record.get("listed", 0)),
            duplicates=list(record.get("duplicates_removed", [])),
            below_coverage=list(record.get("below_min_coverage", [])),
            filtered=int(record.get("filtered_out", 0)),
            filters=dict(record.get("filters", {})),
        )


def _utc(text: str) -> datetime:
    when = to_datetime(text)
    if when is None:
        raise ValueError(f"not a time: {text!r}")
    return when


def _summarise(scenes: list[Scene]) -> list[OrbitSummary]:
    groups: dict[int | None, list[Scene]] = defaultdict(list)
    for scene in scenes:
        groups[scene.relative_orbit].append(scene)
    out = []
    for orbit, group in groups.items():
        directions = sorted({s.orbit_direction for s in group if s.orbit_direction})
        coverages = [s.coverage or 0.0 for s in group]
        out.append(
            OrbitSummary(
                relative_orbit=orbit,
                orbit_direction="/".join(directions) or None,
                count=len(group),
                first=min(s.start for s in group),
                last=max(s.start for s in group),
                min_coverage=min(coverages),
                mean_coverage=sum(coverages) / len(coverages),
            )
        )
    return sorted(out, key=lambda o: (-o.count, o.relative_orbit or 0))


def _norm_choice(value: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    if value.lower() not in choices:
        raise InvalidOptionError(option, value, f"one of {', '.join(choices)}")
    return value.lower()


def _query(
    aoi_wkt: str,
    start: str | datetime,
    end: str | datetime,
    *,
    mode: str | None,
    product_type: str | None,
    polarisation: str | None,
    orbit_direction: str | None,
    relative_orbit: int | None,
    platform: str | None,
    min_coverage: float,
) -> SearchQuery:
    """The search query for `discover`'s parameters, each checked (one-line errors)."""
    aoi = parse_aoi_wkt(aoi_wkt)
    window = parse_time_window(start, end)
    if not 0.0 <= min_coverage <= 1.0:
        raise InvalidOptionError("min_coverage", min_coverage, "between 0 and 1")
    if relative_orbit is not None and not 1 <= relative_orbit <= 175:
        raise InvalidOptionError("relative_orbit", relative_orbit, "between 1 and 175")
    direction = _norm_choice(orbit_direction, "orbit_direction", _DIRECTIONS)
    pol = _wanted_polarisation(polarisation)
    return SearchQuery(
        aoi=aoi,
        start=window.start,
        end=window.end,
        mode=mode.upper() if mode else None,
        product_type=product_type.upper() if product_type else None,
        polarisation=pol,
        orbit_direction=direction,
        relative_orbit=relative_orbit,
        platform=platform,
    )


def _wanted_polarisation(polarisation: str | None) -> str | None:
    """One polarisation as asked; of a pair (``VV+VH``) the co-polarised one every 1SDV holds."""
    pol = polarisation.replace(" ", "").upper() if polarisation else None
    if pol in ("VV+VH", "HH+HV"):
        return pol.split("+")[0]
    if pol is not None and pol not in ("VV", "VH", "HH", "HV"):
        raise InvalidOptionError("polarisation", polarisation, "VV, VH, HH, HV, VV+VH or HH+HV")
    return pol


def _filters(query: SearchQuery) -> dict[str, Any]:
    """The attribute filters of a query, as a result records them."""
    return {
        "mode": query.mode,
        "product_type": query.product_type,
        "polarisation": query.polarisation,
        "orbit_direction": query.orbit_direction,
        "relative_orbit": query.relative_orbit,
        "platform": query.platform,
    }


def _matching(cat: Catalogue, query: SearchQuery) -> tuple[list[Scene], int, int]:
    """Scenes passing every filter, with their AOI coverage; also (listed, filtered) counts."""
    listed = filtered = 0
    matching: list[Scene] = []
    for scene in cat.search(query):
        listed += 1
        if not query.matches(scene) or scene.stop < query.start or scene.start > query.end:
            filtered += 1
            continue
        coverage = round(coverage_fraction(scene.geometry, query.aoi), 6)
        matching.append(scene.with_coverage(coverage))
    logger.info("%s: %d products listed, %d match the filters", cat.name, listed, len(matching))
    return matching, listed, filtered


def discover(
    aoi_wkt: str,
    start: str | datetime,
    end: str | datetime,
    *,
    catalogue: str | Catalogue = "local:catalog/catalog.json",
    mode: str | None = "IW",
    product_type: str | None = "GRD",
    polarisation: str | None = None,
    orbit_direction: str | None = None,
    relative_orbit: int | None = None,
    platform: str | None = None,
    min_coverage: float = 0.0,
    config: DiscoveryConfig | None = None,
) -> DiscoveryResult:
    """Find the scenes covering ``aoi_wkt`` between ``start`` and ``end``.

    Pages through the whole result, computes each scene's AOI coverage (geodesic area
    fraction), drops scenes below ``min_coverage``, removes duplicate acquisitions (keeping the
    newest product) and sorts by start time.

    Args:
        aoi_wkt: the area of interest, a lon/lat WKT polygon.
        start: start of the window (ISO 8601 date or time, UTC unless an offset is given).
        end: end of the window (ISO 8601; a bare date means the end of that day).
        catalogue: a catalogue spec (see :func:`~s1flood.discovery.open_catalogue`) or an
            opened catalogue.
        mode: acquisition mode (IW, EW, SM); ``None`` for any.
        product_type: product type (GRD, SLC); ``None`` for any.
        polarisation: a polarisation the product must have (VV, VH, HH, HV).
        orbit_direction: ``ascending`` or ``descending``; ``None`` for both.
        relative_orbit: relative orbit number (1..175); ``None`` for any.
        platform: ``sentinel-1a`` .. ``sentinel-1d``; ``None`` for any.
        min_coverage: smallest fraction (0..1) of the AOI a scene must cover.
        config: endpoints and transfer settings; default: the configured ones.
    """
    query = _query(
        aoi_wkt,
        start,
        end,
        mode=mode,
        product_type=product_type,
        polarisation=polarisation,
        orbit_direction=orbit_direction,
        relative_orbit=relative_orbit,
        platform=platform,
        min_coverage=min_coverage,
    )
    cat = (
        open_catalogue(catalogue, config or load_config())
        if isinstance(catalogue, str)
        else catalogue
    )
    matching, listed, filtered = _matching(cat, query)
    covering = [s for s in matching if (s.coverage or 0.0) + 1e-9 >= min_coverage]
    below = sorted(s.name for s in matching if (s.coverage or 0.0) + 1e-9 < min_coverage)
    kept, dropped = deduplicate(covering)
    kept.sort(key=lambda s: (s.start, s.name))
    if dropped:
        logger.info("removed %d duplicate listings", len(dropped))
    return DiscoveryResult(
        catalogue=cat.name,
        aoi_wkt=query.aoi.wkt,
        start=query.start,
        end=query.end,
        scenes=kept,
        orbits=_summarise(kept),
        listed=listed,
        duplicates=sorted(s.name for s in dropped),
        below_coverage=below,
        filtered=filtered,
        filters={**_filters(query), "min_coverage": min_coverage},
    )


def render(result: DiscoveryResult, format: str = "json") -> str:
    """Render a result for the command line.

    ``json``: the full result (indented); ``ids``: a JSON array of product names;
    ``lines``: one product name per line; ``summary``: a short human-readable table.

    Args:
        result: a discovery result.
        format: ``json``, ``ids``, ``lines`` or ``summary``.
    """
    fmt = format.lower()
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2)
    if fmt == "ids":
        return json.dumps(result.names)
    if fmt == "lines":
        return "\n".join(result.names)
    if fmt == "summary":
        lines = [
            f"{len(result.scenes)} scenes ({result.listed} listed, "
            f"{len(result.duplicates)} duplicates, {len(result.below_coverage)} below coverage)"
        ]
        for orbit in result.orbits:
            lines.append(
                f"  relative orbit {orbit.relative_orbit} {orbit.orbit_direction or '?'}: "
                f"{orbit.count} scenes, {orbit.first:%Y-%m-%d} .. {orbit.last:%Y-%m-%d}, "
                f"coverage {orbit.min_coverage:.2f}..{orbit.mean_coverage:.2f} (min..mean)"
            )
        return "\n".join(lines)
    raise InvalidOptionError("output_format", format, "one of json, ids, lines, summary")
