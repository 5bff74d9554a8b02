"""``s1flood results``: a run's outputs gathered in one folder with a STAC catalog of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from s1flood.cli.app import app


@app.command("results")
def results(
    out_dir: Annotated[Path, typer.Argument(help="The results folder to write (new or empty).")],
    aggregation: Annotated[
        Path, typer.Option(help="The aggregation's output folder (s1flood aggregate --out-dir).")
    ],
    mask: Annotated[
        list[Path] | None, typer.Option(help="A scene's water mask (repeat, one per scene).")
    ] = None,
    scene_file: Annotated[
        list[Path] | None,
        typer.Option(
            help="Another file of a scene (sidecar, histogram), joined to the mask whose name "
            "starts its own (repeat)."
        ),
    ] = None,
    scene_notebook: Annotated[
        list[Path] | None,
        typer.Option(help="A scene's executed notebook, in the masks' order (repeat)."),
    ] = None,
    notebook: Annotated[
        list[Path] | None,
        typer.Option(help="Another executed notebook of the run (discover, aggregate; repeat)."),
    ] = None,
    cwl_output: Annotated[
        Path | None,
        typer.Option(help="Also write the CWL output object (cwl.output.json) here."),
    ] = None,
) -> None:
    """Gather the aggregation's files, the masks and the notebooks under one STAC catalog."""
    from s1flood.atomic import write_text_atomic
    from s1flood.results_catalog import write_results

    written = write_results(
        out_dir,
        aggregation,
        mask or [],
        scene_files=scene_file or [],
        scene_notebooks=scene_notebook or [],
        notebooks=notebook or [],
    )
    if cwl_output is not None:
        write_text_atomic(cwl_output, json.dumps(written.cwl_outputs(), indent=1) + "\n")
    typer.echo(f"{written.catalog}: {len(written.items)} items")
