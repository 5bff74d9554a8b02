"""The preprocessing data model: what an engine is given, what it returns, and its protocol.

Engines import this module (and the shared helpers beside it), never the registry
(`s1flood.preprocessing.engines`) nor the entry point (`s1flood.preprocessing.engine`),
so adding an engine cannot create an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import shapely.geometry

from s1flood.raster import Grid
from s1flood.results import JsonValue, fields_to_dict, resolve_path


@dataclass(frozen=True)
class PreprocessOptions:
    """Everything an engine needs besides the product and the outputs."""

    aoi: shapely.geometry.Polygon
    grid: Grid
    dem: Path
    polarisation: str = "VV"
    """One polarisation (``VV``) or a dual pair (``VV+VH``, written as two bands)."""
    orbit: Path | None = None
    speckle: str = "lee"
    window: int = 5
    rtc: bool = False
    dem_vertical: str = "auto"
    progress: bool = False
    workers: int | None = None
    lut: str = "sigma"
    """Calibration LUT of the Python engine: sigma, beta or gamma (for comparisons)."""
    noise_removal: bool = True

    @property
    def polarisations(self) -> tuple[str, ...]:
        """The polarisations to write, one band each, in band order."""
        return split_polarisations(self.polarisation)


DUAL_PAIRS = {frozenset(("VV", "VH")): ("VV", "VH"), frozenset(("HH", "HV")): ("HH", "HV")}
"""The dual-polarisation pairs of Sentinel-1 (co-polarised band first)."""


def split_polarisations(polarisation: str) -> tuple[str, ...]:
    """``VV`` -> ``("VV",)``; ``VV+VH`` (or ``VH+VV``, ``vv,vh``) -> ``("VV", "VH")``.

    Args:
        polarisation: one polarisation, or a dual pair joined by ``+`` or ``,``.
    """
    parts = [p.strip().upper() for p in polarisation.replace(",", "+").split("+")]
    if len(parts) == 2 and frozenset(parts) in DUAL_PAIRS:
        return DUAL_PAIRS[frozenset(parts)]
    return tuple(parts)


@dataclass
class PreprocessResult:
    """What `preprocess` wrote and how it went."""

    output: Path
    stac_item: Path
    grid: Grid
    engine: str
    polarisation: str
    quantity: str
    """``sigma0`` or ``gamma0`` (with RTC)."""
    orbit_source: str
    seconds: float = 0.0
    valid_fraction: float = 0.0
    """Share of target pixels with a value."""
    swath_fraction: float = 0.0
    """Share of target pixels inside the image (valid or in shadow/layover)."""
    shadow_fraction: float = 0.0
    layover_fraction: float = 0.0
    radar_window: tuple[int, int, int, int] | None = None
    """Image window read: (first line, end line, first sample, end sample)."""
    max_geocoding_error_px: float = 0.0
    """Largest interpolation error measured at node-cell centres (pixels)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values of every field.

        Paths become strings, relative to `base` where they lie under it; the grid becomes
        `Grid.to_dict`; the radar window a list.

        Args:
            base: the output folder that paths are made relative to (``None``: kept as given).
        """
        return fields_to_dict(self, base)

    @classmethod
    def from_dict(cls, record: dict[str, Any], base: Path | None = None) -> PreprocessResult:
        """The result that `to_dict` described.

        Args:
            record: a mapping as `to_dict` returns it.
            base: the folder relative paths were written against (``None``: as they are).
        """
        window = record.get("radar_window")
        return cls(
            output=Path(resolve_path(record["output"], base) or ""),
            stac_item=Path(resolve_path(record["stac_item"], base) or ""),
            grid=Grid.from_dict(record["grid"]),
            engine=str(record["engine"]),
            polarisation=str(record["polarisation"]),
            quantity=str(record["quantity"]),
            orbit_source=str(record["orbit_source"]),
            seconds=float(record.get("seconds", 0.0)),
            valid_fraction=float(record.get("valid_fraction", 0.0)),
            swath_fraction=float(record.get("swath_fraction", 0.0)),
            shadow_fraction=float(record.get("shadow_fraction", 0.0)),
            layover_fraction=float(record.get("layover_fraction", 0.0)),
            radar_window=(
                (int(window[0]), int(window[1]), int(window[2]), int(window[3]))
                if window is not None
                else None
            ),
            max_geocoding_error_px=float(record.get("max_geocoding_error_px", 0.0)),
            extra=dict(record.get("extra") or {}),
        )


class Engine(Protocol):
    """A preprocessing engine: one product to one sigma0 COG on the target grid."""

    name: str

    def run(self, product: Path, output: Path, options: PreprocessOptions) -> PreprocessResult:
        """Write `output`; raise an `S1FloodError` on failure, leaving nothing behind.

        Args:
            product: the ``.SAFE`` folder or its ``.zip``.
            output: the GeoTIFF to write (a COG on ``options.grid``).
            options: the validated options (see `PreprocessOptions`).
        """
        ...


def stac_item_path(output: Path) -> Path:
    """Where the STAC Item of an output goes: beside it, ``.json`` instead of ``.tif``.

    Args:
        output: the output GeoTIFF.
    """
    return output.with_suffix(".json")
