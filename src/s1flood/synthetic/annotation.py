"""The product annotation of a simulated product (``annotation/s1?-iw-grd-<pol>-....xml``).

One function per top-level section, in the order of real IPF 3.x products; values the
readers use come from the `RadarGeometry`, the others are plausible constants.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import numpy as np

from s1flood.synthetic.calibration import Luts
from s1flood.synthetic.general_annotation import general_annotation
from s1flood.synthetic.geolocation import GeolocationGrid
from s1flood.synthetic.geometry import (
    RadarGeometry,
)
from s1flood.synthetic.identity import ProductIdentity
from s1flood.synthetic.orbit import SPEED_OF_LIGHT
from s1flood.synthetic.safe_xml import ads_header, fmt_e, fmt_list, fmt_time, sub


def annotation_xml(
    geom: RadarGeometry,
    ident: ProductIdentity,
    pol: str,
    grid: GeolocationGrid,
    luts: Luts,
    stats: tuple[float, float] = (0.0, 0.0),
) -> ET.Element:
    """The product annotation (``annotation/s1?-iw-grd-<pol>-....xml``).

    Args:
        geom: the image geometry.
        ident: the product identity (mission, times, orbit).
        pol: the polarisation (VV, VH, HH or HV).
        grid: the geolocation grid tie points.
        luts: the product's calibration and noise LUTs.
        stats: mean and standard deviation of the measurement DNs.
    """
    root = ET.Element("product")
    ads_header(root, ident, pol)
    _quality(root, ident, stats)
    general_annotation(root, geom, ident)
    ia = _image_information(root, geom, ident, grid, stats)
    _processing_information(ia)
    _doppler_centroid(root, geom)
    _antenna_pattern(root, geom, grid, luts)
    _swath_timing(root)
    _geolocation_grid(root, grid, geom)
    _coordinate_conversion(root, geom)
    _swath_merging(root, geom, luts)
    return root


def _quality(root: ET.Element, ident: ProductIdentity, stats: tuple[float, float]) -> None:
    """qualityInformation: quality index and image statistics."""
    q = sub(root, "qualityInformation")
    sub(q, "productQualityIndex", fmt_e(0.0))
    qdl = sub(q, "qualityDataList", count="1")
    qd = sub(qdl, "qualityData")
    sub(qd, "azimuthTime", fmt_time(ident.start))
    iq = sub(sub(qd, "imageQuality"), "imageStatistics")
    sub(sub(iq, "outputDataMean"), "re", fmt_e(stats[0], 6))
    sub(sub(iq, "outputDataStdDev"), "re", fmt_e(stats[1], 6))


def _image_information(
    root: ET.Element,
    geom: RadarGeometry,
    ident: ProductIdentity,
    grid: GeolocationGrid,
    stats: tuple[float, float],
) -> ET.Element:
    """The ``imageAnnotation`` element and its imageInformation (timing, spacing, size)."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    ia = sub(root, "imageAnnotation")
    ii = sub(ia, "imageInformation")
    sub(ii, "productFirstLineUtcTime", fmt_time(t_at(t_first)))
    sub(ii, "productLastLineUtcTime", fmt_time(t_at(t_last)))
    sub(ii, "ascendingNodeTime", fmt_time(ident.anx_time))
    sub(ii, "anchorTime", fmt_time(t_at(t_first - 200.0)))
    sub(ii, "productComposition", "Slice")
    sub(ii, "sliceNumber", "1")
    sl = sub(ii, "sliceList", count="1")
    s = sub(sl, "slice")
    sub(s, "sliceNumber", "1")
    sub(s, "sensingStartTime", fmt_time(t_at(t_first - 2.2)))
    sub(s, "sensingStopTime", fmt_time(t_at(t_last + 2.2)))
    sub(ii, "slantRangeTime", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
    sub(ii, "pixelValue", "Detected")
    sub(ii, "outputPixels", "16 bit Unsigned Integer")
    sub(ii, "rangePixelSpacing", fmt_e(geom.range_spacing, 6))
    sub(ii, "azimuthPixelSpacing", fmt_e(geom.azimuth_spacing, 6))
    sub(ii, "azimuthTimeInterval", fmt_e(geom.line_interval))
    sub(ii, "azimuthFrequency", fmt_e(1.0 / geom.line_interval))
    sub(ii, "numberOfSamples", str(geom.n_samples))
    sub(ii, "numberOfLines", str(geom.n_lines))
    sub(ii, "zeroDopMinusAcqTime", fmt_e(200.22514))
    mid = grid.incidence[grid.incidence.shape[0] // 2]
    sub(ii, "incidenceAngleMidSwath", fmt_e(float(0.5 * (mid[0] + mid[-1]))))
    ist = sub(ii, "imageStatistics")
    m = sub(ist, "outputDataMean")
    sub(m, "re", fmt_e(stats[0], 6))
    sub(m, "im", fmt_e(0.0, 6))
    sd = sub(ist, "outputDataStdDev")
    sub(sd, "re", fmt_e(stats[1], 6))
    sub(sd, "im", fmt_e(0.0, 6))
    return ia


def _processing_information(ia: ET.Element) -> None:
    """processingInformation: flags, ellipsoid and sources."""
    pr = sub(ia, "processingInformation")
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
        sub(pr, flag, text)
    sub(pr, "referenceRange", fmt_e(800000.0))
    sub(pr, "ellipsoidName", "WGS84")
    sub(pr, "ellipsoidSemiMajorAxis", fmt_e(6378137.0))
    sub(pr, "ellipsoidSemiMinorAxis", fmt_e(6356752.314245))
    sub(pr, "bistaticDelayCorrectionApplied", "true")
    sub(pr, "topsFilterConvention", "Only Echo Lines")
    sub(pr, "orbitSource", "Auxiliary")
    sub(pr, "attitudeSource", "Downlink")


def _doppler_centroid(root: ET.Element, geom: RadarGeometry) -> None:
    """dopplerCentroid: zero Doppler estimates."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    dc_times = np.linspace(t_first, t_last, max(3, int(t_last - t_first) + 2))
    dce = sub(sub(root, "dopplerCentroid"), "dcEstimateList", count=str(len(dc_times)))
    for t in dc_times:
        e = sub(dce, "dcEstimate")
        sub(e, "azimuthTime", fmt_time(t_at(float(t))))
        sub(e, "t0", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
        sub(e, "geometryDcPolynomial", fmt_list([0.0, 0.0, 0.0]), count="3")
        sub(e, "dataDcPolynomial", fmt_list([0.0, 0.0, 0.0]), count="3")
        sub(e, "dataDcRmsError", fmt_e(0.0))
        sub(e, "dataDcRmsErrorAboveThreshold", "false")
        sub(e, "fineDceAzimuthStartTime", fmt_time(t_at(float(t) - 1.0)))
        sub(e, "fineDceAzimuthStopTime", fmt_time(t_at(float(t) + 1.0)))
        sub(e, "fineDceList", count="0")


def _antenna_pattern(
    root: ET.Element, geom: RadarGeometry, grid: GeolocationGrid, luts: Luts
) -> None:
    """antennaPattern: a flat elevation pattern per subswath."""
    t_at = geom.datetime_at
    t_first = geom.first_line_time
    srt = grid.slant_range_time[0]
    apl = sub(
        sub(root, "antennaPattern"), "antennaPatternList", count=str(len(luts.subswath_bounds))
    )
    for name, _, _ in luts.subswath_bounds:
        ap = sub(apl, "antennaPattern")
        sub(ap, "swath", name)
        sub(ap, "azimuthTime", fmt_time(t_at(t_first)))
        sub(ap, "slantRangeTime", " ".join(fmt_e(v) for v in srt), count=str(srt.size))
        sub(ap, "elevationAngle", fmt_list(grid.elevation[0]), count=str(srt.size))
        pattern = np.stack([np.zeros(srt.size), np.ones(srt.size)], axis=1).ravel()
        sub(ap, "elevationPattern", fmt_list(pattern), count=str(pattern.size))
        sub(ap, "incidenceAngle", fmt_list(grid.incidence[0]), count=str(srt.size))
        sub(ap, "terrainHeight", fmt_e(geom.reference_height))
        sub(ap, "roll", fmt_e(33.0))


def _swath_timing(root: ET.Element) -> None:
    """swathTiming: empty (GRD products have no bursts)."""
    st = sub(root, "swathTiming")
    sub(st, "linesPerBurst", "0")
    sub(st, "samplesPerBurst", "0")
    sub(st, "burstList", count="0")


def _geolocation_grid(root: ET.Element, grid: GeolocationGrid, geom: RadarGeometry) -> None:
    """geolocationGrid: the tie points."""
    t_at = geom.datetime_at
    gl = sub(sub(root, "geolocationGrid"), "geolocationGridPointList", count=str(grid.line.size))
    for a in range(grid.line.shape[0]):
        for b in range(grid.line.shape[1]):
            p = sub(gl, "geolocationGridPoint")
            sub(p, "azimuthTime", fmt_time(t_at(float(grid.azimuth_time[a, b]))))
            sub(p, "slantRangeTime", fmt_e(float(grid.slant_range_time[a, b])))
            sub(p, "line", str(int(grid.line[a, b])))
            sub(p, "pixel", str(int(grid.pixel[a, b])))
            sub(p, "latitude", fmt_e(float(grid.latitude[a, b])))
            sub(p, "longitude", fmt_e(float(grid.longitude[a, b])))
            sub(p, "height", fmt_e(float(grid.height[a, b])))
            sub(p, "incidenceAngle", fmt_e(float(grid.incidence[a, b])))
            sub(p, "elevationAngle", fmt_e(float(grid.elevation[a, b])))


def _coordinate_conversion(root: ET.Element, geom: RadarGeometry) -> None:
    """coordinateConversion: slant/ground range polynomials."""
    t_at = geom.datetime_at
    cl = sub(
        sub(root, "coordinateConversion"),
        "coordinateConversionList",
        count=str(len(geom.cc_times)),
    )
    for k, t in enumerate(geom.cc_times):
        c = sub(cl, "coordinateConversion")
        sub(c, "azimuthTime", fmt_time(t_at(float(t))))
        sub(c, "slantRangeTime", fmt_e(2.0 * geom.near_slant_range / SPEED_OF_LIGHT))
        sub(c, "sr0", fmt_e(geom.near_slant_range))
        sub(
            c,
            "srgrCoefficients",
            " ".join(fmt_e(v) for v in geom.srgr[k]),
            count=str(geom.srgr.shape[1]),
        )
        sub(c, "gr0", fmt_e(0.0))
        sub(
            c,
            "grsrCoefficients",
            " ".join(fmt_e(v) for v in geom.grsr[k]),
            count=str(geom.grsr.shape[1]),
        )


def _swath_merging(root: ET.Element, geom: RadarGeometry, luts: Luts) -> None:
    """swathMerging: the subswath bounds."""
    t_at = geom.datetime_at
    t_first = geom.first_line_time
    sm = sub(sub(root, "swathMerging"), "swathMergeList", count=str(len(luts.subswath_bounds)))
    for name, first, last in luts.subswath_bounds:
        sw = sub(sm, "swathMerge")
        sub(sw, "swath", name)
        sbl = sub(sw, "swathBoundsList", count="1")
        sb = sub(sbl, "swathBounds")
        sub(sb, "azimuthTime", fmt_time(t_at(t_first)))
        sub(sb, "firstAzimuthLine", "0")
        sub(sb, "firstRangeSample", str(first))
        sub(sb, "lastAzimuthLine", str(geom.n_lines - 1))
        sub(sb, "lastRangeSample", str(last))
