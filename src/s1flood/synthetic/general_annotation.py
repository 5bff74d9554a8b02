"""The ``generalAnnotation`` section of a simulated product's annotation.

Product information, downlink, orbit state vectors, attitude, replicas, terrain heights and
azimuth FM rates, in the order of real IPF 3.x products.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import numpy as np

from s1flood.geodesy import ecef_to_geodetic
from s1flood.synthetic.geometry import (
    RADAR_FREQUENCY,
    RANGE_SAMPLING_RATE,
    SUBSWATHS,
    RadarGeometry,
)
from s1flood.synthetic.identity import ProductIdentity
from s1flood.synthetic.orbit import SPEED_OF_LIGHT
from s1flood.synthetic.safe_xml import fmt_e, fmt_list, fmt_time, sub


def general_annotation(root: ET.Element, geom: RadarGeometry, ident: ProductIdentity) -> None:
    """Append ``generalAnnotation`` to an annotation's root element.

    Args:
        root: the annotation's ``product`` element.
        geom: the image geometry (orbit, timing).
        ident: the product identity (pass).
    """
    ga = _product_information(root, geom, ident)
    _downlink_information(ga, geom)
    _orbit_list(ga, geom)
    _attitude_list(ga, geom)
    _replica_information(ga, geom)
    _terrain_heights(ga, geom)
    _azimuth_fm_rates(ga, geom)


def _product_information(
    root: ET.Element, geom: RadarGeometry, ident: ProductIdentity
) -> ET.Element:
    """The ``generalAnnotation`` element and its productInformation (pass, heading, ...)."""
    t_first, t_last = geom.first_line_time, geom.last_line_time
    t_mid = 0.5 * (t_first + t_last)
    ga = sub(root, "generalAnnotation")
    pi = sub(ga, "productInformation")
    sub(pi, "pass", ident.orbit_pass.capitalize())
    sub(pi, "timelinessCategory", "NRT-3h")
    p0, p1 = geom.orbit_poly.position(t_mid - 0.5), geom.orbit_poly.position(t_mid + 0.5)
    lo, la, _ = ecef_to_geodetic(np.stack([p0, p1]))
    heading = np.rad2deg(np.arctan2((lo[1] - lo[0]) * np.cos(np.deg2rad(la[0])), la[1] - la[0]))
    sub(pi, "platformHeading", fmt_e(float(heading)))
    sub(pi, "projection", "Ground Range")
    sub(pi, "rangeSamplingRate", fmt_e(RANGE_SAMPLING_RATE))
    sub(pi, "radarFrequency", fmt_e(RADAR_FREQUENCY))
    sub(pi, "azimuthSteeringRate", fmt_e(1.590368784))
    return ga


def _downlink_information(ga: ET.Element, geom: RadarGeometry) -> None:
    """downlinkInformationList: one entry per subswath with its PRF."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    dl = sub(ga, "downlinkInformationList", count=str(len(SUBSWATHS)))
    for name, prf in zip(
        SUBSWATHS, (1717.128973878037, 1451.62711219399, 1685.817302492702), strict=True
    ):
        d = sub(dl, "downlinkInformation")
        sub(d, "swath", name)
        sub(d, "azimuthTime", fmt_time(t_at(t_first - 2.0)))
        sub(d, "firstLineSensingTime", fmt_time(t_at(t_first - 2.2)))
        sub(d, "lastLineSensingTime", fmt_time(t_at(t_last + 2.2)))
        sub(d, "prf", fmt_e(prf))


def _orbit_list(ga: ET.Element, geom: RadarGeometry) -> None:
    """orbitList: the state vectors."""
    t_at = geom.datetime_at
    svs = geom.state_vectors
    ol = sub(ga, "orbitList", count=str(len(svs.time)))
    for t, p, v in zip(svs.time, svs.position, svs.velocity, strict=True):
        o = sub(ol, "orbit")
        sub(o, "time", fmt_time(t_at(float(t))))
        sub(o, "frame", "Earth Fixed")
        pe = sub(o, "position")
        ve = sub(o, "velocity")
        for k, axis in enumerate("xyz"):
            sub(pe, axis, fmt_e(float(p[k])))
        for k, axis in enumerate("xyz"):
            sub(ve, axis, fmt_e(float(v[k])))


def _attitude_list(ga: ET.Element, geom: RadarGeometry) -> None:
    """attitudeList: one attitude a second over the image."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    att_times = np.arange(np.floor(t_first), np.ceil(t_last) + 1.0, 1.0)
    al = sub(ga, "attitudeList", count=str(len(att_times)))
    for t in att_times:
        att = sub(al, "attitude")
        sub(att, "time", fmt_time(t_at(float(t))))
        sub(att, "frame", "Earth Fixed")
        vals = _attitude(geom, float(t))
        for key in ("q0", "q1", "q2", "q3"):
            sub(att, key, fmt_e(vals[key], 6))
        for key in ("wx", "wy", "wz", "roll", "pitch", "yaw"):
            sub(att, key, fmt_e(vals[key]))


def _replica_information(ga: ET.Element, geom: RadarGeometry) -> None:
    """replicaInformationList: nominal chirp replicas per subswath."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    t_mid = 0.5 * (t_first + t_last)
    rl = sub(ga, "replicaInformationList", count=str(len(SUBSWATHS)))
    for name in SUBSWATHS:
        ri = sub(rl, "replicaInformation")
        sub(ri, "swath", name)
        rr = sub(ri, "referenceReplica")
        sub(rr, "azimuthTime", fmt_time(t_at(t_first - 1.5)))
        sub(rr, "chirpSource", "Nominal")
        sub(rr, "pgSource", "Extracted")
        sub(rr, "amplitudeCoefficients", fmt_list([1.0, 0.0, 0.0, 0.0]), count="4")
        sub(rr, "phaseCoefficients", fmt_list([0.0, 693.5456, 5.391152e11, 0.0]), count="4")
        sub(rr, "timeDelay", fmt_e(4.319443e-07, 6))
        g = sub(rr, "gain")
        sub(g, "re", fmt_e(1.0, 6))
        sub(g, "im", fmt_e(0.0, 6))
        rpl = sub(ri, "replicaList", count="1")
        rp = sub(rpl, "replica")
        sub(rp, "azimuthTime", fmt_time(t_at(t_mid)))
        for key, val in (
            ("crossCorrelationBandwidth", 0.99),
            ("crossCorrelationPslr", -12.86),
            ("crossCorrelationIslr", -9.80),
            ("crossCorrelationPeakLocation", 0.0),
        ):
            sub(rp, key, fmt_e(val, 6))
        sub(rp, "reconstructedReplicaValidFlag", "true")
        for key, val in (
            ("pgProductAmplitude", 8.834e-4),
            ("pgProductPhase", 2.57),
            ("modelPgProductAmplitude", 0.62155),
            ("modelPgProductPhase", 0.0),
        ):
            sub(rp, key, fmt_e(val, 6))
        sub(rp, "relativePgProductValidFlag", "true")
        sub(rp, "absolutePgProductValidFlag", "true")
        sub(rp, "internalTimeDelay", fmt_e(4.319417e-07, 6))


def _terrain_heights(ga: ET.Element, geom: RadarGeometry) -> None:
    """terrainHeightList: the reference height around the image."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    t_mid = 0.5 * (t_first + t_last)
    th_times = [t_first - 10.0, t_first, t_mid, t_last, t_last + 10.0]
    tl = sub(ga, "terrainHeightList", count=str(len(th_times)))
    for t in th_times:
        th = sub(tl, "terrainHeight")
        sub(th, "azimuthTime", fmt_time(t_at(t)))
        sub(th, "value", fmt_e(geom.reference_height))


def _azimuth_fm_rates(ga: ET.Element, geom: RadarGeometry) -> None:
    """azimuthFmRateList: azimuth FM rate polynomials."""
    t_at = geom.datetime_at
    t_first, t_last = geom.first_line_time, geom.last_line_time
    wavelength = SPEED_OF_LIGHT / RADAR_FREQUENCY
    fm_times = np.linspace(t_first - 1.0, t_last + 1.0, max(3, int(t_last - t_first) // 3 + 2))
    fl = sub(ga, "azimuthFmRateList", count=str(len(fm_times)))
    for t in fm_times:
        f = sub(fl, "azimuthFmRate")
        t0 = 2.0 * geom.near_slant_range / SPEED_OF_LIGHT
        speed = float(np.linalg.norm(geom.orbit_poly.velocity(float(t))))
        ka = -2.0 * speed**2 / (wavelength * geom.near_slant_range)
        sub(f, "azimuthTime", fmt_time(t_at(float(t))))
        sub(f, "t0", fmt_e(t0))
        sub(
            f, "azimuthFmRatePolynomial", " ".join(fmt_e(c) for c in (ka, -ka / t0, 0.0)), count="3"
        )


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
