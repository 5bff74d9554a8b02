"""Orbit files found and fetched for a product: ``orbit="auto"``, as SNAP's Apply-Orbit-File.

`resolve_orbit` takes the satellite and the acquisition times from the product name, then
uses, in this order:

1. a precise orbit (``AUX_POEORB``) in the cache (``orbits/``) covering the acquisition: no
   request at all;
2. the orbit services of the discovery setting ``orbit_services`` in turn (default
   ``bucket,cdse``), the first with a covering file winning: ``bucket``, the public orbit
   bucket at ``orbit_url`` (an S3 bucket whose keys are ``AUX_POEORB/<name>.EOF`` and
   ``AUX_RESORB/<name>.EOF``, listed with ``ListObjectsV2``), and ``cdse``, the CDSE
   catalogue's AUX products with the download credentials (`orbit_cdse`; skipped without
   credentials). Each gives the newest POEORB covering the acquisition, else the newest RESORB
   (a POEORB exists about 20 days after the acquisition), downloaded once into the cache
   (atomic, locked, resumed, retried);
3. a RESORB already in the cache;
4. offline or when no file covers the acquisition: the annotation's state vectors, with one
   warning line (the documented fallback; the geolocation error of the annotation orbit is
   a few metres for IW GRD).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from s1flood.cache import cache_dir, entry_lock
from s1flood.errors import CatalogueError, InvalidOptionError, OrbitFileError
from s1flood.preprocessing.orbit import MARGIN, parse_eof, select_orbit_file

__all__ = [
    "ORBIT_AUTO",
    "OrbitFetch",
    "is_orbit_auto",
    "list_orbit_keys",
    "product_times",
    "resolve_orbit",
]

log = logging.getLogger(__name__)

ORBIT_AUTO = "auto"
_PRODUCT = re.compile(r"(S1[A-D])_[A-Z0-9]{2}_[A-Z_]{4}_[0-9A-Z]{4}_(\d{8}T\d{6})_(\d{8}T\d{6})_")
_EOF = re.compile(
    r"(S1[A-D])_OPER_AUX_(POEORB|RESORB)_OPOD_(\d{8}T\d{6})_V(\d{8}T\d{6})_(\d{8}T\d{6})\.EOF$"
)
_S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def is_orbit_auto(orbit: Path | str | None) -> bool:
    """Whether an ``orbit`` value asks for the orbit file to be found and fetched.

    Args:
        orbit: the ``orbit`` parameter as given.
    """
    return orbit is not None and str(orbit).strip().lower() == ORBIT_AUTO


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def product_times(product: Path | str) -> tuple[str, datetime, datetime]:
    """Satellite (S1A...), start and stop of a product, from its standard name.

    Args:
        product: the product path or name (``.SAFE``, ``.zip`` or bare).
    """
    match = _PRODUCT.search(Path(product).name)
    if match is None:
        raise InvalidOptionError(
            "orbit", ORBIT_AUTO, f"{Path(product).name} is not a Sentinel-1 product name"
        )
    return match.group(1), _time(match.group(2)), _time(match.group(3))


@dataclass
class OrbitFetch:
    """What `resolve_orbit` found: the EOF (or None: annotation), its kind and the cost."""

    path: Path | None
    kind: str
    """``AUX_POEORB``, ``AUX_RESORB`` or ``annotation``."""
    source: str
    """``cache``, the bucket URL, or why the annotation is used."""
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (paths as strings)."""
        out = asdict(self)
        out["path"] = str(self.path) if self.path else None
        return out


class _Client:
    """The bucket's HTTP side: a session, the retry policy, a request count."""

    def __init__(self, config: Any) -> None:
        from s1flood.discovery._http import new_session
        from s1flood.discovery.retries import RetryPolicy

        self.config = config
        self.base = str(config.orbit_url).rstrip("/")
        self.policy = RetryPolicy.from_config(config)
        self.session = new_session()
        self.requests = 0
        original = self.session.request

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests += 1
            return original(*args, **kwargs)

        self.session.request = counted  # type: ignore[method-assign]

    def list(self, prefix: str) -> list[str]:
        return list_orbit_keys(self, prefix)


def list_orbit_keys(client: Any, prefix: str) -> list[str]:
    """Every key under ``prefix`` in the bucket (all ``ListObjectsV2`` pages).

    Args:
        client: holds ``session``, ``base`` (bucket URL) and ``policy`` (retries).
        prefix: the key prefix, e.g. ``AUX_POEORB/S1A_OPER_AUX_POEORB_OPOD_202201``.
    """
    from s1flood.discovery._http import request

    keys: list[str] = []
    token: str | None = None
    while True:
        params = {"list-type": "2", "prefix": prefix}
        if token:
            params["continuation-token"] = token
        response = request(
            client.session, "GET", client.base + "/", what="orbit listing",
            policy=client.policy, params=params,
        )  # fmt: skip
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise CatalogueError(
                "orbit listing: not an S3 ListObjectsV2 XML answer", url=client.base
            ) from None
        keys += [k.text or "" for k in root.iter(f"{_S3}Key")]
        truncated = (root.findtext(f"{_S3}IsTruncated") or "false").strip() == "true"
        token = root.findtext(f"{_S3}NextContinuationToken")
        if not truncated or not token:
            return keys


def _covering(keys: list[str], mission: str, start: datetime, stop: datetime) -> str | None:
    """The newest key whose validity (from its name) covers the acquisition with MARGIN."""
    best: tuple[datetime, str] | None = None
    for key in keys:
        match = _EOF.search(key)
        if match is None or match.group(1) != mission:
            continue
        made, v0, v1 = (_time(match.group(i)) for i in (3, 4, 5))
        if v0 <= start - MARGIN and stop + MARGIN <= v1 and (best is None or made > best[0]):
            best = (made, key)
    return best[1] if best else None


def _find(client: _Client, mission: str, start: datetime, stop: datetime) -> str | None:
    """The bucket key of the best orbit: POEORB (produced in the next weeks), else RESORB."""
    months = sorted({(start + timedelta(days=d)).strftime("%Y%m") for d in (0, 31, 62)})
    for month in months:
        keys = client.list(f"AUX_POEORB/{mission}_OPER_AUX_POEORB_OPOD_{month}")
        if key := _covering(keys, mission, start, stop):
            return key
    days = sorted({(start + timedelta(days=d)).strftime("%Y%m%d") for d in (0, 1)})
    keys = [
        k for day in days for k in client.list(f"AUX_RESORB/{mission}_OPER_AUX_RESORB_OPOD_{day}")
    ]
    return _covering(keys, mission, start, stop)


def _cached_download(name: str, fetch: Callable[[Path], Any], report: OrbitFetch) -> Path:
    """The cached EOF ``name``: fetched once (under its lock) with ``fetch(part)``, checked."""
    dest = cache_dir("orbits") / name
    with entry_lock(dest):
        if not dest.exists():
            part = dest.parent / ".incoming" / dest.name  # checked before it is renamed
            fetch(part)
            report.bytes += part.stat().st_size
            try:
                parse_eof(part)
            except OrbitFileError:
                part.unlink(missing_ok=True)
                raise
            part.replace(dest)
    return dest


def _from_bucket(
    client: _Client, mission: str, start: datetime, stop: datetime, report: OrbitFetch
) -> Path | None:
    from s1flood.discovery.catalogue import FetchOptions
    from s1flood.discovery.download import download_file

    key = _find(client, mission, start, stop)
    if key is None:
        return None
    options = FetchOptions(verify_checksum=False, overwrite=True)
    return _cached_download(
        Path(key).name,
        lambda part: download_file(
            f"{client.base}/{key}", part, session=client.session, policy=client.policy,
            options=options,
        ),
        report,
    )  # fmt: skip


def _from_cdse(
    client: _Client, mission: str, start: datetime, stop: datetime, report: OrbitFetch
) -> Path | None:
    from s1flood.preprocessing.orbit_cdse import (
        cdse_orbit_product,
        download_cdse_orbit,
        has_cdse_credentials,
    )

    if not has_cdse_credentials(client.config):
        raise CatalogueError("no CDSE credentials (S1FLOOD_CDSE_USERNAME/PASSWORD or netrc)")
    product = cdse_orbit_product(client.config, client.session, mission, start, stop)
    if product is None:
        return None
    return _cached_download(
        str(product["Name"]),
        lambda part: download_cdse_orbit(client.config, client.session, product, part),
        report,
    )


_SERVICES = {"bucket": _from_bucket, "cdse": _from_cdse}


def _services(config: Any) -> list[str]:
    names = [s.strip().lower() for s in str(config.orbit_services).split(",") if s.strip()]
    for name in names:
        if name not in _SERVICES:
            raise InvalidOptionError(
                "settings", f"orbit_services={config.orbit_services}", "use bucket and/or cdse"
            )
    return names


def _fetch(
    client: _Client, mission: str, start: datetime, stop: datetime, report: OrbitFetch
) -> list[str]:
    """Ask each orbit service in turn; fill ``report`` from the first with a file; problems."""
    problems = []
    for service in _services(client.config):
        try:
            found = _SERVICES[service](client, mission, start, stop, report)
        except (CatalogueError, OrbitFileError) as exc:
            problems.append(f"{service}: {exc}")
            continue
        if found is not None:
            report.path, report.kind = found, parse_eof(found).file_type
            report.source = client.base if service == "bucket" else "cdse"
            return problems
        problems.append(f"{service}: no orbit file covers the acquisition")
    return problems


def resolve_orbit(product: Path | str, *, settings: Any = None) -> OrbitFetch:
    """Find the orbit file for a product (cache, then each orbit service); see the module doc.

    Args:
        product: the product path or name (its name gives satellite and times).
        settings: a `DiscoveryConfig` (default: `load_config()`).
    """
    from s1flood.discovery.config import load_config

    started = time.perf_counter()
    mission, start, stop = product_times(product)
    cached = select_orbit_file(cache_dir("orbits"), mission, start, stop)
    if cached is not None and "POEORB" in cached.file_type:
        report = OrbitFetch(cached.path, cached.file_type, "cache")
    else:
        client = _Client(settings if settings is not None else load_config())
        report = OrbitFetch(None, "annotation", "")
        try:
            problems = _fetch(client, mission, start, stop, report)
        finally:
            report.requests = client.requests
            client.session.close()
        if report.path is None and cached is not None:
            report.path, report.kind, report.source = cached.path, cached.file_type, "cache"
        elif report.path is None:
            report.source = "; ".join(problems)
            log.warning("orbit auto: %s; using the annotation orbit", report.source)
    report.seconds = time.perf_counter() - started
    log.info(
        "orbit %s: %s from %s (%d request(s), %.2f MB, %.2f s)",
        mission, report.path.name if report.path else "annotation", report.source,
        report.requests, report.bytes / 1e6, report.seconds,
    )  # fmt: skip
    return report
