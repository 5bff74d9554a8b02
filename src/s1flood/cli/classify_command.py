"""``s1flood classify``: backscatter to a water mask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood import steps
from s1flood.cli.app import State, app, doc


@app.command()
def classify(
    backscatter: Annotated[Path, typer.Argument(help=doc("classify", "backscatter"))],
    mask: Annotated[Path, typer.Argument(help=doc("classify", "mask"))],
    band: Annotated[str, typer.Option(help=doc("classify", "band"))] = "1",
    units: Annotated[str, typer.Option(help=doc("classify", "units"))] = "auto",
    classes: Annotated[int, typer.Option(help=doc("classify", "classes"))] = 3,
    threshold_db: Annotated[
        float | None, typer.Option(help=doc("classify", "threshold_db"))
    ] = None,
    allow_unimodal: Annotated[bool, typer.Option(help=doc("classify", "allow_unimodal"))] = False,
    overwrite: Annotated[bool, typer.Option(help=doc("classify", "overwrite"))] = False,
) -> None:
    """Classify backscatter into a water mask (0 dry, 1 water, 255 nodata)."""
    result = steps.classify(
        backscatter,
        mask,
        band=band,
        units=units,
        classes=classes,
        threshold_db=threshold_db,
        allow_unimodal=allow_unimodal,
        overwrite=overwrite,
        progress=State.progress,
    )
    typer.echo(
        f"{result.mask}: water below {result.water_threshold_db:.2f} dB, "
        f"{result.water_area_km2:.3f} km² water; {result.sidecar.name}, {result.histogram_png.name}"
    )
