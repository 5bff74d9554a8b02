"""What one classification decided, in lines a person reads (CLI, notebook 2)."""

from __future__ import annotations

import math
from typing import Any

from s1flood.classification.result import ClassificationResult

EXCLUSION_NAMES = {
    "shadow_layover": "radar shadow/layover",
    "hand": "HAND",
    "slope": "slope",
    "mask": "exclusion mask",
}
"""The sidecar's exclusion reasons as the lines name them."""


def _threshold(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "none"
    return f"{float(value):.2f} dB"


def describe(result: ClassificationResult) -> list[str]:
    """The polarisations used, each band's threshold and path, the exclusions, the advisory.

    Args:
        result: what `classify` returned (or `ClassificationResult.from_dict` of a sidecar).
    """
    pols = ", ".join(result.polarisations or result.bands)
    lines = [
        f"{pols} ({result.rule}, {result.method}): {result.path}; "
        f"{result.water_area_km2:.3f} km² water, mean confidence {result.mean_confidence:.0f}"
    ]
    for band in result.per_band:
        lines.append(
            f"  {band.get('band')}: water below {_threshold(band.get('threshold_db'))} "
            f"({band.get('path')}: {band.get('reason')})"
        )
    excluded = [
        f"{EXCLUSION_NAMES.get(reason, reason)} {result.excluded_km2.get(reason, 0.0):.3f} km²"
        for reason, count in result.excluded_pixels.items()
        if count
    ]
    lines.append("  excluded (nodata): " + (", ".join(excluded) if excluded else "nothing"))
    if result.advisory:
        lines.append(f"  advisory: {result.advisory}")
    return lines
