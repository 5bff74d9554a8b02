"""Steps 3 and 4 and the scene step: preprocess, classify, and both (after a fetch)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1flood.errors import InvalidOptionError
from s1flood.scene import SceneResult, product_name, scene_outputs
from s1flood.steps.catalogue import fetch
from s1flood.steps.forwarding import arguments_for

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from s1flood.classification import ClassificationResult
    from s1flood.preprocessing import PreprocessResult


def preprocess(
    product: Path | str,
    output: Path | str,
    *,
    aoi: str,
    dem: Path | str,
    engine: str = "python",
    polarisation: str = "VV+VH",
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
        dem: DEM GeoTIFF covering the AOI, any CRS; or ``copernicus-30`` /
            ``copernicus-90``: the Copernicus DEM GLO-30/90 tiles covering the AOI, fetched
            once into the cache and converted from EGM2008 to ellipsoidal heights.
        engine: ``python`` (xarray-sentinel reading, own terrain correction) or ``snap``
            (SNAP's gpt). Default ``python``.
        polarisation: VV, VH, HH or HV, or a pair (``VV+VH``, ``HH+HV``): both calibrated
            and terrain-corrected in one pass into a two-band COG (band descriptions VV,
            VH); a product holding only one of the pair gives that one (a warning says
            so). Default ``VV+VH``.
        resolution: pixel size of the target grid, metres. Default 10.
        crs: target CRS (EPSG code, WKT or PROJ text); default the UTM zone of the AOI
            centroid.
        orbit: precise orbit file (EOF) or a folder of them; or ``auto``: the POEORB
            (else RESORB) file covering the acquisition, fetched once into the cache, the
            annotation orbit when offline; default the annotation orbit.
        speckle: speckle filter: ``lee``, ``refined-lee`` or ``none``. Default ``lee``.
        window: speckle filter window, odd number of pixels (3 to 31). Default 5.
        rtc: terrain-flattened gamma0 instead of sigma0. Default false.
        dem_vertical: DEM heights: ``auto`` (geoid only if the CRS says so), ``egm96``
            (SRTM, Copernicus DEM) or ``ellipsoid``. Default ``auto``.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    from s1flood.errors import PolarisationNotFoundError
    from s1flood.preprocessing import preprocess as preprocess_product

    arguments = arguments_for(preprocess_product, locals())
    try:
        return preprocess_product(product, output, aoi_wkt=aoi, **arguments)
    except PolarisationNotFoundError as missing:
        wanted = [p.strip().upper() for p in polarisation.split("+")]
        held = [p for p in wanted if p in {a.upper() for a in missing.available}]
        if len(wanted) != 2 or len(held) != 1:
            raise
        log.warning(
            "%s has no %s: preprocessing %s alone", missing.path.name, missing.polarisation, held[0]
        )
        arguments["polarisation"] = held[0]
        return preprocess_product(product, output, aoi_wkt=aoi, **arguments)


def classify(
    backscatter: Path | str,
    mask: Path | str,
    *,
    band: str = "auto",
    units: str = "auto",
    method: str = "split",
    tile_size: int = 32,
    smoothing: int = 5,
    refine: int = 15,
    classes: int = 3,
    threshold_db: float = 0.0,
    reference: Path | str | None = None,
    change_db: float = 3.0,
    dem: Path | str | None = None,
    exclusion: Path | str | None = None,
    hand_max_m: float = 15.0,
    slope_max_deg: float = 10.0,
    allow_unimodal: bool = False,
    acquisition_start: str | None = None,
    platform: str | None = None,
    relative_orbit: int = 0,
    orbit_direction: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> ClassificationResult:
    """Classify backscatter into a water mask COG: 0 dry, 1 water, 255 nodata (step 4).

    Each scene is classified alone. Writes the mask, a confidence COG
    (``<mask>_confidence.tif``, 0..100), with a reference a new-water COG
    (``<mask>_change.tif``), a JSON sidecar (thresholds, the path taken and why, pixel
    counts) and a histogram PNG beside it. A scene without water is mapped all dry, not
    refused.

    Args:
        backscatter: calibrated backscatter GeoTIFF, linear power or dB.
        mask: the water mask COG to write (``.tif``).
        band: band to classify: ``auto`` (both polarisations of a two-band VV+VH or HH+HV
            raster, else band 1; default), a 1-based index or a band description such as
            ``VV``, or two joined by a comma (``VV,VH``): each band's own threshold, then
            their mean water membership.
        units: units of the input values: ``auto`` (from the band's metadata, else its
            values), ``linear`` or ``db``. Default ``auto``.
        method: ``split`` (Otsu of the tiles showing water and land; default),
            ``split-ki`` (Kittler-Illingworth on those tiles), ``otsu`` or ``multiotsu``.
        tile_size: tile side of the ``split`` methods in pixels. Default 32.
        smoothing: odd box size (pixels) of a dB mean against speckle; 0 for none.
            Default 5.
        refine: odd box size (pixels) within which water grows from seeds (pixels below
            the water class mean); 0 for none. Default 15.
        classes: Multi-Otsu classes for ``multiotsu`` (2 to 5). Default 3.
        threshold_db: a fixed water threshold in dB instead of the method; 0 (default):
            none, the method finds it.
        reference: a pre-event or dry-season backscatter raster on the same grid; pixels
            darker by more than ``change_db`` join water and the change COG. Default none.
        change_db: decrease in dB that marks new water against ``reference``. Default 3.
        dem: a DEM (m): pixels above ``hand_max_m`` over the nearest drainage or steeper
            than ``slope_max_deg`` become nodata. Default none.
        exclusion: a raster whose non-zero pixels become nodata (e.g. radar
            shadow/layover). Default none.
        hand_max_m: height above nearest drainage limit with ``dem`` (m). Default 15.
        slope_max_deg: slope limit with ``dem`` (degrees). Default 10.
        allow_unimodal: with ``multiotsu``, threshold even when no distinct water
            population shows. Default false.
        acquisition_start: the scene's acquisition start, ISO 8601 (UTC unless a zone is
            given), written into the mask's tags and sidecar for aggregation's time products;
            default that of the STAC Item beside the backscatter (as preprocessing writes
            it), else unknown.
        platform: the scene's platform (``sentinel-1a``); default as ``acquisition_start``.
        relative_orbit: the scene's relative orbit (1 to 175); 0 (default) as
            ``acquisition_start``.
        orbit_direction: ``ascending`` or ``descending``; default as ``acquisition_start``.
        overwrite: replace existing outputs. Default false.
        progress: show a progress bar. Default false.
    """
    return _classify(locals())


def _classify(
    values: dict[str, Any], input_nodata: dict[str, int] | None = None
) -> ClassificationResult:
    """`classify` with the step's parameters in `values`, and the input's known nodata."""
    from s1flood.acquisition import Acquisition
    from s1flood.classification import classify as classify_backscatter
    from s1flood.raster import reading

    arguments = arguments_for(classify_backscatter, values)
    arguments["threshold_db"] = values["threshold_db"] or None
    arguments["acquisition"] = Acquisition.of(
        values.get("acquisition_start"),
        values.get("platform"),
        values.get("relative_orbit") or 0,
        values.get("orbit_direction"),
    )
    with reading(values["backscatter"]):
        return classify_backscatter(
            values["backscatter"],
            values["mask"],
            require_bimodal=not values["allow_unimodal"],
            input_nodata=input_nodata,
            **arguments,
        )


def _terrain_dem(
    dem: Path | str, product: Path, preprocessed: PreprocessResult, vertical: str
) -> Path | None:
    """The DEM the preprocessing used: a file as given, a named one from the cache."""
    from s1flood.preprocessing.dem_sources import is_dem_source

    if is_dem_source(dem):
        from s1flood.preprocessing.online_inputs import resolve_inputs

        # the same grid gives the same mosaic: found in the cache, not fetched again
        return resolve_inputs(product, preprocessed.grid, dem, vertical, None)[0]
    return Path(dem) if Path(dem).is_file() else None


def _shadow_layover(preprocessed: PreprocessResult) -> dict[str, int]:
    """Pixels preprocessing left NaN for radar shadow and for layover."""
    total = preprocessed.grid.width * preprocessed.grid.height
    return {
        "shadow": round(preprocessed.shadow_fraction * total),
        "layover": round(preprocessed.layover_fraction * total),
    }


def process_scene(  # noqa: D417 (the others are documented in the steps it calls)
    product: str,
    out_dir: Path | str,
    *,
    aoi: str,
    dem: Path | str,
    catalogue: str | None = None,
    engine: str = "python",
    polarisation: str = "VV+VH",
    resolution: float = 10.0,
    crs: str | None = None,
    orbit: Path | str | None = None,
    speckle: str = "lee",
    window: int = 5,
    rtc: bool = False,
    dem_vertical: str = "auto",
    band: str = "auto",
    units: str = "auto",
    method: str = "split",
    tile_size: int = 32,
    smoothing: int = 5,
    refine: int = 15,
    classes: int = 3,
    threshold_db: float = 0.0,
    reference: Path | str | None = None,
    change_db: float = 3.0,
    exclusion: Path | str | None = None,
    terrain_exclusion: bool = True,
    hand_max_m: float = 15.0,
    slope_max_deg: float = 10.0,
    allow_unimodal: bool = False,
    settings: list[str] | None = None,
    read: str = "auto",
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
        terrain_exclusion: also give the DEM to `classify` (when it is a file), so that
            pixels high above the drainage or on steep slopes are nodata, not dry.
            Default true.
        read: how a named product is fetched: ``auto`` (only the bytes the AOI needs,
            wherever the catalogue serves byte ranges, else the whole product), ``aoi`` or
            ``whole`` (see `fetch`). Default ``auto``.
    """
    if isinstance(dem, str) and not dem.strip():
        raise InvalidOptionError("dem", dem, "empty: give a staged DEM (dem) or a name (dem_name)")
    values = dict(locals())
    out_dir = Path(out_dir)
    fetched = None
    if catalogue:
        fetched = fetch(
            product, catalogue=catalogue, out_dir=out_dir / "products", overwrite=overwrite,
            settings=settings, read=read, progress=progress,
        )  # fmt: skip
    product_path = fetched.path if fetched else Path(product)
    name = product_name(product_path)
    sigma0, mask = scene_outputs(out_dir, name, polarisation)
    preprocessed = preprocess(product_path, sigma0, **arguments_for(preprocess, values))
    values["dem"] = (
        _terrain_dem(dem, product_path, preprocessed, dem_vertical) if terrain_exclusion else None
    )
    values.update(backscatter=sigma0, mask=mask)
    classified = _classify(values, _shadow_layover(preprocessed))
    return SceneResult(name, out_dir, fetched, preprocessed, classified)
