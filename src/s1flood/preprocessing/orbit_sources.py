"""Orbit files found and fetched for a product: ``orbit="auto"``, as SNAP's Apply-Orbit-File.

`resolve_orbit` takes the satellite and the acquisition times from the product name, then
uses, in this order:

1. a precise orbit (``AUX_POEORB``) in the cache (``orbits/``) covering the acquisition: no
   request at all;
2. the public orbit bucket (the discovery setting ``orbit_url``; an S3 bucket whose keys are
   ``AUX_POEORB/<name>.EOF`` and ``AUX_RESORB/<name>.EOF``, listed with ``ListObjectsV2``):
   the newest POEORB covering the acquisition, else the newest RESORB (a POEORB exists about
   20 days after the acquisition), downloaded once into the cache (atomic, locked, resumed,
   retried);
3. a RESORB already in the cache;
4. offline or when no file covers the acquisition: the annotation's state vectors, with one
   warning line (the documented fallback; the geolocation error of the annotation orbit is
   a few metres for IW GRD).
"""

from __future__ import annotations

import logging
import re
import time
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


def _download(client: _Client, key: str, report: OrbitFetch) -> Path:
    """The cached EOF for a bucket key (downloaded once, under its lock) and checked."""
    from s1flood.discovery.catalogue import FetchOptions
    from s1flood.discovery.download import download_file

    dest = cache_dir("orbits") / Path(key).name
    with entry_lock(dest):
        if not dest.exists():
            options = FetchOptions(verify_checksum=False, overwrite=True)
            part = dest.with_name(dest.name + ".download")
            download_file(
                f"{client.base}/{key}", part, session=client.session, policy=client.policy,
                options=options,
            )  # fmt: skip
            report.bytes += part.stat().st_size
            try:
                parse_eof(part)
            except OrbitFileError:
                part.unlink(missing_ok=True)
                raise
            part.replace(dest)
    return dest


def resolve_orbit(product: Path | str, *, settings: Any = None) -> OrbitFetch:
    """Find (cache, then the orbit bucket) the orbit file for a product; see the module doc.

    Args:
        product: the product path or name (its name gives satellite and times).
        settings: a `DiscoveryConfig` (default: `load_config()`).
    """
    from s1flood.discovery.config import load_config

    started = time.perf_counter()
    mission, start, stop = product_times(product)
    folder = cache_dir("orbits")
    cached = select_orbit_file(folder, mission, start, stop)
    if cached is not None and "POEORB" in cached.file_type:
        report = OrbitFetch(cached.path, cached.file_type, "cache")
    else:
        config = settings if settings is not None else load_config()
        client = _Client(config)
        report = OrbitFetch(None, "annotation", "")
        try:
            key = _find(client, mission, start, stop)
            if key is not None:
                report.path = _download(client, key, report)
                report.kind = parse_eof(report.path).file_type
                report.source = client.base
        except (CatalogueError, OrbitFileError) as exc:
            report.source = f"orbit service failed: {exc}"
        finally:
            report.requests = client.requests
            client.session.close()
        if report.path is None and cached is not None:
            report.path, report.kind, report.source = cached.path, cached.file_type, "cache"
        elif report.path is None:
            why = report.source or f"no orbit file at {client.base} covers the acquisition"
            log.warning("orbit auto: %s; using the annotation orbit", why)
            report.source = why
    report.seconds = time.perf_counter() - started
    log.info(
        "orbit %s: %s from %s (%d request(s), %.2f MB, %.2f s)",
        mission, report.path.name if report.path else "annotation", report.source,
        report.requests, report.bytes / 1e6, report.seconds,
    )  # fmt: skip
    return report
