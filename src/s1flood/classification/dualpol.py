"""Two polarisations classified together: each band's own threshold, then one fuzzy membership.

The rule (chosen on the even ETCI chips, checked on the odd ones and on the simulator; see
the README's classify section):

1. Each band b (e.g. VV and VH) gets its own threshold t_b and water-class mean m_b
   (`selection.decide`), from the histograms of the ``split`` tiles that show water and land
   in BOTH bands (one pass reads both). Without such a tile, each band decides on its own
   tiles, else takes its prior or no-water path, as if it were classified alone. (Only
   ``otsu``/``multiotsu`` decide each band on its whole histogram.)
2. A pixel's value x_b in band b becomes the linear membership u_b = (x_b - t_b) / (t_b - m_b):
   0 at the band's threshold, -1 at its water mean, positive on the land side. (A band on the
   no-water path uses its prior threshold as t_b.)
3. The pixel's value is the mean of the two memberships, times the mean of the two scales (so
   that it reads in dB-like units and ``change_db`` keeps its meaning); water is where it is
   below 0, and the seeds that water grows from (``refine``) where it is below minus that
   mean scale (both bands' water means). Smoothing, refinement and confidence then work on
   this value as they do on one band's dB.
4. When both bands take the no-water path the scene is all dry.

Why: VV has the better calm-water contrast, cross-polarised VH is less roughened by wind and
less brightened by the double bounce of flooded vegetation (ASF HydroSAR and OPERA DSWx-S1
both classify with VV and VH; HydroSAR combines per-polarisation tile thresholds by fuzzy
logic). Scaling each band by its own threshold-to-water-mean distance weighs the bands by
their own contrast, so a pixel that one band calls clearly water and the other barely land
stays water, while speckle that only one band puts just below its threshold does not. Tiles
that qualify in both bands keep VH's dark bare soil (bimodal with crops in VH, not in VV) from
setting VH's threshold. The mean
of the two dB values (the fusion before) cannot do this: the bands' thresholds lie ~6 dB apart
and their contrasts differ, so one band's land speckle shifts the fused threshold. The AND of
the two masks loses VV's calm water on wind (and VH's), their OR adds both bands' false alarms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from s1flood.classification.selection import Decision
from s1flood.classification.thresholds import ClassStats

MIN_SCALE_DB = 0.5
"""A band whose threshold lies closer than this to its water mean uses `FALLBACK_SCALE_DB`."""
FALLBACK_SCALE_DB = 2.0
DISAGREEMENT_ADVISORY = 0.15
"""Share of the valid pixels that one band calls water and the other not, above which the
sidecar carries an advisory (a hint of wind-roughened water or flooded vegetation)."""


@dataclass(frozen=True)
class BandDecision:
    """One band's own decision and the membership it gives its values."""

    name: str
    decision: Decision
    threshold_db: float
    """t_b: the band's threshold (its prior on the no-water path)."""
    scale_db: float
    """t_b - m_b: dB from the water mean to the threshold."""


def band_decision(name: str, decision: Decision) -> BandDecision:
    """The membership of a band from its own decision.

    Args:
        name: the band's polarisation or description.
        decision: the band's decision as if it were classified alone.
    """
    threshold = decision.threshold_db
    if not np.isfinite(threshold):
        threshold = decision.reference_threshold_db
    mean = decision.stats.water_mean_db
    scale = threshold - mean if np.isfinite(mean) else float("nan")
    if not np.isfinite(scale) or scale < MIN_SCALE_DB:
        scale = FALLBACK_SCALE_DB
    return BandDecision(name, decision, float(threshold), float(scale))


def combined_decision(bands: list[BandDecision]) -> Decision:
    """The decision on the mean membership: threshold 0, seeds below -1.

    ``path`` is ``split`` when a band took the split path, else ``prior``, else ``no-water``
    (both bands no-water: all dry).

    Args:
        bands: the two bands' decisions.
    """
    paths = [b.decision.path for b in bands]
    reason = "; ".join(f"{b.name}: {b.decision.path} ({b.decision.reason})" for b in bands)
    water_spread = float(np.mean([_spread(b, b.decision.stats.water_std_db) for b in bands]))
    land_spread = float(np.mean([_spread(b, b.decision.stats.land_std_db) for b in bands]))
    fraction = float(np.mean([b.decision.stats.water_fraction for b in bands]))
    per_unit = float(np.mean([b.scale_db for b in bands]))
    stats = ClassStats(
        0.0, fraction, -per_unit, water_spread * per_unit, per_unit, land_spread * per_unit, 0.0
    )
    tiles = bands[0].decision.tiles
    if all(p == "no-water" for p in paths):
        reason = f"both bands no-water; {reason}"
        return Decision("no-water", reason, float("-inf"), 0.0, [], stats, tiles=tiles)
    path = "split" if "split" in paths else paths[0] if paths[0] == paths[1] else "prior"
    scale = float(np.mean([b.decision.confidence_scale for b in bands]))
    return Decision(
        path,
        f"mean of the bands' memberships; {reason}",
        0.0,
        0.0,
        [0.0],
        stats,
        confidence_scale=scale,
        tiles=tiles,
    )


def _spread(band: BandDecision, std_db: float) -> float:
    """A class spread in membership units (1 when unknown)."""
    value = std_db / band.scale_db
    return float(value) if np.isfinite(value) and value > 0 else 1.0


def scales(bands: list[BandDecision]) -> tuple[float, float, float, float]:
    """(t, s / mean s) of both bands for `reading.Feature.scales` (memberships in dB-like units).

    Args:
        bands: the two bands' decisions.
    """
    first, second = bands
    mean = (first.scale_db + second.scale_db) / 2
    return (first.threshold_db, first.scale_db / mean, second.threshold_db, second.scale_db / mean)


def advisory(names: list[str], first_only: int, second_only: int, valid: int) -> str:
    """A warning when the bands disagree on more than `DISAGREEMENT_ADVISORY` of the pixels.

    Empty when they agree.

    Args:
        names: the two bands' names.
        first_only: pixels the first band alone calls water.
        second_only: pixels the second band alone calls water.
        valid: valid pixels.
    """
    if not valid or (first_only + second_only) / valid <= DISAGREEMENT_ADVISORY:
        return ""
    a, b = names
    return (
        f"{a} and {b} disagree on {100 * (first_only + second_only) / valid:.1f} % of the valid "
        f"pixels ({b} alone calls {100 * second_only / valid:.1f} % water: wind-roughened "
        f"water or flooded vegetation brighten {a} more; {a} alone calls "
        f"{100 * first_only / valid:.1f} %: e.g. smooth dry surfaces or {b} near its noise floor)"
    )
