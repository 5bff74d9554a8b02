"""Sentinel-1 IW GRDH SAFE writer: manifest, annotation, calibration and noise XML, measurement.

The XML follows the layout of real IPF 3.x products (element names, order, list ``count``
attributes, number formats) for every element that xarray-sentinel and sarsen read, plus
the skeleton of the others. The measurement is an uncompressed uint16 GeoTIFF with the
geolocation grid as GCPs, written block by block.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import numpy.typing as npt
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning

from s1flood.geodesy import ecef_to_geodetic
from s1flood.raster import atomic_path
from s1flood.synthetic.backscatter import nesz_db
from s1flood.synthetic.geometry import (
    RADAR_FREQUENCY,
    RANGE_SAMPLING_RATE,
    SUBSWATH_LIMITS_DEG,
    GeolocationGrid,
    RadarGeometry,
    footprint_lonlat,
    geolocation_grid,
)
from s1flood.synthetic.orbit import SPEED_OF_LIGHT

LOGGER = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
BETA_NOUGHT_LUT = 473.9733
DN_LUT_RATIO = 0.8473
ABSOLUTE_CALIBRATION_CONSTANT = 1.393
SUBSWATHS = ("IW1", "IW2", "IW3")
S1A_EPOCH = datetime(2014, 4, 3, 21, 0, tzinfo=UTC)
ORBITS_PER_CYCLE = 175
CYCLE_DAYS = 12.0
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


def fmt_time(t: datetime) -> str:
    """Annotation time format: ISO without zone, microseconds."""
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def fmt_e(value: float, digits: int = 15) -> str:
    """Scientific notation as in the annotation (15 digits by default)."""
    return f"{value:.{digits}e}"


def fmt_list(values: Iterable[float], digits: int = 6) -> str:
    """Space-separated list of numbers in scientific notation."""
    return " ".join(f"{v:.{digits}e}" for v in values)


def round_lut(values: F64) -> F64:
    """Round values as the XML writes them (7 significant digits), for bit-consistent use."""
    return np.array([float(f"{v:.6e}") for v in np.ravel(values)]).reshape(np.shape(values))


@dataclass(frozen=True)
class ProductIdentity:
    """Fields of a product name: mission, times, orbit, datatake, unique id."""

    mission: str
    start: datetime
    stop: datetime
    absolute_orbit: int
    relative_orbit: int
    datatake: int
    unique_id: str
    orbit_pass: str  # ASCENDING / DESCENDING
    anx_time: datetime
    polarisations: tuple[str, ...] = ("VV", "VH")

    @property
    def name(self) -> str:
        """Product name without extension, e.g. S1A_IW_GRDH_1SDV_..._0A1B2C_1F2E."""
        pols = "DV" if set(self.polarisations) == {"VV", "VH"} else "SV"
        return (
            f"{self.mission}_IW_GRDH_1S{pols}_{self.start:%Y%m%dT%H%M%S}_{self.stop:%Y%m%dT%H%M%S}"
            f"_{self.absolute_orbit:06d}_{self.datatake:06X}_{self.unique_id}"
        )

    def file_stem(self, pol: str) -> str:
        """Stem of the per-polarisation files, e.g. s1a-iw-grd-vv-...-001."""
        number = {"VV": 1, "VH": 2, "HH": 1, "HV": 2}[pol]
        return (
            f"{self.mission.lower()}-iw-grd-{pol.lower()}-{self.start:%Y%m%dt%H%M%S}-"
            f"{self.stop:%Y%m%dt%H%M%S}-{self.absolute_orbit:06d}-{self.datatake:06x}-{number:03d}"
        )


def orbit_numbers(when: datetime, relative_orbit: int | None) -> tuple[int, int]:
    """Absolute and relative orbit of S1A near a time; keep a given relative orbit."""
    per_orbit = CYCLE_DAYS * 86400.0 / ORBITS_PER_CYCLE
    absolute = int((when - S1A_EPOCH).total_seconds() // per_orbit) + 1
    if relative_orbit is not None:
        current = (absolute - 73) % ORBITS_PER_CYCLE + 1
        shift = (relative_orbit - current + ORBITS_PER_CYCLE // 2) % ORBITS_PER_CYCLE - (
            ORBITS_PER_CYCLE // 2
        )
        absolute += shift
    return absolute, (absolute - 73) % ORBITS_PER_CYCLE + 1


@dataclass
class Luts:
    """Calibration and noise look-up tables of one product (time-invariant in range)."""

    lines: npt.NDArray[np.int64]
    pixels: npt.NDArray[np.int64]
    sigma: F64
    beta: F64
    gamma: F64
    dn: F64
    noise_range: F64  # DN^2 at ``pixels``
    subswath_bounds: list[tuple[str, int, int]]  # (name, first sample, last sample)
    azimuth_lines: npt.NDArray[np.int64]
    noise_azimuth: dict[str, F64] = field(default_factory=dict)

    def sigma_at(self, samples: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Sigma-nought LUT interpolated at image samples (as readers interpolate it)."""
        x = np.asarray(samples, dtype=np.float64)
        return np.interp(x, self.pixels, self.sigma.astype(np.float32)).astype(np.float32)

    def noise_at(self, line0: int, line1: int, n_samples: int) -> npt.NDArray[np.float32]:
        """Noise power (DN^2) of image lines [line0, line1), range LUT x azimuth LUT."""
        samples = np.arange(n_samples)
        rng_lut = np.interp(samples, self.pixels, self.noise_range.astype(np.float32))
        lines = np.arange(line0, line1)
        out = np.empty((line1 - line0, n_samples), np.float32)
        for name, first, last in self.subswath_bounds:
            az = np.interp(lines, self.azimuth_lines, self.noise_azimuth[name].astype(np.float32))
            out[:, first : last + 1] = az[:, None] * rng_lut[None, first : last + 1]
        return out


def compute_luts(geom: RadarGeometry, line_step: int = 668, pixel_step: int = 40) -> Luts:
    """Calibration LUTs from the ellipsoid incidence, noise LUTs from the NESZ model."""
    n_lines, n_samples = geom.n_lines, geom.n_samples
    step = min(line_step, max(1, (n_lines - 1) // 2))
    lines = np.arange(0, n_lines - 1 + step, step, dtype=np.int64)
    pixels = np.unique(np.append(np.arange(0, n_samples, pixel_step), n_samples - 1))
    inc = geom.incidence_by_sample(pixels)
    beta = np.full(pixels.shape, BETA_NOUGHT_LUT)
    sigma = round_lut(beta / np.sqrt(np.sin(inc)))
    gamma = round_lut(sigma * np.sqrt(np.cos(inc)))
    dn = round_lut(beta * DN_LUT_RATIO)
    nesz = nesz_db(np.rad2deg(inc), SUBSWATH_LIMITS_DEG)
    noise = round_lut(10.0 ** (nesz / 10.0) * sigma**2)
    sw = geom.subswath_of_sample(np.arange(n_samples))
    bounds = []
    for k, name in enumerate(SUBSWATHS):
        idx = np.flatnonzero(sw == k)
        if idx.size:
            bounds.append((name, int(idx[0]), int(idx[-1])))
    az_step = min(50, max(1, n_lines // 4))
    az_lines = np.unique(np.append(np.arange(0, n_lines, az_step), n_lines - 1)).astype(np.int64)
    noise_az = {}
    for k, name in enumerate(SUBSWATHS):
        phase = 1.3 * k
        noise_az[name] = round_lut(1.0 + 0.04 * np.sin(2 * np.pi * az_lines / 1500.0 + phase))
    return Luts(lines, pixels, sigma, beta, gamma, dn, noise, bounds, az_lines, noise_az)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _ads_header(root: ET.Element, ident: ProductIdentity, pol: str) -> None:
    h = _sub(root, "adsHeader")
    _sub(h, "missionId", ident.mission)
    _sub(h, "productType", "GRD")
    _sub(h, "polarisation", pol)
    _sub(h, "mode", "IW")
    _sub(h, "swath", "IW")
    _sub(h, "startTime", fmt_time(ident.start))
    _sub(h, "stopTime", fmt_time(ident.stop))
    _sub(h, "absoluteOrbitNumber", str(ident.absolute_orbit))
    _sub(h, "missionDataTakeId", str(ident.datatake))
    _sub(h, "imageNumber", ident.file_stem(pol)[-3:])


def _write_xml(root: ET.Element, path: Path) -> None:
    ET.indent(root, space="  ")
    with atomic_path(path) as tmp:
        ET.ElementTree(root).write(tmp, encoding="UTF-8", xml_declaration=True)


def _attitude(geom: RadarGeometry, t: float) -> dict[str, float]:
    pos = geom.orbit_poly.position(t)
    vel = geom.orbit_poly.velocity(t)
    z = -pos / np.linalg.norm(pos)
    x = vel - np.dot(vel, z) * z
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    roll = -np.deg2rad(33.0)  # right-looking antenna boresight
    cr, sr = np.cos(roll), np.sin(roll)
    rot = np.stack([x, cr * y + sr * z, -sr * y + cr * z], axis=1)
    tr = np.trace(rot)
    q0 = np.sqrt(max(1.0 + tr, 1e-12)) / 2.0
    q1 = (rot[2, 1] - rot[1, 2]) / (4 * q0)
    q2 = (rot[0, 2] - rot[2, 0]) / (4 * q0)
    q3 = (rot[1, 0] - rot[0, 1]) / (4 * q0)
    yaw = np.rad2deg(np.arctan2(rot[1, 0], rot[0, 0]))
    pitch = np.rad2deg(np.arcsin(np.clip(-rot[2, 0], -1, 1)))
    rll = np.rad2deg(np.arctan2(rot[2, 1], rot[2, 2]))
    w = 2 * np.pi / 5924.0
    return {
        "q0": q0,
        "q1": q1,
        "q2": q2,
        "q3": q3,
        "wx": 0.0,
        "wy": -w,
        "wz": 0.0,
        "roll": rll,
        "pitch": pitch,
        "yaw": yaw,
    }


def annotation_xml(
    geom: RadarGeometry,
    ident: ProductIdentity,
    pol: str,
    grid: GeolocationGrid,
    luts: Luts,
    stats: tuple[float, float] = (0.0, 0.0),
) -> ET.Element:
    """The product annotation (``annotation/s1?-iw-grd-<pol>-....xml``)."""
    root = ET.Element("product")
    _ads_header(root, ident, pol)
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    t_mid = 0.5 * (t_first + t_last)

    q = _sub(root, "qualityInformation")
    _sub(q, "productQualityIndex", fmt_e(0.0))
    qdl = _sub(q, "qualityDataList", count="1")
    qd = _sub(qdl, "qualityData")
    _sub(qd, "azimuthTime", fmt_time(ident.start))
    iq = _sub(_sub(qd, "imageQuality"), "imageStatistics")
    _sub(_sub(iq, "outputDataMean"), "re", fmt_e(stats[0], 6))
    _sub(_sub(iq, "outputDataStdDev"), "re", fmt_e(stats[1], 6))

    ga = _sub(root, "generalAnnotation")
    pi = _sub(ga, "productInformation")
    _sub(pi, "pass", ident.orbit_pass.capitalize())
    _sub(pi, "timelinessCategory", "NRT-3h")
    p0, p1 = geom.orbit_poly.position(t_mid - 0.5), geom.orbit_poly.position(t_mid + 0.5)
    lo, la, _ = ecef_to_geodetic(np.stack([p0, p1]))
    heading = np.rad2deg(np.arctan2((lo[1] - lo[0]) * np.cos(np.deg2rad(la[0])), la[1] - la[0]))
    _sub(pi, "platformHeading", fmt_e(float(heading)))
    _sub(pi, "projection", "Ground Range")
    _sub(pi, "rangeSamplingRate", fmt_e(RANGE_SAMPLING_RATE))
    _sub(pi, "radarFrequency", fmt_e(RADAR_FREQUENCY))
    _sub(pi, "azimuthSteeringRate", fmt_e(1.590368784))

    dl = _sub(ga, "downlinkInformationList", count=str(len(SUBSWATHS)))
    for name, prf in zip(
        SUBSWATHS, (1717.128973878037, 1451.62711219399, 1685.817302492702), strict=True
    ):
        d = _sub(dl, "downlinkInformation")
        _sub(d, "swath", name)
        _sub(d, "azimuthTime", fmt_time(t_at(t_first - 2.0)))
        _sub(d, "firstLineSensingTime", fmt_time(t_at(t_first - 2.2)))
        _sub(d, "lastLineSensingTime", fmt_time(t_at(t_last + 2.2)))
        _sub(d, "prf", fmt_e(prf))

    svs = geom.state_vectors
    ol = _sub(ga, "orbitList", count=str(len(svs.time)))
    for t, p, v in zip(svs.time, svs.position, svs.velocity, strict=True):
        o = _sub(ol, "orbit")
        _sub(o, "time", fmt_time(t_at(float(t))))
        _sub(o, "frame", "Earth Fixed")
        pe = _sub(o, "position")
        ve = _sub(o, "velocity")
        for k, axis in enumerate("xyz"):
            _sub(pe, axis, fmt_e(float(p[k])))
        for k, axis in enumerate("xyz"):
            _sub(ve, axis, fmt_e(float(v[k])))

    att_times = np.arange(np.floor(t_first), np.ceil(t_last) + 1.0, 1.0)
    al = _sub(ga, "attitudeList", count=str(len(att_times)))
    for t in att_times:
        att = _sub(al, "attitude")
        _sub(att, "time", fmt_time(t_at(float(t))))
        _sub(att, "frame", "Earth Fixed")
        vals = _attitude(geom, float(t))
        for key in ("q0", "q1", "q2", "q3"):
            _sub(att, key, fmt_e(vals[key], 6))
        for key in ("wx", "wy", "wz", "roll", "pitch", "yaw"):
            _sub(att, key, fmt_e(vals[key]))

    rl = _sub(ga, "replicaInformationList", count=str(len(SUBSWATHS)))
    for name in SUBSWATHS:
        ri = _sub(rl, "replicaInformation")
        _sub(ri, "swath", name)
        rr = _sub(ri, "referenceReplica")
        _sub(rr, "azimuthTime", fmt_time(t_at(t_first - 1.5)))
        _sub(rr, "chirpSource", "Nominal")
        _sub(rr, "pgSource", "Extracted")
        _sub(rr, "amplitudeCoefficients", fmt_list([1.0, 0.0, 0.0, 0.0]), count="4")
        _sub(rr, "phaseCoefficients", fmt_list([0.0, 693.5456, 5.391152e11, 0.0]), count="4")
        _sub(rr, "timeDelay", fmt_e(4.319443e-07, 6))
        g = _sub(rr, "gain")
        _sub(g, "re", fmt_e(1.0, 6))
        _sub(g, "im", fmt_e(0.0, 6))
        rpl = _sub(ri, "replicaList", count="1")
        rp = _sub(rpl, "replica")
        _sub(rp, "azimuthTime", fmt_time(t_at(t_mid)))
        for key, val in (
            ("crossCorrelationBandwidth", 0.99),
            ("crossCorrelationPslr", -12.86),
            ("crossCorrelationIslr", -9.80),
            ("crossCorrelationPeakLocation", 0.0),
        ):
            _sub(rp, key, fmt_e(val, 6))
        _sub(rp, "reconstructedReplicaValidFlag", "true")
        for key, val in (
            ("pgProductAmplitude", 8.834e-4),
            ("pgProductPhase", 2.57),
            ("modelPgProductAmplitude", 0.62155),
            ("modelPgProductPhase", 0.0),
        ):
            _sub(rp, key, fmt_e(val, 6))
        _sub(rp, "relativePgProductValidFlag", "true")
        _sub(rp, "absolutePgProductValidFlag", "true")
        _sub(rp, "internalTimeDelay", fmt_e(4.319417e-07, 6))

    th_times = [t_first - 10.0, t_first, t_mid, t_last, t_last + 10.0]
    tl = _sub(ga, "terrainHeightList", count=str(len(th_times)))
    for t in th_times:
        th = _sub(tl, "terrainHeight")
        _sub(th, "azimuthTime", fmt_time(t_at(t)))
        _sub(th, "value", fmt_e(geom.reference_height))

    wavelength = SPEED_OF_LIGHT / RADAR_FREQUENCY
    fm_times = np.linspace(t_first - 1.0, t_last + 1.0, max(3, int(t_last - t_first) // 3 + 2))
    fl = _sub(ga, "azimuthFmRateList", count=str(len(fm_times)))
    for t in fm_times:
        f = _sub(fl, "azimuthFmRate")
        t0 = 2.0 * geom.near_slant_range / SPEED_OF_LIGHT
        speed = float(np.linalg.norm(geom.orbit_poly.velocity(float(t))))
        ka = -2.0 * speed**2 / (wavelength * geom.near_slant_range)
        _sub(f, "azimuthTime", fmt_time(t_at(float(t))))
        _sub(f, "t0", fmt_e(t0))
        _sub(
            f, "azimuthFmRatePolynomial", " ".join(fmt_e(c) for c in (ka, -ka / t0, 0.0)), count="3"
        )

    ia = _sub(root, "imageAnnotation")
    ii = _sub(ia, "imageInformation")
    _sub(ii, "productFirstLineUtcTime", fmt_time(t_at(t_first)))
    _sub(ii, "productLastLineUtcTime", fmt_time(t_at(t_last)))
    _sub(ii, "ascendingNodeTime", fmt_time(ident.anx_time))
    _sub(ii, "anchorTime", fmt_time(t_at(t_first - 200.0)))
    _sub(ii, "productComposition", "Slice")
    _sub(ii, "sliceNumber", "1")
    sl = _sub(ii, "sliceList", count="1")
    s = _sub(sl, "slice")
    _sub(s, "sliceNumber", "1")
    _sub(s, "sensingStartTime", fmt_time(t_at(t_first - 2.2)))
    _sub(s, "sensingStopTime", fmt_time(t_at(t_last + 2.2)))
    _sub(ii, "slantRangeTime", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
    _sub(ii, "pixelValue", "Detected")
    _sub(ii, "outputPixels", "16 bit Unsigned Integer")
    _sub(ii, "rangePixelSpacing", fmt_e(geom.range_spacing, 6))
    _sub(ii, "azimuthPixelSpacing", fmt_e(geom.azimuth_spacing, 6))
    _sub(ii, "azimuthTimeInterval", fmt_e(geom.line_interval))
    _sub(ii, "azimuthFrequency", fmt_e(1.0 / geom.line_interval))
    _sub(ii, "numberOfSamples", str(geom.n_samples))
    _sub(ii, "numberOfLines", str(geom.n_lines))
    _sub(ii, "zeroDopMinusAcqTime", fmt_e(200.22514))
    mid = grid.incidence[grid.incidence.shape[0] // 2]
    _sub(ii, "incidenceAngleMidSwath", fmt_e(float(0.5 * (mid[0] + mid[-1]))))
    ist = _sub(ii, "imageStatistics")
    m = _sub(ist, "outputDataMean")
    _sub(m, "re", fmt_e(stats[0], 6))
    _sub(m, "im", fmt_e(0.0, 6))
    sd = _sub(ist, "outputDataStdDev")
    _sub(sd, "re", fmt_e(stats[1], 6))
    _sub(sd, "im", fmt_e(0.0, 6))

    pr = _sub(ia, "processingInformation")
    for flag, text in (
        ("rawDataAnalysisUsed", "true"),
        ("orbitDataFileUsed", "true"),
        ("attitudeDataFileUsed", "false"),
        ("rxVariationCorrectionApplied", "true"),
        ("antennaElevationPatternApplied", "true"),
        ("antennaAzimuthPatternApplied", "true"),
        ("antennaAzimuthElementPatternApplied", "true"),
        ("dcMethod", "Data Analysis"),
        ("dcInputData", "Range Compressed"),
        ("rangeSpreadingLossCompensationApplied", "true"),
        ("srgrConversionApplied", "true"),
        ("detectionPerformed", "true"),
        ("thermalNoiseCorrectionPerformed", "false"),
        ("rfiMitigationPerformed", "Never"),
        ("chirpSource", "Nominal"),
        ("pgSource", "Extracted"),
        ("rrfSpectrum", "Extended Tapered"),
        ("applicationLutId", "IW_Default"),
    ):
        _sub(pr, flag, text)
    _sub(pr, "referenceRange", fmt_e(800000.0))
    _sub(pr, "ellipsoidName", "WGS84")
    _sub(pr, "ellipsoidSemiMajorAxis", fmt_e(6378137.0))
    _sub(pr, "ellipsoidSemiMinorAxis", fmt_e(6356752.314245))
    _sub(pr, "bistaticDelayCorrectionApplied", "true")
    _sub(pr, "topsFilterConvention", "Only Echo Lines")
    _sub(pr, "orbitSource", "Auxiliary")
    _sub(pr, "attitudeSource", "Downlink")

    dc_times = np.linspace(t_first, t_last, max(3, int(t_last - t_first) + 2))
    dce = _sub(_sub(root, "dopplerCentroid"), "dcEstimateList", count=str(len(dc_times)))
    for t in dc_times:
        e = _sub(dce, "dcEstimate")
        _sub(e, "azimuthTime", fmt_time(t_at(float(t))))
        _sub(e, "t0", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
        _sub(e, "geometryDcPolynomial", fmt_list([0.0, 0.0, 0.0]), count="3")
        _sub(e, "dataDcPolynomial", fmt_list([0.0, 0.0, 0.0]), count="3")
        _sub(e, "dataDcRmsError", fmt_e(0.0))
        _sub(e, "dataDcRmsErrorAboveThreshold", "false")
        _sub(e, "fineDceAzimuthStartTime", fmt_time(t_at(float(t) - 1.0)))
        _sub(e, "fineDceAzimuthStopTime", fmt_time(t_at(float(t) + 1.0)))
        _sub(e, "fineDceList", count="0")

    srt = grid.slant_range_time[0]
    apl = _sub(
        _sub(root, "antennaPattern"), "antennaPatternList", count=str(len(luts.subswath_bounds))
    )
    for name, _, _ in luts.subswath_bounds:
        ap = _sub(apl, "antennaPattern")
        _sub(ap, "swath", name)
        _sub(ap, "azimuthTime", fmt_time(t_at(t_first)))
        _sub(ap, "slantRangeTime", " ".join(fmt_e(v) for v in srt), count=str(srt.size))
        _sub(ap, "elevationAngle", fmt_list(grid.elevation[0]), count=str(srt.size))
        pattern = np.stack([np.zeros(srt.size), np.ones(srt.size)], axis=1).ravel()
        _sub(ap, "elevationPattern", fmt_list(pattern), count=str(pattern.size))
        _sub(ap, "incidenceAngle", fmt_list(grid.incidence[0]), count=str(srt.size))
        _sub(ap, "terrainHeight", fmt_e(geom.reference_height))
        _sub(ap, "roll", fmt_e(33.0))

    st = _sub(root, "swathTiming")
    _sub(st, "linesPerBurst", "0")
    _sub(st, "samplesPerBurst", "0")
    _sub(st, "burstList", count="0")

    gl = _sub(_sub(root, "geolocationGrid"), "geolocationGridPointList", count=str(grid.line.size))
    for a in range(grid.line.shape[0]):
        for b in range(grid.line.shape[1]):
            p = _sub(gl, "geolocationGridPoint")
            _sub(p, "azimuthTime", fmt_time(t_at(float(grid.azimuth_time[a, b]))))
            _sub(p, "slantRangeTime", fmt_e(float(grid.slant_range_time[a, b])))
            _sub(p, "line", str(int(grid.line[a, b])))
            _sub(p, "pixel", str(int(grid.pixel[a, b])))
            _sub(p, "latitude", fmt_e(float(grid.latitude[a, b])))
            _sub(p, "longitude", fmt_e(float(grid.longitude[a, b])))
            _sub(p, "height", fmt_e(float(grid.height[a, b])))
            _sub(p, "incidenceAngle", fmt_e(float(grid.incidence[a, b])))
            _sub(p, "elevationAngle", fmt_e(float(grid.elevation[a, b])))

    cl = _sub(
        _sub(root, "coordinateConversion"),
        "coordinateConversionList",
        count=str(len(geom.cc_times)),
    )
    for k, t in enumerate(geom.cc_times):
        c = _sub(cl, "coordinateConversion")
        _sub(c, "azimuthTime", fmt_time(t_at(float(t))))
        _sub(c, "slantRangeTime", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
        _sub(c, "sr0", fmt_e(geom.near_slant_range))
        _sub(
            c,
            "srgrCoefficients",
            " ".join(fmt_e(v) for v in geom.srgr[k]),
            count=str(geom.srgr.shape[1]),
        )
        _sub(c, "gr0", fmt_e(0.0))
        _sub(
            c,
            "grsrCoefficients",
            " ".join(fmt_e(v) for v in geom.grsr[k]),
            count=str(geom.grsr.shape[1]),
        )

    sm = _sub(_sub(root, "swathMerging"), "swathMergeList", count=str(len(luts.subswath_bounds)))
    for name, first, last in luts.subswath_bounds:
        sw = _sub(sm, "swathMerge")
        _sub(sw, "swath", name)
        sbl = _sub(sw, "swathBoundsList", count="1")
        sb = _sub(sbl, "swathBounds")
        _sub(sb, "azimuthTime", fmt_time(t_at(t_first)))
        _sub(sb, "firstAzimuthLine", "0")
        _sub(sb, "firstRangeSample", str(first))
        _sub(sb, "lastAzimuthLine", str(geom.n_lines - 1))
        _sub(sb, "lastRangeSample", str(last))
    return root


def calibration_xml(
    geom: RadarGeometry, ident: ProductIdentity, pol: str, luts: Luts
) -> ET.Element:
    """The calibration annotation (sigmaNought, betaNought, gamma and dn LUTs)."""
    root = ET.Element("calibration")
    _ads_header(root, ident, pol)
    ci = _sub(root, "calibrationInformation")
    _sub(ci, "absoluteCalibrationConstant", fmt_e(ABSOLUTE_CALIBRATION_CONSTANT, 6))
    vl = _sub(root, "calibrationVectorList", count=str(len(luts.lines)))
    n = str(len(luts.pixels))
    pixels = " ".join(str(int(p)) for p in luts.pixels)
    for line in luts.lines:
        v = _lut_vector(vl, "calibrationVector", geom, int(line), pixels, n)
        _sub(v, "sigmaNought", fmt_list(luts.sigma), count=n)
        _sub(v, "betaNought", fmt_list(luts.beta), count=n)
        _sub(v, "gamma", fmt_list(luts.gamma), count=n)
        _sub(v, "dn", fmt_list(luts.dn), count=n)
    return root


def _lut_vector(
    parent: ET.Element, tag: str, geom: RadarGeometry, line: int, pixels: str, count: str
) -> ET.Element:
    """A LUT vector element with its azimuth time, line and pixel list filled in."""
    vector = _sub(parent, tag)
    _sub(vector, "azimuthTime", fmt_time(geom.datetime_at(float(geom.line_time(line)))))
    _sub(vector, "line", str(line))
    _sub(vector, "pixel", pixels, count=count)
    return vector


def noise_xml(geom: RadarGeometry, ident: ProductIdentity, pol: str, luts: Luts) -> ET.Element:
    """The noise annotation: range vectors and per-subswath azimuth vectors."""
    root = ET.Element("noise")
    _ads_header(root, ident, pol)
    rl = _sub(root, "noiseRangeVectorList", count=str(len(luts.lines)))
    n = str(len(luts.pixels))
    pixels = " ".join(str(int(p)) for p in luts.pixels)
    for line in luts.lines:
        v = _lut_vector(rl, "noiseRangeVector", geom, int(line), pixels, n)
        _sub(v, "noiseRangeLut", fmt_list(luts.noise_range), count=n)
    al = _sub(root, "noiseAzimuthVectorList", count=str(len(luts.subswath_bounds)))
    lines = " ".join(str(int(x)) for x in luts.azimuth_lines)
    for name, first, last in luts.subswath_bounds:
        v = _sub(al, "noiseAzimuthVector")
        _sub(v, "swath", name)
        _sub(v, "firstAzimuthLine", "0")
        _sub(v, "firstRangeSample", str(first))
        _sub(v, "lastAzimuthLine", str(geom.n_lines - 1))
        _sub(v, "lastRangeSample", str(last))
        _sub(v, "line", lines, count=str(len(luts.azimuth_lines)))
        _sub(
            v,
            "noiseAzimuthLut",
            fmt_list(luts.noise_azimuth[name]),
            count=str(len(luts.azimuth_lines)),
        )
    return root


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

    ``files`` holds (data object id, repID, relative href) of every file.
    """
    for prefix, uri in NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    ns = {k: "{" + v + "}" for k, v in NAMESPACES.items()}
    root = ET.Element(
        ns["xfdu"] + "XFDU",
        {"version": "esa/safe/sentinel-1.0/sentinel-1/sar/level-1/grd/standard/iwdp"},
    )
    ipm = ET.SubElement(root, "informationPackageMap")
    top = ET.SubElement(
        ipm,
        ns["xfdu"] + "contentUnit",
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
            top, ns["xfdu"] + "contentUnit", {"unitType": unit_type, "repID": rep_id}
        )
        ET.SubElement(cu, "dataObjectPointer", {"dataObjectID": obj_id})

    ms = ET.SubElement(root, "metadataSection")

    def wrap(obj_id: str, text_info: str, category: str = "DMD") -> ET.Element:
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

    now = (
        datetime.now(UTC)
        if os.environ.get("SOURCE_DATE_EPOCH") is None
        else datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), UTC)
    )
    created = ident.stop + timedelta(minutes=40)
    del now
    proc = ET.SubElement(
        wrap("processing", "Processing", "PDI"),
        ns["safe"] + "processing",
        {
            "name": "GRD Post Processing",
            "start": fmt_time(created - timedelta(minutes=10)),
            "stop": fmt_time(created),
        },
    )
    fac = ET.SubElement(
        proc,
        ns["safe"] + "facility",
        {
            "country": "None",
            "name": "s1flood synthetic",
            "organisation": "s1flood",
            "site": "simulator",
        },
    )
    ET.SubElement(fac, ns["safe"] + "software", {"name": "Sentinel-1 IPF", "version": "003.40"})

    plat = ET.SubElement(wrap("platform", "Platform Description"), ns["safe"] + "platform")
    ET.SubElement(plat, ns["safe"] + "nssdcIdentifier").text = "2014-016A"
    ET.SubElement(plat, ns["safe"] + "familyName").text = "SENTINEL-1"
    ET.SubElement(plat, ns["safe"] + "number").text = ident.mission[-1]
    inst = ET.SubElement(plat, ns["safe"] + "instrument")
    ET.SubElement(
        inst, ns["safe"] + "familyName", {"abbreviation": "SAR"}
    ).text = "Synthetic Aperture Radar"
    mode = ET.SubElement(
        ET.SubElement(inst, ns["safe"] + "extension"), ns["s1sarl1"] + "instrumentMode"
    )
    ET.SubElement(mode, ns["s1sarl1"] + "mode").text = "IW"
    ET.SubElement(mode, ns["s1sarl1"] + "swath").text = "IW"

    orb = ET.SubElement(
        wrap("measurementOrbitReference", "Orbit Reference"), ns["safe"] + "orbitReference"
    )
    for kind in ("start", "stop"):
        ET.SubElement(orb, ns["safe"] + "orbitNumber", {"type": kind}).text = str(
            ident.absolute_orbit
        )
    for kind in ("start", "stop"):
        ET.SubElement(orb, ns["safe"] + "relativeOrbitNumber", {"type": kind}).text = str(
            ident.relative_orbit
        )
    ET.SubElement(orb, ns["safe"] + "cycleNumber").text = str(
        ident.absolute_orbit // ORBITS_PER_CYCLE + 1
    )
    ET.SubElement(orb, ns["safe"] + "phaseIdentifier").text = "1"
    props = ET.SubElement(
        ET.SubElement(orb, ns["safe"] + "extension"), ns["s1"] + "orbitProperties"
    )
    ET.SubElement(props, ns["s1"] + "pass").text = ident.orbit_pass
    ET.SubElement(props, ns["s1"] + "ascendingNodeTime").text = fmt_time(ident.anx_time)

    gpi = ET.SubElement(
        wrap("generalProductInformation", "General Product Information"),
        ns["s1sarl1"] + "standAloneProductInformation",
    )
    for tag, text in (
        ("instrumentConfigurationID", "7"),
        ("missionDataTakeID", str(ident.datatake)),
    ):
        ET.SubElement(gpi, ns["s1sarl1"] + tag).text = text
    for pol in ident.polarisations:
        ET.SubElement(gpi, ns["s1sarl1"] + "transmitterReceiverPolarisation").text = pol
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
        ET.SubElement(gpi, ns["s1sarl1"] + tag).text = text

    per = ET.SubElement(
        wrap("acquisitionPeriod", "Acquisition Period"), ns["safe"] + "acquisitionPeriod"
    )
    ET.SubElement(per, ns["safe"] + "startTime").text = fmt_time(ident.start)
    ET.SubElement(per, ns["safe"] + "stopTime").text = fmt_time(ident.stop)
    anx = ET.SubElement(ET.SubElement(per, ns["safe"] + "extension"), ns["s1"] + "timeANX")
    ET.SubElement(
        anx, ns["s1"] + "startTimeANX"
    ).text = f"{(ident.start - ident.anx_time).total_seconds() * 1e3:.6e}"
    ET.SubElement(
        anx, ns["s1"] + "stopTimeANX"
    ).text = f"{(ident.stop - ident.anx_time).total_seconds() * 1e3:.6e}"

    frame = ET.SubElement(
        ET.SubElement(wrap("measurementFrameSet", "Frame Set"), ns["safe"] + "frameSet"),
        ns["safe"] + "frame",
    )
    fp = ET.SubElement(
        frame, ns["safe"] + "footPrint", {"srsName": "http://www.opengis.net/gml/srs/epsg.xml#4326"}
    )
    ET.SubElement(fp, ns["gml"] + "coordinates").text = " ".join(
        f"{lat:.6f},{lon:.6f}" for lon, lat in footprint
    )

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

    dos = ET.SubElement(root, "dataObjectSection")
    for obj_id, rep_id, href in files:
        path = safe_dir / href
        do = ET.SubElement(dos, "dataObject", {"ID": obj_id, "repID": rep_id})
        mime = "application/octet-stream" if href.endswith((".tiff", ".png")) else "text/xml"
        bs = ET.SubElement(do, "byteStream", {"mimeType": mime, "size": str(path.stat().st_size)})
        ET.SubElement(bs, "fileLocation", {"locatorType": "URL", "href": f"./{href}"})
        ET.SubElement(bs, "checksum", {"checksumName": "MD5"}).text = _md5(path)
    return root


def map_overlay_kml(footprint: Sequence[tuple[float, float]]) -> str:
    """The ``preview/map-overlay.kml`` with the footprint as a LatLonQuad."""
    coords = " ".join(f"{lon:.6f},{lat:.6f}" for lon, lat in footprint)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n'
        "  <Document>\n    <GroundOverlay>\n      <name>Sentinel-1 Map Overlay</name>\n"
        "      <Icon><href>quick-look.png</href></Icon>\n"
        f"      <gx:LatLonQuad><coordinates>{coords}</coordinates></gx:LatLonQuad>\n"
        "    </GroundOverlay>\n  </Document>\n</kml>\n"
    )


class SafeProduct:
    """Writes one product: per-polarisation metadata and measurement, then the manifest."""

    def __init__(
        self, out_dir: Path, geom: RadarGeometry, ident: ProductIdentity, luts: Luts
    ) -> None:
        self.geom = geom
        self.ident = ident
        self.luts = luts
        self.final_dir = out_dir / f"{ident.name}.SAFE"
        self.safe_dir = out_dir / f".{ident.name}.SAFE.partial"
        if self.safe_dir.exists():
            shutil.rmtree(self.safe_dir)
        for sub in ("annotation/calibration", "measurement", "preview", "support"):
            (self.safe_dir / sub).mkdir(parents=True, exist_ok=True)
        self.grid = geolocation_grid(geom)
        self.footprint = footprint_lonlat(geom)
        self.files: list[tuple[str, str, str]] = []

    def _object_id(self, prefix: str, pol: str) -> str:
        stem = self.ident.file_stem(pol).replace("-", "")
        return f"{prefix}{stem}"

    def write_metadata(self, pol: str, stats: tuple[float, float]) -> None:
        """Annotation, calibration and noise XML of one polarisation."""
        stem = self.ident.file_stem(pol)
        ann = f"annotation/{stem}.xml"
        cal = f"annotation/calibration/calibration-{stem}.xml"
        noi = f"annotation/calibration/noise-{stem}.xml"
        _write_xml(
            annotation_xml(self.geom, self.ident, pol, self.grid, self.luts, stats),
            self.safe_dir / ann,
        )
        _write_xml(calibration_xml(self.geom, self.ident, pol, self.luts), self.safe_dir / cal)
        _write_xml(noise_xml(self.geom, self.ident, pol, self.luts), self.safe_dir / noi)
        self.files = [
            ("product" + self._object_id("", pol), "s1Level1ProductSchema", ann),
            ("noise" + self._object_id("", pol), "s1Level1NoiseSchema", noi),
            ("calibration" + self._object_id("", pol), "s1Level1CalibrationSchema", cal),
            *self.files,
        ]

    def measurement_path(self, pol: str) -> Path:
        """Path of the measurement GeoTIFF of one polarisation (inside the partial SAFE)."""
        return self.safe_dir / "measurement" / f"{self.ident.file_stem(pol)}.tiff"

    def open_measurement(self, pol: str) -> Any:
        """Open the measurement GeoTIFF for block writes (uint16, GCPs, uncompressed)."""
        gcps = [
            GroundControlPoint(
                row=float(self.grid.line[a, b]),
                col=float(self.grid.pixel[a, b]),
                x=float(self.grid.longitude[a, b]),
                y=float(self.grid.latitude[a, b]),
                z=float(self.grid.height[a, b]),
            )
            for a in range(self.grid.line.shape[0])
            for b in range(self.grid.line.shape[1])
        ]
        path = self.measurement_path(pol)
        self.files.append(
            (self._object_id("", pol), "s1Level1MeasurementSchema", f"measurement/{path.name}")
        )
        with warnings.catch_warnings():
            # a GCP-georeferenced file has no geotransform, as real measurement files
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(
                path,
                "w",
                driver="GTiff",
                width=self.geom.n_samples,
                height=self.geom.n_lines,
                count=1,
                dtype="uint16",
                gcps=gcps,
                crs=CRS.from_epsg(4326),
            )

    def write_preview(self, quicklook: npt.NDArray[np.uint8] | None) -> None:
        """``preview/map-overlay.kml`` and, when given, ``preview/quick-look.png``."""
        kml = self.safe_dir / "preview" / "map-overlay.kml"
        kml.write_text(map_overlay_kml(self.footprint), encoding="utf-8")
        self.files.append(("mapoverlay", "s1Level1MapOverlaySchema", "preview/map-overlay.kml"))
        if quicklook is not None:
            png = self.safe_dir / "preview" / "quick-look.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                dst = rasterio.open(
                    png,
                    "w",
                    driver="PNG",
                    width=quicklook.shape[1],
                    height=quicklook.shape[0],
                    count=1,
                    dtype="uint8",
                )
            with dst:
                dst.write(quicklook, 1)
            aux = png.with_name(png.name + ".aux.xml")
            if aux.exists():
                aux.unlink()
            self.files.append(("quicklook", "s1Level1QuickLookSchema", "preview/quick-look.png"))

    def finalize(self, zip_product: bool = False) -> Path:
        """Write the manifest, move the SAFE into place (and zip it); return its path."""
        root = manifest_xml(self.safe_dir, self.geom, self.ident, self.files, self.footprint)
        _write_xml(root, self.safe_dir / "manifest.safe")
        if self.final_dir.exists():
            shutil.rmtree(self.final_dir)
        os.replace(self.safe_dir, self.final_dir)
        if not zip_product:
            return self.final_dir
        zip_path = self.final_dir.with_suffix(".zip")
        with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
            for path in sorted(self.final_dir.rglob("*")):
                arc = f"{self.final_dir.name}/{path.relative_to(self.final_dir).as_posix()}"
                if path.is_dir():
                    zf.write(path, arc + "/")
                else:
                    method = zipfile.ZIP_STORED if path.suffix == ".tiff" else zipfile.ZIP_DEFLATED
                    zf.write(path, arc, compress_type=method)
        shutil.rmtree(self.final_dir)
        return zip_path
