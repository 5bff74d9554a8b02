"""Calibration and noise of a simulated product: the LUTs and their annotation XML.

The calibration LUTs follow from the ellipsoid incidence angle (time-invariant in range),
the noise LUTs from the NESZ model; both are rounded as the XML writes them, so that the
simulator uses exactly the values a reader gets back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import numpy as np
import numpy.typing as npt

from s1flood.synthetic.backscatter import nesz_db
from s1flood.synthetic.geometry import SUBSWATH_LIMITS_DEG, SUBSWATHS, RadarGeometry
from s1flood.synthetic.identity import ProductIdentity
from s1flood.synthetic.safe_xml import ads_header, fmt_e, fmt_list, fmt_time, sub

F64 = npt.NDArray[np.float64]
BETA_NOUGHT_LUT = 473.9733
DN_LUT_RATIO = 0.8473
ABSOLUTE_CALIBRATION_CONSTANT = 1.393


def round_lut(values: F64) -> F64:
    """Round values as the XML writes them (7 significant digits), for bit-consistent use.

    Args:
        values: the LUT values.
    """
    return np.array([float(f"{v:.6e}") for v in np.ravel(values)]).reshape(np.shape(values))


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
        """Noise power (DN^2) of image lines [line0, line1), range LUT x azimuth LUT.

        Args:
            line0: first image line.
            line1: end image line (exclusive).
            n_samples: samples per line.
        """
        samples = np.arange(n_samples)
        rng_lut = np.interp(samples, self.pixels, self.noise_range.astype(np.float32))
        lines = np.arange(line0, line1)
        out = np.empty((line1 - line0, n_samples), np.float32)
        for name, first, last in self.subswath_bounds:
            az = np.interp(lines, self.azimuth_lines, self.noise_azimuth[name].astype(np.float32))
            out[:, first : last + 1] = az[:, None] * rng_lut[None, first : last + 1]
        return out


def compute_luts(geom: RadarGeometry, line_step: int = 668, pixel_step: int = 40) -> Luts:
    """Calibration LUTs from the ellipsoid incidence, noise LUTs from the NESZ model.

    Args:
        geom: the image geometry.
        line_step: lines between calibration vectors.
        pixel_step: samples between LUT points.
    """
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


def calibration_xml(
    geom: RadarGeometry, ident: ProductIdentity, pol: str, luts: Luts
) -> ET.Element:
    """The calibration annotation (sigmaNought, betaNought, gamma and dn LUTs).

    Args:
        geom: the image geometry.
        ident: the product identity (mission, times, orbit).
        pol: the polarisation (VV, VH, HH or HV).
        luts: the product's calibration and noise LUTs.
    """
    root = ET.Element("calibration")
    ads_header(root, ident, pol)
    ci = sub(root, "calibrationInformation")
    sub(ci, "absoluteCalibrationConstant", fmt_e(ABSOLUTE_CALIBRATION_CONSTANT, 6))
    n = str(len(luts.pixels))
    for v in _lut_vectors(root, "calibrationVector", geom, luts):
        sub(v, "sigmaNought", fmt_list(luts.sigma), count=n)
        sub(v, "betaNought", fmt_list(luts.beta), count=n)
        sub(v, "gamma", fmt_list(luts.gamma), count=n)
        sub(v, "dn", fmt_list(luts.dn), count=n)
    return root


def _lut_vectors(
    root: ET.Element, tag: str, geom: RadarGeometry, luts: Luts
) -> Iterator[ET.Element]:
    """A list of LUT vectors, one a LUT line, each with its azimuth time, line and pixels."""
    vectors = sub(root, f"{tag}List", count=str(len(luts.lines)))
    n = str(len(luts.pixels))
    pixels = " ".join(str(int(p)) for p in luts.pixels)
    for line in luts.lines:
        vector = sub(vectors, tag)
        sub(vector, "azimuthTime", fmt_time(geom.datetime_at(float(geom.line_time(int(line))))))
        sub(vector, "line", str(int(line)))
        sub(vector, "pixel", pixels, count=n)
        yield vector


def noise_xml(geom: RadarGeometry, ident: ProductIdentity, pol: str, luts: Luts) -> ET.Element:
    """The noise annotation: range vectors and per-subswath azimuth vectors.

    Args:
        geom: the image geometry.
        ident: the product identity (mission, times, orbit).
        pol: the polarisation (VV, VH, HH or HV).
        luts: the product's calibration and noise LUTs.
    """
    root = ET.Element("noise")
    ads_header(root, ident, pol)
    n = str(len(luts.pixels))
    for v in _lut_vectors(root, "noiseRangeVector", geom, luts):
        sub(v, "noiseRangeLut", fmt_list(luts.noise_range), count=n)
    al = sub(root, "noiseAzimuthVectorList", count=str(len(luts.subswath_bounds)))
    lines = " ".join(str(int(x)) for x in luts.azimuth_lines)
    for name, first, last in luts.subswath_bounds:
        v = sub(al, "noiseAzimuthVector")
        sub(v, "swath", name)
        sub(v, "firstAzimuthLine", "0")
        sub(v, "firstRangeSample", str(first))
        sub(v, "lastAzimuthLine", str(geom.n_lines - 1))
        sub(v, "lastRangeSample", str(last))
        sub(v, "line", lines, count=str(len(luts.azimuth_lines)))
        sub(
            v,
            "noiseAzimuthLut",
            fmt_list(luts.noise_azimuth[name]),
            count=str(len(luts.azimuth_lines)),
        )
    return root
