"""The preprocessing entry point and the engine protocol.

``preprocess()`` validates everything that can be validated before any pixel is computed
(options, AOI, outputs, product, polarisation, footprint, DEM coverage, orbit file), then
has the chosen engine write the sigma0 COG on the AOI's target grid, then writes its STAC
Item. A failure leaves no output behind.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import shapely.geometry

from s1flood.aoi import parse_aoi_wkt
from s1flood.errors import AoiOutsideFootprintError, InvalidOptionError
from s1flood.grid import parse_crs, target_grid
from s1flood.preprocessing.dem import VERTICAL_CHOICES, DemSampler
from s1flood.preprocessing.product import SarImage, open_product
from s1flood.preprocessing.speckle import check_filter
from s1flood.raster import Grid, check_outputs

log = logging.getLogger(__name__)

ENGINES = ("python", "snap")


@dataclass(frozen=True)
class PreprocessOptions:
    """Everything an engine needs besides the product and the outputs."""

    aoi: shapely.geometry.Polygon
    grid: Grid
    dem: Path
    polarisation: str = "VV"
    orbit: Path | None = None
    speckle: str = "lee"
    window: int = 5
    rtc: bool = False
    dem_vertical: str = "auto"
    progress: bool = False
    workers: int | None = None
    lut: str = "sigma"
    """Calibration LUT of the Python engine: sigma, beta or gamma (for comparisons)."""
    noise_removal: bool = True


@dataclass
class PreprocessResult:
    """What `preprocess` wrote and how it went."""

    output: Path
    stac_item: Path
    grid: Grid
    engine: str
    polarisation: str
    quantity: str
    """``sigma0`` or ``gamma0`` (with RTC)."""
    orbit_source: str
    seconds: float = 0.0
    valid_fraction: float = 0.0
    """Share of target pixels with a value."""
    swath_fraction: float = 0.0
    """Share of target pixels inside the image (valid or in shadow/layover)."""
    shadow_fraction: float = 0.0
    layover_fraction: float = 0.0
    radar_window: tuple[int, int, int, int] | None = None
    """Image window read: (first line, end line, first sample, end sample)."""
    max_geocoding_error_px: float = 0.0
    """Largest interpolation error measured at node-cell centres (pixels)."""
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """A preprocessing engine: one product to one sigma0 COG on the target grid."""

    name: str

    def run(self, product: Path, output: Path, options: PreprocessOptions) -> PreprocessResult:
        """Write `output`; raise an `S1FloodError` on failure, leaving nothing behind."""
        ...


def stac_item_path(output: Path) -> Path:
    """Where the STAC Item of an output goes: beside it, ``.json`` instead of ``.tif``."""
    return output.with_suffix(".json")


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

    `product` is a ``.SAFE`` folder or its ``.zip``; `output` a GeoTIFF path (a COG,
    float32 dB, NaN nodata) with a STAC Item beside it (``.json``).
    """
    started = time.perf_counter()
    name = (engine or "").strip().lower()
    if name not in ENGINES:
        raise InvalidOptionError("engine", engine, f"use one of {', '.join(ENGINES)}")
    pol = (polarisation or "").strip().upper()
    if pol not in ("VV", "VH", "HH", "HV"):
        raise InvalidOptionError("polarisation", polarisation, "use VV, VH, HH or HV")
    speckle_name = check_filter(speckle, window)
    if dem_vertical not in VERTICAL_CHOICES:
        raise InvalidOptionError(
            "dem_vertical", dem_vertical, f"use {', '.join(VERTICAL_CHOICES)}"
        )
    aoi = parse_aoi_wkt(aoi_wkt)
    grid = target_grid(aoi, resolution, parse_crs(crs))
    output = Path(output)
    if output.suffix.lower() not in (".tif", ".tiff"):
        raise InvalidOptionError("-o", str(output), "the output must be a .tif file")
    check_outputs([output, stac_item_path(output)], overwrite)
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
    runner: Engine
    if name == "python":
        from s1flood.preprocessing.python_engine import PythonEngine

        runner = PythonEngine()
    else:
        from s1flood.preprocessing.snap_engine import SnapEngine

        runner = SnapEngine()
    result = runner.run(Path(product), output, options)
    result.seconds = time.perf_counter() - started
    log.info(
        "%s: %s engine, %.1f s, %.1f%% valid",
        output,
        name,
        result.seconds,
        100 * result.valid_fraction,
    )
    return result


def open_inputs(product: Path, options: PreprocessOptions) -> tuple[SarImage, DemSampler]:
    """Open the product and the DEM, checking that both cover the AOI (before any work)."""
    sar = open_product(product, options.polarisation)
    check_footprint(product, sar.footprint, options.aoi)
    dem = DemSampler(options.dem, options.dem_vertical)
    dem.check_covers(options.grid, options.aoi)
    return sar, dem


def check_footprint(path: Path, footprint: shapely.geometry.base.BaseGeometry, aoi: Any) -> None:
    """Raise `AoiOutsideFootprintError` unless the AOI intersects the product footprint."""
    if not footprint.intersects(aoi):
        raise AoiOutsideFootprintError(path, footprint.wkt)
