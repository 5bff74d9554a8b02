"""RFC 7807 problem documents: the one shape every error response of the server takes."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response

from s1flood.discovery.credentials import redact

__all__ = ["PROBLEM_TYPE", "Problem", "from_ogc_exception", "problem_response"]

PROBLEM_TYPE = "application/problem+json"

OGC_TYPES = {
    "NoSuchProcess": "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process",
    "NoSuchJob": "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job",
    "ResultNotReady": "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready",
    "DuplicatedProcess": "http://www.opengis.net/def/exceptions/ogcapi-processes-2/1.0/duplicated-process",
    "UnsupportedMediaType": "http://www.opengis.net/def/exceptions/ogcapi-processes-2/1.0/unsupported-media-type",
}
"""The exception type URIs OGC API - Processes defines, by pygeoapi's codes for them."""


class Problem(Exception):  # noqa: N818 (the RFC's name)
    """An error that becomes a problem document.

    Args:
        status: the HTTP status.
        detail: one line for the caller, naming the input or header at fault.
        title: a short summary; default the status phrase.
        type_: a URI naming the kind of problem (``about:blank`` unless OGC defines one).
        headers: response headers to send with it (e.g. ``WWW-Authenticate``).
        extra: more members (e.g. ``jobLog``).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = int(status)
        self.detail = detail
        self.title = title or HTTPStatus(self.status).phrase
        self.type = type_
        self.headers = dict(headers or {})
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The problem document as a JSON-able dict."""
        doc: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": redact(" ".join(self.detail.split())),
        }
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem) -> Response:
    """A Flask response carrying `problem` as ``application/problem+json``.

    Args:
        problem: the error.
    """
    response = Response(
        json.dumps(problem.to_dict(), indent=2),
        status=problem.status,
        mimetype=PROBLEM_TYPE,
    )
    for key, value in problem.headers.items():
        response.headers[key] = value
    return response


def from_ogc_exception(status: int, body: bytes) -> Problem:
    """The problem document for an error body pygeoapi wrote (``code`` and ``description``).

    Args:
        status: the response status pygeoapi chose.
        body: its JSON (or HTML, or nothing).
    """
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = str(data.get("code") or data.get("type") or "")
    detail = str(data.get("description") or data.get("detail") or HTTPStatus(status).phrase)
    if code == "NoSuchJob":
        detail = f"no job {detail!r}"
    return Problem(status, detail, type_=OGC_TYPES.get(code, "about:blank"))
