"""``s1flood package``: the OGC application package from ``cwl/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood.cli.app import app


@app.command("package")
def package(
    workflow: Annotated[
        Path, typer.Option(help="The development workflow whose tools are packed.")
    ] = Path("cwl/workflow.cwl"),
    output: Annotated[
        Path | None,
        typer.Option(
            help="The application package to write (a packed $graph); default <id>.cwl "
            "beside the workflow."
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            help="HOST[:PORT][/PREFIX] to push the step images to; the package pins them by "
            "the @sha256: digest the registry reports. Without it the images keep their tags."
        ),
    ] = None,
    workflow_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="The entry Workflow's id (the process name; not main); default the "
            "workflow's own id.",
        ),
    ] = None,
) -> None:
    """Write the OGC application package: the workflow and its tools as one $graph."""
    from s1flood.package import build_package

    result = build_package(workflow, output, registry=registry, workflow_id=workflow_id)
    pins = ", ".join(result.images.values()) or "images not pinned (no --registry)"
    typer.echo(f"{result.path}: #{result.workflow_id}; {pins}")
