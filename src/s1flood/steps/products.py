"""Step 5 and the simulator: aggregate masks into water frequency; simulate products."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from s1flood.aggregation import AggregationResult
    from s1flood.synthetic.simulate import SimulationResult


def aggregate(
    masks: list[str],
    out_dir: Path | str,
    *,
    like: Path | str | None = None,
    candidate: float = 0.1,
    permanent: float = 0.9,
    event_start: str | None = None,
    reference_water: Path | str | None = None,
    reference_threshold: float = 0.5,
    dem: Path | str | None = None,
    change_db: float = 3.0,
    change_rule: str = "auto",
    sigma0: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> AggregationResult:
    """Aggregate water masks into water frequency, classes and the flood record (step 5).

    Frequency is water / valid observations, never water / number of scenes; masks of one
    acquisition (times from the masks' tags) are one observation. Writes
    ``water_count.tif``, ``valid_count.tif``, ``frequency.tif``, ``classes.tif``, the flood
    record (``reference_water``, ``flood_extent``, ``flood_count``, ``first_flooded``,
    ``last_flooded`` (days since 1970-01-01 UTC), ``duration_min_days``,
    ``duration_max_days``, ``flood_episodes``, with a DEM ``depth_max``: COGs),
    ``classes.png``, ``timeseries.csv``, ``flooded_area.png``, ``summary.json`` and a STAC
    catalog of them.

    Args:
        masks: water masks (uint8 0/1/255 GeoTIFFs), or ``@list.txt`` entries naming a file
            with one mask path per line (relative to that file).
        out_dir: folder of the outputs.
        like: reference raster whose grid the outputs take; default the union of the
            masks' extents on the first mask's grid.
        candidate: frequency above which a pixel is a flood candidate (0 to 1). Default 0.1.
        permanent: frequency from which a pixel is permanent water (0 to 1, above
            ``candidate``); without ``event_start``, also the share of valid observations
            in which a pixel is water that makes it reference water. Default 0.9.
        event_start: start of the event, ISO 8601 (UTC unless a zone is given): the
            observations before it give reference water (water in at least half of them)
            and are not flood; default none (reference water by ``permanent``).
        reference_water: a reference water raster on any grid, warped nearest (e.g. a JRC
            Global Surface Water occurrence COG): at or above ``reference_threshold``
            reference water; where it has no value the series' rule holds. Default none.
        reference_threshold: the threshold of ``reference_water`` (0.5 for a 0/1 mask, e.g.
            50 for an occurrence in percent). Default 0.5.
        dem: a DEM GeoTIFF (m, any CRS), or ``copernicus-30`` / ``copernicus-90`` (fetched
            over the grid into the cache): writes ``depth_max.tif``, the maximum flood
            depth from the flood extent. Default none.
        change_db: with ``event_start``, water is flood only where its sigma0 is at least
            this much (dB) darker than the mean of the pre-event scenes of its relative
            orbit (the sigma0 each mask's sidecar names, where it exists); elsewhere the
            masks alone decide. Default 3.
        change_rule: ``auto`` (that change rule wherever it applies) or ``off`` (the masks
            alone). Default ``auto``.
        sigma0: the sigma0 COGs the masks were classified from, matched by file name to
            the one each mask's sidecar names (for staged copies, as a workflow's); default
            none: the paths the sidecars name.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    from s1flood.aggregation import aggregate as aggregate_masks
    from s1flood.mask_sources import expand_mask_arguments
    from s1flood.stac import write_aggregation_catalog

    paths = expand_mask_arguments([str(m) for m in masks])
    result = aggregate_masks(
        paths,
        out_dir,
        like=like,
        candidate=candidate,
        permanent=permanent,
        event_start=event_start,
        reference_water=reference_water,
        reference_threshold=reference_threshold,
        dem=dem,
        change_db=change_db,
        change_rule=change_rule,
        sigma0=sigma0 or (),
        overwrite=overwrite,
        progress=progress,
    )
    result.outputs["catalog"] = write_aggregation_catalog(result, paths)
    return result


def simulate(
    aoi: str,
    start: str,
    end: str,
    out: Path | str,
    *,
    scenes: int = 5,
    size: str = "demo",
    orbit_direction: str = "descending",
    dem: Path | str | None = None,
    seed: int = 0,
    zip_products: bool = False,
    wind: bool = False,
    map_sigma0: bool = False,
    dark_land: bool = False,
    relative_orbits: int = 1,
    progress: bool = False,
) -> SimulationResult:
    """Simulate Sentinel-1 IW GRDH SAFE products of a flood, with water truth and a catalog.

    Args:
        aoi: area of interest, a WKT polygon in lon/lat (EPSG:4326), at most 45 km across.
        start: start of the time window, ISO 8601.
        end: end of the time window, ISO 8601.
        out: output folder (``products/``, ``truth/``, ``dem/``, ``catalog/``).
        scenes: number of acquisitions (1 to 100). Default 5.
        size: image size: ``tiny`` (400 x 400), ``small``, ``demo`` (2000 x 2000), ``full``
            (an IW GRDH scene) or ``LINESxSAMPLES``. Default ``demo``.
        orbit_direction: ``ascending`` or ``descending``. Default ``descending``.
        dem: DEM GeoTIFF to use instead of a generated river valley; default generated.
        seed: random seed; the output is deterministic for a seed. Default 0.
        zip_products: zip each product. Default false.
        wind: roughen open water by wind on some dates. Default false.
        map_sigma0: also write each scene's terrain-corrected sigma0 on the DEM grid.
            Default false.
        dark_land: add always-dark land (dry sand, a tarmac runway) above the flood levels,
            as dark as calm water in every scene. Default false.
        relative_orbits: 1, or 2 for scenes alternating between two orbit tracks (the given
            direction and the other one, each with its own incidence and footprint). Default 1.
        progress: show a progress bar. Default false.
    """
    from s1flood.synthetic.simulate import simulate as simulate_products

    return simulate_products(
        aoi,
        start,
        end,
        Path(out),
        scenes=scenes,
        size=size,
        orbit_direction=orbit_direction,
        dem=Path(dem) if dem is not None else None,
        seed=seed,
        progress=progress,
        zip_products=zip_products,
        wind=wind,
        map_sigma0=map_sigma0,
        dark_land=dark_land,
        relative_orbits=relative_orbits,
    )
