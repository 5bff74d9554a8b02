"""Opening a Sentinel-1 GRD product (``.SAFE`` folder or its ``.zip``) for one polarisation.

Metadata is parsed with ElementTree (`metadata`, and the annotation here): the values
xarray-sentinel gives, without its import and schema cost; the azimuth noise blocks, which
xarray-sentinel 0.9.6 reduces to the first block, are parsed from the noise annotation.
Every problem with the product is a one-line `ProductError` or `PolarisationNotFoundError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import numpy.typing as npt
import shapely.geometry

from s1flood.errors import PolarisationNotFoundError, ProductError, first_line
from s1flood.preprocessing.metadata import MetadataError, lut_grid, manifest_attributes
from s1flood.preprocessing.safe_source import SafeSource

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NoiseAzimuthBlock:
    """One azimuth noise vector: a rectangle of the image and its LUT along lines."""

    swath: str
    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    lines: I64
    lut: F64


@dataclass(frozen=True)
class Lut2D:
    """A LUT sampled on a line x pixel grid."""

    lines: F64
    pixels: F64
    values: F64


@dataclass
class SarImage:
    """What the Python engine needs of one polarisation of a GRD product."""

    path: Path
    name: str
    polarisation: str
    measurement: str
    """A path rasterio opens (``/vsizip/...`` inside a zip)."""
    mission: str
    orbit_pass: str
    relative_orbit: int
    absolute_orbit: int
    start: datetime
    stop: datetime
    n_lines: int
    n_samples: int
    first_line_time: np.datetime64
    line_interval: float
    """Seconds between lines, (last - first line time) / (lines - 1) as readers derive it."""
    range_pixel_spacing: float
    radar_frequency: float
    footprint: shapely.geometry.Polygon
    orbit_times: npt.NDArray[np.datetime64]
    orbit_positions: F64
    orbit_velocities: F64
    sigma: Lut2D
    beta: Lut2D
    gamma: Lut2D
    noise_range: Lut2D | None
    noise_azimuth: list[NoiseAzimuthBlock]
    cc_times: npt.NDArray[np.datetime64]
    cc_sr0: F64
    cc_srgr: F64
    gcp: dict[str, F64] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def seconds(self, times: npt.NDArray[np.datetime64]) -> F64:
        """Times as seconds since the first line.

        Args:
            times: the times.
        """
        return np.asarray(
            (times.astype("datetime64[ns]") - self.first_line_time.astype("datetime64[ns]"))
            / np.timedelta64(1, "ns")
            * 1e-9,
            dtype=np.float64,
        )


def _manifest(source: SafeSource) -> dict[str, Any]:
    """The manifest's product attributes (see `metadata.manifest_attributes`)."""
    try:
        return manifest_attributes(source.read("manifest.safe"))
    except (MetadataError, OSError, KeyError) as exc:
        raise ProductError(
            source.path, f"cannot read the manifest ({first_line(exc, 160)})"
        ) from None


def _lut_file(
    source: SafeSource, kind: str, pol: str, vector: str, names: tuple[str, ...]
) -> dict[str, F64]:
    """The LUTs of the ``kind`` (calibration, noise) file of `pol`, or a one-line error."""
    member = source.find(_member(f"annotation/calibration/{kind}-", pol, r"\.xml"))
    if member is None:
        raise ProductError(source.path, f"no {pol} {kind} annotation in the product")
    try:
        return lut_grid(source.read(member), vector, names)
    except (MetadataError, OSError, KeyError) as exc:
        raise ProductError(source.path, f"cannot read {member} ({first_line(exc, 160)})") from None


def _lut(table: dict[str, F64], name: str) -> Lut2D:
    return Lut2D(table["line"], table["pixel"], table[name])


def _noise_azimuth_blocks(xml: bytes) -> list[NoiseAzimuthBlock]:
    root = ET.fromstring(xml)
    blocks = []
    for vec in root.iter("noiseAzimuthVector"):
        lut_text = vec.findtext("noiseAzimuthLut") or ""
        line_text = vec.findtext("line") or ""
        lines = np.array(line_text.split(), dtype=np.int64)
        lut = np.array(lut_text.split(), dtype=np.float64)
        if lines.size == 0 or lines.size != lut.size:
            continue
        blocks.append(
            NoiseAzimuthBlock(
                swath=vec.findtext("swath") or "",
                first_line=int(vec.findtext("firstAzimuthLine") or 0),
                last_line=int(vec.findtext("lastAzimuthLine") or 0),
                first_sample=int(vec.findtext("firstRangeSample") or 0),
                last_sample=int(vec.findtext("lastRangeSample") or 0),
                lines=lines,
                lut=lut,
            )
        )
    return blocks


def _times(values: list[str]) -> npt.NDArray[np.datetime64]:
    return np.array([np.datetime64(v.strip(), "ns") for v in values], dtype="datetime64[ns]")


def _annotation(source: SafeSource, name: str) -> dict[str, Any]:
    """Image information, orbit, coordinate conversion and geolocation grid of an annotation.

    Parsed with ElementTree in one pass (xarray-sentinel re-parses the annotation with its
    schema for each of these groups, which costs about a second per product).
    """
    try:
        root = ET.fromstring(source.read(name))
    except (ET.ParseError, OSError, KeyError) as exc:
        raise ProductError(source.path, f"unreadable annotation {name} ({exc})") from None
    info = root.find("imageAnnotation/imageInformation")
    if info is None:
        raise ProductError(source.path, f"no imageInformation in {name}")
    values: dict[str, Any] = {child.tag: (child.text or "").strip() for child in info}
    values["radarFrequency"] = (
        root.findtext("generalAnnotation/productInformation/radarFrequency") or "5.405e9"
    )
    for key in ("numberOfLines", "numberOfSamples", "productFirstLineUtcTime"):
        if not values.get(key):
            raise ProductError(source.path, f"no {key} in {name}")
    try:
        orbits = root.findall("generalAnnotation/orbitList/orbit")
        values["orbit_times"] = _times([o.findtext("time") or "" for o in orbits])
        values["orbit_positions"] = np.array(
            [[float(o.findtext(f"position/{k}") or "nan") for k in "xyz"] for o in orbits]
        )
        values["orbit_velocities"] = np.array(
            [[float(o.findtext(f"velocity/{k}") or "nan") for k in "xyz"] for o in orbits]
        )
        conv = root.findall("coordinateConversion/coordinateConversionList/coordinateConversion")
        values["cc_times"] = _times([c.findtext("azimuthTime") or "" for c in conv])
        values["cc_sr0"] = np.array([float(c.findtext("sr0") or "nan") for c in conv])
        values["cc_srgr"] = np.array(
            [[float(v) for v in (c.findtext("srgrCoefficients") or "").split()] for c in conv]
        )
        points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
        table = {
            key: np.array([float(p.findtext(key) or "nan") for p in points])
            for key in ("line", "pixel", "latitude", "longitude", "height")
        }
    except ValueError as exc:
        raise ProductError(source.path, f"malformed annotation {name} ({exc})") from None
    if len(orbits) < 4 or not conv or not points:
        raise ProductError(source.path, f"annotation {name} lacks orbit, conversion or grid")
    lines = np.unique(table["line"])
    pixels = np.unique(table["pixel"])
    gcp: dict[str, F64] = {"line": lines, "pixel": pixels}
    li = np.searchsorted(lines, table["line"])
    pi = np.searchsorted(pixels, table["pixel"])
    for key in ("latitude", "longitude", "height"):
        grid = np.full((lines.size, pixels.size), np.nan)
        grid[li, pi] = table[key]
        gcp[key] = grid
    values["gcp"] = gcp
    return values


def _member(prefix: str, pol: str, suffix: str) -> str:
    """A regular expression for a per-polarisation file of a GRD product."""
    return rf"{re.escape(prefix)}s1[a-z]-[a-z0-9]+-grd[a-z]?-{pol.lower()}-[^/]*{suffix}"


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def open_product(path: Path | str, polarisation: str = "VV") -> SarImage:
    """Open one polarisation of a GRD product, or raise a one-line `InputError`.

    Args:
        path: the ``.SAFE`` folder or its ``.zip``.
        polarisation: VV, VH, HH or HV (case ignored).
    """
    return open_polarisations(path, [polarisation])[0]


def open_polarisations(path: Path | str, polarisations: Sequence[str]) -> list[SarImage]:
    """Open several polarisations of one GRD product (its manifest read once), in that order.

    Every polarisation is checked before any is opened: one the product lacks raises a
    one-line `PolarisationNotFoundError` naming those it has.

    Args:
        path: the ``.SAFE`` folder or its ``.zip``.
        polarisations: e.g. ``["VV", "VH"]`` (case ignored).
    """
    path = Path(path)
    pols = [(p or "").strip().upper() for p in polarisations]
    source = SafeSource(path)
    attrs = _manifest(source)
    checked = [(pol, _check_product(source, attrs, pol)) for pol in pols]
    images = [_open_image(source, attrs, pol, tiff) for pol, tiff in checked]
    first = images[0]
    for other in images[1:]:
        if (other.n_lines, other.n_samples) != (first.n_lines, first.n_samples):
            raise ProductError(
                path,
                f"{first.polarisation} is {first.n_lines} x {first.n_samples} pixels but "
                f"{other.polarisation} {other.n_lines} x {other.n_samples}",
            )
    return images


def _open_image(source: SafeSource, attrs: dict[str, Any], pol: str, tiff: str) -> SarImage:
    """One polarisation's image: annotation, calibration and noise of `pol`."""
    path = source.path
    annotation = source.find(_member("annotation/", pol, r"\.xml"))
    iattrs = _annotation(source, annotation or "")
    n_lines = int(iattrs["numberOfLines"])
    n_samples = int(iattrs["numberOfSamples"])
    first = np.datetime64(str(iattrs["productFirstLineUtcTime"]), "ns")
    last = np.datetime64(str(iattrs["productLastLineUtcTime"]), "ns")
    line_interval = float((last - first) / np.timedelta64(1, "ns")) * 1e-9 / max(n_lines - 1, 1)
    cal = _lut_file(
        source, "calibration", pol, "calibrationVector", ("sigmaNought", "betaNought", "gamma")
    )
    noise_range, blocks = _noise(source, pol)
    gcp_values: dict[str, F64] = iattrs.pop("gcp")
    footprint = _footprint(gcp_values)
    name = path.name.removesuffix(".zip").removesuffix(".SAFE")
    sar = SarImage(
        path=path,
        name=name,
        polarisation=pol,
        measurement=source.gdal_path(tiff),
        mission=f"S1{attrs.get('number', '')}",
        orbit_pass=str(attrs.get("pass", "")).lower(),
        relative_orbit=int(attrs.get("relative_orbit_number", 0)),
        absolute_orbit=int(attrs.get("orbit_number", 0)),
        start=_dt(attrs["start_time"]),
        stop=_dt(attrs["stop_time"]),
        n_lines=n_lines,
        n_samples=n_samples,
        first_line_time=first,
        line_interval=line_interval,
        range_pixel_spacing=float(iattrs["rangePixelSpacing"]),
        radar_frequency=float(iattrs.get("radarFrequency", 5.405e9)),
        footprint=footprint,
        orbit_times=iattrs.pop("orbit_times"),
        orbit_positions=iattrs.pop("orbit_positions"),
        orbit_velocities=iattrs.pop("orbit_velocities"),
        sigma=_lut(cal, "sigmaNought"),
        beta=_lut(cal, "betaNought"),
        gamma=_lut(cal, "gamma"),
        noise_range=noise_range,
        noise_azimuth=blocks,
        cc_times=iattrs.pop("cc_times"),
        cc_sr0=iattrs.pop("cc_sr0"),
        cc_srgr=iattrs.pop("cc_srgr"),
        gcp=gcp_values,
        attrs={**attrs, **iattrs},
    )
    log.info(
        "opened %s %s: %d lines x %d samples, %s, relative orbit %d",
        sar.name,
        pol,
        n_lines,
        n_samples,
        sar.orbit_pass,
        sar.relative_orbit,
    )
    return sar


def _check_product(source: SafeSource, attrs: dict[str, Any], pol: str) -> str:
    """The measurement member of a GRD product with `pol`, or a one-line error."""
    path = source.path
    if attrs.get("family_name") != "SENTINEL-1":
        raise ProductError(path, "not a Sentinel-1 product (manifest family is not SENTINEL-1)")
    if attrs.get("product_type") != "GRD":
        raise ProductError(
            path, f"a {attrs.get('product_type')} product; only GRD products are supported"
        )
    listed = [str(p).upper() for p in attrs.get("transmitter_receiver_polarisations", [])]
    have_annotation = [
        p for p in listed if source.find(_member("annotation/", p, r"\.xml")) is not None
    ]
    if pol not in have_annotation:
        raise PolarisationNotFoundError(path, pol, have_annotation)
    tiff = source.find(_member("measurement/", pol, r"\.tiff?"))
    if tiff is None:
        raise ProductError(
            path,
            f"no {pol} measurement file in the product (metadata only or an incomplete download)",
        )
    return tiff


def _noise(source: SafeSource, pol: str) -> tuple[Lut2D | None, list[NoiseAzimuthBlock]]:
    """The noise range LUT (None, with a warning, where the product has none) and azimuth blocks."""
    try:
        noise_range: Lut2D | None = _lut(
            _lut_file(source, "noise", pol, "noiseRangeVector", ("noiseRangeLut",)),
            "noiseRangeLut",
        )
    except ProductError as exc:
        log.warning("no noise range LUT (%s): thermal noise is not removed", exc)
        noise_range = None
    noise_name = source.find(_member("annotation/calibration/noise-", pol, r"\.xml"))
    blocks = _noise_azimuth_blocks(source.read(noise_name)) if noise_name else []
    return noise_range, blocks


def _footprint(gcp: dict[str, F64]) -> shapely.geometry.base.BaseGeometry:
    """The outline of the geolocation grid (its convex hull where the ring is not valid)."""
    lon, lat = gcp["longitude"], gcp["latitude"]
    ring = [(lon[0, k], lat[0, k]) for k in range(lon.shape[1])]
    ring += [(lon[k, -1], lat[k, -1]) for k in range(1, lon.shape[0])]
    ring += [(lon[-1, k], lat[-1, k]) for k in range(lon.shape[1] - 2, -1, -1)]
    ring += [(lon[k, 0], lat[k, 0]) for k in range(lon.shape[0] - 2, 0, -1)]
    footprint = shapely.geometry.Polygon(ring)
    if not footprint.is_valid or footprint.is_empty:
        return shapely.geometry.MultiPoint(np.column_stack([lon.ravel(), lat.ravel()])).convex_hull
    return footprint
