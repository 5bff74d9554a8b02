"""HTTP helpers for the catalogues and the downloader: retried requests, JSON, errors.

Errors are one line and carry no secrets; the retry policy and its logging are in
:mod:`s1flood.discovery.retries`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from s1flood._version import __version__
from s1flood.discovery.credentials import redact
from s1flood.discovery.retries import (
    RETRY_STATUS,
    RetryPolicy,
    log_retry,
    transport_problem,
)
from s1flood.errors import AuthenticationError, CatalogueError

logger = logging.getLogger(__name__)

USER_AGENT = f"s1flood/{__version__}"


def clean_url(url: str) -> str:
    """The URL without user info (and never a query value that could be a secret).

    Args:
        url: any URL.
    """
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
    """A short, secret-free description of an error response body.

    Args:
        response: an error response.
    """
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
    """Raise a one-line :class:`CatalogueError` (or subclass) for an error response.

    Args:
        response: an error response (status 400 or more).
        what: what was requested, as the message names it (``CDSE login``).
    """
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
    """Send a request, retrying timeouts, connection errors, 429 and 5xx with backoff.

    Args:
        session: the HTTP session to send with.
        method: the HTTP method.
        url: the URL.
        what: what is requested, as log lines and errors name it.
        policy: retries, backoff and timeout.
        params: query parameters.
        json_body: a JSON body.
        data: a form body.
        headers: extra request headers.
        auth: a requests auth object.
        sleep: waits between retries (tests pass a fake).
        ok: decides which responses are final (default: status below 400).
    """
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
        except (requests.Timeout, requests.ConnectionError) as exc:
            last = transport_problem(exc, policy.timeout) or type(exc).__name__
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
        log_retry(what, last, attempt + 1, policy.retries, delay)
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

    Args:
        session: the HTTP session to send with.
        url: the URL.
        what: what is requested, as log lines and errors name it.
        policy: retries, backoff and timeout.
        params: query parameters.
        method: the HTTP method (GET or POST).
        json_body: a JSON body.
        auth: a requests auth object.
        headers: extra request headers.
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
            log_retry(what, f"expected JSON, got {problem}", attempt + 1, policy.retries, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
