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
from s1flood.discovery.catalogue import Catalogue, SearchQuery, open_catalogue
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.scene import Scene
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
    """Fraction (0..1) of the AOI's geodesic area inside ``footprint``."""
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
        """JSON-able dict."""
        return {
            "relative_orbit": self.relative_orbit,
            "orbit_direction": self.orbit_direction,
            "count": self.count,
            "first": self.first.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last": self.last.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "min_coverage": round(self.min_coverage, 4),
            "mean_coverage": round(self.mean_coverage, 4),
        }


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
        """JSON-able dict."""
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
    """
    aoi = parse_aoi_wkt(aoi_wkt)
    window = parse_time_window(start, end)
    if not 0.0 <= min_coverage <= 1.0:
        raise InvalidOptionError("min_coverage", min_coverage, "between 0 and 1")
    if relative_orbit is not None and not 1 <= relative_orbit <= 175:
        raise InvalidOptionError("relative_orbit", relative_orbit, "between 1 and 175")
    direction = _norm_choice(orbit_direction, "orbit_direction", _DIRECTIONS)
    pol = polarisation.upper() if polarisation else None
    if pol is not None and pol not in ("VV", "VH", "HH", "HV"):
        raise InvalidOptionError("polarisation", polarisation, "one of VV, VH, HH, HV")
    query = SearchQuery(
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
    cat = (
        open_catalogue(catalogue, config or load_config())
        if isinstance(catalogue, str)
        else catalogue
    )
    listed = 0
    matching: list[Scene] = []
    filtered = 0
    for scene in cat.search(query):
        listed += 1
        if not query.matches(scene) or scene.stop < window.start or scene.start > window.end:
            filtered += 1
            continue
        matching.append(scene.with_coverage(round(coverage_fraction(scene.geometry, aoi), 6)))
    logger.info("%s: %d products listed, %d match the filters", cat.name, listed, len(matching))
    covering = [s for s in matching if (s.coverage or 0.0) + 1e-9 >= min_coverage]
    below = sorted(s.name for s in matching if (s.coverage or 0.0) + 1e-9 < min_coverage)
    kept, dropped = deduplicate(covering)
    kept.sort(key=lambda s: (s.start, s.name))
    if dropped:
        logger.info("removed %d duplicate listings", len(dropped))
    return DiscoveryResult(
        catalogue=cat.name,
        aoi_wkt=aoi.wkt,
        start=window.start,
        end=window.end,
        scenes=kept,
        orbits=_summarise(kept),
        listed=listed,
        duplicates=sorted(s.name for s in dropped),
        below_coverage=below,
        filtered=filtered,
        filters={
            "mode": query.mode,
            "product_type": query.product_type,
            "polarisation": query.polarisation,
            "orbit_direction": query.orbit_direction,
            "relative_orbit": query.relative_orbit,
            "platform": query.platform,
            "min_coverage": min_coverage,
        },
    )


def render(result: DiscoveryResult, format: str = "json") -> str:
    """Render a result for the command line.

    ``json``: the full result (indented); ``ids``: a JSON array of product names;
    ``lines``: one product name per line; ``summary``: a short human-readable table.
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
