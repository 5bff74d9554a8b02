"""Reading calibrated backscatter rasters: band choice, linear/dB detection, dB blocks."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rasterio.enums import MaskFlags, Resampling
from rasterio.io import DatasetReader
from rasterio.windows import Window

from s1flood import kernels
from s1flood.errors import BandNotFoundError, DegenerateInputError, UnitsUndecidedError
from s1flood.raster import open_raster

log = logging.getLogger(__name__)

SAMPLE_SIZE = 1024
"""Longest side of the decimated read used to guess units."""

_DB_WORDS = {"db", "decibel", "decibels"}
_LINEAR_WORDS = {"linear", "intensity", "power"}
_POLARISATION_TAGS = ("polarisation", "polarization", "POLARISATION", "POLARIZATION")


class Units(StrEnum):
    """Units of a backscatter raster."""

    AUTO = "auto"
    LINEAR = "linear"
    DB = "db"


@dataclass(frozen=True)
class BackscatterBand:
    """One band of a backscatter raster and how to turn its blocks into dB."""

    path: Path
    index: int
    description: str
    units: Units
    units_source: str
    nodata: float | None
    use_mask: bool


def band_labels(dataset: DatasetReader) -> list[str]:
    """'1 (VV)'-style labels of every band, for error messages."""
    return [f"{i}" + (f" ({d})" if d else "") for i, d in enumerate(dataset.descriptions, start=1)]


def select_band(dataset: DatasetReader, band: str | int, path: Path) -> int:
    """1-based index of a band given by index or by description/polarisation (case-insensitive)."""
    text = str(band).strip()
    if text.isdigit():
        index = int(text)
        if 1 <= index <= dataset.count:
            return index
        raise BandNotFoundError(path, text, band_labels(dataset))
    wanted = text.lower()
    exact, partial = [], []
    for index in range(1, dataset.count + 1):
        description = (dataset.descriptions[index - 1] or "").lower()
        tags = dataset.tags(index)
        polarisation = next((tags[k].lower() for k in _POLARISATION_TAGS if k in tags), "")
        if wanted in (description, polarisation):
            exact.append(index)
        elif wanted in re.split(r"[^a-z0-9]+", description):
            partial.append(index)
    matches = exact or partial
    if len(matches) == 1:
        return matches[0]
    raise BandNotFoundError(path, text, band_labels(dataset))


def _words(dataset: DatasetReader, index: int) -> set[str]:
    tags = {**dataset.tags(), **dataset.tags(index)}
    texts = [
        dataset.units[index - 1] or "",
        dataset.descriptions[index - 1] or "",
        *(value for key, value in tags.items() if "unit" in key.lower()),
    ]
    return {word for text in texts for word in re.split(r"[^a-z0-9]+", text.lower()) if word}


def detect_units(dataset: DatasetReader, index: int, path: Path) -> tuple[Units, str]:
    """Decide linear or dB from band unit/description/tags, else from the values."""
    words = _words(dataset, index)
    if words & _DB_WORDS or any(w.endswith("db") for w in words):
        return Units.DB, "band metadata"
    if words & _LINEAR_WORDS:
        return Units.LINEAR, "band metadata"
    scale = max(dataset.width, dataset.height) / SAMPLE_SIZE
    shape = (max(1, round(dataset.height / scale)), max(1, round(dataset.width / scale)))
    sample = dataset.read(index, out_shape=shape, resampling=Resampling.nearest).astype(np.float64)
    valid = np.isfinite(sample)
    if dataset.nodata is not None:
        valid &= sample != dataset.nodata
    values = sample[valid]
    if values.size == 0:
        raise DegenerateInputError(path, "no valid pixels")
    median = float(np.median(values))
    if median < 0:
        return Units.DB, f"values (median {median:.3g} < 0)"
    if median < 1:
        return Units.LINEAR, f"values (median {median:.3g} in [0, 1))"
    raise UnitsUndecidedError(path, f"median value {median:.3g} is neither dB nor linear sigma0")


def open_backscatter(
    dataset: DatasetReader, path: Path, band: str | int, units: Units | str
) -> BackscatterBand:
    """Describe the chosen band of an open backscatter raster, deciding its units."""
    index = select_band(dataset, band, path)
    units = Units(units)
    source = "option"
    if units is Units.AUTO:
        units, source = detect_units(dataset, index, path)
        log.info("%s band %d: units %s, decided from %s", path.name, index, units.value, source)
    flags = dataset.mask_flag_enums[index - 1]
    use_mask = dataset.nodata is None and (
        MaskFlags.per_dataset in flags or MaskFlags.alpha in flags
    )
    return BackscatterBand(
        path=path,
        index=index,
        description=dataset.descriptions[index - 1] or "",
        units=units,
        units_source=source,
        nodata=dataset.nodata,
        use_mask=use_mask,
    )


def db_into(
    values: npt.NDArray[np.float32], db: npt.NDArray[np.float32], units: Units, nodata: float | None
) -> int:
    """Write values in dB into `db` (NaN where invalid); return the number of valid pixels."""
    linear = units is Units.LINEAR
    if linear:
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log10(values, out=db)
    has_nodata = nodata is not None and bool(np.isfinite(nodata))
    fill = float(nodata) if nodata is not None and has_nodata else 0.0
    count: int = kernels.prepare_db(values, db, fill, has_nodata, linear)
    return count


def to_db(
    values: npt.NDArray[np.float32], units: Units, nodata: float | None = None
) -> npt.NDArray[np.float32]:
    """Backscatter in dB (10·log10 if linear); NaN for nodata, NaN, inf, non-positive linear."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    db = np.empty_like(values)
    db_into(values, db, units, nodata)
    return db


class BlockReader:
    """Reads row windows of one band as dB into buffers reused from block to block.

    One per worker thread: it owns an open dataset and its buffers, so no large array is
    allocated per block.
    """

    def __init__(self, band: BackscatterBand, rows: int, width: int) -> None:
        self.band = band
        self.dataset = open_raster(band.path)
        self.values = np.empty((rows, width), dtype=np.float32)
        self.db = np.empty((rows, width), dtype=np.float32)

    def read(self, window: Window) -> tuple[npt.NDArray[np.float32], int]:
        """The window in dB (a view of this reader's buffer) and its number of valid pixels."""
        height = int(window.height)
        values, db = self.values[:height], self.db[:height]
        self.dataset.read(self.band.index, window=window, out=values)
        if self.band.use_mask:
            values[self.dataset.read_masks(self.band.index, window=window) == 0] = np.nan
        return db, db_into(values, db, self.band.units, self.band.nodata)

    def close(self) -> None:
        """Close the dataset."""
        self.dataset.close()
