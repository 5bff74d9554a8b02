"""Reading what the classifier thresholds: one band or fused bands in dB, smoothed, by rows.

Fusion of several bands (e.g. ``VV,VH``): the mean of their dB values per pixel (the dB of the
geometric mean of the linear values), nodata where any band has none; the prior threshold of
the fused value is the mean of the bands' priors. Smoothing is a box mean of dB over
``smoothing`` x ``smoothing`` pixels (nodata ignored); rows above and below a window (its halo)
are read so that a window's result does not depend on where the raster is cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rasterio.io import DatasetReader
from rasterio.windows import Window

from s1flood.backscatter import BackscatterBand, BlockReader, open_backscatter
from s1flood.errors import InvalidOptionError

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


def parse_bands(band: str | int) -> list[str]:
    """The bands named by ``band``: one index or description, or several joined by commas.

    Args:
        band: e.g. ``1``, ``VV`` or ``VV,VH``.
    """
    names = [part.strip() for part in str(band).split(",")]
    if not names or any(n in ("", "0") or n.startswith("-") for n in names) or len(names) > 2:
        raise InvalidOptionError(
            "band", band, "a 1-based index or a band description, or two joined by a comma"
        )
    return names


def polarisation_of(dataset: DatasetReader, band: BackscatterBand) -> str:
    """The band's polarisation from its tags or description ('' when unknown).

    Args:
        dataset: the open raster.
        band: one of its bands.
    """
    tags = dataset.tags(band.index)
    for key in ("polarisation", "polarization", "POLARISATION", "POLARIZATION"):
        if key in tags:
            return str(tags[key]).upper()
    words = band.description.upper().replace("_", " ").split()
    return next((w for w in words if w in ("VV", "VH", "HH", "HV")), "")


@dataclass(frozen=True)
class Feature:
    """The bands of one raster that make the classified value."""

    path: Path
    bands: list[BackscatterBand]
    polarisations: list[str]


def open_feature(dataset: DatasetReader, path: Path, band: str | int, units: str) -> Feature:
    """Describe the band(s) of an open raster that are classified.

    Args:
        dataset: the open raster.
        path: its path (for errors).
        band: one band, or two joined by a comma.
        units: ``auto``, ``linear`` or ``db``.
    """
    bands = [open_backscatter(dataset, path, name, units) for name in parse_bands(band)]
    return Feature(path, bands, [polarisation_of(dataset, b) for b in bands])


class FeatureReader:
    """Reads row windows (with halo rows) of the fused, smoothed dB value into reused buffers.

    One per worker thread.
    """

    def __init__(self, feature: Feature, rows: int, width: int, height: int) -> None:
        self.readers = [BlockReader(b, rows, width) for b in feature.bands]
        self.height = height
        self.width = width
        self.fused = np.empty((rows, width), dtype=np.float32)
        self.smoothed = np.empty((rows, width), dtype=np.float32)

    def read(self, top: int, rows: int, halo: int, smoothing: int) -> tuple[F32, int]:
        """DB rows [top - halo, top + rows + halo) cut to the raster, and the rows above `top`.

        Args:
            top: first row of the window.
            rows: rows of the window.
            halo: extra rows above and below.
            smoothing: box size of the mean filter (0 or 1: none).
        """
        first = max(0, top - halo)
        last = min(self.height, top + rows + halo)
        window = Window(0, first, self.width, last - first)
        blocks = [reader.read(window)[0] for reader in self.readers]
        if len(blocks) == 1:
            values = blocks[0]
        else:
            values = self.fused[: last - first]
            np.add(blocks[0], blocks[1], out=values)
            values *= np.float32(0.5)
        if smoothing > 1:
            from s1flood.classification.kernels import box_mean

            out = self.smoothed[: last - first]
            box_mean(values, smoothing, out)
            values = out
        return values, top - first

    def close(self) -> None:
        """Close the datasets."""
        for reader in self.readers:
            reader.close()
