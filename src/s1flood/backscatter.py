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

from s1flood.errors import BandNotFoundError, DegenerateInputError, UnitsUndecidedError

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


def to_db(values: npt.NDArray[np.float32], units: Units) -> npt.NDArray[np.float32]:
    """Backscatter in dB; for linear input 10·log10, with non-positive values as NaN."""
    if units is Units.DB:
        return values
    with np.errstate(divide="ignore", invalid="ignore"):
        db = np.log10(values)
    db *= np.float32(10)
    db[~(values > 0)] = np.nan
    return db


def read_db_block(
    dataset: DatasetReader, band: BackscatterBand, window: Window
) -> npt.NDArray[np.float32]:
    """A window of the band in dB as float32, with every invalid pixel as NaN."""
    values = dataset.read(band.index, window=window, out_dtype="float32")
    invalid = ~np.isfinite(values)
    if band.nodata is not None and np.isfinite(band.nodata):
        invalid |= values == np.float32(band.nodata)
    if band.use_mask:
        invalid |= dataset.read_masks(band.index, window=window) == 0
    db = to_db(values, band.units)
    db[invalid] = np.nan
    return db
