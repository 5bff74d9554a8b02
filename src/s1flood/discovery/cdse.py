"""``cdse``: Copernicus Data Space Ecosystem OData catalogue, Keycloak tokens, downloads.

Written on ``requests`` rather than a client library: the OData ``$filter`` needed is small,
paging is ``@odata.nextLink``, and errors (HTTP status, maintenance pages) must surface as
one-line :class:`~s1flood.errors.CatalogueError` s with the status kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import requests

from s1flood.discovery._http import clean_url, get_json, new_session
from s1flood.discovery.catalogue import FetchOptions, SearchQuery
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.credentials import credentials_for
from s1flood.discovery.download import download_file, url_host
from s1flood.discovery.keycloak import KeycloakAuth
from s1flood.discovery.products import unzip_product, wait_until_online
from s1flood.discovery.retries import RetryPolicy
from s1flood.discovery.scene import Scene, geometry_from_wkt, parse_product_name, to_datetime
from s1flood.errors import (
    AuthenticationError,
    CatalogueError,
    InvalidOptionError,
    ProductNotFoundError,
    ProductOfflineError,
)

__all__ = ["CdseCatalogue", "KeycloakAuth", "odata_filter", "scene_from_product"]

logger = logging.getLogger(__name__)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _odata_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _attr(kind: str, name: str, value: str | int) -> str:
    literal = f"'{value}'" if isinstance(value, str) else str(value)
    return (
        f"Attributes/OData.CSC.{kind}Attribute/any(att:att/Name eq '{name}' and "
        f"att/OData.CSC.{kind}Attribute/Value eq {literal})"
    )


def odata_filter(query: SearchQuery, collection: str) -> str:
    """The OData ``$filter`` for a query (AOI, window, mode, type, orbit).

    Args:
        query: the search query.
        collection: the OData collection name (``SENTINEL-1``).
    """
    ring = ", ".join(f"{x:.6f} {y:.6f}" for x, y in query.aoi.exterior.coords)
    clauses = [
        f"Collection/Name eq '{collection}'",
        f"OData.CSC.Intersects(area=geography'SRID=4326;POLYGON(({ring}))')",
        f"ContentDate/Start lt {_odata_time(query.end)}",
        f"ContentDate/End gt {_odata_time(query.start)}",
    ]
    if query.product_type:
        clauses.append(f"contains(Name,'_{query.product_type}')")
    if query.mode:
        clauses.append(_attr("String", "operationalMode", query.mode))
    if query.orbit_direction:
        clauses.append(_attr("String", "orbitDirection", query.orbit_direction.upper()))
    if query.relative_orbit is not None:
        clauses.append(_attr("Integer", "relativeOrbitNumber", query.relative_orbit))
    return " and ".join(clauses)


def _footprint(product: dict[str, Any]) -> dict[str, Any] | None:
    geo = product.get("GeoFootprint")
    if isinstance(geo, dict) and geo.get("type"):
        return geo
    text = product.get("Footprint")
    if isinstance(text, str) and text:
        match = re.search(r"(?:SRID=\d+;)?((?:MULTI)?POLYGON\s*\(.*\))", text, re.IGNORECASE)
        if match:
            return geometry_from_wkt(match.group(1))
    return None


def scene_from_product(product: dict[str, Any], download_url: str, catalogue: str) -> Scene:
    """A scene from one OData ``Products`` entry (``$expand=Attributes``).

    Args:
        product: one entry of the ``value`` list.
        download_url: the OData base URL downloads go to.
        catalogue: the catalogue name the scene records.
    """
    attrs = {a.get("Name"): a.get("Value") for a in product.get("Attributes") or []}
    full_name = str(product["Name"])
    name = full_name.removesuffix(".SAFE")
    parsed = parse_product_name(name) or {}
    content = product.get("ContentDate") or {}
    start = to_datetime(content.get("Start")) or parsed.get("start")
    stop = to_datetime(content.get("End")) or parsed.get("stop") or start
    if start is None or stop is None:
        raise CatalogueError(f"product {name!r} has no ContentDate")
    pols = attrs.get("polarisationChannels")
    serial = attrs.get("platformSerialIdentifier")
    platform = f"sentinel-1{str(serial).lower()}" if serial else parsed.get("platform", "")
    direction = attrs.get("orbitDirection")
    checksums = {
        str(c["Algorithm"]).upper(): str(c["Value"])
        for c in product.get("Checksum") or []
        if c.get("Algorithm") and c.get("Value")
    }
    published = to_datetime(
        attrs.get("processingDate")
        or product.get("PublicationDate")
        or product.get("ModificationDate")
    )
    return Scene(
        name=name,
        id=str(product["Id"]),
        footprint=_footprint(product),
        start=start,
        stop=stop,
        platform=platform,
        mode=str(attrs.get("operationalMode") or parsed.get("mode", "")),
        product_type=str(parsed.get("product_type") or attrs.get("productType") or ""),
        polarisations=tuple(str(pols).replace("+", "&").split("&"))
        if pols
        else tuple(parsed.get("polarisations", ())),
        orbit_direction=str(direction).lower() if direction else None,
        relative_orbit=attrs.get("relativeOrbitNumber", parsed.get("relative_orbit")),
        absolute_orbit=attrs.get("orbitNumber", parsed.get("absolute_orbit")),
        size=product.get("ContentLength"),
        checksums=checksums,
        href=f"{download_url.rstrip('/')}/Products({product['Id']})/$value",
        online=product.get("Online"),
        published=published,
        catalogue=catalogue,
    )


class CdseCatalogue:
    """The CDSE OData catalogue (search without login, download with a Keycloak token)."""

    name = "cdse"
    usage: ClassVar[str] = "cdse"

    def __init__(self, config: DiscoveryConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or new_session()
        self.policy = RetryPolicy.from_config(config)
        self._auth: KeycloakAuth | None = None

    @classmethod
    def from_spec(cls, arg: str, config: DiscoveryConfig) -> CdseCatalogue:
        """The catalogue for the spec ``cdse`` (it takes no argument).

        Args:
            arg: the spec's text after ``cdse:``; must be empty.
            config: endpoints and transfer settings.
        """
        if arg:
            raise InvalidOptionError("catalogue", f"cdse:{arg}", "cdse takes no argument")
        return cls(config)

    @property
    def products_url(self) -> str:
        """``…/odata/v1/Products``."""
        return self.config.cdse_odata_url.rstrip("/") + "/Products"

    def _scene(self, product: dict[str, Any]) -> Scene:
        return scene_from_product(product, self.config.cdse_download_url, self.name)

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Every product matching the query, following ``@odata.nextLink``.

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        params: dict[str, Any] | None = {
            "$filter": odata_filter(query, self.config.cdse_collection),
            "$orderby": "ContentDate/Start asc",
            "$top": str(self.config.page_size),
            "$count": "true",
            "$expand": "Attributes",
        }
        url = self.products_url
        seen: set[str] = set()
        page = 0
        while True:
            body = get_json(
                self.session, url, what="CDSE OData search", policy=self.policy, params=params
            )
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise CatalogueError(
                    "CDSE OData search: the answer has no 'value' list", url=clean_url(url)
                )
            page += 1
            if page == 1 and "@odata.count" in body:
                logger.info("CDSE: %s products match", body["@odata.count"])
            for product in body["value"]:
                yield self._scene(product)
            next_link = body.get("@odata.nextLink")
            if not next_link or not body["value"]:
                return
            if next_link in seen:
                raise CatalogueError("CDSE OData search: paging loops", url=clean_url(url))
            seen.add(next_link)
            url, params = str(next_link), None

    def get(self, name_or_id: str) -> Scene:
        """A product by OData Id (UUID) or by product name.

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        key = name_or_id.strip().removesuffix(".zip").removesuffix(".SAFE")
        if _UUID.match(key):
            url = f"{self.products_url}({key})"
            try:
                product = get_json(
                    self.session,
                    url,
                    what="CDSE product",
                    policy=self.policy,
                    params={"$expand": "Attributes"},
                )
            except CatalogueError as exc:
                if exc.status == 404:
                    raise ProductNotFoundError(
                        f"no product with id {key}", status=404, url=clean_url(url)
                    ) from None
                raise
            return self._scene(product)
        body = get_json(
            self.session,
            self.products_url,
            what="CDSE product lookup",
            policy=self.policy,
            params={
                "$filter": f"startswith(Name,'{key}')",
                "$expand": "Attributes",
                "$top": "20",
            },
        )
        products = body.get("value", []) if isinstance(body, dict) else []
        scenes = [self._scene(p) for p in products]
        exact = [s for s in scenes if s.name == key] or scenes
        if not exact:
            raise ProductNotFoundError(f"no product named {key}", url=clean_url(self.products_url))
        return exact[0]

    def auth(self) -> KeycloakAuth:
        """The Keycloak token source (credentials from env or netrc)."""
        if self._auth is None:
            host_url = self.config.cdse_token_url or self.config.cdse_oidc_url
            creds = credentials_for("cdse", host_url)
            if creds is None:
                raise AuthenticationError(
                    "no CDSE credentials: set S1FLOOD_CDSE_USERNAME and S1FLOOD_CDSE_PASSWORD "
                    "or add a ~/.netrc machine entry for the identity host",
                    url=clean_url(host_url),
                )
            self._auth = KeycloakAuth(
                self.session,
                creds,
                oidc_url=self.config.cdse_oidc_url,
                token_url=self.config.cdse_token_url,
                client_id=self.config.cdse_client_id,
                policy=self.policy,
            )
        return self._auth

    def _wait_online(self, scene: Scene, options: FetchOptions) -> Scene:
        if scene.online is not False:
            return scene
        if not options.wait_offline:
            raise ProductOfflineError(scene.name, url=clean_url(self.products_url))
        return wait_until_online(scene, lambda s: self.get(s.id), self.config)

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download the product zip (bearer auth, redirects, resume, checksum).

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        scene = self._wait_online(scene, options)
        if not scene.href:
            raise ProductNotFoundError(f"{scene.name}: no download link")
        trusted = (*self.config.trusted_host_list, url_host(self.config.cdse_download_url))
        while True:
            try:
                path = download_file(
                    scene.href,
                    out_dir / scene.filename,
                    session=self.session,
                    policy=self.policy,
                    options=options,
                    auth=self.auth(),
                    trusted_hosts=trusted,
                    size=scene.size,
                    checksums=scene.checksums,
                )
                break
            except ProductOfflineError:
                if not options.wait_offline:
                    raise
                scene = self._wait_online(replace(scene, online=False), options)
        if options.unzip:
            return unzip_product(path, out_dir, overwrite=options.overwrite)
        return path
