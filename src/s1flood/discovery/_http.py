"""HTTP helpers shared by the catalogues and the downloader: retries, JSON, one-line errors."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from s1flood import __version__
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.credentials import redact
from s1flood.errors import AuthenticationError, CatalogueError

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = f"s1flood/{__version__}"


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
        """The policy a discovery configuration asks for."""
        return cls(
            retries=config.retries,
            backoff=config.backoff,
            max_backoff=config.max_backoff,
            max_retry_after=config.max_retry_after,
            timeout=config.timeout,
        )

    def delay(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After if given, else backoff."""
        if response is not None:
            after = retry_after(response)
            if after is not None:
                return min(after, self.max_retry_after)
        return float(min(self.backoff * (2**attempt), self.max_backoff))


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
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


def clean_url(url: str) -> str:
    """The URL without user info (and never a query value that could be a secret)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def new_session() -> requests.Session:
    """A session that ignores ``~/.netrc`` for auth (we read it ourselves) and names itself."""
    session = requests.Session()
    session.trust_env = False  # no netrc auth injection, no proxies from env surprises
    session.headers["User-Agent"] = USER_AGENT
    return session


def describe(response: requests.Response) -> str:
    """A short, secret-free description of an error response body."""
    ctype = response.headers.get("Content-Type", "")
    text = response.text[:2000] if response.content else ""
    if "html" in ctype.lower() or text.lstrip().lower().startswith(("<!doctype html", "<html")):
        title = ""
        lower = text.lower()
        if "<title>" in lower:
            start = lower.index("<title>") + 7
            title = text[start : lower.find("</title>", start)].strip()
        hint = " (maintenance?)" if "maintenance" in lower or "back soon" in lower else ""
        return f"an HTML page{hint}" + (f": {title!r}" if title else "")
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200] or response.reason or "no body"
    if isinstance(body, dict):
        for key in ("error_description", "detail", "message", "description", "error"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("value") or json.dumps(value)
            if value:
                return " ".join(str(value).split())[:300]
    return json.dumps(body)[:200]


def raise_for(response: requests.Response, what: str) -> None:
    """Raise a one-line :class:`CatalogueError` (or subclass) for an error response."""
    status = response.status_code
    url = clean_url(response.url)
    detail = redact(describe(response))
    if status == 401:
        raise AuthenticationError(
            f"{what}: not authorised ({detail}); check the credentials", status=status, url=url
        )
    if status == 403:
        raise AuthenticationError(f"{what}: access forbidden ({detail})", status=status, url=url)
    raise CatalogueError(f"{what}: {detail}", status=status, url=url)


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    policy: RetryPolicy,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    ok: Callable[[requests.Response], bool] | None = None,
) -> requests.Response:
    """Send a request, retrying timeouts, connection errors, 429 and 5xx with backoff."""
    last: str = ""
    for attempt in range(policy.retries + 1):
        response: requests.Response | None = None
        try:
            response = session.request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=dict(headers or {}),
                auth=auth,
                timeout=policy.timeout,
            )
        except requests.Timeout:
            last = f"timed out after {policy.timeout:g} s"
        except requests.ConnectionError as exc:
            last = f"connection failed ({type(exc).__name__})"
        else:
            if ok is not None and ok(response):
                return response
            if response.status_code < 400 and ok is None:
                return response
            if response.status_code not in RETRY_STATUS:
                raise_for(response, what)
            last = f"HTTP {response.status_code}"
        if attempt == policy.retries:
            break
        delay = policy.delay(attempt, response)
        logger.warning(
            "%s: %s; retry %d/%d in %.1f s", what, last, attempt + 1, policy.retries, delay
        )
        sleep(delay)
    if response is not None and response.status_code >= 400:
        raise_for(response, f"{what} (after {policy.retries} retries)")
    raise CatalogueError(f"{what}: {last} (after {policy.retries} retries)", url=clean_url(url))


def get_json(
    session: requests.Session,
    url: str,
    *,
    what: str,
    policy: RetryPolicy,
    params: Mapping[str, Any] | None = None,
    method: str = "GET",
    json_body: Any = None,
    auth: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """GET (or POST) ``url`` and return its JSON body; an HTML page or bad JSON is an error.

    A body that is not JSON is retried like a 5xx (maintenance pages come and go).
    """
    for attempt in range(policy.retries + 1):
        response = request(
            session,
            method,
            url,
            what=what,
            policy=policy,
            params=params,
            json_body=json_body,
            auth=auth,
            headers={"Accept": "application/json", **dict(headers or {})},
        )
        try:
            return response.json()
        except ValueError:
            problem = describe(response)
            if "HTML" not in problem:
                problem = f"malformed JSON ({problem[:80]!r})"
            if attempt == policy.retries:
                raise CatalogueError(
                    f"{what}: expected JSON, got {problem}",
                    status=response.status_code,
                    url=clean_url(response.url),
                ) from None
            delay = policy.delay(attempt, None)
            logger.warning("%s: expected JSON, got %s; retry in %.1f s", what, problem, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
