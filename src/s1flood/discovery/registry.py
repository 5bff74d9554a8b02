"""The catalogue registry: one table from a spec's kind to the class that opens it.

The implementations import only the protocol and the data model (``catalogue``, ``scene``,
``config``, ``_http``, ``download``); this module imports them all, so nothing imports in a
circle, and adding a catalogue is one class (with ``usage`` and ``from_spec``) and one line in
:data:`CATALOGUES`.
"""

from __future__ import annotations

from pathlib import Path

from s1flood.discovery.asf import AsfCatalogue
from s1flood.discovery.catalogue import Catalogue, CatalogueClass
from s1flood.discovery.cdse import CdseCatalogue
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.dhus import DhusCatalogue
from s1flood.discovery.local import LocalCatalogue
from s1flood.discovery.stac_api import StacApiCatalogue
from s1flood.errors import InvalidOptionError

__all__ = ["CATALOGUES", "catalogue_kinds", "open_catalogue"]

CATALOGUES: dict[str, CatalogueClass] = {
    "cdse": CdseCatalogue,
    "stac": StacApiCatalogue,
    "asf": AsfCatalogue,
    "dhus": DhusCatalogue,
    "local": LocalCatalogue,
}
"""Catalogue kind (the spec's text before ``:``) to its class."""


def catalogue_kinds() -> str:
    """The spec forms of every registered catalogue, for messages and help texts."""
    return ", ".join(cls.usage for cls in CATALOGUES.values())


def open_catalogue(spec: str, config: DiscoveryConfig | None = None) -> Catalogue:
    """Open a catalogue by its spec.

    Args:
        spec: ``cdse``, ``stac:URL`` or ``stac:PRESET`` (cdse, planetary-computer,
            earth-search), ``asf``, ``dhus:URL``, ``local:PATH`` (a static STAC catalog; a
            bare path to a ``.json`` catalog works too).
        config: endpoints and transfer settings; default: :func:`load_config`'s.
    """
    cfg = config or load_config()
    text = (spec or "").strip()
    kind, _, arg = text.partition(":")
    opener = CATALOGUES.get(kind.lower())
    if opener is not None:
        return opener.from_spec(arg, cfg)
    if text.endswith(".json") and Path(text).exists():
        return LocalCatalogue.from_spec(text, cfg)
    raise InvalidOptionError("catalogue", spec, f"expected one of {catalogue_kinds()}")
