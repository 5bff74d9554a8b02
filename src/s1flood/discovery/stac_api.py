"""``stac:URL`` / ``stac:PRESET``: any STAC API through pystac-client (GET or POST search).

pystac-client is imported when a STAC catalogue is first used, not when the registry loads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import requests

from s1flood.discovery._http import clean_url, new_session
from s1flood.discovery.catalogue import FetchOptions, SearchQuery
from s1flood.discovery.config import STAC_PRESETS, DiscoveryConfig
from s1flood.discovery.download import download_file
from s1flood.discovery.products import unzip_product
from s1flood.discovery.retries import LoggedRetry, RetryPolicy, transport_problem
from s1flood.discovery.scene import Scene
from s1flood.discovery.stac_items import scene_from_item
from s1flood.errors import CatalogueError, InvalidOptionError, ProductNotFoundError

if TYPE_CHECKING:
    from pystac_client import Client

__all__ = ["StacApiCatalogue"]

logger = logging.getLogger(__name__)


def _api_errors() -> tuple[type[Exception], ...]:
    """What a pystac-client call raises for a failed or unusable answer."""
    from pystac_client.exceptions import APIError

    return (APIError, requests.RequestException, ValueError)


class StacApiCatalogue:
    """A STAC API's Sentinel-1 GRD collection (presets: cdse, planetary-computer, earth-search)."""

    usage: ClassVar[str] = "stac:URL|PRESET"

    def __init__(self, url_or_preset: str, config: DiscoveryConfig) -> None:
        preset = STAC_PRESETS.get(url_or_preset.lower())
        self.url, collection = preset if preset else (url_or_preset, "sentinel-1-grd")
        self.collection = config.stac_collection or collection
        self.name = f"stac:{self.url}"
        self.config = config
        self.policy = RetryPolicy.from_config(config)
        self._client: Client | None = None

    @classmethod
    def from_spec(cls, arg: str, config: DiscoveryConfig) -> StacApiCatalogue:
        """The catalogue for the spec ``stac:URL`` or ``stac:PRESET``.

        Args:
            arg: the API root URL, or a preset name (cdse, planetary-computer, earth-search).
            config: endpoints and transfer settings.
        """
        if not arg:
            raise InvalidOptionError("catalogue", "stac", "expected stac:URL or stac:PRESET")
        return cls(arg, config)

    def _error(self, exc: Exception, what: str) -> CatalogueError:
        problem = transport_problem(exc, self.policy.timeout)
        if problem is not None:  # urllib3 has retried it (LoggedRetry)
            return CatalogueError(
                f"STAC {what}: {problem} (after {self.policy.retries} retries)",
                url=clean_url(self.url),
            )
        status = getattr(exc, "status_code", None)
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        if "<html" in text.lower() or "<!doctype" in text.lower():
            text = "an HTML page (maintenance?)"
        return CatalogueError(f"STAC {what}: {text}", status=status, url=clean_url(self.url))

    def client(self) -> Client:
        """The pystac-client Client (opened once; retries through urllib3, logged as ours)."""
        if self._client is None:
            from pystac_client import Client
            from pystac_client.stac_api_io import StacApiIO

            retry = LoggedRetry.for_policy(self.policy, f"STAC API {clean_url(self.url)}")
            io = StacApiIO(max_retries=retry, timeout=self.policy.timeout)
            try:
                self._client = Client.open(self.url, stac_io=io)
            except Exception as exc:  # also pystac's STACTypeError etc. on a non-STAC body
                raise self._error(exc, "landing page") from None
        return self._client

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Every Item intersecting the AOI in the window, all pages (``next`` links).

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        client = self.client()
        search = client.search(
            collections=[self.collection],
            intersects=query.aoi.__geo_interface__,
            datetime=[query.start, query.end],
            limit=self.config.page_size,
        )
        try:
            for page in search.pages_as_dicts():
                for item in page.get("features", []):
                    yield scene_from_item(item, self.name)
        except _api_errors() as exc:
            raise self._error(exc, "search") from None

    def get(self, name_or_id: str) -> Scene:
        """An Item by id (product names are ids in the usual S1 GRD collections).

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        key = name_or_id.removesuffix(".zip").removesuffix(".SAFE")
        try:
            items = list(
                self.client().search(collections=[self.collection], ids=[key]).items_as_dicts()
            )
        except _api_errors() as exc:
            raise self._error(exc, "item lookup") from None
        if not items:
            raise ProductNotFoundError(
                f"no item {key!r} in {self.collection}", url=clean_url(self.url)
            )
        return scene_from_item(items[0], self.name)

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Download the Item's product asset (no auth: signed or public hrefs).

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        if not scene.href or not scene.href.startswith(("http://", "https://")):
            raise ProductNotFoundError(
                f"{scene.name}: this STAC API gives no downloadable product asset "
                "(only per-file assets); use another catalogue to fetch it",
                url=clean_url(self.url),
            )
        path = download_file(
            scene.href,
            out_dir / scene.filename,
            session=new_session(),
            policy=self.policy,
            options=options,
            size=scene.size,
            checksums=scene.checksums,
        )
        if options.unzip:
            return unzip_product(path, out_dir, overwrite=options.overwrite)
        return path
