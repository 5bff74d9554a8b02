"""``s1flood preprocess`` and ``s1flood scene``: one product to sigma0, or to a water mask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood import steps
from s1flood.cli.app import State, app, doc


@app.command()
def preprocess(
    product: Annotated[Path, typer.Argument(help=doc("preprocess", "product"))],
    output: Annotated[Path, typer.Option("--output", "-o", help=doc("preprocess", "output"))],
    aoi: Annotated[str, typer.Option(help=doc("preprocess", "aoi"))],
    dem: Annotated[Path, typer.Option(help=doc("preprocess", "dem"))],
    engine: Annotated[str, typer.Option(help=doc("preprocess", "engine"))] = "python",
    polarisation: Annotated[str, typer.Option(help=doc("preprocess", "polarisation"))] = "VV+VH",
    resolution: Annotated[float, typer.Option(help=doc("preprocess", "resolution"))] = 10.0,
    crs: Annotated[str | None, typer.Option(help=doc("preprocess", "crs"))] = None,
    orbit: Annotated[Path | None, typer.Option(help=doc("preprocess", "orbit"))] = None,
    speckle: Annotated[str, typer.Option(help=doc("preprocess", "speckle"))] = "lee",
    window: Annotated[int, typer.Option(help=doc("preprocess", "window"))] = 5,
    rtc: Annotated[bool, typer.Option(help=doc("preprocess", "rtc"))] = False,
    dem_vertical: Annotated[str, typer.Option(help=doc("preprocess", "dem_vertical"))] = "auto",
    overwrite: Annotated[bool, typer.Option(help=doc("preprocess", "overwrite"))] = False,
) -> None:
    """Calibrate, filter and terrain-correct a GRD product onto the AOI's grid (sigma0 dB)."""
    result = steps.preprocess(**locals(), progress=State.progress)
    typer.echo(
        f"{result.output}: {result.quantity} {result.polarisation} dB, "
        f"{result.grid.width} x {result.grid.height} px, {result.valid_fraction:.1%} valid, "
        f"{result.seconds:.1f} s ({result.engine}, orbit: {result.orbit_source}); "
        f"STAC Item {result.stac_item.name}"
    )
