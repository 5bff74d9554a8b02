"""The catalogue protocol and the data it takes: the search query and the fetch options.

Catalogue implementations import this module (and the data model: scene, config); only the
registry (:mod:`s1flood.discovery.registry`) imports the implementations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import shapely.geometry

from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.scene import Scene

__all__ = ["Catalogue", "CatalogueClass", "FetchOptions", "SearchQuery"]


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
        """Whether a scene passes the attribute filters (not the AOI, not the window).

        Args:
            scene: a scene as a catalogue lists it.
        """
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
            # VV+VH: either (preprocessing falls back to the one a scene has)
            and not set(self.polarisation.upper().split("+"))
            & {p.upper() for p in scene.polarisations}
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
        """Every scene matching ``query``, all pages, in any order.

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        ...

    def get(self, name_or_id: str) -> Scene:
        """One scene by product name (with or without ``.SAFE``) or catalogue id.

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        ...

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download ``scene`` into ``out_dir``; return the zip (or SAFE) path.

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        ...


class CatalogueClass(Protocol):
    """A catalogue class as the registry holds it: how to write its spec, how to open it."""

    usage: str
    """The spec's form in messages (``stac:URL|PRESET``)."""

    def from_spec(self, arg: str, config: DiscoveryConfig) -> Catalogue:
        """Open the catalogue named by a spec.

        Args:
            arg: the spec's text after ``KIND:`` (empty for a bare ``KIND``).
            config: endpoints and transfer settings.
        """
        ...
