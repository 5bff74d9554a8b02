"""``s1flood serve``: the OGC API - Processes server (pygeoapi) for application packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood.cli.app import app


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="address to bind; default 127.0.0.1 (this machine only).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port; default 5000.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="server configuration (YAML): packages, data_dir, runner, containers, "
            "max_running_jobs, job_timeout, input_roots, credentials, operator_token."
        ),
    ] = None,
) -> None:
    """Serve the packaged workflow (and deployed packages) as OGC API - Processes."""
    from s1flood.ogcapi.server import serve as run_server

    run_server(config, host=host, port=port)
