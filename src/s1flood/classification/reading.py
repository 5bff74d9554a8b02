"""Reading what the classifier thresholds: one band in dB, or two bands' memberships, by rows.

One band: its dB values. Two bands (``VV,VH``, see `dualpol`): once each band's threshold is
known, the mean of the bands' linear water memberships (0 at a band's threshold, -1 at its
water mean), nodata where either band has none. Smoothing is a box mean over ``smoothing`` x
``smoothing`` pixels (nodata ignored); rows above and below a window (its halo) are read so
that a window's result does not depend on where the raster is cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rasterio.io import DatasetReader
from rasterio.windows import Window

from s1flood.backscatter import BackscatterBand, BlockReader, Units, open_backscatter
from s1flood.errors import InvalidOptionError

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


AUTO = "auto"
"""``band`` value: both polarisations of a dual-polarisation raster, else band 1."""
CO_POLARISED = ("VV", "HH")
CROSS_POLARISED = ("VH", "HV")


def parse_bands(band: str | int) -> list[str]:
    """The bands named by ``band``: one index or description, or two joined by a comma.

    Args:
        band: e.g. ``1``, ``VV``, ``VV,VH`` or ``auto``.
    """
    if str(band).strip().lower() == AUTO:
        return [AUTO]
    names = [part.strip() for part in str(band).split(",")]
    if not names or any(n in ("", "0") or n.startswith("-") for n in names) or len(names) > 2:
        raise InvalidOptionError(
            "band",
            band,
            "auto, a 1-based index or a band description, or two joined by a comma",
        )
    return names


def auto_bands(dataset: DatasetReader) -> list[str]:
    """``auto``: the co- and cross-polarised bands (e.g. VV, VH) when the raster has one each.

    Args:
        dataset: the open raster.
    """
    found: dict[str, list[int]] = {"co": [], "cross": []}
    for index in range(1, dataset.count + 1):
        band = BackscatterBand(Path(), index, dataset.descriptions[index - 1] or "", *_NONE)
        pol = polarisation_of(dataset, band)
        if pol in CO_POLARISED:
            found["co"].append(index)
        elif pol in CROSS_POLARISED:
            found["cross"].append(index)
    if len(found["co"]) == 1 and len(found["cross"]) == 1:
        return [str(found["co"][0]), str(found["cross"][0])]
    return ["1"]


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


_NONE = (Units.AUTO, "", None, False)


@dataclass(frozen=True)
class Feature:
    """The bands of one raster that make the classified value."""

    path: Path
    bands: list[BackscatterBand]
    polarisations: list[str]
    scales: tuple[float, float, float, float] | None = None
    """Two bands: (threshold, scale) of each band's membership (`dualpol`); None: one band."""

    def band(self, position: int) -> Feature:
        """The feature of one of the bands alone.

        Args:
            position: 0 for the first band, 1 for the second.
        """
        return Feature(self.path, [self.bands[position]], [self.polarisations[position]])

    @property
    def names(self) -> list[str]:
        """The bands' polarisations, else descriptions, else indices."""
        return [
            p or b.description or str(b.index)
            for p, b in zip(self.polarisations, self.bands, strict=True)
        ]


def open_feature(dataset: DatasetReader, path: Path, band: str | int, units: str) -> Feature:
    """Describe the band(s) of an open raster that are classified.

    Args:
        dataset: the open raster.
        path: its path (for errors).
        band: one band, or two joined by a comma.
        units: ``auto``, ``linear`` or ``db``.
    """
    names = parse_bands(band)
    if names == [AUTO]:
        names = auto_bands(dataset)
    bands = [open_backscatter(dataset, path, name, units) for name in names]
    if len(bands) == 2 and bands[0].index == bands[1].index:
        raise InvalidOptionError("band", band, "two different bands")
    return Feature(path, bands, [polarisation_of(dataset, b) for b in bands])


class FeatureReader:
    """Reads row windows (with halo rows) of the fused, smoothed dB value into reused buffers.

    One per worker thread.
    """

    def __init__(self, feature: Feature, rows: int, width: int, height: int) -> None:
        self.readers = [BlockReader(b, rows, width) for b in feature.bands]
        self.height = height
        self.width = width
        self.scales = np.array(feature.scales or (0.0, 1.0, 0.0, 1.0), dtype=np.float64)
        shape = (rows, width)
        two = len(self.readers) == 2
        self.fused = np.empty(shape if two else (0, 0), dtype=np.float32)
        self.smoothed = np.empty(shape, dtype=np.float32)
        self.half_difference = np.empty(shape if two else (0, 0), dtype=np.float32)
        self.smoothed_difference = np.empty_like(self.half_difference)
        self.difference: F32 | None = None
        """After `read` with ``difference``: half the difference of the two memberships."""

    def read(
        self, top: int, rows: int, halo: int, smoothing: int, difference: bool = False
    ) -> tuple[F32, int]:
        """Rows [top - halo, top + rows + halo) cut to the raster, and the rows above `top`.

        One band: dB. Two: the mean of their memberships.

        Args:
            top: first row of the window.
            rows: rows of the window.
            halo: extra rows above and below.
            smoothing: box size of the mean filter (0 or 1: none).
            difference: two bands: also set `difference` (smoothed alike).
        """
        from s1flood.classification.kernels import box_mean, memberships

        first = max(0, top - halo)
        last = min(self.height, top + rows + halo)
        window = Window(0, first, self.width, last - first)
        blocks = [reader.read(window)[0] for reader in self.readers]
        self.difference = None
        if len(blocks) == 1:
            values = blocks[0]
        else:
            values = self.fused[: last - first]
            half = self.half_difference[: last - first] if difference else self.fused[:0]
            memberships(blocks[0], blocks[1], self.scales, values, half)
            if difference:
                self.difference = half
        if smoothing > 1:
            out = self.smoothed[: last - first]
            box_mean(values, smoothing, out)
            values = out
            if self.difference is not None:
                smoothed = self.smoothed_difference[: last - first]
                box_mean(self.difference, smoothing, smoothed)
                self.difference = smoothed
        return values, top - first

    def close(self) -> None:
        """Close the datasets."""
        for reader in self.readers:
            reader.close()
