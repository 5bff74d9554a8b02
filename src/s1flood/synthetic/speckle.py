"""Multiplicative speckle of multi-looked SAR intensity."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

GRDH_LOOKS = 4.4
"""Equivalent number of looks of Sentinel-1 IW GRDH products."""


def gamma_speckle(
    sigma0_linear: npt.NDArray[np.floating],
    rng: np.random.Generator,
    looks: float = GRDH_LOOKS,
) -> npt.NDArray[np.float32]:
    """Multiply a linear intensity by unit-mean Gamma(looks) speckle.

    Args:
        sigma0_linear: linear intensity.
        rng: the random generator.
        looks: equivalent number of looks.
    """
    noise = rng.gamma(shape=looks, scale=1.0 / looks, size=sigma0_linear.shape)
    return (sigma0_linear * noise).astype(np.float32)
