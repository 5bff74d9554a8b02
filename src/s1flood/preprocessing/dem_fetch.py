"""How DEM tiles reach the mosaic: whole tiles into the cache, or windows by HTTP ranges.

``dem_fetch = "tiles"`` (the default, as SNAP does): each tile is downloaded once, whole,
into the cache (locked, atomic, resumed with ranges after a cut, retried on 5xx), then reused
by every AOI, scene and run, also offline. ``dem_fetch = "windows"``: each tile is opened
through GDAL's ``/vsicurl/`` and only the blocks under the AOI are read with HTTP range
requests (GDAL retries 429/5xx, ``GDAL_HTTP_MAX_RETRY`` from the ``retries`` setting); only
the AOI's mosaic is cached, so another AOI reads the network again. A tile answering 404 is
a cell without a tile (open sea) in both modes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rasterio
import rasterio.errors

from s1flood.cache import atomic_path, entry_lock
from s1flood.errors import CatalogueError

if TYPE_CHECKING:
    from s1flood.preprocessing.dem_sources import DemFetch

__all__ = ["fetch_tile", "gdal_http_env", "remote_tile"]

log = logging.getLogger(__name__)


def gdal_http_env(config: Any) -> dict[str, str]:
    """GDAL options for ``/vsicurl/`` reads under the discovery settings' retry policy.

    Args:
        config: a `DiscoveryConfig` (``retries``, ``backoff``, ``timeout``).
    """
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
        "GDAL_HTTP_MAX_RETRY": str(int(config.retries)),
        "GDAL_HTTP_RETRY_DELAY": str(float(config.backoff)),
        "GDAL_HTTP_TIMEOUT": str(max(1, int(config.timeout))),
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def remote_tile(url: str, name: str, config: Any) -> str | None:
    """The tile's ``/vsicurl/`` path when it exists (None on 404), for range reads.

    Args:
        url: the tile's HTTP(S) URL.
        name: the tile name (for messages).
        config: a `DiscoveryConfig` (retries and timeout).
    """
    path = f"/vsicurl/{url}"
    try:
        with rasterio.Env(**gdal_http_env(config)), rasterio.open(path) as src:
            if src.count < 1 or src.crs is None:
                raise CatalogueError(f"DEM tile {name} is not a readable GeoTIFF", url=url)
    except rasterio.errors.RasterioIOError as exc:
        if "404" in str(exc):
            log.info("%s: no tile (open sea): heights 0 m above the geoid", name)
            return None
        raise CatalogueError(f"DEM tile {name}: {_first_line(exc)}", url=url) from None
    return path


def _known_missing(marker: Path, url: str) -> bool:
    """Whether this very URL answered 404 before (another base URL is asked again)."""
    try:
        return marker.read_text().strip() == url
    except OSError:
        return False


class _Counter:
    """Counts the requests a session sends (for the figures `DemFetch` reports)."""

    def __init__(self, session: Any) -> None:
        self.requests = 0
        original = session.request

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests += 1
            return original(*args, **kwargs)

        session.request = counted


def _check_tile(path: Path, name: str) -> None:
    """Raise a one-line error (and drop the file) unless it is a readable 1-band raster."""
    try:
        with rasterio.open(path) as src:
            if src.count < 1 or src.crs is None:
                raise ValueError("no band or no CRS")
    except (rasterio.errors.RasterioError, ValueError) as exc:
        path.unlink(missing_ok=True)
        message = _first_line(exc)
        raise CatalogueError(f"DEM tile {name} is not a readable GeoTIFF ({message})") from None


def fetch_tile(url: str, dest: Path, config: Any, report: DemFetch) -> Path | None:
    """The cached whole tile ``dest`` (downloaded once, under its lock), None on 404.

    Args:
        url: the tile's HTTP(S) URL.
        dest: the tile's place in the cache (``NAME.tif``; ``NAME.missing`` records a 404).
        config: a `DiscoveryConfig` (retries, timeout).
        report: the figures to add requests and bytes to.
    """
    from s1flood.discovery._http import new_session
    from s1flood.discovery.catalogue import FetchOptions
    from s1flood.discovery.download import download_file
    from s1flood.discovery.retries import RetryPolicy

    name = dest.stem
    missing = dest.with_suffix(".missing")  # holds the URL that answered 404
    if dest.exists():
        return dest
    if _known_missing(missing, url):
        return None
    with entry_lock(dest):
        if dest.exists():  # another process fetched it while this one waited
            return dest
        if _known_missing(missing, url):
            return None
        download = dest.parent / ".incoming" / dest.name  # checked before it is renamed
        options = FetchOptions(verify_checksum=False, overwrite=True, chunk_size=1 << 20)
        with new_session() as session:
            counter = _Counter(session)
            try:
                download_file(
                    url, download, session=session, policy=RetryPolicy.from_config(config),
                    options=options,
                )  # fmt: skip
            except CatalogueError as exc:
                if exc.status != 404:
                    raise
                log.info("%s: no tile (open sea): heights 0 m above the geoid", name)
                with atomic_path(missing) as tmp:
                    tmp.write_text(url + "\n")
                return None
            finally:
                report.requests += counter.requests
        report.bytes += download.stat().st_size
        _check_tile(download, name)
        download.replace(dest)
        log.info("%s: fetched (%.1f MB)", name, dest.stat().st_size / 1e6)
        return dest
