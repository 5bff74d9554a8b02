"""The catalogue protocol, the search query, and ``open_catalogue`` (the registry)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import shapely.geometry

from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.scene import Scene
from s1flood.errors import InvalidOptionError

__all__ = [
    "CATALOGUE_KINDS",
    "Catalogue",
    "FetchOptions",
    "SearchQuery",
    "open_catalogue",
]

CATALOGUE_KINDS = ("cdse", "stac:URL|PRESET", "asf", "dhus:URL", "local:PATH")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: an AOI (lon/lat polygon), a UTC window and product filters.

    ``None`` filters match anything. Catalogues pass what they can to the server; discovery
    re-applies every filter to what comes back, so a catalogue may return a superset.
    """

    aoi: shapely.geometry.Polygon
    start: datetime
    end: datetime
    mode: str | None = "IW"
    product_type: str | None = "GRD"
    polarisation: str | None = None
    orbit_direction: str | None = None
    relative_orbit: int | None = None
    platform: str | None = None

    def matches(self, scene: Scene) -> bool:
        """Whether a scene passes the attribute filters (not the AOI, not the window)."""
        if self.mode and scene.mode and scene.mode.upper() != self.mode.upper():
            return False
        if (
            self.product_type
            and scene.product_type
            and not scene.product_type.upper().startswith(self.product_type.upper())
        ):
            return False
        if (
            self.polarisation
            and scene.polarisations
            and self.polarisation.upper() not in {p.upper() for p in scene.polarisations}
        ):
            return False
        if (
            self.orbit_direction
            and scene.orbit_direction
            and scene.orbit_direction.lower() != self.orbit_direction.lower()
        ):
            return False
        if (
            self.relative_orbit is not None
            and scene.relative_orbit is not None
            and scene.relative_orbit != self.relative_orbit
        ):
            return False
        return not (
            self.platform and scene.platform and scene.platform.lower() != self.platform.lower()
        )


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch a product."""

    unzip: bool = False
    wait_offline: bool = False
    progress: bool = False
    verify_checksum: bool = True
    overwrite: bool = False
    chunk_size: int = 1 << 16
    checksum_retries: int = 1
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Catalogue(Protocol):
    """A source of Sentinel-1 scenes that can also fetch them."""

    name: str

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Every scene matching ``query``, all pages, in any order."""
        ...

    def get(self, name_or_id: str) -> Scene:
        """One scene by product name (with or without ``.SAFE``) or catalogue id."""
        ...

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download ``scene`` into ``out_dir``; return the zip (or SAFE) path."""
        ...


def open_catalogue(spec: str, config: DiscoveryConfig | None = None) -> Catalogue:
    """Open a catalogue by its spec.

    ``cdse``, ``stac:URL`` / ``stac:PRESET``, ``asf``, ``dhus:URL``, ``local:PATH`` (a static
    STAC catalog; a bare path to ``catalog.json`` works too).
    """
    cfg = config or load_config()
    text = (spec or "").strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "cdse" and not arg:
        from s1flood.discovery.cdse import CdseCatalogue

        return CdseCatalogue(cfg)
    if kind == "stac" and arg:
        from s1flood.discovery.stac_api import StacApiCatalogue

        return StacApiCatalogue(arg, cfg)
    if kind == "asf" and not arg:
        from s1flood.discovery.asf import AsfCatalogue

        return AsfCatalogue(cfg)
    if kind == "dhus":
        url = arg or cfg.dhus_url
        if not url.startswith(("http://", "https://")):
            raise InvalidOptionError("catalogue", spec, "expected dhus:URL (an http(s) URL)")
        from s1flood.discovery.dhus import DhusCatalogue

        return DhusCatalogue(url, cfg)
    if kind == "local" and arg:
        from s1flood.discovery.local import LocalCatalogue

        return LocalCatalogue(Path(arg))
    if text.endswith(".json") and Path(text).exists():
        from s1flood.discovery.local import LocalCatalogue

        return LocalCatalogue(Path(text))
    raise InvalidOptionError("catalogue", spec, f"expected one of {', '.join(CATALOGUE_KINDS)}")
