"""``manifest.safe`` and ``preview/map-overlay.kml`` of a simulated product."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.identity import ORBITS_PER_CYCLE, ProductIdentity
from s1flood.synthetic.safe_xml import fmt_time

NAMESPACES = {
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "gml": "http://www.opengis.net/gml",
    "xfdu": "urn:ccsds:schema:xfdu:1",
    "safe": "http://www.esa.int/safe/sentinel-1.0",
    "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
    "s1sar": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar",
    "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
    "s1sarl2": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-2",
    "gx": "http://www.google.com/kml/ext/2.2",
}
NS = {k: "{" + v + "}" for k, v in NAMESPACES.items()}
"""Namespace prefixes as ElementTree writes them in tags (``{uri}``)."""


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_xml(
    safe_dir: Path,
    geom: RadarGeometry,
    ident: ProductIdentity,
    files: Sequence[tuple[str, str, str]],
    footprint: Sequence[tuple[float, float]],
) -> ET.Element:
    """``manifest.safe``: platform, orbit, product information, acquisition period, files.

    Args:
        safe_dir: the SAFE folder holding the files (their sizes and checksums are read).
        geom: the image geometry.
        ident: the product identity.
        files: (data object id, repID, relative href) of every file.
        footprint: the image corners (lon, lat).
    """
    for prefix, uri in NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(
        NS["xfdu"] + "XFDU",
        {"version": "esa/safe/sentinel-1.0/sentinel-1/sar/level-1/grd/standard/iwdp"},
    )
    _information_package_map(root, files)
    ms = ET.SubElement(root, "metadataSection")
    _processing(ms, ident)
    _platform(ms, ident)
    _orbit_reference(ms, ident)
    _general_product_information(ms, geom, ident)
    _acquisition_period(ms, ident)
    _frame_set(ms, footprint)
    _schemas(ms)
    _data_objects(root, safe_dir, files)
    return root


def _wrap(ms: ET.Element, obj_id: str, text_info: str, category: str = "DMD") -> ET.Element:
    """A ``metadataObject`` wrapping XML data; returns its ``xmlData`` element."""
    mo = ET.SubElement(
        ms,
        "metadataObject",
        {
            "ID": obj_id,
            "classification": "DESCRIPTION" if category == "DMD" else "PROVENANCE",
            "category": category,
        },
    )
    mw = ET.SubElement(
        mo,
        "metadataWrap",
        {"mimeType": "text/xml", "vocabularyName": "SAFE", "textInfo": text_info},
    )
    return ET.SubElement(mw, "xmlData")


def _processing(ms: ET.Element, ident: ProductIdentity) -> None:
    """The processing metadata (facility, software)."""
    created = ident.stop + timedelta(minutes=40)
    proc = ET.SubElement(
        _wrap(ms, "processing", "Processing", "PDI"),
        NS["safe"] + "processing",
        {
            "name": "GRD Post Processing",
            "start": fmt_time(created - timedelta(minutes=10)),
            "stop": fmt_time(created),
        },
    )
    fac = ET.SubElement(
        proc,
        NS["safe"] + "facility",
        {
            "country": "None",
            "name": "s1flood synthetic",
            "organisation": "s1flood",
            "site": "simulator",
        },
    )
    ET.SubElement(fac, NS["safe"] + "software", {"name": "Sentinel-1 IPF", "version": "003.40"})


def _platform(ms: ET.Element, ident: ProductIdentity) -> None:
    """The platform and instrument metadata."""
    plat = ET.SubElement(_wrap(ms, "platform", "Platform Description"), NS["safe"] + "platform")
    ET.SubElement(plat, NS["safe"] + "nssdcIdentifier").text = "2014-016A"
    ET.SubElement(plat, NS["safe"] + "familyName").text = "SENTINEL-1"
    ET.SubElement(plat, NS["safe"] + "number").text = ident.mission[-1]
    inst = ET.SubElement(plat, NS["safe"] + "instrument")
    ET.SubElement(
        inst, NS["safe"] + "familyName", {"abbreviation": "SAR"}
    ).text = "Synthetic Aperture Radar"
    mode = ET.SubElement(
        ET.SubElement(inst, NS["safe"] + "extension"), NS["s1sarl1"] + "instrumentMode"
    )
    ET.SubElement(mode, NS["s1sarl1"] + "mode").text = "IW"
    ET.SubElement(mode, NS["s1sarl1"] + "swath").text = "IW"


def _orbit_reference(ms: ET.Element, ident: ProductIdentity) -> None:
    """The orbit numbers, pass and ascending node time."""
    orb = ET.SubElement(
        _wrap(ms, "measurementOrbitReference", "Orbit Reference"), NS["safe"] + "orbitReference"
    )
    for kind in ("start", "stop"):
        ET.SubElement(orb, NS["safe"] + "orbitNumber", {"type": kind}).text = str(
            ident.absolute_orbit
        )
    for kind in ("start", "stop"):
        ET.SubElement(orb, NS["safe"] + "relativeOrbitNumber", {"type": kind}).text = str(
            ident.relative_orbit
        )
    ET.SubElement(orb, NS["safe"] + "cycleNumber").text = str(
        ident.absolute_orbit // ORBITS_PER_CYCLE + 1
    )
    ET.SubElement(orb, NS["safe"] + "phaseIdentifier").text = "1"
    props = ET.SubElement(
        ET.SubElement(orb, NS["safe"] + "extension"), NS["s1"] + "orbitProperties"
    )
    ET.SubElement(props, NS["s1"] + "pass").text = ident.orbit_pass
    ET.SubElement(props, NS["s1"] + "ascendingNodeTime").text = fmt_time(ident.anx_time)


def _general_product_information(
    ms: ET.Element, geom: RadarGeometry, ident: ProductIdentity
) -> None:
    """The standalone product information (class, polarisations, slice)."""
    gpi = ET.SubElement(
        _wrap(ms, "generalProductInformation", "General Product Information"),
        NS["s1sarl1"] + "standAloneProductInformation",
    )
    for tag, text in (
        ("instrumentConfigurationID", "7"),
        ("missionDataTakeID", str(ident.datatake)),
    ):
        ET.SubElement(gpi, NS["s1sarl1"] + tag).text = text
    for pol in ident.polarisations:
        ET.SubElement(gpi, NS["s1sarl1"] + "transmitterReceiverPolarisation").text = pol
    for tag, text in (
        ("productClass", "S"),
        ("productClassDescription", "SAR Standard L1 Product"),
        ("productComposition", "Slice"),
        ("productType", "GRD"),
        ("productTimelinessCategory", "NRT-3h"),
        ("sliceProductFlag", "true"),
        ("segmentStartTime", fmt_time(geom.datetime_at(geom.first_line_time - 2.2))),
        ("sliceNumber", "1"),
        ("totalSlices", "1"),
    ):
        ET.SubElement(gpi, NS["s1sarl1"] + tag).text = text


def _acquisition_period(ms: ET.Element, ident: ProductIdentity) -> None:
    """The acquisition period and its times from the ascending node."""
    per = ET.SubElement(
        _wrap(ms, "acquisitionPeriod", "Acquisition Period"), NS["safe"] + "acquisitionPeriod"
    )
    ET.SubElement(per, NS["safe"] + "startTime").text = fmt_time(ident.start)
    ET.SubElement(per, NS["safe"] + "stopTime").text = fmt_time(ident.stop)
    anx = ET.SubElement(ET.SubElement(per, NS["safe"] + "extension"), NS["s1"] + "timeANX")
    ET.SubElement(
        anx, NS["s1"] + "startTimeANX"
    ).text = f"{(ident.start - ident.anx_time).total_seconds() * 1e3:.6e}"
    ET.SubElement(
        anx, NS["s1"] + "stopTimeANX"
    ).text = f"{(ident.stop - ident.anx_time).total_seconds() * 1e3:.6e}"


def _frame_set(ms: ET.Element, footprint: Sequence[tuple[float, float]]) -> None:
    """The footprint (lat,lon pairs as in real manifests)."""
    frame = ET.SubElement(
        ET.SubElement(_wrap(ms, "measurementFrameSet", "Frame Set"), NS["safe"] + "frameSet"),
        NS["safe"] + "frame",
    )
    fp = ET.SubElement(
        frame, NS["safe"] + "footPrint", {"srsName": "http://www.opengis.net/gml/srs/epsg.xml#4326"}
    )
    ET.SubElement(fp, NS["gml"] + "coordinates").text = " ".join(
        f"{lat:.6f},{lon:.6f}" for lon, lat in footprint
    )


def _schemas(ms: ET.Element) -> None:
    """The XML schema references of the data objects."""
    for rep, xsd in (
        ("s1Level1ProductSchema", "s1-level-1-product.xsd"),
        ("s1Level1NoiseSchema", "s1-level-1-noise.xsd"),
        ("s1Level1CalibrationSchema", "s1-level-1-calibration.xsd"),
        ("s1Level1MeasurementSchema", "s1-level-1-measurement.xsd"),
        ("s1Level1MapOverlaySchema", "s1-map-overlay.xsd"),
    ):
        mo = ET.SubElement(
            ms, "metadataObject", {"ID": rep, "classification": "SYNTAX", "category": "REP"}
        )
        ET.SubElement(
            mo,
            "metadataReference",
            {
                "mimeType": "text/xml",
                "vocabularyName": "XML Schema",
                "locatorType": "URL",
                "href": f"./support/{xsd}",
            },
        )


def _data_objects(root: ET.Element, safe_dir: Path, files: Sequence[tuple[str, str, str]]) -> None:
    """The data object section: size and MD5 of every file."""
    dos = ET.SubElement(root, "dataObjectSection")
    for obj_id, rep_id, href in files:
        path = safe_dir / href
        do = ET.SubElement(dos, "dataObject", {"ID": obj_id, "repID": rep_id})
        mime = "application/octet-stream" if href.endswith((".tiff", ".png")) else "text/xml"
        bs = ET.SubElement(do, "byteStream", {"mimeType": mime, "size": str(path.stat().st_size)})
        ET.SubElement(bs, "fileLocation", {"locatorType": "URL", "href": f"./{href}"})
        ET.SubElement(bs, "checksum", {"checksumName": "MD5"}).text = _md5(path)


def _information_package_map(root: ET.Element, files: Sequence[tuple[str, str, str]]) -> None:
    """The content units pointing at every data object."""
    ipm = ET.SubElement(root, "informationPackageMap")
    top = ET.SubElement(
        ipm,
        NS["xfdu"] + "contentUnit",
        {
            "unitType": "SAFE Archive Information Package",
            "textInfo": "Sentinel-1 IW Level-1 GRD Product",
            "dmdID": "acquisitionPeriod platform generalProductInformation "
            "measurementOrbitReference measurementFrameSet",
            "pdiID": "processing",
        },
    )
    for obj_id, rep_id, _ in files:
        unit_type = (
            "Measurement Data Unit" if rep_id == "s1Level1MeasurementSchema" else "Metadata Unit"
        )
        cu = ET.SubElement(
            top, NS["xfdu"] + "contentUnit", {"unitType": unit_type, "repID": rep_id}
        )
        ET.SubElement(cu, "dataObjectPointer", {"dataObjectID": obj_id})


def map_overlay_kml(footprint: Sequence[tuple[float, float]]) -> str:
    """The ``preview/map-overlay.kml`` with the footprint as a LatLonQuad.

    Args:
        footprint: the image corners (lon, lat).
    """
    coords = " ".join(f"{lon:.6f},{lat:.6f}" for lon, lat in footprint)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n'
        "  <Document>\n    <GroundOverlay>\n      <name>Sentinel-1 Map Overlay</name>\n"
        "      <Icon><href>quick-look.png</href></Icon>\n"
        f"      <gx:LatLonQuad><coordinates>{coords}</coordinates></gx:LatLonQuad>\n"
        "    </GroundOverlay>\n  </Document>\n</kml>\n"
    )
