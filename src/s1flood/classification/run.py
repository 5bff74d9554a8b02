"""One classification run: the passes over a scene, the decision, the outputs and sidecar."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from tqdm import tqdm

from s1flood._version import __version__
from s1flood.acquisition import Acquisition
from s1flood.atomic import write_text_atomic
from s1flood.classification import dualpol, kernels
from s1flood.classification.dualpol import BandDecision
from s1flood.classification.passes import (
    MaskCounts,
    MaskOptions,
    Scene,
    histogram_pass,
    mask_pass,
    pair_histogram_pass,
)
from s1flood.classification.reading import Feature, FeatureReader
from s1flood.classification.result import (
    ClassificationResult,
    change_path,
    confidence_path,
    output_paths,
)
from s1flood.classification.selection import (
    MIN_TILE_ASHMAN_D,
    WATER_MARGIN_DB,
    Decision,
    decide,
    prior_threshold,
)
from s1flood.classification.thresholds import (
    MAX_VALLEY_RATIO,
    MIN_ASHMAN_D,
    NBINS,
    Histogram,
    bimodality,
)
from s1flood.errors import DegenerateInputError
from s1flood.parallel import BlockPool, PerThread
from s1flood.raster import (
    BLOCK_ROWS,
    GDAL_ENV,
    BandSpec,
    CogOptions,
    Grid,
    pixel_area_km2,
)

log = logging.getLogger(__name__)

ZSTD = CogOptions(level=1, predictor="YES", compress="ZSTD")
"""Storage of the uint8 outputs: ZSTD level 1 with the horizontal predictor, several times
faster than DEFLATE on speckled masks (GDAL >= 2.3 reads it, as it does the sigma0 COGs)."""


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


class Run:
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
        self.prior_db = prior_threshold(feature.polarisations[:1])
        self.two_bands = len(feature.bands) == 2
        self.band_decisions: list[BandDecision] = []
        self.nodata_reasons: dict[str, int] = {}
        self.acquisition = Acquisition()

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
        from s1flood import plots

        rows = _window_rows(tile_size)
        halo = max(smoothing, 1) // 2 + max(refine, 1) // 2
        self.buffer_rows = rows + 2 * halo
        readers = self._readers(self.feature, self.buffer_rows)
        references = None
        windows = -(-self.grid.height // rows)
        exact_range = self.method in ("otsu", "multiotsu") or self.threshold_db is not None
        passes = (2 if exact_range else 1) * len(self.feature.bands) + 1
        try:
            with (
                rasterio.Env(**GDAL_ENV),
                tqdm(
                    total=passes * windows,
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
                decision, histogram, pooled = self._decide(scene, tile_size, exact_range)
                if self.two_bands:
                    readers.close()
                    self.feature = replace(self.feature, scales=dualpol.scales(self.band_decisions))
                    readers = self._readers(self.feature, self.buffer_rows)
                    scene = replace(scene, readers=readers)
                if self.before is not None:
                    self.before = replace(self.before, scales=self.feature.scales)
                    references = self._readers(self.before, self.buffer_rows)
                    scene = replace(scene, references=references)
                figure: list[Future[None]] = []
                counts = mask_pass(
                    scene,
                    self._outputs(decision),
                    self._mask_options(decision),
                    lambda: figure.append(
                        background.submit(
                            plots.histogram_png,
                            output_paths(self.mask)[1],
                            histogram.counts,
                            histogram.edges,
                            self._first_band_thresholds(decision),
                            self._figure_title(),
                        )
                    ),
                    two_bands=self.two_bands,
                )
                figure[0].result()
        finally:
            readers.close()
            if references is not None:
                references.close()
        return self._record(
            decision,
            (histogram, pooled),
            counts,
            excluded_counts,
            {"tile_size": tile_size, "smoothing": smoothing, "refine": refine},
        )

    def _decide(
        self, scene: Scene, tile_size: int, exact_range: bool
    ) -> tuple[Decision, Histogram, Histogram]:
        """The histogram pass(es), then the threshold decision, checked for bimodality.

        Two bands: each band's own decision (its histograms read alone), then the decision
        on their mean membership (`dualpol`); the histograms returned are the first band's.
        """
        if not self.two_bands:
            return self._decide_band(scene, self.feature, tile_size, exact_range)
        if exact_range:
            found = []
            for position in range(2):
                alone = self.feature.band(position)
                readers = self._readers(alone, self.buffer_rows)
                try:
                    band_scene = replace(scene, readers=readers)
                    found.append(self._decide_band(band_scene, alone, tile_size, exact_range))
                finally:
                    readers.close()
            decisions = [decision for decision, _, _ in found]
            histogram, pooled = found[0][1], found[0][2]
        else:
            decisions, histogram, pooled = self._decide_pair(scene, tile_size)
        self.band_decisions = [
            dualpol.band_decision(name, decision)
            for name, decision in zip(self.feature.names, decisions, strict=True)
        ]
        return dualpol.combined_decision(self.band_decisions), histogram, pooled

    def _decide_pair(
        self, scene: Scene, tile_size: int
    ) -> tuple[list[Decision], Histogram, Histogram]:
        """Both bands' ``split`` decisions from one pass, on the tiles where both show water.

        Without such a tile each band decides on its own tiles (or its no-water/prior path).
        """
        alone = [self.feature.band(position) for position in range(2)]
        priors = [prior_threshold(f.polarisations) for f in alone]
        readers = (
            self._readers(alone[0], self.buffer_rows),
            self._readers(alone[1], self.buffer_rows),
        )
        try:
            found = pair_histogram_pass(
                scene,
                readers,
                self.backscatter,
                tile_size,
                (MIN_TILE_ASHMAN_D, priors[0] + WATER_MARGIN_DB, priors[1] + WATER_MARGIN_DB),
            )
        finally:
            for band_readers in readers:
                band_readers.close()
        joint = found.both_tally.selected > 0
        decisions = []
        for band in range(2):
            pooled = found.both[band] if joint else found.alone[band]
            tally = found.both_tally if joint else found.alone_tally[band]
            decisions.append(
                decide(self.method, found.scene[band], pooled, tally, priors[band], 3, None)
            )
        return decisions, found.scene[0], found.both[0] if joint else found.alone[0]

    def _decide_band(
        self, scene: Scene, feature: Feature, tile_size: int, exact_range: bool
    ) -> tuple[Decision, Histogram, Histogram]:
        """One band's histogram pass and decision."""
        prior_db = prior_threshold(feature.polarisations)
        histogram, pooled, tally, _ = histogram_pass(
            scene,
            self.backscatter,
            tile_size,
            (MIN_TILE_ASHMAN_D, prior_db + WATER_MARGIN_DB),
            exact_range=exact_range,
        )
        decision = decide(
            self.method,
            histogram,
            pooled,
            tally,
            prior_db,
            self.classes,
            self.threshold_db,
        )
        self._check_bimodal(decision, histogram)
        return decision, histogram, pooled

    def _first_band_thresholds(self, decision: Decision) -> list[float]:
        """The thresholds drawn on the histogram figure (of the first band)."""
        if self.band_decisions:
            first = self.band_decisions[0]
            return first.decision.thresholds_db or [first.threshold_db]
        return decision.thresholds_db or [self.prior_db]

    def _figure_title(self) -> str:
        if self.band_decisions:
            return f"{self.backscatter.name} ({self.feature.names[0]})"
        return self.backscatter.name

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
            decision.seed_threshold_db,
            decision.reference_threshold_db,
            spread[0],
            spread[1],
            decision.confidence_scale,
            self.change_db,
            WATER_MARGIN_DB,
        )

    def _outputs(self, decision: Decision) -> list[tuple[Path, BandSpec]]:
        tags = {
            "water_threshold_db": f"{self._water_threshold_db(decision):.4f}",
            "path": decision.path,
            "values": "0=dry 1=water 255=nodata",
            "polarisations": ",".join(self.feature.names),
            **self.acquisition.tags(),
        }
        for band in self.band_decisions:
            tags[f"water_threshold_db_{band.name}"] = f"{band.decision.threshold_db:.4f}"
            tags[f"path_{band.name}"] = band.decision.path
        outputs = [
            (self.mask, BandSpec("uint8", kernels.NODATA_U8, "water", ZSTD, tags=tags)),
            (
                confidence_path(self.mask),
                BandSpec(
                    "uint8",
                    kernels.NODATA_U8,
                    "confidence",
                    ZSTD,
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
                        ZSTD,
                        tags={
                            "values": "0=no change 1=new water 255=nodata",
                            "change_db": f"{self.change_db:g}",
                        },
                    ),
                )
            )
        return outputs

    def _water_threshold_db(self, decision: Decision) -> float:
        """The dB threshold reported: the first band's with two bands (-inf when all dry)."""
        if self.band_decisions and decision.path != "no-water":
            return self.band_decisions[0].decision.threshold_db
        return decision.threshold_db

    def _per_band(self, decision: Decision, histogram: Histogram, pooled: Histogram) -> Any:
        """Each band's threshold, path and why; with two bands, its membership scale."""
        if not self.band_decisions:
            return [
                {
                    "band": self.feature.names[0],
                    "path": decision.path,
                    "reason": decision.reason,
                    "threshold_db": decision.threshold_db,
                    "water_mean_db": decision.stats.water_mean_db,
                    "tiles_selected": decision.tiles.selected,
                    "bimodality": _bimodality_of(decision, histogram, pooled),
                }
            ]
        return [
            {
                "band": b.name,
                "path": b.decision.path,
                "reason": b.decision.reason,
                "threshold_db": b.decision.threshold_db,
                "water_mean_db": b.decision.stats.water_mean_db,
                "tiles_selected": b.decision.tiles.selected,
                "membership_threshold_db": b.threshold_db,
                "membership_scale_db": b.scale_db,
            }
            for b in self.band_decisions
        ]

    def _excluded(self, excluded_counts: dict[str, int]) -> dict[str, int]:
        """Pixels left out by reason: radar shadow/layover (NaN in the input), terrain, mask."""
        shadow_layover = sum(self.nodata_reasons.values())
        reasons = {"shadow_layover": shadow_layover} if self.nodata_reasons else {}
        return {**reasons, **excluded_counts}

    def _record(
        self,
        decision: Decision,
        histograms: Any,
        counts: MaskCounts,
        excluded_counts: dict[str, int],
        options: dict[str, Any],
    ) -> ClassificationResult:
        grid, mask = self.grid, self.mask
        histogram, pooled = histograms
        per_row = counts.per_row
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
        pixels.update({f"nodata_{k}": v for k, v in self.nodata_reasons.items()})
        if self.before is not None:
            pixels["new_water"] = counts.new_water
        disagreement: dict[str, int] = {}
        advisory = ""
        if counts.disagreement is not None:
            names = self.feature.names
            disagreement = {
                f"{n}_only_water": v for n, v in zip(names, counts.disagreement, strict=True)
            }
            first_only, second_only = counts.disagreement
            advisory = dualpol.advisory(names, first_only, second_only, valid)
            if advisory:
                log.warning("%s: %s", mask.name, advisory)
        first = self.feature.bands[0]
        sidecar, png = output_paths(mask)
        area = pixel_area_km2(grid)
        excluded = self._excluded(excluded_counts)
        result = ClassificationResult(
            mask=mask,
            sidecar=sidecar,
            histogram_png=png,
            thresholds_db=(
                [b.decision.threshold_db for b in self.band_decisions]
                if self.band_decisions
                else decision.thresholds_db
            ),
            water_threshold_db=self._water_threshold_db(decision),
            band=first.index,
            band_description=first.description,
            units=first.units.value,
            units_source=first.units_source,
            classes=self.classes,
            method=self.method if self.threshold_db is None else "fixed",
            pixels=pixels,
            water_area_km2=round(float((per_row[:, 0] * area).sum()), 6),
            bimodality=_bimodality_of(decision, histogram, pooled)
            if not self.band_decisions
            else _bimodality_of(self.band_decisions[0].decision, histogram, pooled),
            path=decision.path,
            reason=decision.reason,
            confidence=confidence_path(mask),
            change=change_path(mask) if self.before is not None else None,
            mean_confidence=round(float(per_row[:, 2].sum()) / valid, 2) if valid else 0.0,
            bands=[b.description or str(b.index) for b in self.feature.bands],
            tiles=asdict(decision.tiles),
            class_stats=asdict(decision.stats),
            options={**options, "prior_threshold_db": self.prior_db, "change_db": self.change_db},
            polarisations=self.feature.names,
            rule="dual-polarisation membership mean" if self.two_bands else "one band",
            per_band=self._per_band(decision, histogram, pooled),
            excluded_pixels=excluded,
            excluded_km2={k: round(v * float(np.mean(area)), 6) for k, v in excluded.items()},
            disagreement=disagreement,
            advisory=advisory,
        )
        record = {
            "input": str(self.backscatter),
            "acquisition": self.acquisition.to_dict(),
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
