"""``s1flood discover`` and ``s1flood fetch``: finding and downloading scenes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood import steps
from s1flood.cli.app import State, app, doc
from s1flood.errors import InvalidOptionError

_FORMATS = "json, ids (JSON array of product names), lines or summary."


@app.command()
def discover(
    aoi: Annotated[str, typer.Option(help=doc("discover", "aoi"))],
    start: Annotated[str, typer.Option(help=doc("discover", "start"))],
    end: Annotated[str, typer.Option(help=doc("discover", "end"))],
    catalogue: Annotated[str, typer.Option(help=doc("discover", "catalogue"))] = "cdse",
    mode: Annotated[str, typer.Option(help=doc("discover", "mode"))] = "IW",
    product_type: Annotated[str, typer.Option(help=doc("discover", "product_type"))] = "GRD",
    polarisation: Annotated[str | None, typer.Option(help=doc("discover", "polarisation"))] = None,
    orbit_direction: Annotated[
        str | None, typer.Option(help=doc("discover", "orbit_direction"))
    ] = None,
    relative_orbit: Annotated[int, typer.Option(help=doc("discover", "relative_orbit"))] = 0,
    min_coverage: Annotated[float, typer.Option(help=doc("discover", "min_coverage"))] = 0.0,
    output_format: Annotated[str, typer.Option("--format", help=_FORMATS)] = "json",
    odata_url: Annotated[str | None, typer.Option(help=doc("discover", "odata_url"))] = None,
    token_url: Annotated[str | None, typer.Option(help=doc("discover", "token_url"))] = None,
    stac_collection: Annotated[
        str | None, typer.Option(help=doc("discover", "stac_collection"))
    ] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help=doc("discover", "settings"))
    ] = None,
) -> None:
    """Find Sentinel-1 scenes covering an area in a time window (step 1 of the workflow)."""
    arguments = {k: v for k, v in locals().items() if k != "output_format"}
    from s1flood.discovery import render

    if output_format.lower() not in ("json", "ids", "lines", "summary"):  # before searching
        raise InvalidOptionError("output_format", output_format, _FORMATS)

    result = steps.discover(**arguments)
    typer.echo(render(result, output_format))


@app.command()
def fetch(
    product: Annotated[str, typer.Argument(help=doc("fetch", "product"))],
    catalogue: Annotated[str, typer.Option(help=doc("fetch", "catalogue"))],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help=doc("fetch", "out_dir"))],
    unzip: Annotated[bool, typer.Option(help=doc("fetch", "unzip"))] = False,
    wait_offline: Annotated[bool, typer.Option(help=doc("fetch", "wait_offline"))] = False,
    overwrite: Annotated[bool, typer.Option(help=doc("fetch", "overwrite"))] = False,
    odata_url: Annotated[str | None, typer.Option(help=doc("fetch", "odata_url"))] = None,
    token_url: Annotated[str | None, typer.Option(help=doc("fetch", "token_url"))] = None,
    stac_collection: Annotated[
        str | None, typer.Option(help=doc("fetch", "stac_collection"))
    ] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help=doc("fetch", "settings"))
    ] = None,
    read: Annotated[str, typer.Option(help=doc("fetch", "read"))] = "auto",
) -> None:
    """Download one product (credentials from S1FLOOD_CDSE_USERNAME/PASSWORD or ~/.netrc)."""
    result = steps.fetch(**locals(), progress=State.progress)
    typer.echo(str(result.path))
