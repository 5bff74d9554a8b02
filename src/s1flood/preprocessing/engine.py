"""The preprocessing entry point.

``preprocess()`` validates everything that can be validated before any pixel is computed
(options, AOI, outputs, product, polarisation, footprint, DEM coverage, orbit file), then
has the chosen engine (see `s1flood.preprocessing.engines`) write the sigma0 COG on the
AOI's target grid, then writes its STAC Item. A failure leaves no output behind.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from s1flood.aoi import parse_aoi_wkt
from s1flood.errors import InvalidOptionError
from s1flood.grid import parse_crs, target_grid
from s1flood.preprocessing.dem import VERTICAL_CHOICES
from s1flood.preprocessing.engines import engine_name, get_engine
from s1flood.preprocessing.model import (
    DUAL_PAIRS,
    PreprocessOptions,
    PreprocessResult,
    split_polarisations,
    stac_item_path,
)
from s1flood.preprocessing.online_inputs import resolve_inputs
from s1flood.preprocessing.speckle import check_filter
from s1flood.raster import check_outputs

log = logging.getLogger(__name__)


def _polarisation(polarisation: str) -> str:
    """``VV``, ``VH``, ``HH``, ``HV``, ``VV+VH`` or ``HH+HV`` (normalised), else refused."""
    pols = split_polarisations(polarisation or "")
    if len(pols) == 1 and pols[0] in ("VV", "VH", "HH", "HV"):
        return pols[0]
    if frozenset(pols) in DUAL_PAIRS and len(pols) == 2:
        return "+".join(pols)
    raise InvalidOptionError("polarisation", polarisation, "use VV, VH, HH, HV, VV+VH or HH+HV")


def preprocess(
    product: Path | str,
    output: Path | str,
    *,
    aoi_wkt: str,
    dem: Path | str,
    engine: str = "python",
    polarisation: str = "VV",
    resolution: float = 10.0,
    crs: str | None = None,
    orbit: Path | str | None = None,
    speckle: str = "lee",
    window: int = 5,
    rtc: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    dem_vertical: str = "auto",
    workers: int | None = None,
) -> PreprocessResult:
    """Preprocess a Sentinel-1 GRD product to backscatter in dB on the AOI's target grid.

    Writes a COG (float32 dB, NaN nodata) and its STAC Item beside it (``.json``); the
    step function `s1flood.steps.preprocess` is the documented face of this one.

    Args:
        product: Sentinel-1 GRD product, a ``.SAFE`` folder or its ``.zip``.
        output: the sigma0 COG to write (``.tif``).
        aoi_wkt: area of interest, a WKT polygon in lon/lat (EPSG:4326).
        dem: DEM GeoTIFF covering the AOI, any CRS, or ``copernicus-30`` /
            ``copernicus-90`` (fetched and cached, see `dem_sources`).
        engine: a registered engine name (`ENGINES`): ``python`` or ``snap``.
        polarisation: VV, VH, HH or HV; or both of a dual-polarisation product,
            ``VV+VH`` (``HH+HV``): calibrated and terrain-corrected in one pass and written as
            one two-band COG, band 1 the co-polarised (VV), band 2 the cross-polarised (VH).
        resolution: pixel size of the target grid, metres.
        crs: target CRS (EPSG code, WKT or PROJ text); default the UTM zone of the AOI.
        orbit: precise orbit file (EOF), a folder of them, or ``auto`` (fetched and cached,
            see `orbit_sources`); default the annotation orbit.
        speckle: speckle filter: ``lee``, ``refined-lee`` or ``none``.
        window: speckle filter window, odd number of pixels.
        rtc: terrain-flattened gamma0 instead of sigma0.
        overwrite: replace existing outputs.
        progress: show a progress bar.
        dem_vertical: DEM heights: ``auto``, ``egm96`` or ``ellipsoid``.
        workers: worker threads (default: from the CPU count).
    """
    started = time.perf_counter()
    name = engine_name(engine)
    pol = _polarisation(polarisation)
    speckle_name = check_filter(speckle, window)
    if dem_vertical not in VERTICAL_CHOICES:
        raise InvalidOptionError("dem_vertical", dem_vertical, f"use {', '.join(VERTICAL_CHOICES)}")
    aoi = parse_aoi_wkt(aoi_wkt)
    grid = target_grid(aoi, resolution, parse_crs(crs))
    output = Path(output)
    if output.suffix.lower() not in (".tif", ".tiff"):
        raise InvalidOptionError("output", str(output), "the output must be a .tif file")
    check_outputs([output, stac_item_path(output)], overwrite)
    dem, dem_vertical, orbit = resolve_inputs(product, grid, dem, dem_vertical, orbit)
    options = PreprocessOptions(
        aoi=aoi,
        grid=grid,
        dem=Path(dem),
        polarisation=pol,
        orbit=Path(orbit) if orbit else None,
        speckle=speckle_name,
        window=window,
        rtc=rtc,
        dem_vertical=dem_vertical,
        progress=progress,
        workers=workers,
    )
    result = get_engine(name).run(Path(product), output, options)
    result.seconds = time.perf_counter() - started
    log.info(
        "%s: %s engine, %.1f s, %.1f%% valid",
        output,
        name,
        result.seconds,
        100 * result.valid_fraction,
    )
    return result
