"""Orbit files from the CDSE catalogue: the ``AUX_POEORB`` / ``AUX_RESORB`` products.

The search is the OData ``Products`` query that sentineleof sends (``startswith(Name,'S1A')
and contains(Name,'AUX_POEORB') and ContentDate/Start lt ... and ContentDate/End gt ...``),
without login; the download is ``Products(Id)/$value`` with the same Keycloak token, trusted
hosts and checksum verification as product downloads (`s1flood.discovery.cdse`). Endpoints
and credentials are the discovery settings and ``S1FLOOD_CDSE_USERNAME`` / ``_PASSWORD`` (or
``~/.netrc``).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from s1flood.discovery._http import get_json, new_session
from s1flood.discovery.catalogue import FetchOptions
from s1flood.discovery.cdse import CdseCatalogue
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.credentials import credentials_for
from s1flood.discovery.download import download_file, url_host
from s1flood.discovery.retries import RetryPolicy
from s1flood.preprocessing.orbit import MARGIN

__all__ = ["cdse_orbit_product", "download_cdse_orbit", "has_cdse_credentials"]

log = logging.getLogger(__name__)
_MADE = re.compile(r"_OPOD_(\d{8}T\d{6})_V")


def _odata_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _made(name: str) -> str:
    match = _MADE.search(name)
    return match.group(1) if match else ""


def has_cdse_credentials(config: DiscoveryConfig) -> bool:
    """Whether CDSE credentials are configured (environment or netrc).

    Args:
        config: the discovery configuration (its identity URL names the netrc machine).
    """
    url = config.cdse_token_url or config.cdse_oidc_url
    return credentials_for("cdse", url) is not None


def cdse_orbit_product(
    config: DiscoveryConfig,
    session: Any,
    mission: str,
    start: datetime,
    stop: datetime,
) -> dict[str, Any] | None:
    """The newest CDSE orbit product covering the acquisition: POEORB, else RESORB.

    Args:
        config: endpoints and retry settings.
        session: the HTTP session to send with.
        mission: S1A, S1B, S1C...
        start: start of the acquisition.
        stop: end of the acquisition.
    """
    url = config.cdse_odata_url.rstrip("/") + "/Products"
    policy = RetryPolicy.from_config(config)
    for kind in ("AUX_POEORB", "AUX_RESORB"):
        query = (
            f"startswith(Name,'{mission}') and contains(Name,'{kind}') and "
            f"ContentDate/Start lt '{_odata_time(start - MARGIN)}' and "
            f"ContentDate/End gt '{_odata_time(stop + MARGIN)}'"
        )
        params = {"$filter": query, "$orderby": "ContentDate/Start desc", "$top": "20"}
        body = get_json(session, url, what="CDSE orbit search", policy=policy, params=params)
        products = [
            p
            for p in (body.get("value", []) if isinstance(body, dict) else [])
            if str(p.get("Name", "")).startswith(f"{mission}_OPER_{kind}_")
            and _MADE.search(str(p["Name"]))
        ]
        if products:
            newest: dict[str, Any] = max(products, key=lambda p: _made(str(p["Name"])))
            return newest
    return None


def download_cdse_orbit(
    config: DiscoveryConfig, session: Any, product: dict[str, Any], dest: Path
) -> Path:
    """Download a CDSE orbit product to ``dest`` (bearer token, checksum verified).

    Args:
        config: endpoints, trusted hosts and retry settings.
        session: the HTTP session to send with.
        product: the OData product (``Id``, ``Name``, ``ContentLength``, ``Checksum``).
        dest: the file to write.
    """
    catalogue = CdseCatalogue(config, session or new_session())
    href = f"{config.cdse_download_url.rstrip('/')}/Products({product['Id']})/$value"
    checksums = {
        str(c.get("Algorithm")): str(c.get("Value"))
        for c in product.get("Checksum") or []
        if isinstance(c, dict)
    }
    size = product.get("ContentLength")
    return download_file(
        href,
        dest,
        session=catalogue.session,
        policy=catalogue.policy,
        options=FetchOptions(overwrite=True),
        auth=catalogue.auth(),
        trusted_hosts=(*config.trusted_host_list, url_host(config.cdse_download_url)),
        size=int(size) if isinstance(size, int) and size > 0 else None,
        checksums=checksums,
    )
