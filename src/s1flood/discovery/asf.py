"""``asf``: the Alaska Satellite Facility SearchAPI and Earthdata-protected downloads.

Written on the plain SearchAPI (``/services/search/param``) rather than asf_search: asf_search
(since 7.x) queries NASA CMR directly, so its base URL is CMR's, not the configurable
``asf_url``, and it retries and raises in its own way. The SearchAPI is one GET with
``platform``, ``processingLevel``, ``beamMode``, ``intersectsWith``, ``start``, ``end`` and
``output=geojson``; it does not page (results stream back up to ``maxResults``), so a search
first asks ``output=count`` and splits the time window while a part holds more than
``asf_max_results`` products.

Downloads: ``datapool.asf.alaska.edu`` redirects to a signed download host; an Earthdata
bearer token (``S1FLOOD_ASF_TOKEN`` or ``EARTHDATA_TOKEN``) goes only to trusted hosts, or
a username/password (``S1FLOOD_ASF_USERNAME``/``_PASSWORD`` or the netrc entry of the
Earthdata host) is exchanged for a token at ``earthdata_url``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import requests

from s1flood.discovery._http import clean_url, get_json, new_session, request
from s1flood.discovery.catalogue import FetchOptions, SearchQuery
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.credentials import credentials_for, register_secret
from s1flood.discovery.download import download_file
from s1flood.discovery.products import unzip_product
from s1flood.discovery.retries import RetryPolicy
from s1flood.discovery.scene import Scene, geometry_from_wkt, parse_product_name, to_datetime
from s1flood.errors import (
    AuthenticationError,
    CatalogueError,
    InvalidOptionError,
    ProductNotFoundError,
)

__all__ = ["AsfCatalogue", "EarthdataAuth", "scene_from_feature", "scene_from_jsonlite"]

logger = logging.getLogger(__name__)

#: s1flood product type -> ASF processing levels
_LEVELS = {"GRD": "GRD_HD,GRD_HS,GRD_MD,GRD_MS,GRD_FD", "SLC": "SLC"}


def _asf_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _platform(value: Any, parsed: dict[str, Any]) -> str:
    text = str(value or "").strip().lower().replace(" ", "-")
    if text.startswith("sentinel-1") and len(text) == len("sentinel-1") + 1:
        return text
    return str(parsed.get("platform", text))


def scene_from_feature(feature: dict[str, Any], catalogue: str = "asf") -> Scene:
    """A scene from one SearchAPI ``output=geojson`` Feature.

    Args:
        feature: a GeoJSON Feature of the SearchAPI's answer.
        catalogue: the catalogue name the scene records.
    """
    p = feature.get("properties") or {}
    name = str(p.get("sceneName") or p.get("fileID", "")).removesuffix(".SAFE")
    parsed = parse_product_name(name) or {}
    start = to_datetime(p.get("startTime")) or parsed.get("start")
    stop = to_datetime(p.get("stopTime")) or parsed.get("stop") or start
    if start is None or stop is None:
        raise CatalogueError(f"ASF product {name!r} has no start time")
    pols = p.get("polarization")
    direction = p.get("flightDirection")
    size = p.get("bytes")
    return Scene(
        name=name,
        id=str(p.get("fileID") or name),
        footprint=feature.get("geometry"),
        start=start,
        stop=stop,
        platform=_platform(p.get("platform"), parsed),
        mode=str(p.get("beamModeType") or parsed.get("mode", "")),
        product_type=str(parsed.get("product_type") or p.get("processingLevel") or ""),
        polarisations=tuple(str(pols).replace("+", " ").split())
        if pols
        else tuple(parsed.get("polarisations", ())),
        orbit_direction=str(direction).lower() if direction else None,
        relative_orbit=int(p["pathNumber"]) if p.get("pathNumber") is not None else None,
        absolute_orbit=int(p["orbit"]) if p.get("orbit") is not None else None,
        size=int(size) if size not in (None, "") else None,
        checksums={"MD5": str(p["md5sum"]).lower()} if p.get("md5sum") else {},
        href=p.get("url"),
        online=True,
        published=to_datetime(p.get("processingDate")),
        catalogue=catalogue,
    )


def scene_from_jsonlite(result: dict[str, Any], catalogue: str = "asf") -> Scene:
    """A scene from one SearchAPI ``output=jsonlite`` result (no checksum, size in MB).

    Args:
        result: one entry of the ``results`` list.
        catalogue: the catalogue name the scene records.
    """
    name = str(result.get("granuleName") or "")
    parsed = parse_product_name(name) or {}
    start = to_datetime(result.get("startTime")) or parsed.get("start")
    stop = to_datetime(result.get("stopTime")) or parsed.get("stop") or start
    if start is None or stop is None:
        raise CatalogueError(f"ASF product {name!r} has no start time")
    orbit = result.get("orbit")
    if isinstance(orbit, list):
        orbit = orbit[0] if orbit else None
    pols = result.get("polarization")
    direction = result.get("flightDirection")
    return Scene(
        name=name,
        id=str(result.get("productID") or name),
        footprint=geometry_from_wkt(result.get("wkt")),
        start=start,
        stop=stop,
        platform=_platform(result.get("dataset"), parsed),
        mode=str(result.get("beamMode") or parsed.get("mode", "")),
        product_type=str(parsed.get("product_type") or result.get("productType") or ""),
        polarisations=tuple(str(pols).replace("+", " ").split())
        if pols
        else tuple(parsed.get("polarisations", ())),
        orbit_direction=str(direction).lower() if direction else None,
        relative_orbit=int(result["path"]) if result.get("path") is not None else None,
        absolute_orbit=int(orbit) if orbit is not None else None,
        href=result.get("downloadUrl"),
        online=True,
        catalogue=catalogue,
    )


class EarthdataAuth:
    """An Earthdata Login bearer token: given, or obtained once with username/password."""

    def __init__(
        self,
        session: requests.Session,
        earthdata_url: str,
        policy: RetryPolicy,
        token: str | None = None,
    ) -> None:
        self._session = session
        self._url = earthdata_url.rstrip("/")
        self._policy = policy
        self._token = token
        self._given = token is not None
        register_secret(token)
        self.logins = 0

    def _login(self) -> str:
        creds = credentials_for("asf", self._url)
        if creds is None:
            raise AuthenticationError(
                "no Earthdata credentials: set S1FLOOD_ASF_TOKEN (or EARTHDATA_TOKEN), or "
                "S1FLOOD_ASF_USERNAME/S1FLOOD_ASF_PASSWORD, or add a ~/.netrc entry for "
                "the Earthdata host",
                url=clean_url(self._url),
            )
        self.logins += 1
        logger.info("Earthdata: requesting a token for %s", creds.username)
        response = request(
            self._session,
            "POST",
            f"{self._url}/api/users/find_or_create_token",
            what="Earthdata login",
            policy=self._policy,
            auth=(creds.username, creds.password),
        )
        try:
            token = str(response.json()["access_token"])
        except (ValueError, KeyError, TypeError):
            raise CatalogueError(
                "Earthdata login: the answer has no access_token",
                status=response.status_code,
                url=clean_url(self._url),
            ) from None
        register_secret(token)
        return token

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer ...``."""
        if self._token is None:
            self._token = self._login()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        """Log in again after a 401 (only when the token was not given)."""
        if self._given:
            return False
        self._token = self._login()
        return True


class AsfCatalogue:
    """The ASF SearchAPI (no login for search; Earthdata token for downloads)."""

    name = "asf"
    usage: ClassVar[str] = "asf"

    def __init__(self, config: DiscoveryConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or new_session()
        self.policy = RetryPolicy.from_config(config)
        self._auth: EarthdataAuth | None = None

    @classmethod
    def from_spec(cls, arg: str, config: DiscoveryConfig) -> AsfCatalogue:
        """The catalogue for the spec ``asf`` (it takes no argument).

        Args:
            arg: the spec's text after ``asf:``; must be empty.
            config: endpoints and transfer settings.
        """
        if arg:
            raise InvalidOptionError("catalogue", f"asf:{arg}", "asf takes no argument")
        return cls(config)

    def _params(self, query: SearchQuery, start: datetime, end: datetime) -> dict[str, str]:
        params = {
            "platform": "SENTINEL-1",
            "intersectsWith": query.aoi.wkt,
            "start": _asf_time(start),
            "end": _asf_time(end),
        }
        if query.product_type:
            params["processingLevel"] = _LEVELS.get(query.product_type, query.product_type)
        if query.mode:
            params["beamMode"] = query.mode
        if query.orbit_direction:
            params["flightDirection"] = query.orbit_direction.upper()
        if query.relative_orbit is not None:
            params["relativeOrbit"] = str(query.relative_orbit)
        return params

    def _count(self, params: dict[str, str]) -> int:
        body = get_json(
            self.session,
            self.config.asf_url,
            what="ASF search count",
            policy=self.policy,
            params={**params, "output": "count"},
        )
        if isinstance(body, bool) or not isinstance(body, int):
            raise CatalogueError(
                f"ASF search count: expected a number, got {str(body)[:40]!r}",
                url=clean_url(self.config.asf_url),
            )
        return body

    def _windows(
        self, query: SearchQuery, start: datetime, end: datetime
    ) -> Iterator[tuple[dict[str, str], int]]:
        params = self._params(query, start, end)
        count = self._count(params)
        if count > self.config.asf_max_results and end - start > timedelta(minutes=2):
            middle = start + (end - start) / 2
            logger.info("ASF: %d products in %s..%s; splitting the window", count, start, end)
            yield from self._windows(query, start, middle)
            yield from self._windows(query, middle, end)
        elif count:
            yield params, count

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Every product matching the query (``output=geojson``, windows split by count).

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        seen: set[str] = set()
        for params, count in self._windows(query, query.start, query.end):
            body = get_json(
                self.session,
                self.config.asf_url,
                what="ASF search",
                policy=self.policy,
                params={**params, "output": "geojson", "maxResults": str(count + 100)},
            )
            features = body.get("features") if isinstance(body, dict) else None
            if not isinstance(features, list):
                raise CatalogueError(
                    "ASF search: the answer is not a GeoJSON FeatureCollection",
                    url=clean_url(self.config.asf_url),
                )
            for feature in features:
                scene = scene_from_feature(feature, self.name)
                if scene.id not in seen:  # a product on a window boundary comes twice
                    seen.add(scene.id)
                    yield scene

    def get(self, name_or_id: str) -> Scene:
        """A product by scene name or ASF file id (``NAME-GRD_HD``).

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        key = name_or_id.strip().removesuffix(".zip").removesuffix(".SAFE")
        scene_name = key.rsplit("-", 1)[0] if "-" in key else key
        body = get_json(
            self.session,
            self.config.asf_url,
            what="ASF product lookup",
            policy=self.policy,
            params={"granule_list": scene_name, "output": "geojson"},
        )
        features = body.get("features") if isinstance(body, dict) else None
        scenes = [scene_from_feature(f, self.name) for f in features or []]
        scenes = [s for s in scenes if key in (s.id, s.name)] or [
            s for s in scenes if (s.product_type or "").startswith("GRD")
        ]
        if not scenes:
            raise ProductNotFoundError(
                f"no product {key!r} at ASF", url=clean_url(self.config.asf_url)
            )
        return scenes[0]

    def auth(self) -> EarthdataAuth:
        """The Earthdata token source."""
        if self._auth is None:
            token = os.environ.get("S1FLOOD_ASF_TOKEN") or os.environ.get("EARTHDATA_TOKEN")
            self._auth = EarthdataAuth(
                self.session, self.config.earthdata_url, self.policy, token or None
            )
        return self._auth

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download the product zip: bearer to trusted hosts, redirects, resume, MD5 check.

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        if not scene.href:
            raise ProductNotFoundError(f"{scene.name}: no download link")
        trusted = tuple(
            h.strip().lower() for h in self.config.asf_trusted_hosts.split(",") if h.strip()
        )
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
        if options.unzip:
            return unzip_product(path, out_dir, overwrite=options.overwrite)
        return path
