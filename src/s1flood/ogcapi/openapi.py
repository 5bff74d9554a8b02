"""The server's OpenAPI 3.0 document, built from the routes and the process descriptions.

Each process's execute request schema comes from its CWL, through cwl2ogc). It is
self-contained: remote ``$ref``s (STAC, OGC schemas) become plain objects, so a client or
schemathesis can use it offline.
"""

from __future__ import annotations

import copy
from typing import Any

from s1flood.ogcapi.config import ServerConfig
from s1flood.ogcapi.packages import PackageStore

__all__ = ["openapi_document"]

JSON = "application/json"
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _ok(description: str, media: str = JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {}}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "bad request",
        401: "no operator token",
        403: "wrong operator token",
        404: "not found",
        409: "the process already exists",
        413: "request body too large",
        415: "unsupported media type",
        500: "the job failed (see its log)",
    }
    return {str(c): {"description": texts[c], "content": PROBLEM} for c in codes}


def _offline(schema: Any) -> Any:
    """A schema with remote references replaced by plain objects."""
    if isinstance(schema, dict):
        if "$ref" in schema and not str(schema["$ref"]).startswith("#"):
            return {"type": "object"}
        return {k: _offline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_offline(v) for v in schema]
    return schema


def _execute_schema(description: dict[str, Any]) -> dict[str, Any]:
    inputs = description.get("inputs", {})
    properties = {name: _offline(copy.deepcopy(spec["schema"])) for name, spec in inputs.items()}
    required = [name for name, spec in inputs.items() if spec.get("minOccurs", 1) > 0]
    inputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        inputs_schema["required"] = required
    return {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "inputs": inputs_schema,
            "response": {"type": "string", "enum": ["raw", "document"]},
        },
    }


def openapi_document(settings: ServerConfig, store: PackageStore, version: str) -> dict[str, Any]:
    """The OpenAPI document of the server as it is now (deployed processes included).

    Args:
        settings: the server configuration (its base URL).
        store: the processes.
        version: the server's version.
    """
    return {
        "openapi": "3.0.3",
        "info": {"title": "s1flood OGC API - Processes", "version": version},
        "servers": [{"url": settings.base_url}],
        "paths": {**_core_paths(), **_process_paths(), **_job_paths(), **_execution_paths(store)},
        "components": _components(),
    }


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _core_paths() -> dict[str, Any]:
    """The landing page, conformance and this document."""
    return {
        "/": {"get": {"operationId": "getLandingPage", "responses": {"200": _ok("landing page")}}},
        "/conformance": {
            "get": {"operationId": "getConformance", "responses": {"200": _ok("conformance")}}
        },
        "/openapi": {
            "get": {"operationId": "getOpenAPI", "responses": {"200": _ok("this document")}}
        },
    }


def _process_paths() -> dict[str, Any]:
    """The process list and descriptions, and Part 2 (deploy, replace, undeploy, package)."""
    process_id = _path_parameter("processId")
    bearer: list[dict[str, list[str]]] = [{"operatorToken": []}]
    package_body = {
        "required": True,
        "content": {
            "application/cwl+yaml": {"schema": {"type": "string"}},
            "application/ogcapppkg+json": {"schema": {"type": "object"}},
        },
    }
    return {
        "/processes": {
            "get": {"operationId": "getProcesses", "responses": {"200": _ok("process list")}},
            "post": {
                "operationId": "deploy",
                "security": bearer,
                "requestBody": package_body,
                "responses": {
                    "201": _ok("deployed"),
                    **_errors(400, 401, 403, 409, 413, 415),
                },
            },
        },
        "/processes/{processId}": {
            "get": {
                "operationId": "getProcessDescription",
                "parameters": [process_id],
                "responses": {"200": _ok("process description"), **_errors(404)},
            },
            "put": {
                "operationId": "replace",
                "parameters": [process_id],
                "security": bearer,
                "requestBody": package_body,
                "responses": {
                    "204": {"description": "replaced"},
                    **_errors(400, 401, 403, 404, 413, 415),
                },
            },
            "delete": {
                "operationId": "undeploy",
                "parameters": [process_id],
                "security": bearer,
                "responses": {"204": {"description": "undeployed"}, **_errors(401, 403, 404)},
            },
        },
        "/processes/{processId}/package": {
            "get": {
                "operationId": "getPackage",
                "parameters": [process_id],
                "responses": {"200": _ok("the CWL", "application/cwl+yaml"), **_errors(404)},
            }
        },
    }


def _job_paths() -> dict[str, Any]:
    """The job list, status, dismissal, results and log."""
    job_id = _path_parameter("jobId")
    return {
        "/jobs": {"get": {"operationId": "getJobs", "responses": {"200": _ok("job list")}}},
        "/jobs/{jobId}": {
            "get": {
                "operationId": "getStatus",
                "parameters": [job_id],
                "responses": {"200": _ok("status"), **_errors(404)},
            },
            "delete": {
                "operationId": "dismiss",
                "parameters": [job_id],
                "responses": {"200": _ok("dismissed"), **_errors(404)},
            },
        },
        "/jobs/{jobId}/results": {
            "get": {
                "operationId": "getResult",
                "parameters": [job_id],
                "responses": {"200": _ok("results"), **_errors(404, 500)},
            }
        },
        "/jobs/{jobId}/log": {
            "get": {
                "operationId": "getJobLog",
                "parameters": [job_id],
                "responses": {"200": _ok("the runner's log", "text/plain"), **_errors(404)},
            }
        },
    }


def _execution_paths(store: PackageStore) -> dict[str, Any]:
    """One execute path per process, its request schema from the process description."""
    prefer = {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "enum": ["respond-async", "wait"]},
    }
    paths: dict[str, Any] = {}
    for pid in store.ids():
        description = store.descriptions[pid]
        paths[f"/processes/{pid}/execution"] = {
            "post": {
                "operationId": f"execute_{pid}",
                "summary": str(description.get("title", pid)),
                "parameters": [prefer],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _execute_schema(description)}},
                },
                "responses": {
                    "200": _ok("results (synchronous)"),
                    "201": _ok("job created (asynchronous); Location names it"),
                    **_errors(400, 404, 413, 500),
                },
            }
        }
    return paths


def _components() -> dict[str, Any]:
    """The security scheme of the Part 2 routes and the RFC 7807 problem schema."""
    return {
        "securitySchemes": {"operatorToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
            }
        },
    }
