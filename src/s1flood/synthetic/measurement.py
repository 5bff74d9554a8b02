"""From model sigma0 to GRD digital numbers: the background outside the DEM, noise, speckle.

Outside the DEM a flat background of fields and forest fills the swath. Digital numbers are
``DN² = (sigma0 · A_sigma² + noise) · speckle`` with Gamma speckle of 4.4 looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from s1flood.synthetic.backscatter import sigma0_table
from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.render import SceneModel
from s1flood.synthetic.terrain import LandCover

F32 = npt.NDArray[np.float32]

BACKGROUND_CELL = 48
"""Size (pixels) of the land-cover cells of the flat background outside the DEM."""


@dataclass
class Background:
    """Flat terrain outside the DEM: a coarse land-cover map with per-cell texture."""

    classes: npt.NDArray[np.uint8]
    texture_db: F32
    tables: dict[str, F32]  # pol -> (n_classes, n_samples) linear sigma0

    @classmethod
    def make(cls, geom: RadarGeometry, polarisations: tuple[str, ...], seed: int) -> Background:
        """Random fields and forest patches on cells of 48 x 48 pixels, fixed per seed.

        Args:
            geom: the image geometry.
            polarisations: the polarisations.
            seed: the random seed.
        """
        rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
        shape = (geom.n_lines // BACKGROUND_CELL + 2, geom.n_samples // BACKGROUND_CELL + 2)
        u = rng.random(shape)
        classes = np.where(u < 0.55, LandCover.CROPLAND, LandCover.FOREST).astype(np.uint8)
        classes[(u >= 0.55) & (u < 0.7)] = LandCover.BARE
        classes[u > 0.995] = LandCover.URBAN
        texture = rng.uniform(-2.0, 2.0, shape).astype(np.float32)
        inc = np.rad2deg(geom.incidence_by_sample(np.arange(geom.n_samples)))
        tables = {pol: sigma0_table(pol, inc) for pol in polarisations}
        return cls(classes, texture, tables)

    def sigma0(self, pol: str, line0: int, line1: int) -> F32:
        """Linear sigma0 of image lines [line0, line1), all samples.

        Args:
            pol: the polarisation (VV, VH, HH or HV).
            line0: first image line.
            line1: end image line (exclusive).
        """
        table = self.tables[pol]
        ns = table.shape[1]
        rows = np.arange(line0, line1) // BACKGROUND_CELL
        cols = np.arange(ns) // BACKGROUND_CELL
        cls_block = self.classes[rows][:, cols]
        tex = self.texture_db[rows][:, cols]
        tex = np.where(cls_block == LandCover.FOREST, 0.3 * tex, tex)
        sig = table[cls_block, np.arange(ns)[None, :]]
        return np.asarray(sig * 10.0 ** (tex / 10.0), dtype=np.float32)


def model_sigma0(
    scene: SceneModel, background: Background, pol: str, pol_index: int, line0: int, line1: int
) -> F32:
    """Noise-free sigma0 (ellipsoid-based) of image lines [line0, line1).

    Args:
        scene: the rendered scene.
        background: the background outside the DEM.
        pol: the polarisation (VV, VH, HH or HV).
        pol_index: index of the polarisation.
        line0: first image line.
        line1: end image line (exclusive).
    """
    sig = background.sigma0(pol, line0, line1)
    power, cover, r0, c0 = scene.window(pol_index, line0, line1)
    if power.size:
        rows = slice(r0 - line0, r0 - line0 + power.shape[0])
        cols = slice(c0, c0 + power.shape[1])
        sig[rows, cols] = power + np.clip(1.0 - cover, 0.0, 1.0) * sig[rows, cols]
    return sig


def digital_numbers(
    sigma0: F32,
    cal_sigma: F32,
    noise_dn2: F32,
    rng: np.random.Generator,
    looks: float,
) -> npt.NDArray[np.uint16]:
    """``DN = sqrt((sigma0 · A² + noise) · Gamma(looks)/looks)``, rounded to uint16.

    Args:
        sigma0: linear sigma0.
        cal_sigma: sigma0 calibration LUT per sample.
        noise_dn2: noise power per pixel, DN².
        rng: the random generator of the block.
        looks: equivalent number of looks.
    """
    intensity = sigma0 * cal_sigma**2 + noise_dn2
    speckle = rng.standard_gamma(looks, size=sigma0.shape, dtype=np.float32)
    intensity *= speckle * np.float32(1.0 / looks)
    dn = np.sqrt(intensity, out=intensity)
    np.rint(dn, out=dn)
    np.clip(dn, 1.0, 65535.0, out=dn)
    return np.asarray(dn, dtype=np.uint16)
