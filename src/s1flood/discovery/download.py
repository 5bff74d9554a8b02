"""Step 2 transfers: resumable, verified, retried downloads with bearer auth across redirects.

A download writes ``DEST.part`` and resumes it with an HTTP ``Range`` request after a cut
connection, a timeout or a server error; 429/503 honour ``Retry-After``; the finished file is
checked against the catalogue's checksum (MD5, SHA256 or BLAKE3) and renamed onto ``DEST``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from tqdm import tqdm

from s1flood.discovery._http import RETRY_STATUS, RetryPolicy, clean_url, describe, raise_for
from s1flood.discovery.catalogue import FetchOptions
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.scene import Scene
from s1flood.errors import (
    CatalogueError,
    ChecksumError,
    OutputExistsError,
    ProductOfflineError,
)

__all__ = [
    "HeaderAuth",
    "copy_file_atomic",
    "download_file",
    "file_digest",
    "unzip_product",
]

logger = logging.getLogger(__name__)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10


class HeaderAuth(Protocol):
    """Supplies an ``Authorization`` header; ``refresh`` renews it after a 401."""

    def headers(self) -> dict[str, str]:
        """Headers to add to requests sent to trusted hosts."""
        ...

    def refresh(self) -> bool:
        """Renew the credentials; False when nothing can be renewed."""
        ...


def _new_hash(algorithm: str) -> Any:
    algo = algorithm.upper()
    if algo == "MD5":
        return hashlib.md5(usedforsecurity=False)
    if algo in ("SHA256", "SHA-256"):
        return hashlib.sha256()
    if algo == "BLAKE3":
        import blake3

        return blake3.blake3()
    raise ValueError(f"unsupported checksum algorithm {algorithm}")


def file_digest(path: Path, algorithm: str, chunk: int = 1 << 22) -> str:
    """Hex digest of a file."""
    digest = _new_hash(algorithm)
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return str(digest.hexdigest())


def _pick_checksum(checksums: Mapping[str, str]) -> tuple[str, str] | None:
    upper = {k.upper(): v for k, v in checksums.items() if v}
    for algorithm in ("MD5", "SHA256", "BLAKE3"):  # MD5 first: hashlib, fastest here
        if algorithm in upper:
            if algorithm == "BLAKE3":
                try:
                    import blake3  # noqa: F401
                except ImportError:
                    continue
            return algorithm, upper[algorithm].lower()
    return None


def url_host(url: str) -> str:
    """The lower-case host name of a URL."""
    return (urlsplit(url).hostname or "").lower()


def _trusted(url: str, trusted_hosts: tuple[str, ...]) -> bool:
    """Whether credentials may go to `url`: HTTPS (or loopback) and a trusted host.

    The product URL's own host is not trusted by itself: it comes from catalogue data, and
    a token must only reach the hosts the configuration names.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and host not in ("127.0.0.1", "localhost", "::1"):
        return False  # never send a token in clear text
    return any(host == t or host.endswith("." + t) for t in trusted_hosts)


def _open(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    auth: HeaderAuth | None,
    trusted_hosts: tuple[str, ...],
    timeout: float,
) -> requests.Response:
    """GET following redirects by hand, keeping the bearer only for trusted hosts."""
    current = url
    for _ in range(_MAX_REDIRECTS + 1):
        sent = dict(headers)
        if auth is not None and _trusted(current, trusted_hosts):
            sent.update(auth.headers())
        response = session.get(
            current, headers=sent, stream=True, allow_redirects=False, timeout=timeout
        )
        if response.status_code in _REDIRECTS and "Location" in response.headers:
            current = urljoin(current, response.headers["Location"])
            logger.debug("redirected to %s", clean_url(current))
            response.close()
            continue
        return response
    raise CatalogueError("too many redirects", url=clean_url(url))


def download_file(
    url: str,
    dest: Path,
    *,
    session: requests.Session,
    policy: RetryPolicy,
    options: FetchOptions,
    auth: HeaderAuth | None = None,
    trusted_hosts: tuple[str, ...] = (),
    size: int | None = None,
    checksums: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part`` (resumed), verify, rename."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and not options.overwrite:
        raise OutputExistsError(dest)
    part = dest.with_name(dest.name + ".part")
    expected = _pick_checksum(checksums or {}) if options.verify_checksum else None
    failures = 0
    checksum_failures = 0
    refreshed = False
    total = size
    while True:
        offset = part.stat().st_size if part.exists() else 0
        if total is not None and offset > total:
            logger.warning("%s: partial file larger than the product; restarting", part.name)
            part.unlink()
            offset = 0
        done = total is not None and offset == total and offset > 0
        if not done:
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            problem = ""
            response: requests.Response | None = None
            try:
                response = _open(session, url, headers, auth, trusted_hosts, policy.timeout)
                status = response.status_code
                if status == 401 and auth is not None and not refreshed:
                    refreshed = auth.refresh()
                    if refreshed:
                        response.close()
                        continue
                if status == 202:
                    raise ProductOfflineError(
                        f"{dest.name}: product is offline (long-term archive); retrieval "
                        f"triggered ({describe(response)})",
                        status=status,
                        url=clean_url(url),
                    )
                if status == 416 and offset:
                    response.close()
                    if total is None or offset >= total:
                        done = True
                    else:
                        part.unlink()
                        continue
                elif status in RETRY_STATUS:
                    problem = f"HTTP {status}"
                elif status >= 400:
                    raise_for(response, f"download of {dest.name}")
                elif status == 200 and offset:
                    logger.info("%s: server ignored the range; restarting", dest.name)
                    part.unlink()
                    offset = 0
                if not problem and not done:
                    total = _receive(response, part, offset, total, dest.name, options)
                    done = True
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                _ShortBodyError,
            ) as exc:
                problem = str(exc) if isinstance(exc, _ShortBodyError) else type(exc).__name__
            finally:
                if response is not None:
                    response.close()
            if problem:
                now = part.stat().st_size if part.exists() else 0
                if now > offset:
                    failures = 0  # progress was made: the budget is per stall
                if failures >= policy.retries:
                    raise CatalogueError(
                        f"download of {dest.name} failed: {problem} "
                        f"(after {policy.retries} retries)",
                        status=response.status_code if response is not None else None,
                        url=clean_url(url),
                    )
                delay = policy.delay(failures, response if response is not None else None)
                failures += 1
                logger.warning(
                    "%s: %s at byte %d; retry %d/%d in %.1f s",
                    dest.name,
                    problem,
                    now,
                    failures,
                    policy.retries,
                    delay,
                )
                sleep(delay)
                continue
        if expected is not None:
            algorithm, value = expected
            actual = file_digest(part, algorithm)
            if actual != value:
                part.unlink()
                checksum_failures += 1
                if checksum_failures > options.checksum_retries:
                    raise ChecksumError(dest, algorithm, value, actual, url=clean_url(url))
                logger.warning("%s: %s mismatch; downloading again", dest.name, algorithm)
                continue
            logger.info("%s: %s verified", dest.name, algorithm)
        else:
            logger.warning("%s: the catalogue gives no checksum; not verified", dest.name)
        os.replace(part, dest)
        return dest


class _ShortBodyError(Exception):
    """The server closed the connection before the announced length."""


def _receive(
    response: requests.Response,
    part: Path,
    offset: int,
    total: int | None,
    label: str,
    options: FetchOptions,
) -> int | None:
    """Append the body to ``part``; return the full size; raise _ShortBodyError when cut."""
    length = response.headers.get("Content-Length")
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and content_range.startswith("bytes "):
        span, _, full = content_range[6:].partition("/")
        first = int(span.split("-")[0])
        if first != offset:
            raise _ShortBodyError(f"server resumed at {first}, not {offset}")
        if full.isdigit():
            total = int(full)
    elif length is not None and length.isdigit():
        total = offset + int(length)
    received = offset
    with (
        part.open("ab" if offset else "wb") as fh,
        tqdm(
            total=total,
            initial=offset,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label[:40],
            disable=not options.progress,
            leave=False,
        ) as bar,
    ):
        for chunk in response.iter_content(chunk_size=options.chunk_size):
            fh.write(chunk)
            received += len(chunk)
            bar.update(len(chunk))
    if total is not None and received < total:
        raise _ShortBodyError(f"body cut short at {received} of {total} bytes")
    return total if total is not None else received


def copy_file_atomic(source: Path, target: Path) -> Path:
    """Copy a file through ``target.part`` and rename it."""
    part = target.with_name(target.name + ".part")
    shutil.copyfile(source, part)
    os.replace(part, target)
    return target


def unzip_product(archive: Path, out_dir: Path, *, overwrite: bool = False) -> Path:
    """Extract a zipped SAFE into ``out_dir`` (atomically); return the ``.SAFE`` directory."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        roots = {n.split("/", 1)[0] for n in names if n.strip("/")}
        for name in names:
            if name.startswith("/") or ".." in Path(name).parts:
                raise CatalogueError(f"{archive.name}: unsafe path in zip: {name!r}")
        top = roots.pop() if len(roots) == 1 else archive.name.removesuffix(".zip")
        if not top.endswith(".SAFE"):
            top = top.removesuffix(".SAFE") + ".SAFE"
        target = out_dir / top
        if target.exists() and not overwrite:
            raise OutputExistsError(target)
        tmp = out_dir / f".{top}.unzip"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        zf.extractall(tmp)
    inner = tmp / top if (tmp / top).is_dir() else tmp
    if target.exists():
        shutil.rmtree(target)
    inner.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def wait_until_online(
    scene: Scene, refresh: Callable[[Scene], Scene], config: DiscoveryConfig
) -> Scene:
    """Poll the catalogue (`refresh`) until an offline product is online, or give up."""
    deadline = time.monotonic() + config.offline_timeout
    while scene.online is False:
        if time.monotonic() > deadline:
            raise ProductOfflineError(
                f"{scene.name} still offline after {config.offline_timeout:g} s"
            )
        logger.info("%s is offline; checking again in %g s", scene.name, config.offline_poll)
        time.sleep(config.offline_poll)
        scene = refresh(scene)
    return scene
