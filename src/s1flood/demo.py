"""The offline demo, the whole workflow on simulated Sentinel-1 products.

simulate (SAFE products, DEM, truth, STAC catalog) -> discover (the local catalogue) ->
preprocess (calibration, noise removal, Lee filter, terrain correction onto the AOI grid) ->
classify (Multi-Otsu) -> aggregate (water frequency), with every mask scored against the truth.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pystac
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from s1flood.aggregation import OUTPUT_NAMES, AggregationResult, aggregate
from s1flood.classification import ClassificationResult, classify, output_paths
from s1flood.discovery import discover
from s1flood.errors import DegenerateInputError, InvalidOptionError
from s1flood.preprocessing import preprocess
from s1flood.raster import check_outputs
from s1flood.synthetic.simulate import SIZES, simulate

log = logging.getLogger(__name__)

DEMO_AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
"""The Tiber valley north of Rome."""
DEMO_START = "2026-10-20T00:00:00Z"
DEMO_END = "2026-11-20T00:00:00Z"
DEMO_SIZES = ("tiny", "small", "demo")


@dataclass
class DemoScene:
    """One acquisition of the demo: its catalogue Item, water mask and accuracy."""

    name: str
    datetime: str
    phase: str
    classification: ClassificationResult
    iou: float


@dataclass
class DemoResult:
    """Paths of everything the demo wrote, and how well it recovered the simulated truth."""

    out_dir: Path
    catalog: Path
    scenes: list[DemoScene]
    aggregation: AggregationResult

    def report(self) -> str:
        """A few lines telling what was done and where the outputs and the map are."""
        outputs = self.aggregation.outputs
        area = self.aggregation.area_km2
        lines = [
            f"demo: {len(self.scenes)} simulated Sentinel-1 GRD products ({self.catalog}), "
            "preprocessed, classified, aggregated"
        ]
        for scene in self.scenes:
            c = scene.classification
            lines.append(
                f"  {scene.datetime[:10]} {scene.phase:<9} water < {c.water_threshold_db:6.2f} dB"
                f" ({c.method})"
                f"  {c.water_area_km2:7.3f} km²  IoU vs truth {scene.iou:.3f}  {c.mask.name}"
            )
        lines += [
            f"water frequency:  {outputs['frequency']}",
            f"classes:          {outputs['classes']}",
            f"map (PNG):        {outputs['map']}",
            f"summary:          {outputs['summary']}",
            f"permanent water {area['permanent_water']:.2f} km², "
            f"flood candidate {area['flood_candidate']:.2f} km²",
        ]
        return "\n".join(lines)


def scene_assets(catalog: Path, item_id: str) -> dict[str, Path]:
    """Local paths of the assets of one Item of a static STAC catalog."""
    items = pystac.Catalog.from_file(str(catalog)).get_items(item_id, recursive=True)
    item = next(items, None)
    if item is None:
        raise DegenerateInputError(catalog, f"no item {item_id!r} in the catalogue")
    return {key: Path(asset.get_absolute_href() or "") for key, asset in item.assets.items()}


def _phase(scenario: Path, name: str) -> str:
    acquisitions = json.loads(scenario.read_text(encoding="utf-8"))["acquisitions"]
    return next((a["phase"] for a in acquisitions if a["product"].startswith(name)), "")


def truth_on_grid(truth_path: Path, like: Path) -> npt.NDArray[np.uint8]:
    """A truth mask (DEM grid) warped (nearest) onto the grid of another raster."""
    with (
        rasterio.open(like) as grid,
        rasterio.open(truth_path) as truth_src,
        WarpedVRT(
            truth_src,
            crs=grid.crs,
            transform=grid.transform,
            width=grid.width,
            height=grid.height,
            resampling=Resampling.nearest,
            nodata=255,
        ) as warped,
    ):
        truth: npt.NDArray[np.uint8] = warped.read(1)
    return truth


def _iou(mask_path: Path, truth_path: Path) -> float:
    """Water IoU of a mask against the truth."""
    with rasterio.open(mask_path) as mask_src:
        mask = mask_src.read(1)
    truth = truth_on_grid(truth_path, mask_path)
    observed = (mask != 255) & (truth != 255)
    water, wet = (mask == 1) & observed, (truth == 1) & observed
    union = int((water | wet).sum())
    return float((water & wet).sum() / union) if union else 1.0


def run_demo(
    out_dir: Path | str,
    *,
    scenes: int = 6,
    size: str = "demo",
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> DemoResult:
    """Simulate a flood, find its scenes in the STAC catalogue, classify each, aggregate."""
    if not 2 <= scenes <= 24:
        raise InvalidOptionError("scenes", scenes, "between 2 and 24")
    if size not in DEMO_SIZES:
        raise InvalidOptionError("size", size, f"one of {', '.join(DEMO_SIZES)}")
    out_dir = Path(out_dir)
    frequency_dir = out_dir / "frequency"
    check_outputs([frequency_dir / name for name in OUTPUT_NAMES.values()], overwrite)
    log.info("simulating %d %s scenes (%d x %d) of %s", scenes, size, *SIZES[size], DEMO_AOI)
    simulation = simulate(
        DEMO_AOI,
        DEMO_START,
        DEMO_END,
        out_dir / "simulation",
        scenes=scenes,
        size=size,
        seed=seed,
        progress=progress,
    )
    found = discover(DEMO_AOI, DEMO_START, DEMO_END, catalogue=f"local:{simulation.catalog}")
    log.info("discovered %d scenes in %s", len(found.scenes), simulation.catalog)
    sigma0 = {s.name: out_dir / "sigma0" / f"{s.name}_sigma0_vv.tif" for s in found.scenes}
    masks = {s.name: out_dir / "masks" / f"{s.name}_water.tif" for s in found.scenes}
    for name in sigma0:
        check_outputs([sigma0[name], masks[name], *output_paths(masks[name])], overwrite)
    for scene in found.scenes:
        preprocess(
            scene.href or "",
            sigma0[scene.name],
            aoi_wkt=DEMO_AOI,
            dem=simulation.dem,
            overwrite=True,
            progress=progress,
        )
    classified: dict[str, ClassificationResult] = {}
    unimodal = []
    for name, mask in masks.items():
        try:
            classified[name] = classify(sigma0[name], mask, overwrite=True)
        except DegenerateInputError as error:
            log.info("%s", error)
            unimodal.append(name)
    if not classified:
        raise DegenerateInputError(None, "no scene shows a distinct water population")
    # a scene with too little water for its own threshold takes that of the others
    fallback = float(np.median([c.water_threshold_db for c in classified.values()]))
    for name in unimodal:
        log.info("%s: no distinct water population; fixed threshold %.2f dB", name, fallback)
        classified[name] = classify(
            sigma0[name], masks[name], threshold_db=fallback, overwrite=True
        )
    results = [
        DemoScene(
            name=scene.name,
            datetime=scene.start.isoformat(),
            phase=_phase(simulation.scenario, scene.name),
            classification=classified[scene.name],
            iou=_iou(masks[scene.name], scene_assets(simulation.catalog, scene.id)["truth"]),
        )
        for scene in found.scenes
    ]
    aggregation = aggregate(
        [scene.classification.mask for scene in results],
        frequency_dir,
        overwrite=overwrite,
        progress=progress,
    )
    mean_iou = float(np.mean([scene.iou for scene in results]))
    log.info("demo: mean water IoU against the simulated truth %.3f", mean_iou)
    return DemoResult(out_dir, simulation.catalog, results, aggregation)
