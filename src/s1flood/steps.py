"""The workflow steps: one function per step, the single source of its parameters.

Every face calls these functions as they are: the command line (each option is a parameter
here, its help taken from the ``Args:`` below), the notebooks (their parameters cell), the CWL
tools (their inputs) and the OGC process (its inputs). Parameters have plain types (str, float,
int, bool, list of str, paths as str or Path); each result has ``to_dict()``.

This module imports nothing heavy: each step imports its implementation when it runs, so the
command line starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s1flood.aggregation import AggregationResult
    from s1flood.classification import ClassificationResult
    from s1flood.discovery import DiscoveryConfig, DiscoveryResult, FetchResult
    from s1flood.preprocessing import PreprocessResult
    from s1flood.scene import SceneResult
    from s1flood.synthetic.simulate import SimulationResult

__all__ = [
    "STEPS",
    "aggregate",
    "classify",
    "discover",
    "fetch",
    "preprocess",
    "process_scene",
    "simulate",
]


def discovery_config(
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
) -> DiscoveryConfig:
    """The discovery configuration with the caller's settings applied.

    Args:
        settings: ``KEY=VALUE`` settings (see `discover`).
        odata_url: CDSE OData base URL, or ``None`` for the configured one.
        token_url: token endpoint URL, or ``None`` for the configured one.
        stac_collection: STAC collection id, or ``None`` for the configured one.
    """
    from s1flood.discovery import load_config
    from s1flood.errors import InvalidOptionError

    overrides: dict[str, object] = {}
    for setting in settings or []:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise InvalidOptionError("settings", setting, "KEY=VALUE, e.g. asf_url=https://...")
        overrides[key.strip()] = value.strip()
    named = {
        "cdse_odata_url": odata_url,
        "cdse_token_url": token_url,
        "stac_collection": stac_collection,
    }
    overrides.update({k: v for k, v in named.items() if v is not None})
    return load_config(overrides)


def discover(
    aoi: str,
    start: str,
    end: str,
    *,
    catalogue: str = "cdse",
    mode: str = "IW",
    product_type: str = "GRD",
    polarisation: str | None = None,
    orbit_direction: str | None = None,
    relative_orbit: int | None = None,
    min_coverage: float = 0.0,
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
) -> DiscoveryResult:
    """Find the Sentinel-1 scenes covering an area in a time window (step 1).

    Pages through the whole answer, computes each scene's coverage of the AOI (geodesic),
    keeps those covering at least ``min_coverage``, drops duplicate acquisitions (the newest
    product is kept) and sorts by time.

    Args:
        aoi: area of interest, a WKT polygon in lon/lat (EPSG:4326).
        start: start of the time window, ISO 8601 (UTC unless an offset is given).
        end: end of the time window, ISO 8601; after ``start``.
        catalogue: where to search: ``cdse`` (Copernicus Data Space OData), ``stac:URL`` (or
            ``stac:cdse``, ``stac:planetary-computer``, ``stac:earth-search``), ``asf``,
            ``dhus:URL`` or ``local:PATH`` (a static STAC catalog). Default ``cdse``.
        mode: acquisition mode. Default ``IW``.
        product_type: product type. Default ``GRD``.
        polarisation: a polarisation every scene must have (VV, VH, HH or HV); default any.
        orbit_direction: ``ascending`` or ``descending``; default both.
        relative_orbit: relative orbit number, 1 to 175; default any.
        min_coverage: fraction of the AOI (0 to 1) a scene must cover. Default 0.
        settings: discovery settings as ``KEY=VALUE`` (e.g. ``dhus_url=...``,
            ``asf_url=...``, ``trusted_hosts=...``); also ``S1FLOOD_<KEY>`` or
            ``[discovery]`` in the configuration file.
        odata_url: CDSE OData base URL (default: the configured one).
        token_url: token endpoint URL (default: the configured one).
        stac_collection: STAC collection id (default: the configured one).
    """
    from s1flood.discovery import discover as discover_scenes

    return discover_scenes(
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
        config=discovery_config(settings, odata_url, token_url, stac_collection),
    )


def fetch(
    product: str,
    *,
    catalogue: str,
    out_dir: Path | str,
    unzip: bool = False,
    wait_offline: bool = False,
    overwrite: bool = False,
    settings: list[str] | None = None,
    odata_url: str | None = None,
    token_url: str | None = None,
    stac_collection: str | None = None,
    progress: bool = False,
) -> FetchResult:
    """Download one product from a catalogue (step 2), verified and renamed when complete.

    Credentials come from the environment (``S1FLOOD_CDSE_USERNAME`` /
    ``S1FLOOD_CDSE_PASSWORD``, ``EARTHDATA_TOKEN``, ``S1FLOOD_DHUS_*``) or ``~/.netrc``, never
    from parameters, and never appear in logs, errors or results.

    Args:
        product: product name (with or without ``.SAFE``) or catalogue id.
        catalogue: the catalogue to fetch from (see `discover`).
        out_dir: folder the product is written to.
        unzip: also extract the zip to ``NAME.SAFE``. Default false.
        wait_offline: wait for an offline (archived) product to come online. Default false.
        overwrite: replace an existing download. Default false.
        settings: discovery settings as ``KEY=VALUE`` (see `discover`).
        odata_url: CDSE OData base URL (default: the configured one).
        token_url: token endpoint URL (default: the configured one).
        stac_collection: STAC collection id (default: the configured one).
        progress: show a progress bar. Default false.
    """
    from s1flood.discovery import fetch as fetch_product

    return fetch_product(
        product,
        catalogue=catalogue,
        out_dir=out_dir,
        unzip=unzip,
        wait_offline=wait_offline,
        overwrite=overwrite,
        progress=progress,
        config=discovery_config(settings, odata_url, token_url, stac_collection),
    )


def preprocess(
    product: Path | str,
    output: Path | str,
    *,
    aoi: str,
    dem: Path | str,
    engine: str = "python",
    polarisation: str = "VV",
    resolution: float = 10.0,
    crs: str | None = None,
    orbit: Path | str | None = None,
    speckle: str = "lee",
    window: int = 5,
    rtc: bool = False,
    dem_vertical: str = "auto",
    overwrite: bool = False,
    progress: bool = False,
) -> PreprocessResult:
    """Calibrate, filter and terrain-correct a GRD product onto the AOI's grid (step 3).

    Writes a float32 dB Cloud Optimized GeoTIFF (NaN nodata: outside the swath, radar
    shadow and layover) and its STAC Item (``.json``) beside it; nothing on failure.

    Args:
        product: Sentinel-1 GRD product, a ``.SAFE`` folder or its ``.zip``.
        output: the sigma0 COG to write (``.tif``).
        aoi: area of interest, a WKT polygon in lon/lat (EPSG:4326).
        dem: DEM GeoTIFF covering the AOI, any CRS.
        engine: ``python`` (xarray-sentinel reading, own terrain correction) or ``snap``
            (SNAP's gpt). Default ``python``.
        polarisation: VV, VH, HH or HV. Default VV.
        resolution: pixel size of the target grid, metres. Default 10.
        crs: target CRS (EPSG code, WKT or PROJ text); default the UTM zone of the AOI
            centroid.
        orbit: precise orbit file (EOF) or a folder of them; default the annotation orbit.
        speckle: speckle filter: ``lee``, ``refined-lee`` or ``none``. Default ``lee``.
        window: speckle filter window, odd number of pixels (3 to 31). Default 5.
        rtc: terrain-flattened gamma0 instead of sigma0. Default false.
        dem_vertical: DEM heights: ``auto`` (geoid only if the CRS says so), ``egm96``
            (SRTM, Copernicus DEM) or ``ellipsoid``. Default ``auto``.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    from s1flood.preprocessing import preprocess as preprocess_product

    return preprocess_product(
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
        progress=progress,
    )


def classify(
    backscatter: Path | str,
    mask: Path | str,
    *,
    band: str = "1",
    units: str = "auto",
    classes: int = 3,
    threshold_db: float | None = None,
    allow_unimodal: bool = False,
    overwrite: bool = False,
    progress: bool = False,
) -> ClassificationResult:
    """Classify backscatter into a water mask COG: 0 dry, 1 water, 255 nodata (step 4).

    Writes the mask, a JSON sidecar (thresholds, how they were found, pixel counts) and a
    histogram PNG beside it.

    Args:
        backscatter: calibrated backscatter GeoTIFF, linear power or dB.
        mask: the water mask COG to write (``.tif``).
        band: band to classify: a 1-based index or a band description such as ``VV``.
            Default ``1``.
        units: units of the input values: ``auto`` (from the band's metadata, else its
            values), ``linear`` or ``db``. Default ``auto``.
        classes: Multi-Otsu classes (2 to 5); water is the lowest. Default 3.
        threshold_db: a fixed water threshold in dB instead of Multi-Otsu; default none.
        allow_unimodal: threshold even when no distinct water population shows.
            Default false.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    from s1flood.classification import classify as classify_backscatter
    from s1flood.raster import reading

    with reading(backscatter):
        return classify_backscatter(
            backscatter,
            mask,
            band=band,
            units=units,
            classes=classes,
            threshold_db=threshold_db,
            require_bimodal=not allow_unimodal,
            overwrite=overwrite,
            progress=progress,
        )


def aggregate(
    masks: list[str],
    out_dir: Path | str,
    *,
    like: Path | str | None = None,
    candidate: float = 0.1,
    permanent: float = 0.9,
    overwrite: bool = False,
    progress: bool = False,
) -> AggregationResult:
    """Aggregate water masks into water frequency and classes (step 5).

    Frequency is water / valid observations, never water / number of scenes. Writes
    ``water_count.tif``, ``valid_count.tif``, ``frequency.tif``, ``classes.tif`` (COGs),
    ``classes.png`` (map with legend), ``summary.json`` and a STAC catalog of them.

    Args:
        masks: water masks (uint8 0/1/255 GeoTIFFs), or ``@list.txt`` entries naming a file
            with one mask path per line (relative to that file).
        out_dir: folder of the outputs.
        like: reference raster whose grid the outputs take; default the union of the
            masks' extents on the first mask's grid.
        candidate: frequency above which a pixel is a flood candidate (0 to 1). Default 0.1.
        permanent: frequency from which a pixel is permanent water (0 to 1, above
            ``candidate``). Default 0.9.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    from s1flood.aggregation import aggregate as aggregate_masks
    from s1flood.aggregation import expand_mask_arguments

    return aggregate_masks(
        expand_mask_arguments([str(m) for m in masks]),
        out_dir,
        like=like,
        candidate=candidate,
        permanent=permanent,
        overwrite=overwrite,
        progress=progress,
    )


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
    )


def process_scene(  # noqa: D417 (the others are documented in the steps it calls)
    product: str,
    out_dir: Path | str,
    *,
    aoi: str,
    dem: Path | str,
    catalogue: str | None = None,
    engine: str = "python",
    polarisation: str = "VV",
    resolution: float = 10.0,
    crs: str | None = None,
    orbit: Path | str | None = None,
    speckle: str = "lee",
    window: int = 5,
    rtc: bool = False,
    dem_vertical: str = "auto",
    band: str = "1",
    units: str = "auto",
    classes: int = 3,
    threshold_db: float | None = None,
    allow_unimodal: bool = False,
    settings: list[str] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> SceneResult:
    """Map water in one scene: fetch (or take the staged product), preprocess, classify.

    Outputs go under ``out_dir``: ``products/`` (a fetched product), ``sigma0/NAME_sigma0_
    POL.tif`` and ``masks/NAME_water.tif`` with their sidecars. The other parameters are
    those of `preprocess` and `classify`.

    Args:
        product: a product name or catalogue id (fetched from ``catalogue``), or the path of
            a staged ``.SAFE`` folder or ``.zip``.
        out_dir: folder of the scene's outputs.
        catalogue: the catalogue to fetch a named product from (see `discover`); a staged
            STAC catalog is ``local:PATH``; default none (``product`` is a path).
    """
    from s1flood.scene import SceneResult, product_name, scene_outputs

    out_dir = Path(out_dir)
    fetched = None
    if catalogue:
        fetched = fetch(
            product,
            catalogue=catalogue,
            out_dir=out_dir / "products",
            overwrite=overwrite,
            settings=settings,
            progress=progress,
        )
        product_path = fetched.path
    else:
        product_path = Path(product)
    name = product_name(product_path)
    sigma0, mask = scene_outputs(out_dir, name, polarisation)
    preprocessed = preprocess(
        product_path,
        sigma0,
        aoi=aoi,
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
        progress=progress,
    )
    classified = classify(
        sigma0,
        mask,
        band=band,
        units=units,
        classes=classes,
        threshold_db=threshold_db,
        allow_unimodal=allow_unimodal,
        overwrite=overwrite,
        progress=progress,
    )
    return SceneResult(name, out_dir, fetched, preprocessed, classified)


COMPOSED = {"scene": ("preprocess", "classify", "fetch")}
"""Steps whose other parameters are documented in the steps they call."""

STEPS: dict[str, Callable[..., Any]] = {
    "discover": discover,
    "fetch": fetch,
    "preprocess": preprocess,
    "classify": classify,
    "aggregate": aggregate,
    "simulate": simulate,
    "scene": process_scene,
}
"""Step functions by the name of their CLI command."""
