"""The server's Flask application.

pygeoapi's OGC API - Processes Part 1 functions behind Flask routes of ours, the Part 2
routes, job files and logs, and one error shape (RFC 7807) for every failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, Response, make_response, request, send_file
from pygeoapi.api import API, APIRequest
from pygeoapi.process.base import JobNotFoundError
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from s1flood._version import __version__
from s1flood.ogcapi.config import ServerConfig
from s1flood.ogcapi.deploy import PART2_CONFORMANCE, deploy_blueprint
from s1flood.ogcapi.manager import PackageManager
from s1flood.ogcapi.openapi import openapi_document
from s1flood.ogcapi.packages import PackageStore
from s1flood.ogcapi.problems import (
    OGC_TYPES,
    PROBLEM_TYPE,
    Problem,
    from_ogc_exception,
    problem_response,
)
from s1flood.ogcapi.results import media_type

__all__ = ["create_app", "pygeoapi_config"]

logger = logging.getLogger(__name__)


def pygeoapi_config(settings: ServerConfig) -> dict[str, Any]:
    """The pygeoapi configuration of the server (its processes come from the package store).

    Args:
        settings: the server configuration.
    """
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": settings.base_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "pretty_print": True,
            "limits": {"default_items": 50, "max_items": 1000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": ""},
            "manager": {"name": "Dummy", "connection": None, "output_dir": None},
        },
        "logging": {"level": "WARNING"},
        "metadata": {
            "identification": {
                "title": "s1flood OGC API - Processes",
                "description": "Sentinel-1 flood mapping as OGC API - Processes: the packaged "
                "workflow and deployable application packages",
                "keywords": ["Sentinel-1", "flood", "OGC API - Processes", "CWL"],
                "keywords_type": "theme",
                "terms_of_service": "https://spdx.org/licenses/Apache-2.0",
                "url": "https://github.com/s1flood/s1flood",
            },
            "license": {"name": "Apache-2.0", "url": "https://spdx.org/licenses/Apache-2.0"},
            "provider": {"name": "s1flood", "url": "https://github.com/s1flood/s1flood"},
            "contact": {
                "name": "s1flood developers",
                "position": "",
                "address": "",
                "city": "",
                "stateorprovince": "",
                "postalcode": "",
                "country": "",
                "phone": "",
                "fax": "",
                "email": "",
                "url": "",
                "hours": "",
                "instructions": "",
                "role": "pointOfContact",
            },
        },
        "resources": {},
    }


Caller = Callable[..., Response]
"""Runs a pygeoapi API function on the current request: ``call(function, *args,
api_request=None)``."""


def create_app(settings: ServerConfig) -> Flask:
    """The Flask application of `s1flood serve`.

    Args:
        settings: the server configuration (folders are created).
    """
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    store = PackageStore(settings.deployed_dir, settings.packages)
    api = API(pygeoapi_config(settings), {})
    manager = PackageManager(
        {
            "name": "s1flood",
            "connection": str(settings.data_dir / "jobs.db"),
            "output_dir": str(settings.jobs_dir),
            "settings": settings,
            "store": store,
        }
    )
    api.manager = manager

    app = Flask("s1flood.ogcapi")
    app.url_map.strict_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["S1FLOOD_SETTINGS"] = settings
    app.config["S1FLOOD_STORE"] = store
    app.config["S1FLOOD_MANAGER"] = manager
    app.register_blueprint(deploy_blueprint())

    call = _caller(api)
    _add_core_routes(app, call, settings, store)
    _add_process_routes(app, call, api, store)
    _add_job_routes(app, call, manager)
    _add_error_handlers(app, settings)
    return app


def _caller(api: API) -> Caller:
    """`Caller` of `api`: its headers, status and content as a Flask response."""

    def call(function: Any, *args: Any, api_request: APIRequest | None = None) -> Response:
        api_request = api_request or APIRequest.from_flask(request, api.locales)
        if not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = function(api, api_request, *args)
        response = make_response(content, status)
        response.headers.update(headers or {})
        return response

    return call


def _add_core_routes(app: Flask, call: Caller, settings: ServerConfig, store: PackageStore) -> None:
    """The landing page, conformance (Part 1 and Part 2 classes) and the OpenAPI document."""
    import pygeoapi.api as core_api
    import pygeoapi.api.processes as processes_api

    @app.get("/")
    def landing() -> Response:
        return call(core_api.landing_page)

    @app.get("/conformance")
    def conformance() -> Response:
        response = call(core_api.conformance)
        if response.status_code == 200 and response.is_json:
            doc = json.loads(response.get_data())
            classes = {*doc.get("conformsTo", []), *processes_api.CONFORMANCE_CLASSES}
            doc["conformsTo"] = sorted(classes | set(PART2_CONFORMANCE))
            response.set_data(json.dumps(doc, indent=2))
        return response

    @app.get("/openapi")
    def openapi() -> Response:
        return Response(
            json.dumps(openapi_document(settings, store, __version__), indent=2),
            mimetype="application/vnd.oai.openapi+json;version=3.0",
        )


def _add_process_routes(app: Flask, call: Caller, api: API, store: PackageStore) -> None:
    """The process list, process descriptions and execution."""
    import pygeoapi.api.processes as processes_api

    @app.get("/processes")
    def processes() -> Response:
        return call(processes_api.describe_processes)

    @app.get("/processes/<process_id>")
    def process(process_id: str) -> Response:
        store.path(process_id)  # a 404 naming the process (pygeoapi: "Identifier not found")
        return call(processes_api.describe_processes, process_id)

    @app.post("/processes/<process_id>/execution")
    def execute(process_id: str) -> Response:
        store.path(process_id)
        _check_execute_body(request.get_data())
        api_request = APIRequest.from_flask(request, api.locales)
        prefer = request.headers.get("Prefer", "")
        tokens = {t.strip().split("=")[0].lower() for t in prefer.split(",")}
        api_request._headers.pop("Prefer", None)
        api_request._headers.pop("prefer", None)
        if "respond-async" in tokens:
            api_request._headers["Prefer"] = "respond-async"
        response = call(processes_api.execute_process, process_id, api_request=api_request)
        if response.status_code == 201:
            job_id = response.headers["Location"].rstrip("/").split("/")[-1]
            status = call(processes_api.get_jobs, job_id)
            response.set_data(status.get_data())
            response.mimetype = "application/json"
        return response


def _add_job_routes(app: Flask, call: Caller, manager: PackageManager) -> None:
    """The job list, status, dismissal, results, log and output files."""
    import pygeoapi.api.processes as processes_api

    @app.get("/jobs")
    def jobs() -> Response:
        return call(processes_api.get_jobs)

    @app.get("/jobs/<job_id>")
    def job(job_id: str) -> Response:
        manager.get_job(job_id)
        return call(processes_api.get_jobs, job_id)

    @app.delete("/jobs/<job_id>")
    def dismiss(job_id: str) -> Response:
        manager.get_job(job_id)
        return call(processes_api.delete_job, job_id)

    @app.get("/jobs/<job_id>/results")
    def results(job_id: str) -> Response:
        record = manager.get_job(job_id)
        if record.get("status") == "failed":
            raise manager.failure(record)
        wants_html = request.args.get("f") == "html" or (
            "f" not in request.args and "text/html" in request.headers.get("Accept", "")
        )
        if wants_html or record.get("status") != "successful":
            return call(processes_api.get_job_result, job_id)
        mimetype, output = manager.get_job_result(job_id)
        if mimetype in (None, "application/json"):
            return Response(json.dumps(output, indent=2), mimetype="application/json")
        return Response(output, mimetype=mimetype)

    @app.get("/jobs/<job_id>/log")
    def job_log(job_id: str) -> Response:
        manager.get_job(job_id)
        log = manager.job_dir(job_id) / "job.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        return Response(text, mimetype="text/plain")

    @app.get("/jobs/<job_id>/files/<path:path>")
    def job_file(job_id: str, path: str) -> Response:
        manager.get_job(job_id)
        outputs = manager.job_dir(job_id) / "outputs"
        joined = safe_join(str(outputs), path)
        target = Path(joined) if joined else None
        if target is not None and target.is_dir():
            listing = sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir())
            return Response(json.dumps(listing, indent=2), mimetype="application/json")
        if target is None or not target.is_file():
            raise Problem(404, f"job {job_id!r} has no file {path!r}")
        return send_file(target, mimetype=media_type(target), conditional=True)


def _add_error_handlers(app: Flask, settings: ServerConfig) -> None:
    """Every failure as an RFC 7807 problem (pygeoapi's OGC exceptions included)."""

    @app.errorhandler(Problem)
    def on_problem(error: Problem) -> Response:
        return problem_response(error)

    @app.errorhandler(JobNotFoundError)
    def on_no_job(error: JobNotFoundError) -> Response:
        job_id = (request.view_args or {}).get("job_id", "")
        return problem_response(Problem(404, f"no job {job_id!r}", type_=OGC_TYPES["NoSuchJob"]))

    @app.errorhandler(HTTPException)
    def on_http(error: HTTPException) -> Response:
        status = error.code or 500
        detail = {
            404: f"no resource at {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: f"the request body is over the server's limit of {settings.max_body_bytes} bytes",
        }.get(status, error.description or HTTPStatus(status).phrase)
        response = problem_response(Problem(status, str(detail)))
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def on_error(error: Exception) -> Response:
        logger.error("unexpected %s on %s %s", type(error).__name__, request.method,
                     request.path, exc_info=error)  # fmt: skip
        return problem_response(
            Problem(500, f"internal error ({type(error).__name__}); the server log has the details")
        )

    @app.after_request
    def problems_only(response: Response) -> Response:
        if response.status_code >= 400 and response.mimetype != PROBLEM_TYPE:
            problem = from_ogc_exception(response.status_code, response.get_data())
            fixed = problem_response(problem)
            for key in ("Allow", "WWW-Authenticate"):
                if key in response.headers:
                    fixed.headers[key] = response.headers[key]
            return fixed
        return response


def _check_execute_body(body: bytes) -> None:
    """Refuse an execute request pygeoapi would choke on: `Problem` 400 naming the fault."""
    if not body:
        raise Problem(400, "an execute request needs a JSON body ({'inputs': {...}})")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"the execute request is not JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise Problem(400, "the execute request must be a JSON object")
    for member in ("inputs", "outputs"):
        if member in data and not isinstance(data[member], dict | type(None)):
            raise Problem(400, f"'{member}' must be an object")
    if data.get("response", "raw") not in ("raw", "document"):
        raise Problem(400, "'response' must be 'raw' or 'document'")
    if data.get("subscriber") is not None:
        raise Problem(400, "subscriber callbacks are not supported by this server")
