"""Water classification: block-wise Multi-Otsu thresholds on dB backscatter, water-mask COG."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.windows import Window
from skimage import filters
from tqdm import tqdm

from s1flood import kernels, plots
from s1flood._version import __version__
from s1flood.backscatter import BlockReader, Units, open_backscatter
from s1flood.errors import DegenerateInputError, InvalidOptionError
from s1flood.parallel import BlockPool, PerThread
from s1flood.raster import (
    BLOCK_ROWS,
    GDAL_ENV,
    BandSpec,
    Grid,
    check_outputs,
    cog_writer,
    open_raster,
    pixel_area_km2,
    row_windows,
    write_text_atomic,
)

log = logging.getLogger(__name__)

_threshold_multiotsu: Callable[..., npt.NDArray[np.float32]] = filters.threshold_multiotsu

NBINS = 256
MIN_VALID_PIXELS = 1000
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


@dataclass
class ClassificationResult:
    """What `classify` wrote and found."""

    mask: Path
    sidecar: Path
    histogram_png: Path
    thresholds_db: list[float]
    water_threshold_db: float
    band: int
    band_description: str
    units: str
    units_source: str
    classes: int
    method: str
    pixels: dict[str, int] = field(default_factory=dict)
    water_area_km2: float = 0.0
    bimodality: dict[str, float] = field(default_factory=dict)


def output_paths(mask: Path) -> tuple[Path, Path]:
    """Sidecar JSON and histogram PNG paths that go with a water mask path."""
    return mask.with_suffix(".json"), mask.with_name(f"{mask.stem}_histogram.png")


def histogram_edges(
    lo: float | np.float32, hi: float | np.float32, nbins: int = NBINS
) -> npt.NDArray[np.float32]:
    """Bin edges exactly as `np.histogram` makes them for float32 values in [lo, hi]."""
    edges: npt.NDArray[np.float32] = np.linspace(
        np.float32(lo), np.float32(hi), nbins + 1, endpoint=True, dtype=np.float32
    )
    return edges


def multiotsu_thresholds(
    histogram: Histogram, classes: int, path: Path | None = None
) -> list[float]:
    """`threshold_multiotsu` of a histogram, identical to running it on the values themselves."""
    counts = histogram.counts
    probability = counts / np.sum(counts)
    try:
        thresholds = _threshold_multiotsu(classes=classes, hist=(probability, histogram.centers))
    except ValueError:
        distinct = int(np.count_nonzero(counts))
        raise DegenerateInputError(
            path, f"only {distinct} distinct histogram bins for {classes} classes"
        ) from None
    return [float(t) for t in thresholds]


def bimodality(histogram: Histogram, thresholds: list[float]) -> Bimodality:
    """Valley depth and Ashman's D between the water class and the next class."""
    counts = histogram.counts.astype(np.float64)
    centers = histogram.centers.astype(np.float64)
    lower = int(np.searchsorted(centers, thresholds[0]))
    upper = int(np.searchsorted(centers, thresholds[1])) if len(thresholds) > 1 else counts.size
    smooth = np.convolve(counts, np.ones(5) / 5, mode="same")
    if lower == 0 or upper <= lower:
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


def _validate_options(
    classes: int, band: str | int, units: str, threshold_db: float | None
) -> None:
    if threshold_db is not None and not -60.0 < threshold_db < 20.0:
        raise InvalidOptionError("threshold_db", threshold_db, "a sigma0 level in dB")
    if not 2 <= classes <= 5:
        raise InvalidOptionError("classes", classes, "must be between 2 and 5")
    if str(band).strip() in ("", "0") or str(band).strip().startswith("-"):
        raise InvalidOptionError("band", band, "a 1-based index or a band description")
    if units not in {u.value for u in Units}:
        raise InvalidOptionError("units", units, "one of auto, linear, db")


@contextlib.contextmanager
def _progress(total: int, label: str, enabled: bool) -> Iterator[tqdm[Any]]:
    with tqdm(total=total, desc=label, unit="block", disable=None if enabled else True) as bar:
        yield bar


def classify(
    backscatter: Path | str,
    mask: Path | str,
    *,
    band: str | int = 1,
    units: Units | str = Units.AUTO,
    classes: int = 3,
    overwrite: bool = False,
    require_bimodal: bool = True,
    threshold_db: float | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> ClassificationResult:
    """Classify a backscatter GeoTIFF into a water mask COG (0 dry, 1 water, 255 nodata).

    Multi-Otsu thresholds are computed on dB values from a histogram accumulated block by
    block (equal to `threshold_multiotsu` on the whole array); water is below the lowest.
    With `threshold_db`, that fixed threshold is used instead (no bimodality check).
    Writes the mask, a JSON sidecar and a histogram PNG beside it.
    """
    backscatter, mask = Path(backscatter), Path(mask)
    _validate_options(classes, band, str(units), threshold_db)
    sidecar, png = output_paths(mask)
    check_outputs([mask, sidecar, png], overwrite)
    with rasterio.Env(**GDAL_ENV), open_raster(backscatter) as dataset:
        chosen = open_backscatter(dataset, backscatter, band, units)
        grid = Grid.of(dataset)
    windows = row_windows(grid.height, grid.width)
    readers = PerThread(
        lambda: BlockReader(chosen, BLOCK_ROWS, grid.width), lambda reader: reader.close()
    )
    try:
        with (
            rasterio.Env(**GDAL_ENV),
            _progress(3 * len(windows), mask.name, progress) as bar,
            ThreadPoolExecutor(1, thread_name_prefix="s1flood-png") as background,
            BlockPool(workers) as pool,
        ):
            histogram, valid = _histogram_pass(readers, chosen.path, windows, pool, bar)
            if threshold_db is None:
                thresholds = multiotsu_thresholds(histogram, classes, backscatter)
            else:
                thresholds = [float(threshold_db)]
            separation = bimodality(histogram, thresholds)
            log.info(
                "%s: thresholds %s dB (valley ratio %.2f, Ashman's D %.2f)",
                backscatter.name,
                ", ".join(f"{t:.2f}" for t in thresholds),
                separation.valley_ratio,
                separation.ashman_d,
            )
            if threshold_db is None and require_bimodal and not separation.bimodal:
                raise DegenerateInputError(
                    backscatter,
                    f"no bimodality: histogram valley ratio {separation.valley_ratio:.2f} "
                    f"> {MAX_VALLEY_RATIO} and Ashman's D {separation.ashman_d:.2f} "
                    f"< {MIN_ASHMAN_D} (no distinct dark water population)",
                )
            # the PNG is drawn while the COG driver compresses the mask (a core is idle then)
            figure: list[Future[None]] = []
            water_per_row = _mask_pass(
                readers,
                grid,
                windows,
                thresholds[0],
                mask,
                pool,
                bar,
                lambda: figure.append(
                    background.submit(
                        plots.histogram_png,
                        png,
                        histogram.counts,
                        histogram.edges,
                        thresholds,
                        backscatter.name,
                    )
                ),
            )
            figure[0].result()
    finally:
        readers.close()
    water = int(water_per_row.sum())
    result = ClassificationResult(
        mask=mask,
        sidecar=sidecar,
        histogram_png=png,
        thresholds_db=thresholds,
        water_threshold_db=thresholds[0],
        band=chosen.index,
        band_description=chosen.description,
        units=chosen.units.value,
        units_source=chosen.units_source,
        classes=classes,
        method="multi-otsu" if threshold_db is None else "fixed",
        pixels={
            "total": grid.width * grid.height,
            "valid": valid,
            "water": water,
            "dry": valid - water,
            "nodata": grid.width * grid.height - valid,
        },
        water_area_km2=round(float((water_per_row * pixel_area_km2(grid)).sum()), 6),
        bimodality=asdict(separation),
    )
    record = {
        "input": str(backscatter),
        **{k: v for k, v in asdict(result).items() if k not in ("mask", "sidecar")},
        "histogram_png": png.name,
        "nbins": NBINS,
        "histogram_range_db": [float(histogram.edges[0]), float(histogram.edges[-1])],
        "grid": grid.to_dict(),
        "s1flood_version": __version__,
    }
    write_text_atomic(sidecar, json.dumps(record, indent=2) + "\n")
    log.info(
        "%s: %d water pixels (%.3f km²) of %d valid", mask.name, water, result.water_area_km2, valid
    )
    return result


def _histogram_pass(
    readers: PerThread[BlockReader],
    path: Path,
    windows: list[Window],
    pool: BlockPool,
    bar: tqdm[Any],
) -> tuple[Histogram, int]:
    """Find the range of valid dB values, then bin them; return the histogram and valid count."""

    def value_range(window: Window) -> tuple[np.float32, np.float32, int]:
        db, count = readers.get().read(window)
        if not count:
            return np.float32(np.inf), np.float32(-np.inf), 0
        return np.fmin.reduce(db, axis=None), np.fmax.reduce(db, axis=None), count

    lo, hi, valid = np.float32(np.inf), np.float32(-np.inf), 0
    for block_lo, block_hi, count in pool.map(value_range, windows):
        bar.update()
        if count:
            lo, hi = min(lo, block_lo), max(hi, block_hi)
            valid += count
    if valid < MIN_VALID_PIXELS:
        raise DegenerateInputError(
            path, f"only {valid} valid pixels (at least {MIN_VALID_PIXELS} needed)"
        )
    if lo == hi:
        raise DegenerateInputError(path, f"constant raster: every valid pixel is {lo:g} dB")
    edges = histogram_edges(lo, hi)

    def binned(window: Window) -> npt.NDArray[np.int64]:
        counts = np.zeros(NBINS, dtype=np.int64)
        kernels.accumulate_histogram(readers.get().read(window)[0], edges, counts)
        return counts

    total = np.zeros(NBINS, dtype=np.int64)
    for counts in pool.map(binned, windows):
        total += counts
        bar.update()
    return Histogram(counts=total, edges=edges), valid


def _mask_pass(
    readers: PerThread[BlockReader],
    grid: Grid,
    windows: list[Window],
    threshold: float,
    mask: Path,
    pool: BlockPool,
    bar: tqdm[Any],
    when_written: Callable[[], object],
) -> npt.NDArray[np.int64]:
    """Threshold every block into the mask COG; return water pixels per row.

    `when_written` runs once every block is written, before the COG is made.
    """
    outputs: PerThread[npt.NDArray[np.uint8]] = PerThread(
        lambda: np.empty((BLOCK_ROWS, grid.width), dtype=np.uint8), lambda _: None
    )
    water_per_row = np.zeros(grid.height, dtype=np.int64)
    spec = BandSpec(
        "uint8",
        kernels.NODATA_U8,
        "water",
        tags={"water_threshold_db": f"{threshold:.4f}", "values": "0=dry 1=water 255=nodata"},
    )
    with cog_writer(mask, grid, spec) as dst:
        lock = threading.Lock()

        def threshold_window(window: Window) -> None:
            values = readers.get().read(window)[0]
            top, height = int(window.row_off), int(window.height)
            out = outputs.get()[:height]
            kernels.threshold_block(values, threshold, out, water_per_row[top : top + height])
            with lock:
                dst.write(out, 1, window=window)

        for _ in pool.map(threshold_window, windows):
            bar.update()
        when_written()
    return water_per_row
