"""The manifest and the calibration/noise LUTs of a SAFE, parsed with ElementTree.

The values are those xarray-sentinel gives (``parse_manifest_sentinel1``, whose manifest
reading is ElementTree too, and the ``calibration`` / ``noise_range`` groups: LUT values
parsed as float32, one pixel row shared by every line); tests/test_24 checks that they agree.
Parsing here keeps xarray, pandas and xmlschema (about 1.5 s of imports and schema loading
per process) out of a preprocessing job.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

NAMESPACES = {
    "safe": "http://www.esa.int/safe/sentinel-1.0",
    "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
    "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
}


class MetadataError(ValueError):
    """A manifest or LUT file that cannot be read as Sentinel-1 metadata."""


def manifest_attributes(xml: bytes) -> dict[str, Any]:
    """The product attributes of a ``manifest.safe``, keyed as xarray-sentinel keys them.

    Args:
        xml: the manifest's bytes.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise MetadataError(f"malformed manifest ({exc})") from None

    def text(path: str) -> str | None:
        return root.findtext(path, namespaces=NAMESPACES)

    def texts(path: str) -> list[str]:
        return [e.text or "" for e in root.findall(path, namespaces=NAMESPACES)]

    orbit = texts(".//safe:orbitNumber")
    relative = texts(".//safe:relativeOrbitNumber")
    try:
        return {
            "family_name": text(".//safe:platform/safe:familyName"),
            "number": text(".//safe:platform/safe:number"),
            "mode": text(".//s1sarl1:instrumentMode/s1sarl1:mode"),
            "swaths": texts(".//s1sarl1:instrumentMode/s1sarl1:swath"),
            "orbit_number": int(orbit[0]) if orbit else 0,
            "relative_orbit_number": int(relative[0]) if relative else 0,
            "pass": text(".//s1:pass"),
            "transmitter_receiver_polarisations": texts(
                ".//s1sarl1:transmitterReceiverPolarisation"
            ),
            "product_type": text(".//s1sarl1:productType"),
            "start_time": text(".//safe:startTime"),
            "stop_time": text(".//safe:stopTime"),
        }
    except ValueError as exc:
        raise MetadataError(f"malformed manifest ({exc})") from None


def lut_grid(xml: bytes, vector: str, names: tuple[str, ...]) -> dict[str, F64]:
    """Lines, pixels and the named LUTs of the ``vector`` elements of a calibration/noise file.

    Args:
        xml: the file's bytes.
        vector: the vector element, e.g. ``calibrationVector`` or ``noiseRangeVector``.
        names: the LUT elements of each vector, e.g. ``("sigmaNought", "betaNought")``.

    Returns:
        ``line`` (one per vector), ``pixel`` (the first vector's) and one (lines, pixels)
        array per name, float32 values as float64.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise MetadataError(f"malformed LUT file ({exc})") from None
    vectors = root.findall(f".//{vector}")
    if not vectors:
        raise MetadataError(f"no {vector} in the file")
    try:
        pixels = [np.array((v.findtext("pixel") or "").split(), dtype=np.int64) for v in vectors]
        lines = np.array([int(v.findtext("line") or "") for v in vectors], dtype=np.float64)
        values = {
            name: np.array(
                [np.array((v.findtext(name) or "").split(), dtype=np.float32) for v in vectors]
            ).astype(np.float64)
            for name in names
        }
    except ValueError as exc:
        raise MetadataError(f"malformed {vector} ({exc})") from None
    if any(p.shape != pixels[0].shape or (p != pixels[0]).any() for p in pixels):
        raise MetadataError(f"{vector}s are not on one line x pixel grid")
    for name, table in values.items():
        if table.shape != (lines.size, pixels[0].size):
            raise MetadataError(f"{vector} {name} lengths differ from the pixel count")
    return {"line": lines, "pixel": pixels[0].astype(np.float64), **values}
