"""Byte ranges of one remote file over HTTP ``Range``: retried, resumed, counted, re-signed.

`RangeReader` is what AOI-only reads (``read: aoi``) stand on. Bytes are fetched in blocks
(runs of missing blocks in one request) kept in a bounded LRU cache shared by the threads that
read the file, so rows or tiles that several output tiles need travel once. A response cut
mid-range is resumed from the byte it stopped at; 429/5xx and transport errors are retried
with the policy's backoff; a 401 refreshes the bearer once; a 403 on a signed URL re-signs it.
A server answering ``200`` (the whole body) to a range request is not misread: the body is
kept once in a temporary file and every later read is served from it (one INFO line).
Log lines and errors name the URL without its query (no token, no signature).
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

import requests

from s1flood.discovery._http import clean_url, new_session, raise_for
from s1flood.discovery.download import HeaderAuth, _open
from s1flood.discovery.retries import RETRY_STATUS, RetryPolicy, log_retry, transport_problem
from s1flood.errors import CatalogueError

__all__ = ["RangeReader", "RangesUnsupportedError", "Signer"]

logger = logging.getLogger(__name__)

BLOCK = 1 << 18
"""Bytes per cached block (256 KiB)."""
CACHE_BYTES = 256 << 20
"""Bytes of blocks kept per file (LRU)."""
_WHOLE = "whole"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Signer(Protocol):
    """Signs a URL (e.g. a SAS token appended); ``refresh`` gets a new signature."""

    def sign(self, url: str) -> str:
        """The signed URL."""
        ...

    def refresh(self) -> bool:
        """Drop the cached signature; False when no new one can be had."""
        ...


class RangesUnsupportedError(CatalogueError):
    """The server answers range requests with the whole body."""


class _CutError(Exception):
    """The body stopped before the end of the range."""


class RangeReader:
    """Byte ranges of one remote file, with retries, resume, block cache and byte count."""

    def __init__(
        self,
        url: str,
        *,
        policy: RetryPolicy,
        auth: HeaderAuth | None = None,
        trusted_hosts: tuple[str, ...] = (),
        signer: Signer | None = None,
        label: str = "",
        cache_bytes: int = CACHE_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.policy = policy
        self.auth = auth
        self.trusted_hosts = trusted_hosts
        self.signer = signer
        self.label = label or Path(clean_url(url)).name
        self.size: int | None = None
        self.bytes_received = 0
        self.requests = 0
        self._max_blocks = max(4, cache_bytes // BLOCK)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._local = threading.local()
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pending: dict[int, threading.Event] = {}
        self._whole: IO[bytes] | None = None
        self._auth_refreshed = False

    # -- public -------------------------------------------------------------------------

    def probe(self) -> bool:
        """Whether the server serves ranges (sets `size`); False on a 200 with the whole body."""
        try:
            self._fetch(0, 1, probe=True)
        except RangesUnsupportedError:
            return False
        return True

    def read(self, offset: int, length: int) -> bytes:
        """`length` bytes from `offset` (fewer at the end of the file).

        Args:
            offset: the first byte.
            length: how many bytes.
        """
        if self.size is None and self._whole is None and not self.probe():
            self._fetch(0, 1)  # the server ignores Range: the body is spooled once
        size = self.size or 0
        stop = min(offset + length, size)
        if offset >= stop:
            return b""
        if self._whole is not None:
            return self._from_whole(offset, stop)
        first, last = offset // BLOCK, (stop - 1) // BLOCK
        self._ensure(first, last)
        if self._spooled():  # a 200 came while fetching
            return self._from_whole(offset, stop)
        with self._lock:
            parts = [self._blocks.get(k) for k in range(first, last + 1)]
            for k in range(first, last + 1):
                if k in self._blocks:
                    self._blocks.move_to_end(k)
        if any(p is None for p in parts):  # evicted meanwhile: fetch directly
            return self._fetch(offset, stop)
        data = b"".join(p for p in parts if p is not None)
        start = offset - first * BLOCK
        return data[start : start + (stop - offset)]

    def close(self) -> None:
        """Drop the cache and the spooled body."""
        with self._lock:
            self._blocks.clear()
            if self._whole is not None:
                self._whole.close()
                self._whole = None

    # -- blocks -------------------------------------------------------------------------

    def _ensure(self, first: int, last: int) -> None:
        """Fetch the missing blocks of [first, last], runs of them in one request each."""
        mine: list[int] = []
        waits: list[threading.Event] = []
        with self._lock:
            for k in range(first, last + 1):
                if k in self._blocks:
                    continue
                if k in self._pending:
                    waits.append(self._pending[k])
                else:
                    self._pending[k] = threading.Event()
                    mine.append(k)
        try:
            for run in _runs(mine):
                start = run[0] * BLOCK
                stop = min((run[-1] + 1) * BLOCK, self.size or 0)
                data = self._fetch(start, stop)
                if self._spooled():
                    return
                with self._lock:
                    for i, k in enumerate(run):
                        self._blocks[k] = data[i * BLOCK : (i + 1) * BLOCK]
                    while len(self._blocks) > self._max_blocks:
                        self._blocks.popitem(last=False)
        finally:
            with self._lock:
                for k in mine:
                    event = self._pending.pop(k, None)
                    if event is not None:
                        event.set()
        for event in waits:
            event.wait()

    def _spooled(self) -> bool:
        with self._lock:
            return self._whole is not None

    def _from_whole(self, offset: int, stop: int) -> bytes:
        with self._lock:
            assert self._whole is not None
            self._whole.seek(offset)
            return self._whole.read(stop - offset)

    # -- requests -----------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = new_session()
            self._local.session = session
        return session

    def _current_url(self) -> str:
        return self.signer.sign(self.url) if self.signer is not None else self.url

    def _fetch(self, start: int, stop: int, probe: bool = False) -> bytes:
        """Bytes [start, stop): resumed after a cut, retried, re-signed; spooled on a 200."""
        buf = bytearray()
        failures = 0
        state = {"resigned": 0}
        while start + len(buf) < stop:
            pos = start + len(buf)
            response: requests.Response | None = None
            try:
                response = _open(
                    self._session(),
                    self._current_url(),
                    {"Range": f"bytes={pos}-{stop - 1}", "Accept-Encoding": "identity"},
                    self.auth,
                    self.trusted_hosts,
                    self.policy.timeout,
                )
                with self._lock:
                    self.requests += 1
                problem = self._answer(response, pos, stop, buf, probe, state)
                if problem == _WHOLE:
                    return self._from_whole(start, stop)
            except _CutError as exc:
                problem = str(exc)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                problem = transport_problem(exc, self.policy.timeout) or type(exc).__name__
            finally:
                if response is not None:
                    response.close()
            if start + len(buf) > pos:
                failures = 0  # progress was made: the retry budget is per stall
            if problem:
                failures = self._back_off(problem, start + len(buf), failures, response)
        return bytes(buf)

    def _answer(
        self,
        response: requests.Response,
        pos: int,
        stop: int,
        buf: bytearray,
        probe: bool,
        state: dict[str, int],
    ) -> str:
        """Act on one response: "" (go on), `_WHOLE` (spooled), or the problem to retry."""
        status = response.status_code
        if status == 206:
            self._body(response, pos, stop, buf)
            return ""
        if status == 200:
            if probe:
                raise RangesUnsupportedError(
                    f"{self.label}: the server ignores Range requests", url=clean_url(self.url)
                )
            self._spool(response)
            return _WHOLE
        if status == 401 and self.auth is not None and not self._auth_refreshed:
            self._auth_refreshed = self.auth.refresh()
            if self._auth_refreshed:
                return ""
        if status == 403 and self.signer is not None:
            if state["resigned"] < 1 and self.signer.refresh():
                state["resigned"] += 1
                logger.info("%s: signature refused (HTTP 403); re-signed", self.label)
                return ""
            raise CatalogueError(
                f"{self.label}: the signed URL was refused (HTTP 403) even after "
                "re-signing (expired or revoked signature)",
                status=403,
                url=clean_url(self.url),
            )
        if status not in RETRY_STATUS:
            raise_for(response, f"range read of {self.label}")
        return f"HTTP {status}"

    def _back_off(
        self, problem: str, at: int, failures: int, response: requests.Response | None
    ) -> int:
        """Wait before the next request (the failure count after it), or raise when spent."""
        if failures >= self.policy.retries:
            raise CatalogueError(
                f"range read of {self.label} failed: {problem} "
                f"(after {self.policy.retries} retries)",
                url=clean_url(self.url),
            )
        delay = self.policy.delay(failures, response)
        log_retry(
            f"range read of {self.label}",
            f"{problem} at byte {at}",
            failures + 1,
            self.policy.retries,
            delay,
        )
        self._sleep(delay)
        return failures + 1

    def _body(self, response: requests.Response, pos: int, stop: int, buf: bytearray) -> None:
        """Append a 206 body to `buf`; raise `_CutError` when it ends early."""
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match.group(1)) != pos:
            raise _CutError(f"unexpected Content-Range {response.headers.get('Content-Range')!r}")
        if match.group(3) != "*":
            self.size = int(match.group(3))
        want = min(stop, int(match.group(2)) + 1) - pos
        got = 0
        try:
            for chunk in response.iter_content(chunk_size=1 << 16):
                buf.extend(chunk)
                got += len(chunk)
        finally:
            with self._lock:
                self.bytes_received += got
        if got < want:
            raise _CutError(f"range cut short at {got} of {want} bytes")

    def _spool(self, response: requests.Response) -> None:
        """Keep a whole body (a 200 to a range request) in a temporary file, once."""
        with self._lock:
            if self._whole is not None:
                return
        logger.info(
            "%s: the server answered a range request with the whole file (HTTP 200); "
            "reading it whole once",
            self.label,
        )
        spool = tempfile.TemporaryFile(prefix="s1flood-whole-")  # noqa: SIM115 (kept open)
        got = 0
        for chunk in response.iter_content(chunk_size=1 << 20):
            spool.write(chunk)
            got += len(chunk)
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and got < int(length):
            spool.close()
            raise _CutError(f"whole body cut short at {got} of {length} bytes")
        with self._lock:
            self.bytes_received += got
            self.size = got
            self._blocks.clear()
            self._whole = spool


def _runs(blocks: list[int]) -> list[list[int]]:
    """Consecutive runs of sorted block numbers."""
    runs: list[list[int]] = []
    for k in blocks:
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs
