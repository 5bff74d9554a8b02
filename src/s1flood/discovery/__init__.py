"""Discovery (step 1) and download (step 2) of Sentinel-1 GRD products from any catalogue.

Catalogues: ``cdse`` (OData), ``stac:URL`` or ``stac:cdse|planetary-computer|earth-search``,
``asf``, ``dhus:URL``, ``local:PATH`` (static STAC catalog).
"""

from __future__ import annotations

import logging
from pathlib import Path

from s1flood.discovery.catalogue import Catalogue, FetchOptions, SearchQuery, open_catalogue
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.scene import Scene
from s1flood.discovery.search import DiscoveryResult, OrbitSummary, discover, render

__all__ = [
    "Catalogue",
    "DiscoveryConfig",
    "DiscoveryResult",
    "FetchOptions",
    "OrbitSummary",
    "Scene",
    "SearchQuery",
    "discover",
    "fetch",
    "load_config",
    "open_catalogue",
    "render",
]

logger = logging.getLogger(__name__)


def fetch(
    name_or_id: str,
    *,
    catalogue: str | Catalogue,
    out_dir: Path | str,
    unzip: bool = False,
    wait_offline: bool = False,
    progress: bool = False,
    verify_checksum: bool = True,
    overwrite: bool = False,
    config: DiscoveryConfig | None = None,
) -> Path:
    """Fetch one product by name or id into ``out_dir``; return the zip or ``.SAFE`` path."""
    cat = open_catalogue(catalogue, config) if isinstance(catalogue, str) else catalogue
    scene = cat.get(name_or_id)
    options = FetchOptions(
        unzip=unzip,
        wait_offline=wait_offline,
        progress=progress,
        verify_checksum=verify_checksum,
        overwrite=overwrite,
    )
    path = cat.fetch(scene, Path(out_dir), options)
    logger.info("fetched %s to %s", scene.name, path)
    return path
