"""Figures people look at: classification histograms and water-frequency maps (PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from s1flood.atomic import atomic_path

CLASS_COLOURS = {
    0: ("dry", "#f2efe6"),
    1: ("flood candidate", "#f08c2e"),
    2: ("permanent water", "#1f4e9c"),
}
NODATA_COLOUR = "#bdbdbd"


def _save(figure: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)


def histogram_png(
    path: Path,
    counts: npt.NDArray[np.int64],
    edges: npt.NDArray[np.float32],
    thresholds: Sequence[float],
    title: str,
) -> None:
    """Histogram of dB values with the Multi-Otsu thresholds; the water threshold in blue."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.stairs(counts, edges.astype(np.float64), fill=True, color="#7a7a7a")
    for i, threshold in enumerate(thresholds):
        colour, label = ("#1f4e9c", "water threshold") if i == 0 else ("#c0392b", "threshold")
        axes.axvline(threshold, color=colour, linewidth=1.5, label=f"{label} {threshold:.2f} dB")
    axes.set_xlabel("backscatter (dB)")
    axes.set_ylabel("pixels")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    _save(figure, path)


def classes_png(
    path: Path,
    classes: npt.NDArray[np.uint8],
    extent: tuple[float, float, float, float],
    crs_label: str,
    title: str,
) -> None:
    """Map of water-frequency classes (dry, candidate, permanent, nodata) with a legend."""
    aspect = classes.shape[0] / max(classes.shape[1], 1)
    figure = Figure(figsize=(8, 8 * aspect + 1.2), layout="constrained")
    axes = figure.add_subplot()
    codes = np.where(classes == 255, 3, classes)
    not_observed = "no valid observation (outside the swath or excluded)"
    entries = [*CLASS_COLOURS.values(), (not_observed, NODATA_COLOUR)]
    cmap = ListedColormap([colour for _, colour in entries])
    axes.imshow(
        codes,
        cmap=cmap,
        norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], cmap.N),
        extent=(extent[0], extent[2], extent[1], extent[3]),
        interpolation="nearest",
    )
    handles = [Patch(facecolor=colour, edgecolor="0.5", label=name) for name, colour in entries]
    figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(f"x ({crs_label})")
    axes.set_ylabel(f"y ({crs_label})")
    axes.ticklabel_format(useOffset=False, style="plain")
    _save(figure, path)
