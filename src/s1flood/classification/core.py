"""`classify`: a backscatter GeoTIFF to a water mask COG, a confidence COG and a sidecar."""

from __future__ import annotations

import logging
from pathlib import Path

import rasterio

from s1flood.acquisition import Acquisition, of_backscatter
from s1flood.backscatter import Units
from s1flood.classification.exclusion import exclusion_mask
from s1flood.classification.reading import Feature, open_feature, parse_bands
from s1flood.classification.result import (
    ClassificationResult,
    change_path,
    confidence_path,
    output_paths,
)
from s1flood.classification.run import Run
from s1flood.classification.selection import (
    METHODS,
)
from s1flood.errors import InvalidOptionError
from s1flood.raster import (
    GDAL_ENV,
    Grid,
    check_outputs,
    open_raster,
)

log = logging.getLogger(__name__)


def _validate(
    method: str,
    classes: int,
    band: str | int,
    units: str,
    threshold_db: float | None,
    tile_size: int,
    smoothing: int,
    refine: int,
    change_db: float,
) -> None:
    if method not in METHODS:
        raise InvalidOptionError("method", method, f"one of {', '.join(METHODS)}")
    if threshold_db is not None and not -60.0 < threshold_db < 20.0:
        raise InvalidOptionError("threshold_db", threshold_db, "a sigma0 level in dB")
    if not 2 <= classes <= 5:
        raise InvalidOptionError("classes", classes, "must be between 2 and 5")
    parse_bands(band)
    if units not in {u.value for u in Units}:
        raise InvalidOptionError("units", units, "one of auto, linear, db")
    if not 8 <= tile_size <= 4096:
        raise InvalidOptionError("tile_size", tile_size, "between 8 and 4096 pixels")
    for name, size in (("smoothing", smoothing), ("refine", refine)):
        if size < 0 or size > 31 or (size > 1 and size % 2 == 0):
            raise InvalidOptionError(name, size, "0, 1 or an odd window size up to 31 pixels")
    if not 0.0 < change_db < 30.0:
        raise InvalidOptionError("change_db", change_db, "a decrease in dB between 0 and 30")


def _path(path: Path | str | None) -> Path | None:
    """A path, or None for none (or an empty string)."""
    return Path(path) if path else None


def _open(
    backscatter: Path,
    mask: Path,
    band: str | int,
    units: str,
    reference_given: Path | str | None,
    overwrite: bool,
) -> tuple[Feature, Grid, Feature | None]:
    """Refuse existing outputs unless ``overwrite``, then open the input(s) and check grids."""
    sidecar, png = output_paths(mask)
    outputs = [mask, confidence_path(mask), sidecar, png]
    if reference_given is not None:
        outputs.append(change_path(mask))
    check_outputs(outputs, overwrite)
    reference = _path(reference_given)
    with rasterio.Env(**GDAL_ENV), open_raster(backscatter) as dataset:
        feature = open_feature(dataset, backscatter, band, units)
        grid = Grid.of(dataset)
    before = None
    if reference is not None:
        with rasterio.Env(**GDAL_ENV), open_raster(reference) as dataset:
            if not Grid.of(dataset).same_as(grid):
                raise InvalidOptionError(
                    "reference", str(reference), "is not on the grid of the backscatter raster"
                )
            before = open_feature(dataset, reference, band, units)
    return feature, grid, before


def classify(
    backscatter: Path | str,
    mask: Path | str,
    *,
    band: str | int = "auto",
    units: Units | str = Units.AUTO,
    method: str = "split",
    tile_size: int = 32,
    smoothing: int = 5,
    refine: int = 15,
    classes: int = 3,
    threshold_db: float | None = None,
    reference: Path | str | None = None,
    change_db: float = 3.0,
    dem: Path | str | None = None,
    exclusion: Path | str | None = None,
    hand_max_m: float = 15.0,
    slope_max_deg: float = 10.0,
    require_bimodal: bool = True,
    overwrite: bool = False,
    workers: int | None = None,
    progress: bool = False,
    input_nodata: dict[str, int] | None = None,
    acquisition: Acquisition | None = None,
) -> ClassificationResult:
    """Classify a backscatter GeoTIFF into a water mask COG (0 dry, 1 water, 255 nodata).

    Writes the mask, a confidence COG (``<mask>_confidence.tif``, uint8 0..100, 255 nodata),
    with a reference a new-water COG (``<mask>_change.tif``), a JSON sidecar (thresholds, the
    path taken and why, pixel counts, tiles) and a histogram PNG beside it. Every pass reads
    the raster window by window, so memory is bounded by the window, not the scene (except
    the exclusion mask, one byte per pixel). Only an input without enough valid pixels (or
    a ``multiotsu`` scene without bimodality, unless ``require_bimodal`` is false) is refused.

    Args:
        backscatter: calibrated backscatter GeoTIFF, linear power or dB.
        mask: the water mask COG to write (``.tif``).
        band: band to classify: a 1-based index or a description such as ``VV``; two joined
            by a comma (``VV,VH``) are classified together (each band's own threshold, then
            the mean of their water memberships, see `dualpol`); ``auto`` (the default):
            both when the raster has one co- and one cross-polarised band (by band
            description or ``polarisation`` tag), else band 1.
        units: units of the input values: ``auto`` (from the band's metadata, else its
            values), ``linear`` or ``db``. Default ``auto``.
        method: how the water threshold is found: ``split`` (Otsu of the tiles that show
            water and land, the default: best on the real-chip benchmark), ``split-ki``
            (the same with Kittler-Illingworth minimum error), ``otsu`` (whole scene) or
            ``multiotsu`` (lowest of ``classes`` Multi-Otsu thresholds, the original method).
        tile_size: side of the square tiles of the ``split`` method, in pixels. Default 32.
        smoothing: side (odd, pixels) of a box mean of dB applied before thresholds are
            found and applied, against speckle; 0 or 1 for none. Default 5.
        refine: side (odd, pixels) of the box within which water grows from seeds: a pixel
            below the threshold is water only when a pixel below the water class mean lies
            in its box; 0 or 1 for none (every pixel below the threshold). Default 15.
        classes: Multi-Otsu classes for ``multiotsu`` (2 to 5). Default 3.
        threshold_db: a fixed water threshold in dB instead of the method; default none.
        reference: a dry-season or pre-event backscatter raster on the same grid (same
            band(s)): pixels that darkened by more than ``change_db`` and lie within 3 dB
            above the water threshold are added to water and written to the change COG.
            Default none.
        change_db: the decrease (dB, positive) that marks new water against the reference.
            Default 3.
        dem: a DEM (m; warped onto the backscatter grid if needed): pixels higher than
            ``hand_max_m`` above the nearest drainage or steeper than ``slope_max_deg`` are
            left out (nodata, not dry). Default none.
        exclusion: a raster whose non-zero pixels are left out (e.g. a radar shadow/layover
            mask). Default none.
        hand_max_m: HAND limit with ``dem`` (m). Default 15.
        slope_max_deg: slope limit with ``dem`` (degrees). Default 10.
        require_bimodal: with ``multiotsu``, refuse a scene whose histogram shows no
            distinct water population. Default true.
        overwrite: replace existing outputs. Default false.
        workers: threads; default the CPUs available.
        progress: show a progress bar. Default false.
        input_nodata: pixels the input has no value for, by reason (preprocessing's
            ``shadow`` and ``layover``), recorded in the sidecar. Default none.
        acquisition: the scene's acquisition start, platform, relative orbit and orbit
            direction, written into the mask's tags and sidecar; fields it leaves unknown are
            taken from the STAC Item beside the backscatter (``NAME.json``, as preprocessing
            writes it). Default none (all from that Item, if any).
    """
    backscatter, mask = Path(backscatter), Path(mask)
    _validate(
        method, classes, band, str(units), threshold_db, tile_size, smoothing, refine, change_db
    )
    feature, grid, before = _open(backscatter, mask, band, str(units), reference, overwrite)
    if threshold_db is not None and len(feature.bands) == 2:
        raise InvalidOptionError(
            "threshold_db", threshold_db, f"a fixed dB threshold needs one band, not {band}"
        )
    excluded, counts = exclusion_mask(grid, _path(dem), _path(exclusion), hand_max_m, slope_max_deg)
    choice = (method, classes, threshold_db, require_bimodal, change_db)
    run = Run(backscatter, mask, grid, feature, before, excluded, *choice)
    run.nodata_reasons = dict(input_nodata or {})
    run.acquisition = of_backscatter(backscatter).merged(acquisition or Acquisition())
    return run.execute(tile_size, smoothing, refine, workers, progress, counts)
