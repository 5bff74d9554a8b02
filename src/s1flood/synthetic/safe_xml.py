"""XML helpers of the SAFE writer: number and time formats of the annotation, elements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from s1flood.atomic import atomic_path
from s1flood.synthetic.identity import ProductIdentity


def fmt_time(t: datetime) -> str:
    """Annotation time format: ISO without zone, microseconds."""
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def fmt_e(value: float, digits: int = 15) -> str:
    """Scientific notation as in the annotation (15 digits by default).

    Args:
        value: the number.
        digits: digits after the point.
    """
    return f"{value:.{digits}e}"


def fmt_list(values: Iterable[float], digits: int = 6) -> str:
    """Space-separated list of numbers in scientific notation.

    Args:
        values: the numbers.
        digits: digits after the point.
    """
    return " ".join(f"{v:.{digits}e}" for v in values)


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    """A new child element.

    Args:
        parent: the element to append to.
        tag: the child's tag.
        text: the child's text, if any.
        attrib: the child's attributes (e.g. ``count``).
    """
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def ads_header(root: ET.Element, ident: ProductIdentity, pol: str) -> None:
    """Append the ``adsHeader`` every annotation file starts with.

    Args:
        root: the root element of the annotation, calibration or noise file.
        ident: the product identity (mission, times, orbit, datatake).
        pol: the polarisation of the file.
    """
    h = sub(root, "adsHeader")
    sub(h, "missionId", ident.mission)
    sub(h, "productType", "GRD")
    sub(h, "polarisation", pol)
    sub(h, "mode", "IW")
    sub(h, "swath", "IW")
    sub(h, "startTime", fmt_time(ident.start))
    sub(h, "stopTime", fmt_time(ident.stop))
    sub(h, "absoluteOrbitNumber", str(ident.absolute_orbit))
    sub(h, "missionDataTakeId", str(ident.datatake))
    sub(h, "imageNumber", ident.file_stem(pol)[-3:])


def write_xml(root: ET.Element, path: Path) -> None:
    """Write an element tree, indented, with an XML declaration (atomically).

    Args:
        root: the root element.
        path: the file to write.
    """
    ET.indent(root, space="  ")
    with atomic_path(path) as tmp:
        ET.ElementTree(root).write(tmp, encoding="UTF-8", xml_declaration=True)
