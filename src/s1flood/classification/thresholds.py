"""Thresholds from histograms: Otsu, Kittler-Illingworth, Multi-Otsu, and class statistics.

Every function works on a `Histogram` (counts in equal bins over the valid dB range), so the
thresholds of a whole scene or of a set of tiles come from histograms summed block by block,
never from all pixels at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from s1flood.errors import DegenerateInputError

NBINS = 256
"""Bins of every histogram (global and per tile)."""
MAX_VALLEY_RATIO = 0.8
"""A histogram dip between water and land modes deeper than this marks two populations."""
MIN_ASHMAN_D = 3.5
"""Without a dip, Ashman's D of water vs the next class must reach this (unimodal: ~2.6-2.9)."""


@dataclass(frozen=True)
class Histogram:
    """Counts of valid dB values in equal bins, as `np.histogram` over (lo, hi) makes them."""

    counts: npt.NDArray[np.int64]
    edges: npt.NDArray[np.float32]

    @property
    def centers(self) -> npt.NDArray[np.float32]:
        """Bin centers, computed as scikit-image does."""
        centers: npt.NDArray[np.float32] = (self.edges[:-1] + self.edges[1:]) / 2.0
        return centers


@dataclass(frozen=True)
class Bimodality:
    """How clearly the water class separates from the next one."""

    valley_ratio: float
    ashman_d: float

    @property
    def bimodal(self) -> bool:
        """Whether the histogram shows a water population distinct from land."""
        return self.valley_ratio <= MAX_VALLEY_RATIO or self.ashman_d >= MIN_ASHMAN_D


@dataclass(frozen=True)
class ClassStats:
    """Two classes split at a threshold: water fraction, means and spreads (dB), Ashman's D."""

    threshold_db: float
    water_fraction: float
    water_mean_db: float
    water_std_db: float
    land_mean_db: float
    land_std_db: float
    ashman_d: float


def histogram_edges(
    lo: float | np.float32, hi: float | np.float32, nbins: int = NBINS
) -> npt.NDArray[np.float32]:
    """Bin edges exactly as `np.histogram` makes them for float32 values in [lo, hi].

    Args:
        lo: smallest valid value (dB).
        hi: largest valid value (dB).
        nbins: number of bins; default `NBINS`.
    """
    edges: npt.NDArray[np.float32] = np.linspace(
        np.float32(lo), np.float32(hi), nbins + 1, endpoint=True, dtype=np.float32
    )
    return edges


def multiotsu_thresholds(
    histogram: Histogram, classes: int, path: Path | None = None
) -> list[float]:
    """`threshold_multiotsu` of a histogram, identical to running it on the values themselves.

    Args:
        histogram: counts of the valid dB values.
        classes: number of classes (2 to 5).
        path: the input raster, named in the error if the histogram is too narrow.
    """
    from skimage import filters

    multiotsu: Callable[..., npt.NDArray[np.float32]] = filters.threshold_multiotsu
    counts = histogram.counts
    probability = counts / np.sum(counts)
    try:
        thresholds = multiotsu(classes=classes, hist=(probability, histogram.centers))
    except ValueError:
        distinct = int(np.count_nonzero(counts))
        raise DegenerateInputError(
            path, f"only {distinct} distinct histogram bins for {classes} classes"
        ) from None
    return [float(t) for t in thresholds]


def _cumulative(
    counts: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Pixels, first and second moments (in bin units) below each split k = 1..nbins-1."""
    c = counts.astype(np.float64)
    i = np.arange(c.size, dtype=np.float64)
    return np.cumsum(c)[:-1], np.cumsum(c * i)[:-1], np.cumsum(c * i * i)[:-1]


def otsu_index(counts: npt.NDArray[np.int64]) -> int:
    """Split k (bins < k are water) maximising the between-class variance (Otsu 1979).

    Args:
        counts: histogram counts.
    """
    w0, s0, _ = _cumulative(counts)
    n, total = float(counts.sum()), float((counts * np.arange(counts.size)).sum())
    w1 = n - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (s0 / w0 - (total - s0) / w1) ** 2
    between[~np.isfinite(between)] = -1.0
    return int(np.argmax(between)) + 1


def kittler_index(counts: npt.NDArray[np.int64]) -> int:
    """Split k minimising the Kittler-Illingworth (1986) minimum-error criterion.

    Each class is modelled as a Gaussian; the criterion is
    ``sum_c P_c log(sigma_c / P_c)``. Falls back to Otsu when no split has two spread classes.

    Args:
        counts: histogram counts.
    """
    w0, s0, q0 = _cumulative(counts)
    i = np.arange(counts.size, dtype=np.float64)
    n = float(counts.sum())
    s, q = float((counts * i).sum()), float((counts * i * i).sum())
    w1 = n - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        m0, m1 = s0 / w0, (s - s0) / w1
        v0, v1 = q0 / w0 - m0**2, (q - q0) / w1 - m1**2
        criterion = w0 * np.log(np.sqrt(v0) / w0) + w1 * np.log(np.sqrt(v1) / w1)
    criterion[~np.isfinite(criterion) | (v0 <= 0) | (v1 <= 0)] = np.inf
    if not np.isfinite(criterion).any():
        return otsu_index(counts)
    return int(np.argmin(criterion)) + 1


def class_stats(histogram: Histogram, threshold: float) -> ClassStats:
    """Statistics of the two classes a threshold splits a histogram into.

    Args:
        histogram: counts of valid dB values.
        threshold: water threshold (dB); bins whose centre lies below it are water.
    """
    counts = histogram.counts.astype(np.float64)
    centers = histogram.centers.astype(np.float64)
    below = centers < threshold

    def moments(part: npt.NDArray[np.bool_]) -> tuple[float, float, float]:
        weight = float(counts[part].sum())
        if weight == 0:
            return 0.0, float("nan"), float("nan")
        mean = float((counts[part] * centers[part]).sum() / weight)
        var = float((counts[part] * (centers[part] - mean) ** 2).sum() / weight)
        return weight, mean, float(np.sqrt(var))

    (nw, mw, sw), (nl, ml, sl) = moments(below), moments(~below)
    spread = np.hypot(sw, sl)
    ashman = float(np.sqrt(2) * abs(ml - mw) / spread) if nw and nl and spread > 0 else 0.0
    total = nw + nl
    return ClassStats(
        threshold_db=float(threshold),
        water_fraction=nw / total if total else 0.0,
        water_mean_db=mw,
        water_std_db=sw,
        land_mean_db=ml,
        land_std_db=sl,
        ashman_d=ashman,
    )


def bimodality(histogram: Histogram, thresholds: list[float]) -> Bimodality:
    """Valley depth and Ashman's D between the water class and the next class.

    Args:
        histogram: counts of valid dB values.
        thresholds: ascending thresholds (dB); the first separates water from the next class.
    """
    counts = histogram.counts.astype(np.float64)
    centers = histogram.centers.astype(np.float64)
    lower = int(np.searchsorted(centers, thresholds[0]))
    upper = int(np.searchsorted(centers, thresholds[1])) if len(thresholds) > 1 else counts.size
    smooth = np.convolve(counts, np.ones(5) / 5, mode="same")
    if lower == 0 or upper <= lower or not counts[:lower].any() or not counts[lower:upper].any():
        return Bimodality(valley_ratio=1.0, ashman_d=0.0)
    water_peak = int(np.argmax(smooth[:lower]))
    land_peak = lower + int(np.argmax(smooth[lower:upper]))
    valley = float(smooth[water_peak : land_peak + 1].min())
    peak = float(min(smooth[water_peak], smooth[land_peak]))
    ratio = valley / peak if peak > 0 else 1.0

    def moments(sl: slice) -> tuple[float, float]:
        weights, values = counts[sl], centers[sl]
        total = weights.sum()
        mean = float((weights * values).sum() / total)
        return mean, float((weights * (values - mean) ** 2).sum() / total)

    (m0, v0), (m1, v1) = moments(slice(0, lower)), moments(slice(lower, upper))
    spread = np.sqrt(v0 + v1)
    ashman = float(np.sqrt(2) * abs(m1 - m0) / spread) if spread > 0 else 0.0
    return Bimodality(valley_ratio=ratio, ashman_d=ashman)
