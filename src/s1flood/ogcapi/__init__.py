"""OGC API - Processes for s1flood: the packaged workflow and deployable packages.

The packaged workflow is a process, and application packages can be deployed (Part 2);
pygeoapi serves Part 1 and the project's own routes the rest.

Modules: `config` (settings), `packages` (CWL packages, cwl2ogc descriptions, the store),
`inputs` (execute inputs to a CWL job order), `results` (the results document), `runner`
(bounded, timed, dismissable CWL runs), `manager` (pygeoapi manager and processor), `deploy`
(Part 2 routes), `openapi`, `problems` (RFC 7807), `app` (Flask routes), `server`
(``s1flood serve``).
"""

from __future__ import annotations

__all__ = ["create_app", "load_config", "serve"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from s1flood.ogcapi.app import create_app

        return create_app
    if name == "load_config":
        from s1flood.ogcapi.config import load_config

        return load_config
    if name == "serve":
        from s1flood.ogcapi.server import serve

        return serve
    raise AttributeError(name)
