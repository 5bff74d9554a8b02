"""What `classify` returns and writes beside the mask: paths, thresholds, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1flood.results import JsonValue, fields_to_dict, resolve_path

_PATHS = ("mask", "sidecar", "histogram_png", "confidence", "change")


def output_paths(mask: Path) -> tuple[Path, Path]:
    """Sidecar JSON and histogram PNG paths that go with a water mask path.

    Args:
        mask: the water mask path.
    """
    return mask.with_suffix(".json"), mask.with_name(f"{mask.stem}_histogram.png")


def confidence_path(mask: Path) -> Path:
    """The confidence COG that goes with a water mask path.

    Args:
        mask: the water mask path.
    """
    return mask.with_name(f"{mask.stem}_confidence.tif")


def change_path(mask: Path) -> Path:
    """The new-water (change) COG that goes with a water mask path.

    Args:
        mask: the water mask path.
    """
    return mask.with_name(f"{mask.stem}_change.tif")


@dataclass
class ClassificationResult:
    """What `classify` wrote and found.

    ``path`` says how the threshold was found (``split``, ``prior``, ``no-water``, ``otsu``,
    ``multiotsu``, ``fixed``) and ``reason`` why; ``confidence`` is a uint8 COG (0..100,
    255 nodata); ``change`` the new-water COG when a reference was given.
    """

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
    path: str = ""
    reason: str = ""
    confidence: Path | None = None
    change: Path | None = None
    mean_confidence: float = 0.0
    bands: list[str] = field(default_factory=list)
    tiles: dict[str, int] = field(default_factory=dict)
    class_stats: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    polarisations: list[str] = field(default_factory=list)
    """The bands classified, by polarisation (else description or index)."""
    rule: str = "one band"
    """``one band`` or ``dual-polarisation membership mean`` (`dualpol`)."""
    per_band: list[dict[str, Any]] = field(default_factory=list)
    """Each band's own threshold (dB), path and reason."""
    excluded_pixels: dict[str, int] = field(default_factory=dict)
    """Pixels left out by reason: ``shadow_layover`` (NaN in the input), ``hand``,
    ``slope``, ``mask`` (a pixel may have several reasons)."""
    excluded_km2: dict[str, float] = field(default_factory=dict)
    disagreement: dict[str, int] = field(default_factory=dict)
    """Two bands: valid pixels that only one band puts below its threshold."""
    advisory: str = ""
    """Two bands: a warning when they disagree on a large area."""

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """The result with JSON types only; paths relative to `base` where under it.

        Args:
            base: the output folder; None keeps paths as they are.
        """
        return fields_to_dict(self, base)

    @classmethod
    def from_dict(cls, record: dict[str, Any], base: Path | None = None) -> ClassificationResult:
        """The result that `to_dict` described.

        Args:
            record: a `to_dict` mapping.
            base: the folder relative paths were written against.
        """
        values = dict(record)
        for name in _PATHS:
            values[name] = resolve_path(values.get(name), base)
        values["water_threshold_db"] = (
            float("-inf") if values["water_threshold_db"] is None else values["water_threshold_db"]
        )
        return cls(**values)
