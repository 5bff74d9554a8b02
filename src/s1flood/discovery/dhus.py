"""``dhus:URL``: a legacy Copernicus Data Hub (DHuS) mirror, searched through sentinelsat.

sentinelsat is the field's DHuS client: it builds the Solr/OpenSearch query, pages with
``rows``/``start`` and parses entries and OData product metadata. Around it this module adds
what it lacks: per-request retries (429/5xx with ``Retry-After``) through the session's urllib3
adapter, a request timeout, retries of answers that are not JSON (maintenance pages), one-line
:class:`~s1flood.errors.CatalogueError` s without secrets, and the project's resumable,
checksum-verified downloader for ``Products('uuid')/$value`` (HTTP Basic, LTA 202 handling).
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import requests
from requests.adapters import HTTPAdapter

from s1flood.discovery._http import USER_AGENT, clean_url, describe, new_session
from s1flood.discovery.catalogue import FetchOptions, SearchQuery
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.credentials import Credentials, credentials_for, redact, register_secret
from s1flood.discovery.download import download_file, url_host
from s1flood.discovery.products import unzip_product, wait_until_online
from s1flood.discovery.retries import LoggedRetry, RetryPolicy, log_retry, transport_problem
from s1flood.discovery.scene import Scene, geometry_from_wkt, parse_product_name, to_datetime
from s1flood.errors import (
    AuthenticationError,
    CatalogueError,
    InvalidOptionError,
    ProductNotFoundError,
    ProductOfflineError,
)

__all__ = ["DhusCatalogue", "scene_from_entry"]

logger = logging.getLogger(__name__)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_T = TypeVar("_T")


class _TimeoutSession(requests.Session):
    """A session that applies a default timeout (sentinelsat sets none that requests uses)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send with the default timeout unless one is given."""
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)


class _BasicAuth:
    """HTTP Basic credentials as a :class:`~s1flood.discovery.download.HeaderAuth`."""

    def __init__(self, credentials: Credentials) -> None:
        token = f"{credentials.username}:{credentials.password}".encode()
        self._header = "Basic " + base64.b64encode(token).decode("ascii")
        register_secret(self._header[6:])

    def headers(self) -> dict[str, str]:
        """``Authorization: Basic ...``."""
        return {"Authorization": self._header}

    def refresh(self) -> bool:
        """Nothing to renew."""
        return False


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return to_datetime(value) if value else None


def scene_from_entry(entry: dict[str, Any], uuid: str, api_url: str, catalogue: str) -> Scene:
    """A scene from one OpenSearch entry as sentinelsat parses it (``query()`` values).

    Args:
        entry: the entry's fields, as sentinelsat's ``query()`` gives them.
        uuid: the product's UUID (the entry's key).
        api_url: the hub's base URL, ending in ``/``.
        catalogue: the catalogue name the scene records.
    """
    name = str(entry.get("identifier") or entry.get("title") or "").removesuffix(".SAFE")
    parsed = parse_product_name(name) or {}
    start = _utc(entry.get("beginposition")) or parsed.get("start")
    stop = _utc(entry.get("endposition")) or parsed.get("stop") or start
    if start is None or stop is None:
        raise CatalogueError(f"DHuS entry {name!r} has no sensing time")
    pols = entry.get("polarisationmode")
    direction = entry.get("orbitdirection")
    relative = entry.get("relativeorbitnumber", parsed.get("relative_orbit"))
    absolute = entry.get("orbitnumber", parsed.get("absolute_orbit"))
    return Scene(
        name=name,
        id=uuid,
        footprint=geometry_from_wkt(entry.get("footprint")),
        start=start,
        stop=stop,
        platform=parsed.get("platform", ""),
        mode=str(entry.get("sensoroperationalmode") or parsed.get("mode", "")),
        product_type=str(parsed.get("product_type") or entry.get("producttype") or ""),
        polarisations=tuple(str(pols).split()) if pols else tuple(parsed.get("polarisations", ())),
        orbit_direction=str(direction).lower() if direction else None,
        relative_orbit=int(relative) if relative is not None else None,
        absolute_orbit=int(absolute) if absolute is not None else None,
        href=f"{api_url}odata/v1/Products('{uuid}')/$value",
        published=_utc(entry.get("ingestiondate")),
        catalogue=catalogue,
    )


class DhusCatalogue:
    """A DHuS instance (OpenSearch search, OData product metadata, ``$value`` downloads)."""

    usage: ClassVar[str] = "dhus:URL"

    def __init__(self, url: str, config: DiscoveryConfig) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.name = f"dhus:{clean_url(self.url)}"
        self.config = config
        self.policy = RetryPolicy.from_config(config)
        self._api: Any = None
        self._credentials: Credentials | None = None

    @classmethod
    def from_spec(cls, arg: str, config: DiscoveryConfig) -> DhusCatalogue:
        """The catalogue for the spec ``dhus:URL`` (a bare ``dhus`` takes ``dhus_url``).

        Args:
            arg: the hub's URL (``https://host/dhus/``), or empty for the configured one.
            config: endpoints and transfer settings.
        """
        url = arg or config.dhus_url
        if not url.startswith(("http://", "https://")):
            spec = f"dhus:{arg}" if arg else "dhus"
            raise InvalidOptionError("catalogue", spec, "expected dhus:URL (an http(s) URL)")
        return cls(url, config)

    # -- the sentinelsat client --------------------------------------------------------------

    def credentials(self) -> Credentials:
        """DHuS credentials (``S1FLOOD_DHUS_USERNAME``/``_PASSWORD`` or netrc for the host)."""
        if self._credentials is None:
            creds = credentials_for("dhus", self.url)
            if creds is None:
                raise AuthenticationError(
                    "no DHuS credentials: set S1FLOOD_DHUS_USERNAME and S1FLOOD_DHUS_PASSWORD "
                    "or add a ~/.netrc machine entry for the hub's host",
                    url=clean_url(self.url),
                )
            self._credentials = creds
        return self._credentials

    def api(self) -> Any:
        """The ``sentinelsat.SentinelAPI`` (retrying, time-limited session; no progress bars)."""
        if self._api is None:
            from sentinelsat import SentinelAPI

            creds = self.credentials()
            api = SentinelAPI(
                creds.username,
                creds.password,
                api_url=self.url,
                show_progressbars=False,
                timeout=self.policy.timeout,
            )
            session = _TimeoutSession(self.policy.timeout)
            session.trust_env = False
            session.auth = (creds.username, creds.password)
            session.headers["User-Agent"] = f"{USER_AGENT} {api.user_agent}"
            retry = LoggedRetry.for_policy(
                self.policy,
                f"DHuS {clean_url(self.url)}",
                connect=self.policy.retries,
                read=self.policy.retries,
                status=self.policy.retries,
                raise_on_status=False,  # the last response reaches sentinelsat's checks
            )
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            api.session = session
            self._api = api
        return self._api

    def _error(self, exc: Exception, what: str) -> CatalogueError:
        """A one-line, secret-free error for a sentinelsat or requests exception."""
        from sentinelsat.exceptions import (
            InvalidKeyError,
            QueryLengthError,
            QuerySyntaxError,
            SentinelAPIError,
            UnauthorizedError,
        )

        response = getattr(exc, "response", None)
        status = response.status_code if isinstance(response, requests.Response) else None
        url = clean_url(response.url) if isinstance(response, requests.Response) else None
        url = url or clean_url(self.url)
        if isinstance(exc, UnauthorizedError) or status == 401:
            return AuthenticationError(
                f"{what}: not authorised (invalid user name or password); check the credentials",
                status=status,
                url=url,
            )
        if status == 403:
            return AuthenticationError(f"{what}: access forbidden", status=status, url=url)
        if isinstance(exc, InvalidKeyError) or status == 404:
            return ProductNotFoundError(f"{what}: no such product", status=status, url=url)
        if isinstance(exc, QuerySyntaxError):
            text = " ".join(str(exc.msg).split())[:200]
            return CatalogueError(f"{what}: the hub rejected the query ({text})", url=url)
        if isinstance(exc, QueryLengthError):
            return CatalogueError(f"{what}: query too long for the hub (simplify the AOI)", url=url)
        if isinstance(exc, SentinelAPIError) and isinstance(response, requests.Response):
            detail = describe(response)
            if "HTML" not in detail and not _is_json(response):
                detail = f"malformed JSON ({detail[:80]!r})"
            return CatalogueError(f"{what}: {redact(detail)}", status=status, url=url)
        problem = transport_problem(exc, self.policy.timeout)
        if problem is not None:  # urllib3 has retried it (LoggedRetry)
            retries = self.policy.retries
            return CatalogueError(f"{what}: {problem} (after {retries} retries)", url=url)
        text = redact(" ".join(str(exc).split())[:200]) or type(exc).__name__
        return CatalogueError(f"{what}: {text}", status=status, url=url)

    def _call(self, what: str, func: Callable[[], _T]) -> _T:
        """Run a sentinelsat call; retry answers that were not JSON (maintenance, truncation).

        HTTP-level retries (429, 5xx, Retry-After) happen per request inside the session.
        """
        from sentinelsat.exceptions import (
            SentinelAPIError,
            ServerError,
        )

        retries = self.policy.retries
        for attempt in range(retries + 1):
            try:
                return func()
            except ServerError as exc:
                response = getattr(exc, "response", None)
                status = response.status_code if response is not None else None
                if attempt == self.policy.retries or (status is not None and status != 200):
                    raise self._error(exc, what) from None
                delay = self.policy.delay(attempt, None)
                answer = describe(response) if response is not None else "no response"
                log_retry(what, f"unusable answer ({answer})", attempt + 1, retries, delay)
                time.sleep(delay)
            except (SentinelAPIError, requests.RequestException) as exc:
                raise self._error(exc, what) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the Catalogue protocol --------------------------------------------------------------

    def _keywords(self, query: SearchQuery) -> dict[str, Any]:
        keywords: dict[str, Any] = {"platformname": "Sentinel-1"}
        if query.product_type:
            keywords["producttype"] = query.product_type
        if query.mode:
            keywords["sensoroperationalmode"] = query.mode
        if query.orbit_direction:
            keywords["orbitdirection"] = query.orbit_direction.upper()
        if query.relative_orbit is not None:
            keywords["relativeorbitnumber"] = query.relative_orbit
        return keywords

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Every product matching the query (sentinelsat pages with ``rows``/``start``).

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        api = self.api()
        api.page_size = max(1, min(100, self.config.page_size))
        products: dict[str, dict[str, Any]] = self._call(
            "DHuS search",
            lambda: api.query(
                area=query.aoi.wkt,
                date=(query.start, query.end),
                order_by="+beginposition",
                **self._keywords(query),
            ),
        )
        logger.info("DHuS: %d products listed", len(products))
        for uuid, entry in products.items():
            yield scene_from_entry(entry, uuid, self.url, self.name)

    def get(self, name_or_id: str) -> Scene:
        """A product by UUID or by name (OpenSearch entry plus exact OData size/MD5/online).

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        key = name_or_id.strip().removesuffix(".zip").removesuffix(".SAFE")
        api = self.api()
        if _UUID.match(key):
            entries: dict[str, dict[str, Any]] = self._call(
                "DHuS product lookup", lambda: api.query(raw=f"uuid:{key}")
            )
        else:
            entries = self._call("DHuS product lookup", lambda: api.query(raw=f"identifier:{key}"))
        if not entries:
            raise ProductNotFoundError(f"no product {key!r} in the hub", url=clean_url(self.url))
        uuid, entry = next(iter(entries.items()))
        scene = scene_from_entry(entry, uuid, self.url, self.name)
        return self._with_odata(scene)

    def _with_odata(self, scene: Scene) -> Scene:
        info: dict[str, Any] = self._call(
            "DHuS product", lambda: self.api().get_product_odata(scene.id)
        )
        checksums = {"MD5": str(info["md5"]).lower()} if info.get("md5") else {}
        data = scene.to_dict()
        data.update(
            size=int(info["size"]) if info.get("size") is not None else None,
            checksums=checksums,
            online=bool(info.get("Online", True)),
            href=str(info.get("url") or scene.href),
        )
        return Scene.from_dict(data)

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download ``Products('uuid')/$value`` (Basic auth, Range resume, MD5 check).

        An offline (LTA) product answers 202 and the hub starts restoring it: that is a
        :class:`ProductOfflineError` unless ``wait_offline`` polls until it is online.

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        if scene.size is None or not scene.checksums or scene.online is None:
            scene = self._with_odata(scene)
        if not scene.href:
            raise ProductNotFoundError(f"{scene.name}: no download link")
        auth = _BasicAuth(self.credentials())
        while True:
            try:
                path = download_file(
                    scene.href,
                    out_dir / scene.filename,
                    session=new_session(),  # no session-wide auth: Basic only to the hub
                    policy=self.policy,
                    options=options,
                    auth=auth,
                    trusted_hosts=(url_host(self.url),),
                    size=scene.size,
                    checksums=scene.checksums,
                )
                break
            except ProductOfflineError as exc:
                if not options.wait_offline:
                    raise ProductOfflineError(
                        scene.name,
                        "offline (long-term archive); the hub was asked to restore it",
                        status=exc.status,
                        url=exc.url,
                    ) from None
                offline = Scene.from_dict({**scene.to_dict(), "online": False})
                scene = wait_until_online(offline, self._with_odata, self.config)
        if options.unzip:
            return unzip_product(path, out_dir, overwrite=options.overwrite)
        return path
