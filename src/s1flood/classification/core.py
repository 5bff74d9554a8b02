"""`classify`: a backscatter GeoTIFF to a water mask COG, a confidence COG and a sidecar."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from tqdm import tqdm

from s1flood import plots
from s1flood._version import __version__
from s1flood.backscatter import Units
from s1flood.classification import kernels
from s1flood.classification.exclusion import exclusion_mask
from s1flood.classification.passes import MaskOptions, Scene, histogram_pass, mask_pass
from s1flood.classification.reading import Feature, FeatureReader, open_feature, parse_bands
from s1flood.classification.result import (
    ClassificationResult,
    change_path,
    confidence_path,
    output_paths,
)
from s1flood.classification.selection import (
    METHODS,
    MIN_TILE_ASHMAN_D,
    WATER_MARGIN_DB,
    Decision,
    decide,
    prior_threshold,
)
from s1flood.classification.thresholds import MAX_VALLEY_RATIO, MIN_ASHMAN_D, NBINS, bimodality
from s1flood.errors import DegenerateInputError, InvalidOptionError
from s1flood.parallel import BlockPool, PerThread
from s1flood.raster import (
    BLOCK_ROWS,
    GDAL_ENV,
    BandSpec,
    Grid,
    check_outputs,
    open_raster,
    pixel_area_km2,
    write_text_atomic,
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


def _open(
    backscatter: Path, band: str | int, units: str, reference: Path | None
) -> tuple[Feature, Grid, Feature | None]:
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


def _window_rows(tile_size: int) -> int:
    """Rows per window: a multiple of the tile size, so that no tile straddles two windows."""
    return tile_size * max(1, BLOCK_ROWS // tile_size)


def _bimodality_of(decision: Decision, histogram: Any, pooled: Any) -> dict[str, float]:
    """Valley ratio and Ashman's D at the threshold: of the selected tiles for ``split``."""
    if decision.path in ("multiotsu", "fixed", "otsu"):
        return asdict(bimodality(histogram, decision.thresholds_db))
    if decision.path == "split":
        return asdict(bimodality(pooled, decision.thresholds_db))
    return asdict(bimodality(histogram, [decision.reference_threshold_db]))


def classify(
    backscatter: Path | str,
    mask: Path | str,
    *,
    band: str | int = 1,
    units: Units | str = Units.AUTO,
    method: str = "split",
    tile_size: int = 32,
    smoothing: int = 5,
    refine: int = 9,
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
) -> ClassificationResult:
    """Classify a backscatter GeoTIFF into a water mask COG (0 dry, 1 water, 255 nodata).

    Writes the mask, a confidence COG (``<mask>_confidence.tif``, uint8 0..100, 255 nodata),
    with a reference a new-water COG (``<mask>_change.tif``), a JSON sidecar (thresholds, the
    path taken and why, pixel counts, tiles) and a histogram PNG beside it. Every pass reads
    the raster window by window, so memory is bounded by the window, not the scene (except
    the DEM-based exclusion, held in memory). Only an input without enough valid pixels (or
    a ``multiotsu`` scene without bimodality, unless ``require_bimodal`` is false) is refused.

    Args:
        backscatter: calibrated backscatter GeoTIFF, linear power or dB.
        mask: the water mask COG to write (``.tif``).
        band: band to classify: a 1-based index or a description such as ``VV``; two joined
            by a comma (``VV,VH``) are fused (mean of their dB values, prior thresholds
            averaged). Default ``1``.
        units: units of the input values: ``auto`` (from the band's metadata, else its
            values), ``linear`` or ``db``. Default ``auto``.
        method: how the water threshold is found: ``split`` (Otsu of the tiles that show
            water and land, the default: best on the real-chip benchmark), ``split-ki``
            (the same with Kittler-Illingworth minimum error), ``otsu`` (whole scene) or
            ``multiotsu`` (lowest of ``classes`` Multi-Otsu thresholds, the original method).
        tile_size: side of the square tiles of the ``split`` method, in pixels. Default 32.
        smoothing: side (odd, pixels) of a box mean of dB applied before thresholds are
            found and applied, against speckle; 0 or 1 for none. Default 5.
        refine: side (odd, pixels) of a majority filter on the water mask (a pixel is water
            when most valid pixels of the box are); 0 or 1 for none. Default 9.
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
    """
    backscatter, mask = Path(backscatter), Path(mask)
    _validate(
        method, classes, band, str(units), threshold_db, tile_size, smoothing, refine, change_db
    )
    sidecar, png = output_paths(mask)
    outputs = [mask, confidence_path(mask), sidecar, png]
    if reference is not None:
        outputs.append(change_path(mask))
    check_outputs(outputs, overwrite)
    feature, grid, before = _open(
        backscatter, band, str(units), Path(reference) if reference else None
    )
    excluded, excluded_counts = exclusion_mask(
        grid,
        Path(dem) if dem else None,
        Path(exclusion) if exclusion else None,
        hand_max_m,
        slope_max_deg,
    )
    run = _Run(
        backscatter,
        mask,
        grid,
        feature,
        before,
        excluded,
        method,
        classes,
        threshold_db,
        require_bimodal,
        change_db,
    )
    return run.execute(tile_size, smoothing, refine, workers, progress, excluded_counts)


class _Run:
    """One classification: inputs opened and checked, passes still to run."""

    def __init__(
        self,
        backscatter: Path,
        mask: Path,
        grid: Grid,
        feature: Feature,
        before: Feature | None,
        excluded: Any,
        method: str,
        classes: int,
        threshold_db: float | None,
        require_bimodal: bool,
        change_db: float,
    ) -> None:
        self.backscatter, self.mask, self.grid = backscatter, mask, grid
        self.feature, self.before, self.excluded = feature, before, excluded
        self.method, self.classes, self.threshold_db = method, classes, threshold_db
        self.require_bimodal, self.change_db = require_bimodal, change_db
        self.prior_db = prior_threshold(feature.polarisations)

    def _readers(self, feature: Feature, rows: int) -> PerThread[FeatureReader]:
        grid = self.grid
        return PerThread(
            lambda: FeatureReader(feature, rows, grid.width, grid.height),
            lambda reader: reader.close(),
        )

    def execute(
        self,
        tile_size: int,
        smoothing: int,
        refine: int,
        workers: int | None,
        progress: bool,
        excluded_counts: dict[str, int],
    ) -> ClassificationResult:
        """Run the passes and write every output."""
        rows = _window_rows(tile_size)
        halo = max(smoothing, 1) // 2 + max(refine, 1) // 2
        readers = self._readers(self.feature, rows + 2 * halo)
        references = self._readers(self.before, rows + 2 * halo) if self.before else None
        windows = -(-self.grid.height // rows)
        try:
            with (
                rasterio.Env(**GDAL_ENV),
                tqdm(
                    total=3 * windows,
                    desc=self.mask.name,
                    unit="block",
                    disable=None if progress else True,
                ) as bar,
                ThreadPoolExecutor(1, thread_name_prefix="s1flood-png") as background,
                BlockPool(workers) as pool,
            ):
                scene = Scene(
                    self.grid,
                    readers,
                    references,
                    self.excluded,
                    rows,
                    max(smoothing, 1),
                    max(refine, 1),
                    pool,
                    bar,
                )
                histogram, pooled, tally, _ = histogram_pass(
                    scene,
                    self.backscatter,
                    tile_size,
                    MIN_TILE_ASHMAN_D,
                    self.prior_db + WATER_MARGIN_DB,
                )
                decision = decide(
                    self.method,
                    histogram,
                    pooled,
                    tally,
                    self.prior_db,
                    self.classes,
                    self.threshold_db,
                )
                self._check_bimodal(decision, histogram)
                figure: list[Future[None]] = []
                per_row, new_water = mask_pass(
                    scene,
                    self._outputs(decision),
                    self._mask_options(decision),
                    lambda: figure.append(
                        background.submit(
                            plots.histogram_png,
                            output_paths(self.mask)[1],
                            histogram.counts,
                            histogram.edges,
                            decision.thresholds_db or [self.prior_db],
                            self.backscatter.name,
                        )
                    ),
                )
                figure[0].result()
        finally:
            readers.close()
            if references is not None:
                references.close()
        return self._record(
            decision,
            (histogram, pooled),
            per_row,
            new_water,
            excluded_counts,
            {"tile_size": tile_size, "smoothing": smoothing, "refine": refine},
        )

    def _check_bimodal(self, decision: Decision, histogram: Any) -> None:
        if decision.path != "multiotsu" or not self.require_bimodal:
            return
        separation = bimodality(histogram, decision.thresholds_db)
        if not separation.bimodal:
            raise DegenerateInputError(
                self.backscatter,
                f"no bimodality: histogram valley ratio {separation.valley_ratio:.2f} "
                f"> {MAX_VALLEY_RATIO} and Ashman's D {separation.ashman_d:.2f} "
                f"< {MIN_ASHMAN_D} (no distinct dark water population)",
            )

    def _mask_options(self, decision: Decision) -> MaskOptions:
        stats = decision.stats
        spread = [
            s if np.isfinite(s) and s > 0 else 1.0 for s in (stats.water_std_db, stats.land_std_db)
        ]
        return MaskOptions(
            decision.threshold_db,
            decision.reference_threshold_db,
            spread[0],
            spread[1],
            decision.confidence_scale,
            self.change_db,
            WATER_MARGIN_DB,
        )

    def _outputs(self, decision: Decision) -> list[tuple[Path, BandSpec]]:
        tags = {
            "water_threshold_db": f"{decision.threshold_db:.4f}",
            "path": decision.path,
            "values": "0=dry 1=water 255=nodata",
        }
        outputs = [
            (self.mask, BandSpec("uint8", kernels.NODATA_U8, "water", tags=tags)),
            (
                confidence_path(self.mask),
                BandSpec(
                    "uint8",
                    kernels.NODATA_U8,
                    "confidence",
                    tags={"values": "0..100 confidence of the mask's class, 255=nodata"},
                ),
            ),
        ]
        if self.before is not None:
            outputs.append(
                (
                    change_path(self.mask),
                    BandSpec(
                        "uint8",
                        kernels.NODATA_U8,
                        "new water",
                        tags={
                            "values": "0=no change 1=new water 255=nodata",
                            "change_db": f"{self.change_db:g}",
                        },
                    ),
                )
            )
        return outputs

    def _record(
        self,
        decision: Decision,
        histograms: Any,
        per_row: Any,
        new_water: int,
        excluded_counts: dict[str, int],
        options: dict[str, Any],
    ) -> ClassificationResult:
        grid, mask = self.grid, self.mask
        histogram, pooled = histograms
        water, valid = int(per_row[:, 0].sum()), int(per_row[:, 1].sum())
        total = grid.width * grid.height
        pixels = {
            "total": total,
            "valid": valid,
            "water": water,
            "dry": valid - water,
            "nodata": total - valid,
        }
        if self.excluded is not None:
            pixels["excluded"] = int(np.count_nonzero(self.excluded))
            pixels.update({f"excluded_{k}": v for k, v in excluded_counts.items()})
        if self.before is not None:
            pixels["new_water"] = new_water
        first = self.feature.bands[0]
        sidecar, png = output_paths(mask)
        result = ClassificationResult(
            mask=mask,
            sidecar=sidecar,
            histogram_png=png,
            thresholds_db=decision.thresholds_db,
            water_threshold_db=decision.threshold_db,
            band=first.index,
            band_description=first.description,
            units=first.units.value,
            units_source=first.units_source,
            classes=self.classes,
            method=self.method if self.threshold_db is None else "fixed",
            pixels=pixels,
            water_area_km2=round(float((per_row[:, 0] * pixel_area_km2(grid)).sum()), 6),
            bimodality=_bimodality_of(decision, histogram, pooled),
            path=decision.path,
            reason=decision.reason,
            confidence=confidence_path(mask),
            change=change_path(mask) if self.before is not None else None,
            mean_confidence=round(float(per_row[:, 2].sum()) / valid, 2) if valid else 0.0,
            bands=[b.description or str(b.index) for b in self.feature.bands],
            tiles=asdict(decision.tiles),
            class_stats=asdict(decision.stats),
            options={**options, "prior_threshold_db": self.prior_db, "change_db": self.change_db},
        )
        record = {
            "input": str(self.backscatter),
            **{k: v for k, v in result.to_dict(mask.parent).items() if k not in ("sidecar",)},
            "nbins": NBINS,
            "histogram_range_db": [float(histogram.edges[0]), float(histogram.edges[-1])],
            "grid": grid.to_dict(),
            "s1flood_version": __version__,
        }
        write_text_atomic(sidecar, json.dumps(record, indent=2) + "\n")
        log.info(
            "%s: %s (%s); %d water pixels (%.3f km²) of %d valid",
            mask.name,
            decision.path,
            decision.reason,
            water,
            result.water_area_km2,
            valid,
        )
        return result
