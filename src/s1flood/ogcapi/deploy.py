"""OGC API - Processes Part 2 (Deploy, Replace, Undeploy), which pygeoapi 0.21 lacks.

Flask routes of the project's own: ``POST /processes``, ``PUT`` and ``DELETE
/processes/{id}`` and ``GET /processes/{id}/package``. Changing processes needs the
operator token (``Authorization: Bearer TOKEN``); reading packages does not.
"""

from __future__ import annotations

import hmac
import json

from flask import Blueprint, Response, current_app, request

from s1flood.ogcapi.config import ServerConfig
from s1flood.ogcapi.packages import PackageStore, parse_package
from s1flood.ogcapi.problems import Problem

__all__ = ["PART2_CONFORMANCE", "deploy_blueprint"]

PART2_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-2/1.0/conf/deploy-replace-undeploy",
    "http://www.opengis.net/spec/ogcapi-processes-2/1.0/conf/ogcapppkg",
    "http://www.opengis.net/spec/ogcapi-processes-2/1.0/conf/cwl",
]


def _settings() -> ServerConfig:
    settings: ServerConfig = current_app.config["S1FLOOD_SETTINGS"]
    return settings


def _store() -> PackageStore:
    store: PackageStore = current_app.config["S1FLOOD_STORE"]
    return store


def require_operator() -> None:
    """Raise `Problem` 401 without a bearer token, 403 with a wrong one (or none configured)."""
    token = _settings().operator_token
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not given.strip():
        raise Problem(
            401,
            "deploying, replacing and undeploying need the operator token "
            "(Authorization: Bearer TOKEN)",
            headers={"WWW-Authenticate": 'Bearer realm="s1flood"'},
        )
    if not token:
        raise Problem(403, "deployment is disabled: the server has no operator token configured")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Problem(403, "the operator token is not the one configured")


def _description_response(description: dict[str, object], status: int) -> Response:
    process_id = str(description["id"])
    response = Response(
        json.dumps({"id": process_id, "processSummary": _summary(description)}, indent=2),
        status=status,
        mimetype="application/json",
    )
    response.headers["Location"] = f"{_settings().base_url}/processes/{process_id}"
    return response


def _summary(description: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in description.items() if k not in ("inputs", "outputs")}


def deploy_blueprint() -> Blueprint:
    """The Part 2 routes."""
    blueprint = Blueprint("s1flood_deploy", __name__)

    @blueprint.post("/processes")
    def deploy() -> Response:
        require_operator()
        package = parse_package(request.get_data(), request.content_type or "")
        description = _store().deploy(package)
        return _description_response(description, 201)

    @blueprint.put("/processes/<process_id>")
    def replace(process_id: str) -> Response:
        require_operator()
        _store().path(process_id)
        package = parse_package(request.get_data(), request.content_type or "")
        if package.process_id != process_id:
            raise Problem(
                400,
                f"the package's entry workflow is {package.process_id!r}, "
                f"not the process {process_id!r} being replaced",
            )
        _store().deploy(package, replace=True)
        return Response(status=204)

    @blueprint.delete("/processes/<process_id>")
    def undeploy(process_id: str) -> Response:
        require_operator()
        _store().undeploy(process_id)
        return Response(status=204)

    @blueprint.get("/processes/<process_id>/package")
    def package(process_id: str) -> Response:
        path = _store().path(process_id)
        return Response(path.read_text(encoding="utf-8"), mimetype="application/cwl+yaml")

    return blueprint
