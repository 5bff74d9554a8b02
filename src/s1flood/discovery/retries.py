"""Retries: the policy (how often, how long to wait) and the one way they are logged.

Every retry is logged in the project's words, one INFO line each (``what: problem; retry
n/N in s``); the final failure is the one-line :class:`~s1flood.errors.CatalogueError` the
caller raises (and shows; the library does not log it too). Clients that retry inside urllib3
(pystac-client, sentinelsat) get a :class:`LoggedRetry`, whose retries are logged the same way
while urllib3's own ``Retrying (Retry(...))`` warnings for them are dropped.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import requests
import urllib3.exceptions
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from s1flood.discovery.config import DiscoveryConfig

__all__ = [
    "RETRY_STATUS",
    "LoggedRetry",
    "RetryPolicy",
    "log_retry",
    "retry_after",
    "transport_problem",
]

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses worth retrying."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before retrying a failed request."""

    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 600.0
    timeout: float = 60.0

    @classmethod
    def from_config(cls, config: DiscoveryConfig) -> RetryPolicy:
        """The policy a discovery configuration asks for.

        Args:
            config: the discovery configuration.
        """
        return cls(
            retries=config.retries,
            backoff=config.backoff,
            max_backoff=config.max_backoff,
            max_retry_after=config.max_retry_after,
            timeout=config.timeout,
        )

    def delay(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After if given, else backoff.

        Args:
            attempt: the number of attempts that failed so far, minus one.
            response: the failed response (for ``Retry-After``), if any.
        """
        if response is not None:
            after = retry_after(response)
            if after is not None:
                return min(after, self.max_retry_after)
        return float(min(self.backoff * (2**attempt), self.max_backoff))


def log_retry(what: str, problem: str, attempt: int, retries: int, delay: float) -> None:
    """Log one retry as one INFO line: ``what: problem; retry n/N in s``.

    Args:
        what: what is being requested or downloaded.
        problem: why it is retried (``HTTP 503``, ``connection refused``...).
        attempt: the number of this retry (1 for the first).
        retries: how many retries the policy allows.
        delay: seconds waited before this retry.
    """
    logger.info("%s: %s; retry %d/%d in %.1f s", what, problem, attempt, retries, delay)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps (causes, contexts, urllib3 reasons, arguments)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend((item.__cause__, item.__context__, getattr(item, "reason", None), *item.args))


def transport_problem(exc: BaseException, timeout: float) -> str | None:
    """A few words for a failure below HTTP (refused, timed out...); None for other errors.

    Args:
        exc: the exception a client raised (requests, urllib3 or one wrapping them).
        timeout: the request timeout in seconds, named when the request timed out.
    """
    causes = list(_causes(exc))
    kinds = tuple(type(cause) for cause in causes)

    def found(*types: type[BaseException]) -> bool:
        return any(issubclass(kind, types) for kind in kinds)

    if found(ConnectionRefusedError):
        return "connection refused"
    if found(urllib3.exceptions.NameResolutionError):
        return "host name not found"
    if found(requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        return f"timed out after {timeout:g} s"
    for cause in causes:
        if isinstance(cause, urllib3.exceptions.ResponseError):
            return str(cause)  # "too many 503 error responses"
    if found(ssl.SSLError, requests.exceptions.SSLError, urllib3.exceptions.SSLError):
        return "TLS error (certificate or handshake)"
    if found(ConnectionResetError):
        return "connection reset"
    if found(requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError):
        return "connection broken"
    if found(requests.ConnectionError, urllib3.exceptions.HTTPError, ConnectionError):
        return "connection failed"
    return None


class LoggedRetry(Retry):
    """urllib3 retries (for clients that retry inside urllib3) logged in the project's words.

    Each retry is one INFO line (:func:`log_retry`), like the project's own; urllib3's own
    ``Retrying (Retry(...))`` warning for the same retry is dropped by a logging filter.
    """

    what = "request"
    policy = RetryPolicy()

    @classmethod
    def for_policy(cls, policy: RetryPolicy, what: str, **overrides: Any) -> LoggedRetry:
        """Retries of connection errors, timeouts, 429 and 5xx as a policy asks for them.

        Args:
            policy: how often and how long to wait.
            what: what is being requested, as log lines name it (``DHuS search``).
            overrides: further :class:`~urllib3.util.retry.Retry` arguments.
        """
        settings: dict[str, Any] = {
            "total": policy.retries,
            "backoff_factor": policy.backoff,
            "backoff_max": policy.max_backoff,
            "status_forcelist": sorted(RETRY_STATUS),
            "allowed_methods": None,
            "respect_retry_after_header": True,
            **overrides,
        }
        retry = cls(**settings)
        retry.what, retry.policy = what, policy
        return retry

    def new(self, **kw: Any) -> Self:
        """A copy with some counters changed (keeps what is requested and the policy).

        Args:
            kw: the counters to change, as :meth:`Retry.new` takes them.
        """
        retry = super().new(**kw)
        retry.what, retry.policy = self.what, self.policy
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        """Count one more retry (urllib3 raises when none is left) and log it.

        Args:
            method: the HTTP method of the failed request.
            url: the URL path of the failed request.
            response: the response that is retried (429, 5xx), if any.
            error: the exception that is retried (connection, timeout), if any.
            _pool: the connection pool (passed on to urllib3).
            _stacktrace: the error's traceback (passed on to urllib3).
        """
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if error is not None:
            problem = transport_problem(error, self.policy.timeout) or type(error).__name__
        elif response is not None and not response.get_redirect_location():
            problem = f"HTTP {response.status}"
        else:
            return retry
        after = retry.get_retry_after(response) if response is not None else None
        delay = after if after is not None else retry.get_backoff_time()
        attempt = len(retry.history)
        log_retry(self.what, problem, attempt, self.policy.retries, delay)
        return retry


class _OwnRetryWarnings(logging.Filter):
    """Drops urllib3's ``Retrying (...)`` warning when a :class:`LoggedRetry` logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for urllib3's warning about a retry that the project has logged."""
        args = record.args
        return not (isinstance(args, tuple) and args and isinstance(args[0], LoggedRetry))


logging.getLogger("urllib3.connectionpool").addFilter(_OwnRetryWarnings())


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date).

    Args:
        response: an HTTP response.
    """
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
