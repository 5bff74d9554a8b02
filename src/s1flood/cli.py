"""Command line: parses, calls the library, configures logging, maps errors to exit codes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from s1flood._version import __version__
from s1flood.aggregation import aggregate as aggregate_masks
from s1flood.backscatter import Units
from s1flood.classification import classify as classify_backscatter
from s1flood.demo import run_demo
from s1flood.discovery import DiscoveryConfig, load_config, render
from s1flood.discovery import discover as discover_scenes
from s1flood.discovery import fetch as fetch_product
from s1flood.errors import EmptyInputError, InvalidOptionError, RasterReadError, S1FloodError
from s1flood.preprocessing import preprocess as preprocess_product
from s1flood.synthetic.simulate import simulate as simulate_products

log = logging.getLogger("s1flood")

app = typer.Typer(
    name="s1flood",
    help="Flood mapping from Sentinel-1 GRD: water masks and water frequency.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _State:
    progress = True


def _version(value: bool) -> None:
    if value:
        typer.echo(f"s1flood {__version__}")
        raise typer.Exit()


@app.callback()
def _configure(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="Log what is done (-v: INFO, -vv: DEBUG)."
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors; no progress bars.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Configure logging for every command."""
    levels = {0: logging.WARNING, 1: logging.INFO}
    level = logging.ERROR if quiet else levels.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if verbose < 2:
        for noisy in ("rasterio", "numba", "matplotlib", "PIL"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    _State.progress = not quiet


@app.command()
def classify(
    backscatter: Annotated[Path, typer.Argument(help="Calibrated backscatter GeoTIFF.")],
    water: Annotated[Path, typer.Argument(help="Output water mask COG.")],
    band: Annotated[str, typer.Option(help="Band: 1-based index or description (e.g. VV).")] = "1",
    units: Annotated[Units, typer.Option(help="Units of the input values.")] = Units.AUTO,
    classes: Annotated[int, typer.Option(help="Multi-Otsu classes; water is the lowest.")] = 3,
    threshold_db: Annotated[
        float | None, typer.Option(help="Fixed water threshold (dB) instead of Multi-Otsu.")
    ] = None,
    allow_unimodal: Annotated[
        bool, typer.Option(help="Threshold even when no distinct water population shows.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
) -> None:
    """Classify backscatter into a water mask (0 dry, 1 water, 255 nodata)."""
    result = classify_backscatter(
        backscatter,
        water,
        band=band,
        units=units,
        classes=classes,
        overwrite=overwrite,
        require_bimodal=not allow_unimodal,
        threshold_db=threshold_db,
        progress=_State.progress,
    )
    typer.echo(
        f"{result.mask}: water below {result.water_threshold_db:.2f} dB, "
        f"{result.water_area_km2:.3f} km² water; {result.sidecar.name}, {result.histogram_png.name}"
    )


@app.command()
def preprocess(
    product: Annotated[Path, typer.Argument(help="Sentinel-1 GRD product: .SAFE folder or .zip.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output sigma0 COG (dB).")],
    aoi: Annotated[str, typer.Option(help="Area of interest: WKT polygon, lon/lat (EPSG:4326).")],
    dem: Annotated[Path, typer.Option(help="DEM GeoTIFF covering the AOI (any CRS).")],
    engine: Annotated[str, typer.Option(help="python (default) or snap.")] = "python",
    polarisation: Annotated[str, typer.Option(help="VV, VH, HH or HV.")] = "VV",
    resolution: Annotated[float, typer.Option(help="Pixel size of the target grid (m).")] = 10.0,
    crs: Annotated[
        str | None, typer.Option(help="Target CRS (default: UTM zone of the AOI centroid).")
    ] = None,
    orbit: Annotated[
        Path | None, typer.Option(help="Orbit file (EOF) or a directory of them.")
    ] = None,
    speckle: Annotated[str, typer.Option(help="lee, refined-lee or none.")] = "lee",
    window: Annotated[int, typer.Option(help="Speckle filter window (odd).")] = 5,
    rtc: Annotated[bool, typer.Option(help="Terrain-flattened gamma0 instead of sigma0.")] = False,
    dem_vertical: Annotated[
        str,
        typer.Option(
            help="DEM heights: auto (geoid only if the CRS says so), egm96 (SRTM, Copernicus "
            "DEM) or ellipsoid."
        ),
    ] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
) -> None:
    """Calibrate, filter and terrain-correct a GRD product onto the AOI's grid (sigma0 dB)."""
    result = preprocess_product(
        product,
        output,
        aoi_wkt=aoi,
        dem=dem,
        engine=engine,
        polarisation=polarisation,
        resolution=resolution,
        crs=crs,
        orbit=orbit,
        speckle=speckle,
        window=window,
        rtc=rtc,
        dem_vertical=dem_vertical,
        overwrite=overwrite,
        progress=_State.progress,
    )
    typer.echo(
        f"{result.output}: {result.quantity} {result.polarisation} dB, "
        f"{result.grid.width} x {result.grid.height} px, {result.valid_fraction:.1%} valid, "
        f"{result.seconds:.1f} s ({result.engine}, orbit: {result.orbit_source}); "
        f"STAC Item {result.stac_item.name}"
    )


def expand_mask_arguments(arguments: list[str]) -> list[Path]:
    """Mask paths from arguments, where `@list.txt` stands for the paths listed in that file."""
    paths: list[Path] = []
    for argument in arguments:
        if not argument.startswith("@"):
            paths.append(Path(argument))
            continue
        listing = Path(argument[1:])
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RasterReadError(listing, f"cannot read mask list ({exc.strerror})") from None
        for line in lines:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                path = Path(entry)
                paths.append(path if path.is_absolute() else listing.parent / path)
    if not paths:
        raise EmptyInputError("water masks")
    return paths


@app.command()
def aggregate(
    masks: Annotated[
        list[str], typer.Argument(help="Water masks, or @list.txt with one path per line.")
    ],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Output directory.")],
    like: Annotated[
        Path | None, typer.Option(help="Reference raster whose grid the outputs take.")
    ] = None,
    candidate: Annotated[
        float, typer.Option(help="Frequency above which a pixel is a flood candidate.")
    ] = 0.1,
    permanent: Annotated[
        float, typer.Option(help="Frequency from which a pixel is permanent water.")
    ] = 0.9,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
) -> None:
    """Aggregate water masks into water frequency (water / valid observations) and classes."""
    result = aggregate_masks(
        expand_mask_arguments(masks),
        out_dir,
        like=like,
        candidate=candidate,
        permanent=permanent,
        overwrite=overwrite,
        progress=_State.progress,
    )
    area = result.area_km2
    typer.echo(
        f"{result.scene_count} scenes -> {out_dir}: permanent water "
        f"{area['permanent_water']:.3f} km², flood candidate {area['flood_candidate']:.3f} km²; "
        f"map {result.outputs['map']}"
    )


@app.command()
def simulate(
    aoi: Annotated[str, typer.Option(help="Area of interest: WKT polygon, lon/lat (EPSG:4326).")],
    start: Annotated[str, typer.Option(help="Start of the time window (ISO 8601).")],
    end: Annotated[str, typer.Option(help="End of the time window (ISO 8601).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    scenes: Annotated[int, typer.Option(help="Number of acquisitions.")] = 5,
    size: Annotated[
        str, typer.Option(help="tiny, small, demo (2000 x 2000), full (IW GRDH) or LINESxSAMPLES.")
    ] = "demo",
    orbit_direction: Annotated[str, typer.Option(help="ascending or descending.")] = "descending",
    dem: Annotated[
        Path | None, typer.Option(help="DEM GeoTIFF instead of a generated valley.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (the output is deterministic).")] = 0,
    zip_products: Annotated[bool, typer.Option("--zip", help="Zip each product.")] = False,
    wind: Annotated[bool, typer.Option(help="Roughen open water by wind on some dates.")] = False,
    map_sigma0: Annotated[
        bool, typer.Option(help="Also write each scene's terrain-corrected sigma0 on the DEM grid.")
    ] = False,
) -> None:
    """Simulate Sentinel-1 IW GRDH SAFE products of a flood, with water truth and a STAC catalog."""
    result = simulate_products(
        aoi,
        start,
        end,
        out,
        scenes=scenes,
        size=size,
        orbit_direction=orbit_direction,
        dem=dem,
        seed=seed,
        progress=_State.progress,
        zip_products=zip_products,
        wind=wind,
        map_sigma0=map_sigma0,
    )
    typer.echo(
        f"{len(result.products)} products in {out}; STAC catalog {result.catalog}; "
        f"truth in {result.truths[0].parent}"
    )


def _discovery_config(
    odata_url: str | None,
    token_url: str | None,
    stac_collection: str | None,
    settings: list[str] | None,
) -> DiscoveryConfig:
    overrides: dict[str, object] = {}
    for setting in settings or []:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise InvalidOptionError("--set", setting, "KEY=VALUE, e.g. asf_url=https://...")
        overrides[key.strip()] = value.strip()
    named = {
        "cdse_odata_url": odata_url,
        "cdse_token_url": token_url,
        "stac_collection": stac_collection,
    }
    overrides.update({k: v for k, v in named.items() if v is not None})
    return load_config(overrides)


_SET_HELP = (
    "Any discovery setting as KEY=VALUE (e.g. dhus_url=..., asf_url=..., trusted_hosts=...); "
    "also S1FLOOD_<KEY> or [discovery] in the config file."
)


_CATALOGUE_HELP = (
    "cdse, stac:URL (or stac:cdse, stac:planetary-computer, stac:earth-search), asf, "
    "dhus:URL or local:PATH (a static STAC catalog)."
)


@app.command()
def discover(
    aoi: Annotated[str, typer.Option(help="Area of interest: WKT polygon, lon/lat (EPSG:4326).")],
    start: Annotated[str, typer.Option(help="Start of the time window (ISO 8601).")],
    end: Annotated[str, typer.Option(help="End of the time window (ISO 8601).")],
    catalogue: Annotated[str, typer.Option(help=_CATALOGUE_HELP)] = "cdse",
    mode: Annotated[str, typer.Option(help="Acquisition mode.")] = "IW",
    product_type: Annotated[str, typer.Option(help="Product type.")] = "GRD",
    polarisation: Annotated[str | None, typer.Option(help="Required polarisation.")] = None,
    orbit_direction: Annotated[str | None, typer.Option(help="ascending or descending.")] = None,
    relative_orbit: Annotated[int | None, typer.Option(help="Relative orbit number.")] = None,
    min_coverage: Annotated[
        float, typer.Option(help="Minimum fraction of the AOI a scene must cover.")
    ] = 0.0,
    output_format: Annotated[
        str, typer.Option("--format", help="json, ids (JSON array of names), lines or summary.")
    ] = "json",
    odata_url: Annotated[str | None, typer.Option(help="CDSE OData base URL.")] = None,
    token_url: Annotated[str | None, typer.Option(help="Token endpoint URL.")] = None,
    stac_collection: Annotated[str | None, typer.Option(help="STAC collection id.")] = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
) -> None:
    """Find Sentinel-1 scenes covering an area in a time window (step 1 of the workflow)."""
    result = discover_scenes(
        aoi,
        start,
        end,
        catalogue=catalogue,
        mode=mode,
        product_type=product_type,
        polarisation=polarisation,
        orbit_direction=orbit_direction,
        relative_orbit=relative_orbit,
        min_coverage=min_coverage,
        config=_discovery_config(odata_url, token_url, stac_collection, settings),
    )
    typer.echo(render(result, output_format))


@app.command()
def fetch(
    product: Annotated[str, typer.Argument(help="Product name or catalogue id.")],
    catalogue: Annotated[str, typer.Option(help=_CATALOGUE_HELP)],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Output directory.")],
    unzip: Annotated[bool, typer.Option(help="Extract the zip to NAME.SAFE.")] = False,
    wait_offline: Annotated[
        bool, typer.Option(help="Wait for an offline (archived) product to come online.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing download.")] = False,
    odata_url: Annotated[str | None, typer.Option(help="CDSE OData base URL.")] = None,
    token_url: Annotated[str | None, typer.Option(help="Token endpoint URL.")] = None,
    stac_collection: Annotated[str | None, typer.Option(help="STAC collection id.")] = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
) -> None:
    """Download one product (credentials from S1FLOOD_CDSE_USERNAME/PASSWORD or ~/.netrc)."""
    path = fetch_product(
        product,
        catalogue=catalogue,
        out_dir=out_dir,
        unzip=unzip,
        wait_offline=wait_offline,
        progress=_State.progress,
        overwrite=overwrite,
        config=_discovery_config(odata_url, token_url, stac_collection, settings),
    )
    typer.echo(str(path))


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
    """Run the offline demo: simulate a flood, classify every scene, aggregate."""
    result = run_demo(
        out_dir, scenes=scenes, size=size, seed=seed, overwrite=overwrite, progress=_State.progress
    )
    typer.echo(result.report())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `s1flood` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        command.main(args=args or ["--help"], prog_name="s1flood", standalone_mode=False)
    except S1FloodError as exc:
        print(f"s1flood: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("s1flood: aborted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:
        message = getattr(exc, "format_message", exc.__str__)()
        print(f"s1flood: error: {' '.join(str(message).split())}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print("s1flood: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
