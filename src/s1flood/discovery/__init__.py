"""Discovery (step 1) and download (step 2) of Sentinel-1 GRD products from any catalogue.

Catalogues: ``cdse`` (OData), ``stac:URL`` or ``stac:cdse|planetary-computer|earth-search``,
``asf``, ``dhus:URL``, ``local:PATH`` (static STAC catalog); :mod:`.registry` holds the table.
"""

from __future__ import annotations

from s1flood.discovery.catalogue import Catalogue, FetchOptions, SearchQuery
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.fetching import FetchResult, fetch
from s1flood.discovery.registry import CATALOGUES, open_catalogue
from s1flood.discovery.scene import Scene
from s1flood.discovery.search import DiscoveryResult, OrbitSummary, discover, render

__all__ = [
    "CATALOGUES",
    "Catalogue",
    "DiscoveryConfig",
    "DiscoveryResult",
    "FetchOptions",
    "FetchResult",
    "OrbitSummary",
    "Scene",
    "SearchQuery",
    "discover",
    "fetch",
    "load_config",
    "open_catalogue",
    "render",
]
