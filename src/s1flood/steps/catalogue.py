"""Steps 1 and 2: find scenes in a catalogue, fetch one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from s1flood.steps.forwarding import arguments_for

if TYPE_CHECKING:
    from s1flood.discovery import DiscoveryConfig, DiscoveryResult, FetchResult


EMPTY_CATALOGUE = "empty: give a staged catalog folder (catalogue) or a name (catalogue_name)"
"""Why an empty catalogue is refused (CWL passes one when given neither of its two inputs)."""


def discovery_config(
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
) -> DiscoveryConfig:
    """The discovery configuration with the caller's settings applied.

    Args:
        settings: ``KEY=VALUE`` settings (see `discover`).
        odata_url: CDSE OData base URL, or ``None`` for the configured one.
        token_url: token endpoint URL, or ``None`` for the configured one.
        stac_collection: STAC collection id, or ``None`` for the configured one.
    """
    from s1flood.discovery import load_config
    from s1flood.errors import InvalidOptionError

    overrides: dict[str, object] = {}
    for setting in settings or []:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise InvalidOptionError("settings", setting, "KEY=VALUE, e.g. asf_url=https://...")
        overrides[key.strip()] = value.strip()
    named = {
        "cdse_odata_url": odata_url,
        "cdse_token_url": token_url,
        "stac_collection": stac_collection,
    }
    overrides.update({k: v for k, v in named.items() if v is not None})
    return load_config(overrides)


def discover(
    aoi: str,
    start: str,
    end: str,
    *,
    catalogue: str = "cdse",
    mode: str = "IW",
    product_type: str = "GRD",
    polarisation: str | None = None,
    orbit_direction: str | None = None,
    relative_orbit: int = 0,
    min_coverage: float = 0.0,
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
) -> DiscoveryResult:
    """Find the Sentinel-1 scenes covering an area in a time window (step 1).

    Pages through the whole answer, computes each scene's coverage of the AOI (geodesic),
    keeps those covering at least ``min_coverage``, drops duplicate acquisitions (the newest
    product is kept) and sorts by time.

    Args:
        aoi: area of interest, a WKT polygon in lon/lat (EPSG:4326).
        start: start of the time window, ISO 8601 (UTC unless an offset is given).
        end: end of the time window, ISO 8601; after ``start``.
        catalogue: where to search: ``cdse`` (Copernicus Data Space OData), ``stac:URL`` (or
            ``stac:cdse``, ``stac:planetary-computer``, ``stac:earth-search``), ``asf``,
            ``dhus:URL`` or ``local:PATH`` (a static STAC catalog). Default ``cdse``.
        mode: acquisition mode. Default ``IW``.
        product_type: product type. Default ``GRD``.
        polarisation: a polarisation every scene must have (VV, VH, HH or HV); a pair
            (``VV+VH``, ``HH+HV``) keeps the scenes with its co-polarised one; default any.
        orbit_direction: ``ascending`` or ``descending``; default both.
        relative_orbit: relative orbit number, 1 to 175; 0 (default): any.
        min_coverage: fraction of the AOI (0 to 1) a scene must cover. Default 0.
        settings: discovery settings as ``KEY=VALUE`` (e.g. ``dhus_url=...``,
            ``asf_url=...``, ``trusted_hosts=...``); also ``S1FLOOD_<KEY>`` or
            ``[discovery]`` in the configuration file.
        odata_url: CDSE OData base URL (default: the configured one).
        token_url: token endpoint URL (default: the configured one).
        stac_collection: STAC collection id (default: the configured one).
    """
    from s1flood.discovery import discover as discover_scenes
    from s1flood.errors import InvalidOptionError

    if not catalogue.strip():
        raise InvalidOptionError("catalogue", catalogue, EMPTY_CATALOGUE)
    config = discovery_config(settings, odata_url, token_url, stac_collection)
    arguments = arguments_for(discover_scenes, locals())
    arguments["relative_orbit"] = relative_orbit or None
    return discover_scenes(aoi, start, end, **arguments)


def fetch(
    product: str,
    *,
    catalogue: str,
    out_dir: Path | str,
    unzip: bool = False,
    wait_offline: bool = False,
    overwrite: bool = False,
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
    read: str = "auto",
    progress: bool = False,
) -> FetchResult:
    """Download one product from a catalogue (step 2), verified and renamed when complete.

    Credentials come from the environment (``S1FLOOD_CDSE_USERNAME`` /
    ``S1FLOOD_CDSE_PASSWORD``, ``EARTHDATA_TOKEN``, ``S1FLOOD_DHUS_*``) or ``~/.netrc``, never
    from parameters, and never appear in logs, errors or results.

    Args:
        product: product name (with or without ``.SAFE``) or catalogue id.
        catalogue: the catalogue to fetch from (see `discover`).
        out_dir: folder the product is written to.
        unzip: also extract the zip to ``NAME.SAFE``. Default false.
        wait_offline: wait for an offline (archived) product to come online. Default false.
        overwrite: replace an existing download. Default false.
        settings: discovery settings as ``KEY=VALUE`` (see `discover`).
        odata_url: CDSE OData base URL (default: the configured one).
        token_url: token endpoint URL (default: the configured one).
        stac_collection: STAC collection id (default: the configured one).
        read: ``auto`` (AOI-only reads wherever the catalogue serves byte ranges, else a
            whole download), ``aoi`` (only the XML is fetched into ``NAME.SAFE/``; the
            measurement rows or tiles the AOI needs are read by range when preprocessing)
            or ``whole`` (download the product). Default ``auto``.
        progress: show a progress bar. Default false.
    """
    from s1flood.discovery import fetch as fetch_product

    config = discovery_config(settings, odata_url, token_url, stac_collection)
    return fetch_product(product, **arguments_for(fetch_product, locals()))
