"""The Python engine: SAFE -> calibrated, noise-free, speckle-filtered sigma0 in dB on the grid.

The target grid is processed in tiles of `TILE` x `TILE` pixels on a thread pool. For each
tile: the DEM heights of the tile plus a margin (for radar shadow cast from outside it), the
radar coordinates of every pixel (`geocoding.RegionMapper`), then only the image window those
coordinates need plus half the speckle window: read, calibrated with thermal noise removed,
speckle-filtered, and sampled bilinearly. Memory is bounded by the tiles in flight.

Several polarisations (``VV+VH``) share one pass: each tile is geocoded once, and the same
window of every polarisation's measurement is read, calibrated with that polarisation's
LUTs, filtered and sampled; the output has one band per polarisation.
"""

from __future__ import annotations

import contextvars
import logging
import math
import queue
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.io import DatasetReader
from rasterio.windows import Window
from tqdm import tqdm

from s1flood.errors import ProductError, first_line
from s1flood.parallel import BlockPool, default_workers
from s1flood.preprocessing.calibration import calibrate
from s1flood.preprocessing.dem import DemSampler
from s1flood.preprocessing.geocoding import Geocoder, RegionMapper, coverage
from s1flood.preprocessing.inputs import open_inputs
from s1flood.preprocessing.model import PreprocessOptions, PreprocessResult, stac_item_path
from s1flood.preprocessing.orbit import OrbitModel, select_orbit_file
from s1flood.preprocessing.product import SarImage
from s1flood.preprocessing.radiometry import flattening_factor, resample_to_db
from s1flood.preprocessing.safe_source import measurement_opener
from s1flood.preprocessing.speckle import speckle_filter
from s1flood.preprocessing.stac_item import write_output_item
from s1flood.pyramid import pyramid, pyramid_cog
from s1flood.raster import GDAL_ENV, BandSpec, CogOptions, Grid

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
TILE = 512
MARGIN = 32
"""Pixels around a tile whose heights are read, for radar shadow cast from outside it."""
MEASUREMENT_ENV = {"GTIFF_VIRTUAL_MEM_IO": "IF_ENOUGH_RAM", "GTIFF_DIRECT_IO": "YES"}
"""Windows of an uncompressed measurement TIFF (one-line strips) read from a memory map or
directly, not strip by strip through GDAL's block cache: 45x less CPU per window here.
GDAL takes these options when the dataset is opened (set only around reads, a full scene's
windows cost 4x the CPU)."""


@dataclass
class TileResult:
    """One tile's values and counts."""

    row0: int
    col0: int
    values: F32
    inside: int
    shadow: int
    layover: int
    error_px: float
    step: int
    window: tuple[int, int, int, int] | None
    levels: list[F32] = field(default_factory=list)
    """The overview pyramid of `values` (see `s1flood.pyramid`)."""


def orbit_model(sar: SarImage, orbit: Path | None) -> OrbitModel:
    """The orbit to use: an EOF file when given and valid, else the annotation's vectors.

    Args:
        sar: the product image.
        orbit: an EOF file or a folder of them, or None.
    """
    start = sar.first_line_time
    stop = start + np.timedelta64(int(sar.line_interval * (sar.n_lines - 1) * 1e9), "ns")
    if orbit is not None:
        chosen = select_orbit_file(orbit, sar.mission, sar.start, sar.stop)
        if chosen is not None:
            log.info("orbit: %s (%s)", chosen.path.name, chosen.file_type)
            return OrbitModel.around(
                start,
                chosen.times,
                chosen.positions,
                start,
                stop,
                f"{chosen.file_type}:{chosen.path.name}",
            )
    log.info("orbit: the annotation's %d state vectors", sar.orbit_times.size)
    return OrbitModel.around(start, sar.orbit_times, sar.orbit_positions, start, stop, "annotation")


class _Datasets:
    """Measurement datasets opened in the calling thread, lent to workers one set at a time.

    A set holds one dataset per polarisation (band order); this is the one place the engine
    opens measurement rasters.
    """

    def __init__(self, hrefs: Sequence[str], count: int, product: Path) -> None:
        self._queue: queue.SimpleQueue[tuple[DatasetReader, ...]] = queue.SimpleQueue()
        self._all: list[DatasetReader] = []
        self._per_set = len(hrefs)
        self._contexts: dict[int, contextvars.Context] = {}  # rasterio's opener registry
        self.product = product
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            for _ in range(count):
                members = []
                for href in hrefs:
                    opener = measurement_opener(href)
                    # GDAL takes MEASUREMENT_ENV when a local file is opened (a remote one,
                    # read through the opener, is read by ranges whatever the options)
                    local = rasterio.Env(**MEASUREMENT_ENV) if opener is None else nullcontext()
                    try:
                        with local:
                            ds = rasterio.open(href, opener=opener)
                    except RasterioIOError as exc:
                        self.close()
                        raise ProductError(
                            product, f"measurement file unreadable ({first_line(exc)})"
                        ) from None
                    self._all.append(ds)
                    members.append(ds)
                self._contexts[id(members[0])] = contextvars.copy_context()
                self._queue.put(tuple(members))

    @property
    def first(self) -> tuple[DatasetReader, ...]:
        """One set of the datasets (to check their size and type)."""
        return tuple(self._all[: self._per_set])

    def read(self, window: Window) -> list[npt.NDArray[np.uint16]]:
        """The window of every polarisation's measurement (band order).

        Args:
            window: the image window.
        """
        members = self._queue.get()
        try:

            def read_all() -> list[npt.NDArray[np.uint16]]:
                with rasterio.Env(**MEASUREMENT_ENV):
                    return [
                        np.asarray(ds.read(1, window=window), dtype=np.uint16) for ds in members
                    ]

            return self._contexts[id(members[0])].run(read_all)
        except (RasterioIOError, ValueError) as exc:
            raise ProductError(
                self.product, f"measurement file corrupt ({first_line(exc)})"
            ) from None
        finally:
            self._queue.put(members)

    def close(self) -> None:
        """Close every dataset."""
        for ds in self._all:
            ds.close()
        self._all.clear()


class PythonEngine:
    """xarray-sentinel metadata, own compiled kernels for calibration, speckle, geocoding."""

    name = "python"

    def run(self, product: Path, output: Path, options: PreprocessOptions) -> PreprocessResult:
        """Preprocess `product` onto `options.grid` and write `output` (+ STAC Item).

        Args:
            product: the .SAFE folder or its .zip.
            output: the COG to write.
            options: the validated options.
        """
        sars, dem = open_inputs(product, options)
        sar = sars[0]
        orbit = orbit_model(sar, options.orbit)
        quantity = "gamma0" if options.rtc else f"{options.lut}0"
        workers = options.workers or default_workers()
        datasets = _Datasets([s.measurement for s in sars], workers, product)
        try:
            self._check_measurement(datasets, sars, product)
            result = self._process(sars, orbit, dem, datasets, output, options, workers)
        finally:
            datasets.close()
            dem.close()
        item_path = stac_item_path(output)
        try:
            write_output_item(
                item_path,
                output,
                options.grid,
                sar,
                product=product,
                quantity=quantity,
                engine=self.name,
                polarisations=options.polarisations,
                processing={
                    "orbit": orbit.source,
                    "speckle": options.speckle,
                    "window": options.window,
                    "thermal_noise_removal": sar.noise_range is not None,
                    "dem": str(options.dem),
                    "max_geocoding_error_px": result.max_geocoding_error_px,
                },
            )
        except BaseException:
            output.unlink(missing_ok=True)
            raise
        return result

    @staticmethod
    def _check_measurement(datasets: _Datasets, sars: list[SarImage], product: Path) -> None:
        for ds, sar in zip(datasets.first, sars, strict=True):
            if (ds.height, ds.width) != (sar.n_lines, sar.n_samples) or ds.dtypes[0] != "uint16":
                raise ProductError(
                    product,
                    f"{sar.polarisation} measurement file is {ds.height} x {ds.width} "
                    f"{ds.dtypes[0]}, the annotation says {sar.n_lines} x {sar.n_samples} uint16",
                )

    def _process(
        self,
        sars: list[SarImage],
        orbit: OrbitModel,
        dem: DemSampler,
        datasets: _Datasets,
        output: Path,
        options: PreprocessOptions,
        workers: int,
    ) -> PreprocessResult:
        grid = options.grid
        sar = sars[0]
        quantity = "gamma0" if options.rtc else f"{options.lut}0"
        mapper = RegionMapper(Geocoder.of(sar, orbit), grid)
        pad = options.window // 2 + 2
        tiles = [
            (r, c, min(TILE, grid.height - r), min(TILE, grid.width - c))
            for r in range(0, grid.height, TILE)
            for c in range(0, grid.width, TILE)
        ]

        spec = _band_spec(sars, options, quantity, orbit.source)
        totals = _Totals()
        bar = tqdm(total=len(tiles), disable=not options.progress, desc="preprocess", unit="tile")
        try:
            with pyramid_cog(output, grid, spec, TILE) as cog, BlockPool(workers) as pool:
                levels = len(cog.factors)

                def work(tile: tuple[int, int, int, int]) -> TileResult:
                    with rasterio.Env(**GDAL_ENV):
                        res = _tile(tile, sars, grid, dem, mapper, datasets, options, pad)
                    res.levels = pyramid(res.values, levels)
                    return res

                for res in pool.map(work, tiles):
                    cog.write(res.values, res.row0, res.col0, res.levels)
                    totals.add(res)
                    bar.update(1)
        finally:
            bar.close()
        total = grid.width * grid.height
        steps = sorted(set(totals.steps))
        log.info(
            "geocoding: node steps %s px, largest interpolation error %.3f px",
            steps,
            totals.max_error,
        )
        window = totals.window
        return PreprocessResult(
            output=output,
            stac_item=stac_item_path(output),
            grid=grid,
            engine="python",
            polarisation=options.polarisation,
            quantity=quantity,
            orbit_source=orbit.source,
            valid_fraction=totals.valid / total,
            swath_fraction=totals.inside / total,
            shadow_fraction=totals.shadow / total,
            layover_fraction=totals.layover / total,
            radar_window=(window[0], window[1], window[2], window[3]) if window else None,
            max_geocoding_error_px=totals.max_error,
            extra={"node_steps": steps, "tiles": len(tiles)},
        )


@dataclass
class _Totals:
    """Counts over the tiles written so far, and the union of their radar windows."""

    inside: int = 0
    shadow: int = 0
    layover: int = 0
    valid: int = 0
    max_error: float = 0.0
    steps: list[int] = field(default_factory=list)
    window: list[int] | None = None

    def add(self, res: TileResult) -> None:
        """Count one tile."""
        self.inside += res.inside
        self.shadow += res.shadow
        self.layover += res.layover
        self.valid += int(np.isfinite(res.values[0]).sum())
        self.max_error = max(self.max_error, res.error_px)
        if res.step:
            self.steps.append(res.step)
        if res.window is not None:
            w = res.window
            self.window = (
                list(w)
                if self.window is None
                else [
                    min(self.window[0], w[0]),
                    max(self.window[1], w[1]),
                    min(self.window[2], w[2]),
                    max(self.window[3], w[3]),
                ]
            )


def _band_spec(
    sars: list[SarImage], options: PreprocessOptions, quantity: str, orbit: str
) -> BandSpec:
    """The output bands: float32 dB, NaN nodata, one per polarisation, tags saying how."""
    tags = {
        "units": "dB",
        "quantity": quantity,
        "polarisation": options.polarisation,
        "product": sars[0].name,
        "engine": "s1flood-python",
        "speckle_filter": f"{options.speckle} {options.window}x{options.window}",
        "orbit": orbit,
    }
    return BandSpec(
        dtype="float32",
        nodata=float("nan"),
        description=sars[0].polarisation,
        # ZSTD: half the time of DEFLATE on a full scene's float32 (GDAL >= 2.3 reads it)
        options=CogOptions(level=1, predictor="YES", resampling="AVERAGE", compress="ZSTD"),
        tags=tags,
        band_tags=tuple(
            {"description": pol, "units": "dB", "quantity": quantity, "polarisation": pol}
            for pol in options.polarisations
        ),
    )


def _tile(
    tile: tuple[int, int, int, int],
    sars: list[SarImage],
    grid: Grid,
    dem: DemSampler,
    mapper: RegionMapper,
    datasets: _Datasets,
    options: PreprocessOptions,
    pad: int,
) -> TileResult:
    row0, col0, rows, cols = tile
    sar = sars[0]
    m = MARGIN
    ext = Grid(
        grid.crs,
        grid.transform * Affine.translation(col0 - m, row0 - m),
        cols + 2 * m,
        rows + 2 * m,
    )
    heights = dem.heights(ext)
    region = mapper.map(row0 - m, col0 - m, heights)
    core = (slice(m, m + rows), slice(m, m + cols))
    line = np.ascontiguousarray(region.line[core])
    sample = np.ascontiguousarray(region.sample[core])
    mask = np.ascontiguousarray(region.mask[core])
    cover = coverage(line, sample, mask, sar.n_lines, sar.n_samples)
    counts: dict[str, Any] = {
        "inside": cover.inside,
        "shadow": cover.shadow,
        "layover": cover.layover,
        "error_px": region.max_error_px,
        "step": region.step,
    }
    if cover.inside == 0:
        empty = np.full((len(sars), rows, cols), np.nan, np.float32)
        return TileResult(row0, col0, empty, window=None, **counts)
    lines_lo, lines_hi, samples_lo, samples_hi = cover.bounds
    l_lo = max(0, math.floor(lines_lo) - pad)
    l_hi = min(sar.n_lines, math.ceil(lines_hi) + pad + 1)
    s_lo = max(0, math.floor(samples_lo) - pad)
    s_hi = min(sar.n_samples, math.ceil(samples_hi) + pad + 1)
    window = (l_lo, l_hi, s_lo, s_hi)
    dns = datasets.read(Window(s_lo, l_lo, s_hi - s_lo, l_hi - l_lo))
    lut = "beta" if options.rtc else options.lut
    flattening = flattening_factor(sar, grid, heights, region, window) if options.rtc else None
    values = np.empty((len(sars), rows, cols), np.float32)
    for band, (image, dn) in enumerate(zip(sars, dns, strict=True)):
        sigma0 = calibrate(image, dn, l_lo, s_lo, lut, remove_noise=options.noise_removal)
        filtered = speckle_filter(sigma0, options.speckle, options.window)
        if flattening is not None:
            filtered = filtered * flattening
        values[band] = resample_to_db(filtered, l_lo, s_lo, line, sample, mask)
    return TileResult(row0, col0, values, window=window, **counts)
