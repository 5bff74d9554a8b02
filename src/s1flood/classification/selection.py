"""How a scene's water threshold is chosen: split-based tile selection, priors, no-water.

`split` (Martinis et al. 2009; Chini et al. 2017): the scene is cut into square tiles; a tile
qualifies when its own Otsu split shows two populations with enough of each: a dark fraction
of `MIN_FRACTION` to 1 - `MIN_FRACTION`, Ashman's D >= `MIN_TILE_ASHMAN_D` (an Otsu split of a
single speckled population gives about 2.6-2.9; 3.5 asks for more than speckle and did best
on the real-chip benchmark) and a dark
class mean no brighter than the prior water threshold + `WATER_MARGIN_DB`. The threshold is
then Otsu (``split``) or Kittler-Illingworth (``split-ki``) of the summed histograms of the
qualifying tiles only, applied to the whole scene.

Refinement (``refine`` > 1) grows water from confident seeds instead of voting (Martinis et
al. 2015 grow regions from seeds well below the threshold): a pixel below the threshold is
water only when a seed (a pixel below the water class mean) lies in the ``refine`` x
``refine`` box around it. Isolated dark land speckle has no seed near it and stays dry, while
a river a few pixels wide keeps its width (a 9 x 9 majority vote erodes it).

When no tile qualifies the scene is not refused: if under `NO_WATER_FRACTION` of its valid
pixels lie below the prior water threshold of its polarisation, it is judged to hold no water
(all dry); otherwise it is classified with that prior threshold, at half confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from s1flood.classification.thresholds import (
    ClassStats,
    Histogram,
    class_stats,
    kittler_index,
    multiotsu_thresholds,
    otsu_index,
)

METHODS = ("split", "split-ki", "otsu", "multiotsu")
MIN_FRACTION = 0.1
MIN_TILE_ASHMAN_D = 3.5
WATER_MARGIN_DB = 3.0
MIN_VALID_TILE = 0.5
"""Fraction of a tile's pixels that must be valid for it to be considered."""
NO_WATER_FRACTION = 0.05
PRIOR_THRESHOLDS_DB = {"VV": -18.0, "HH": -18.0, "VH": -24.0, "HV": -24.0}
"""Prior water thresholds per polarisation, within the published ranges for calm water in
Sentinel-1 IW sigma0 (co-polarised about -15 to -20 dB, cross-polarised about -22 to -26 dB;
e.g. Manjusree et al. 2012, Twele et al. 2016) and checked on the real-chip benchmark."""
UNKNOWN_POLARISATION_PRIOR_DB = -18.0


def prior_threshold(polarisations: list[str]) -> float:
    """The prior water threshold (dB) of one band, or the mean of the fused bands' priors.

    Args:
        polarisations: the polarisation of each band ('' when unknown: VV's prior).
    """
    values = [
        PRIOR_THRESHOLDS_DB.get(p.upper(), UNKNOWN_POLARISATION_PRIOR_DB) for p in polarisations
    ]
    return float(np.mean(values))


@dataclass
class TileTally:
    """Tiles the split method looked at."""

    tiles: int = 0
    with_enough_data: int = 0
    selected: int = 0


@dataclass
class Decision:
    """The threshold chosen for a scene, how, and the class spreads for confidence."""

    path: str
    """``split``, ``prior``, ``no-water``, ``otsu``, ``multiotsu`` or ``fixed``."""
    reason: str
    threshold_db: float
    """Pixels below it are water (-inf for ``no-water``)."""
    reference_threshold_db: float
    """The threshold confidence is measured from (the prior for ``no-water``)."""
    thresholds_db: list[float]
    stats: ClassStats
    confidence_scale: float = 1.0
    tiles: TileTally = field(default_factory=TileTally)

    @property
    def seed_threshold_db(self) -> float:
        """Confident water (the seeds refinement grows from): below the water class mean.

        The mean of the class below the threshold (of the selected tiles for ``split``),
        never above the threshold itself.
        """
        mean = self.stats.water_mean_db
        return min(mean, self.threshold_db) if np.isfinite(mean) else self.threshold_db


def _without_tiles(histogram: Histogram, tally: TileTally, prior_db: float) -> Decision:
    """The ``no-water`` or ``prior`` decision when no tile shows water and land."""
    stats = class_stats(histogram, prior_db)
    if stats.water_fraction < NO_WATER_FRACTION:
        return Decision(
            "no-water",
            f"no tile shows water and land, and only {100 * stats.water_fraction:.1f} % of the "
            f"pixels are below the prior water threshold {prior_db:g} dB "
            f"(under {100 * NO_WATER_FRACTION:g} %)",
            float("-inf"),
            prior_db,
            [],
            stats,
            tiles=tally,
        )
    return Decision(
        "prior",
        f"no tile shows water and land; {100 * stats.water_fraction:.1f} % of the pixels are "
        f"below the prior water threshold {prior_db:g} dB, used at low confidence",
        prior_db,
        prior_db,
        [prior_db],
        stats,
        confidence_scale=0.5,
        tiles=tally,
    )


def decide(
    method: str,
    histogram: Histogram,
    pooled: Histogram,
    tally: TileTally,
    prior_db: float,
    classes: int,
    threshold_db: float | None,
) -> Decision:
    """Choose the water threshold from the scene histogram and the selected tiles' histogram.

    Args:
        method: one of `METHODS`.
        histogram: the whole scene's histogram.
        pooled: the summed histograms of the tiles that qualified.
        tally: how many tiles were seen and selected.
        prior_db: the prior water threshold (dB) of the band(s).
        classes: Multi-Otsu classes (``multiotsu`` only).
        threshold_db: a fixed threshold (dB) that overrides the method; None for none.
    """
    if threshold_db is not None:
        stats = class_stats(histogram, threshold_db)
        return Decision(
            "fixed",
            "threshold given",
            threshold_db,
            threshold_db,
            [threshold_db],
            stats,
            tiles=tally,
        )
    if method == "multiotsu":
        values = multiotsu_thresholds(histogram, classes)
        stats = class_stats(histogram, values[0])
        return Decision(
            "multiotsu",
            "lowest Multi-Otsu threshold",
            values[0],
            values[0],
            values,
            stats,
            tiles=tally,
        )
    if method == "otsu":
        value = float(histogram.edges[otsu_index(histogram.counts)])
        stats = class_stats(histogram, value)
        return Decision(
            "otsu", "Otsu threshold of the scene", value, value, [value], stats, tiles=tally
        )
    if tally.selected:
        index = (kittler_index if method == "split-ki" else otsu_index)(pooled.counts)
        value = float(pooled.edges[index])
        name = "Kittler-Illingworth" if method == "split-ki" else "Otsu"
        return Decision(
            "split",
            f"{name} threshold of the {tally.selected} of {tally.tiles} tiles that show water "
            "and land",
            value,
            value,
            [value],
            class_stats(pooled, value),
            tiles=tally,
        )
    return _without_tiles(histogram, tally, prior_db)
