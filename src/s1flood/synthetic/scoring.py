"""Scoring a water mask against the simulator's truth (the demo's and benchmarks' check)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pystac
import rasterio
from rasterio.enums import Resampling

from s1flood.errors import DegenerateInputError
from s1flood.raster import Grid, warped_onto


def scene_assets(catalog: Path, item_id: str) -> dict[str, Path]:
    """Local paths of the assets of one Item of a static STAC catalog.

    Args:
        catalog: the simulator's ``catalog.json``.
        item_id: the Item id (the product name).
    """
    items = pystac.Catalog.from_file(str(catalog)).get_items(item_id, recursive=True)
    item = next(items, None)
    if item is None:
        raise DegenerateInputError(catalog, f"no item {item_id!r} in the catalogue")
    return {key: Path(asset.get_absolute_href() or "") for key, asset in item.assets.items()}


def scenario_phase(scenario: Path, name: str) -> str:
    """The flood phase (before, rising, peak, receding, after) of a simulated product.

    Args:
        scenario: the simulator's ``scenario.json``.
        name: the product name.
    """
    acquisitions = json.loads(scenario.read_text(encoding="utf-8"))["acquisitions"]
    return str(next((a["phase"] for a in acquisitions if a["product"].startswith(name)), ""))


def truth_on_grid(truth_path: Path, like: Path) -> npt.NDArray[np.uint8]:
    """A truth mask (on the DEM grid) warped (nearest) onto the grid of another raster.

    Args:
        truth_path: the simulator's truth GeoTIFF (0 dry, 1 water).
        like: a raster whose grid the truth is read onto.
    """
    with (
        rasterio.open(like) as grid,
        rasterio.open(truth_path) as truth_src,
        warped_onto(truth_src, Grid.of(grid), Resampling.nearest, 255) as warped,
    ):
        truth: npt.NDArray[np.uint8] = warped.read(1)
    return truth


def water_iou(mask_path: Path, truth_path: Path) -> float:
    """Water IoU of a water mask against the truth, over pixels both observe.

    Args:
        mask_path: a water mask COG (0 dry, 1 water, 255 nodata).
        truth_path: the simulator's truth GeoTIFF for the same acquisition.
    """
    with rasterio.open(mask_path) as mask_src:
        mask = mask_src.read(1)
    truth = truth_on_grid(truth_path, mask_path)
    observed = (mask != 255) & (truth != 255)
    water, wet = (mask == 1) & observed, (truth == 1) & observed
    union = int((water | wet).sum())
    return float((water & wet).sum() / union) if union else 1.0
