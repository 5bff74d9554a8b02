"""Step 2 transfers: resumable, verified, retried downloads with bearer auth across redirects.

A download writes ``DEST.part`` and resumes it with an HTTP ``Range`` request after a cut
connection, a timeout or a server error; 429/503 honour ``Retry-After``; the finished file is
checked against the catalogue's checksum (MD5, SHA256 or BLAKE3) and renamed onto ``DEST``.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from tqdm import tqdm

from s1flood.discovery._http import clean_url, describe, raise_for
from s1flood.discovery.catalogue import FetchOptions
from s1flood.discovery.retries import RETRY_STATUS, RetryPolicy, log_retry, transport_problem
from s1flood.errors import (
    CatalogueError,
    ChecksumError,
    DiskFullError,
    OutputExistsError,
    ProductOfflineError,
)

__all__ = [
    "HeaderAuth",
    "download_file",
    "file_digest",
    "is_loopback",
    "url_host",
]

logger = logging.getLogger(__name__)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10


class HeaderAuth(Protocol):
    """Supplies an ``Authorization`` header; ``refresh`` renews it after a 401."""

    def headers(self) -> dict[str, str]:
        """Headers to add to requests sent to trusted hosts."""

    def refresh(self) -> bool:
        """Renew the credentials; False when nothing can be renewed."""


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
    """Hex digest of a file.

    Args:
        path: the file.
        algorithm: ``MD5``, ``SHA256`` or ``BLAKE3``.
        chunk: bytes read at a time.
    """
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
    """The lower-case host name of a URL.

    Args:
        url: an http(s) URL.
    """
    return (urlsplit(url).hostname or "").lower()


def is_loopback(host: str) -> bool:
    """Whether a host name is this machine: ``localhost``, 127.0.0.0/8 or ``::1``.

    Args:
        host: a host name or IP address as a URL gives it (no brackets, no port).
    """
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _trusted(url: str, trusted_hosts: tuple[str, ...]) -> bool:
    """Whether credentials may go to `url`: HTTPS (or loopback) and a trusted host.

    The product URL's own host is not trusted by itself: it comes from catalogue data, and
    a token must only reach the hosts the configuration names.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not is_loopback(host):
        return False  # never send a token in clear text over a network
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
    """Download ``url`` to ``dest`` through ``dest.part`` (resumed), verify, rename.

    Args:
        url: the product URL (redirects are followed).
        dest: the file to write.
        session: the HTTP session to send requests with.
        policy: retries, backoff and timeout.
        options: overwrite, checksum verification, progress bar and chunk size.
        auth: source of the ``Authorization`` header; sent only to ``trusted_hosts``.
        trusted_hosts: hosts (and their subdomains) that may receive ``auth``'s header.
        size: the product size in bytes, if the catalogue gives it.
        checksums: algorithm name (MD5, SHA256, BLAKE3) to hex digest, from the catalogue.
        sleep: waits between retries (tests pass a fake).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and not options.overwrite:
        raise OutputExistsError(dest)
    transfer = _Transfer(url, dest, session, policy, options, auth, trusted_hosts, size, sleep)
    expected = _pick_checksum(checksums or {}) if options.verify_checksum else None
    try:
        while True:
            transfer.receive_all()
            if transfer.verified(expected):
                os.replace(transfer.part, dest)
                return dest
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        transfer.part.unlink(missing_ok=True)  # a part that cannot grow only holds the space
        raise DiskFullError(dest.parent) from exc


_DONE, _AGAIN = "done", "again"  # outcomes of one request other than a problem to retry


class _ShortBodyError(Exception):
    """The server closed the connection before the announced length."""


@dataclass
class _Transfer:
    """The state of one download: the part file, the size, retry and refresh counters."""

    url: str
    dest: Path
    session: requests.Session
    policy: RetryPolicy
    options: FetchOptions
    auth: HeaderAuth | None
    trusted_hosts: tuple[str, ...]
    total: int | None
    sleep: Callable[[float], None]
    refreshed: bool = False
    failures: int = 0
    checksum_failures: int = 0
    response: requests.Response | None = None

    @property
    def part(self) -> Path:
        """The partial file the body is appended to."""
        return self.dest.with_name(self.dest.name + ".part")

    @property
    def what(self) -> str:
        """How log lines and errors name the transfer."""
        return f"download of {self.dest.name}"

    def _offset(self) -> int:
        offset = self.part.stat().st_size if self.part.exists() else 0
        if self.total is not None and offset > self.total:
            logger.warning("%s: partial file larger than the product; restarting", self.part.name)
            self.part.unlink()
            return 0
        return offset

    def receive_all(self) -> None:
        """Request (and resume) until the part file holds the whole body, or raise."""
        while True:
            offset = self._offset()
            if self.total is not None and offset == self.total and offset > 0:
                return
            outcome = self._attempt(offset)
            if outcome == _DONE:
                return
            if outcome != _AGAIN:
                self._back_off(outcome, offset)

    def _attempt(self, offset: int) -> str:
        """One request: `_DONE`, `_AGAIN` (at once), or the problem to retry after a wait."""
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        self.response = None
        try:
            self.response = _open(
                self.session, self.url, headers, self.auth, self.trusted_hosts, self.policy.timeout
            )
            return self._handle(self.response, offset)
        except _ShortBodyError as exc:
            return str(exc)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            return transport_problem(exc, self.policy.timeout) or type(exc).__name__
        finally:
            if self.response is not None:
                self.response.close()

    def _handle(self, response: requests.Response, offset: int) -> str:
        """Act on a response: receive the body, or say what to do next."""
        status = response.status_code
        if status == 401 and self.auth is not None and not self.refreshed:
            self.refreshed = self.auth.refresh()
            if self.refreshed:
                return _AGAIN
        if status == 202:
            raise ProductOfflineError(
                self.dest.name,
                f"offline (long-term archive); retrieval triggered ({describe(response)})",
                status=status,
                url=clean_url(self.url),
            )
        if status == 416 and offset:
            if self.total is None or offset >= self.total:
                return _DONE
            self.part.unlink()
            return _AGAIN
        if status in RETRY_STATUS:
            return f"HTTP {status}"
        if status >= 400:
            raise_for(response, self.what)
        if status == 200 and offset:
            logger.info("%s: server ignored the range; restarting", self.dest.name)
            self.part.unlink()
            offset = 0
        self.total = _receive(response, self.part, offset, self.total, self.dest.name, self.options)
        return _DONE

    def _back_off(self, problem: str, offset: int) -> None:
        """Wait before the next request, or raise when the retries are spent."""
        now = self.part.stat().st_size if self.part.exists() else 0
        if now > offset:
            self.failures = 0  # progress was made: the budget is per stall
        retries = self.policy.retries
        if self.failures >= retries:
            raise CatalogueError(
                f"{self.what} failed: {problem} (after {retries} retries)",
                status=self.response.status_code if self.response is not None else None,
                url=clean_url(self.url),
            )
        delay = self.policy.delay(self.failures, self.response)
        self.failures += 1
        log_retry(self.what, f"{problem} at byte {now}", self.failures, retries, delay)
        self.sleep(delay)

    def verified(self, expected: tuple[str, str] | None) -> bool:
        """Whether the part file matches the checksum; False (file removed) to download again.

        Args:
            expected: (algorithm, hex digest), or None when there is nothing to check.
        """
        if expected is None:
            if self.options.verify_checksum:  # else the caller chose not to verify
                logger.warning("%s: the catalogue gives no checksum; not verified", self.dest.name)
            return True
        algorithm, value = expected
        actual = file_digest(self.part, algorithm)
        if actual == value:
            logger.info("%s: %s verified", self.dest.name, algorithm)
            return True
        self.part.unlink()
        self.checksum_failures += 1
        allowed = self.options.checksum_retries
        if self.checksum_failures > allowed:
            raise ChecksumError(self.dest, algorithm, value, actual, url=clean_url(self.url))
        log_retry(self.what, f"{algorithm} mismatch", self.checksum_failures, allowed, 0.0)
        return False


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
