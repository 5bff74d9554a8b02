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
    band: Annotated[str, typer.Option(help=doc("classify", "band"))] = "auto",
    units: Annotated[str, typer.Option(help=doc("classify", "units"))] = "auto",
    method: Annotated[str, typer.Option(help=doc("classify", "method"))] = "split",
    tile_size: Annotated[int, typer.Option(help=doc("classify", "tile_size"))] = 32,
    smoothing: Annotated[int, typer.Option(help=doc("classify", "smoothing"))] = 5,
    refine: Annotated[int, typer.Option(help=doc("classify", "refine"))] = 15,
    classes: Annotated[int, typer.Option(help=doc("classify", "classes"))] = 3,
    threshold_db: Annotated[float, typer.Option(help=doc("classify", "threshold_db"))] = 0.0,
    reference: Annotated[Path | None, typer.Option(help=doc("classify", "reference"))] = None,
    change_db: Annotated[float, typer.Option(help=doc("classify", "change_db"))] = 3.0,
    dem: Annotated[Path | None, typer.Option(help=doc("classify", "dem"))] = None,
    exclusion: Annotated[Path | None, typer.Option(help=doc("classify", "exclusion"))] = None,
    hand_max_m: Annotated[float, typer.Option(help=doc("classify", "hand_max_m"))] = 15.0,
    slope_max_deg: Annotated[float, typer.Option(help=doc("classify", "slope_max_deg"))] = 10.0,
    allow_unimodal: Annotated[bool, typer.Option(help=doc("classify", "allow_unimodal"))] = False,
    acquisition_start: Annotated[
        str | None, typer.Option(help=doc("classify", "acquisition_start"))
    ] = None,
    platform: Annotated[str | None, typer.Option(help=doc("classify", "platform"))] = None,
    relative_orbit: Annotated[int, typer.Option(help=doc("classify", "relative_orbit"))] = 0,
    orbit_direction: Annotated[
        str | None, typer.Option(help=doc("classify", "orbit_direction"))
    ] = None,
    overwrite: Annotated[bool, typer.Option(help=doc("classify", "overwrite"))] = False,
) -> None:
    """Classify backscatter into a water mask (0 dry, 1 water, 255 nodata)."""
    result = steps.classify(
        backscatter,
        mask,
        band=band,
        units=units,
        method=method,
        tile_size=tile_size,
        smoothing=smoothing,
        refine=refine,
        classes=classes,
        threshold_db=threshold_db,
        reference=reference,
        change_db=change_db,
        dem=dem,
        exclusion=exclusion,
        hand_max_m=hand_max_m,
        slope_max_deg=slope_max_deg,
        allow_unimodal=allow_unimodal,
        acquisition_start=acquisition_start,
        platform=platform,
        relative_orbit=relative_orbit,
        orbit_direction=orbit_direction,
        overwrite=overwrite,
        progress=State.progress,
    )
    typer.echo(f"{result.mask} ({result.sidecar.name}, {result.histogram_png.name}):")
    from s1flood.classification.describe import describe  # numpy: not at CLI start

    typer.echo("\n".join(describe(result)))
