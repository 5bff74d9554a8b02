"""``s1flood aggregate``, ``simulate`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from s1flood import steps
from s1flood.cli.app import State, app, doc


@app.command()
def aggregate(
    masks: Annotated[list[str], typer.Argument(help=doc("aggregate", "masks"))],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help=doc("aggregate", "out_dir"))],
    like: Annotated[Path | None, typer.Option(help=doc("aggregate", "like"))] = None,
    candidate: Annotated[float, typer.Option(help=doc("aggregate", "candidate"))] = 0.1,
    permanent: Annotated[float, typer.Option(help=doc("aggregate", "permanent"))] = 0.9,
    event_start: Annotated[str | None, typer.Option(help=doc("aggregate", "event_start"))] = None,
    reference_water: Annotated[
        Path | None, typer.Option(help=doc("aggregate", "reference_water"))
    ] = None,
    reference_threshold: Annotated[
        float, typer.Option(help=doc("aggregate", "reference_threshold"))
    ] = 0.5,
    dem: Annotated[Path | None, typer.Option(help=doc("aggregate", "dem"))] = None,
    change_db: Annotated[float, typer.Option(help=doc("aggregate", "change_db"))] = 3.0,
    change_rule: Annotated[str, typer.Option(help=doc("aggregate", "change_rule"))] = "auto",
    sigma0: Annotated[list[str] | None, typer.Option(help=doc("aggregate", "sigma0"))] = None,
    overwrite: Annotated[bool, typer.Option(help=doc("aggregate", "overwrite"))] = False,
) -> None:
    """Aggregate water masks into water frequency, classes and the flood record."""
    result = steps.aggregate(**locals(), progress=State.progress)
    area = result.area_km2
    depth = f", depth {result.outputs['depth_max']}" if "depth_max" in result.outputs else ""
    typer.echo(
        f"{result.scene_count} scenes -> {out_dir}: permanent water "
        f"{area['permanent_water']:.3f} km², flood candidate {area['flood_candidate']:.3f} km², "
        f"flooded {area.get('flooded', 0.0):.3f} km²; map {result.outputs['map']}, "
        f"first/last flooded, durations, episodes{depth}, {result.outputs['timeseries'].name}"
    )


@app.command()
def simulate(
    aoi: Annotated[str, typer.Option(help=doc("simulate", "aoi"))],
    start: Annotated[str, typer.Option(help=doc("simulate", "start"))],
    end: Annotated[str, typer.Option(help=doc("simulate", "end"))],
    out: Annotated[Path, typer.Option("--out", "-o", help=doc("simulate", "out"))],
    scenes: Annotated[int, typer.Option(help=doc("simulate", "scenes"))] = 5,
    size: Annotated[str, typer.Option(help=doc("simulate", "size"))] = "demo",
    orbit_direction: Annotated[
        str, typer.Option(help=doc("simulate", "orbit_direction"))
    ] = "descending",
    dem: Annotated[Path | None, typer.Option(help=doc("simulate", "dem"))] = None,
    seed: Annotated[int, typer.Option(help=doc("simulate", "seed"))] = 0,
    zip_products: Annotated[
        bool, typer.Option("--zip", help=doc("simulate", "zip_products"))
    ] = False,
    wind: Annotated[bool, typer.Option(help=doc("simulate", "wind"))] = False,
    map_sigma0: Annotated[bool, typer.Option(help=doc("simulate", "map_sigma0"))] = False,
    dark_land: Annotated[bool, typer.Option(help=doc("simulate", "dark_land"))] = False,
    relative_orbits: Annotated[int, typer.Option(help=doc("simulate", "relative_orbits"))] = 1,
) -> None:
    """Simulate Sentinel-1 IW GRDH SAFE products of a flood, with water truth and a STAC catalog."""
    result = steps.simulate(**locals(), progress=State.progress)
    typer.echo(
        f"{len(result.products)} products in {out}; STAC catalog {result.catalog}; "
        f"truth in {result.truths[0].parent}"
    )


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Output directory.")] = Path(
        "demo-output"
    ),
    scenes: Annotated[int, typer.Option(help="Number of acquisitions to simulate.")] = 6,
    size: Annotated[str, typer.Option(help="Scene size: tiny, small or demo.")] = "demo",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier demo's outputs.")] = False,
) -> None:
    """Run the offline demo in one process: simulate a flood, map every scene, aggregate."""
    from s1flood.demo import run_demo

    result = run_demo(
        out_dir, scenes=scenes, size=size, seed=seed, overwrite=overwrite, progress=State.progress
    )
    typer.echo(result.report())
