"""The offline demo: a flooding valley simulated, every scene classified, all aggregated."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from s1flood.aggregate import AggregationResult, aggregate
from s1flood.classify import ClassificationResult, classify
from s1flood.errors import InvalidOptionError
from s1flood.raster import check_writable_dir
from s1flood.synthetic import valley as valley_model

log = logging.getLogger(__name__)


@dataclass
class DemoResult:
    """Paths of everything the demo wrote."""

    out_dir: Path
    backscatter: list[Path]
    truth: list[Path]
    classifications: list[ClassificationResult]
    aggregation: AggregationResult

    def report(self) -> str:
        """A few lines telling where the outputs and the map are."""
        outputs = self.aggregation.outputs
        area = self.aggregation.area_km2
        lines = [
            f"demo: {len(self.backscatter)} simulated scenes in {self.out_dir / 'scenes'}",
            f"water masks (+ .json thresholds, _histogram.png): {self.out_dir / 'masks'}",
            f"water frequency:  {outputs['frequency']}",
            f"classes:          {outputs['classes']}",
            f"map (PNG):        {outputs['map']}",
            f"summary:          {outputs['summary']}",
            f"permanent water {area['permanent_water']:.2f} km², "
            f"flood candidate {area['flood_candidate']:.2f} km²",
        ]
        return "\n".join(lines)


def run_demo(
    out_dir: Path | str,
    *,
    scenes: int = 6,
    size: int = 1000,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> DemoResult:
    """Simulate a valley that floods and recedes, classify each scene and aggregate them."""
    if not 2 <= scenes <= len(valley_model.DEFAULT_LEVELS) * 4:
        raise InvalidOptionError("--scenes", scenes, "between 2 and 24")
    if not 200 <= size <= 8000:
        raise InvalidOptionError("--size", size, "between 200 and 8000 pixels")
    out_dir = Path(out_dir)
    for sub in ("scenes", "truth", "masks", "frequency"):
        check_writable_dir(out_dir / sub)
    rng = np.random.default_rng(seed)
    valley = valley_model.make_valley(size=size, seed=seed)
    levels = tuple(
        valley_model.DEFAULT_LEVELS[i % len(valley_model.DEFAULT_LEVELS)] for i in range(scenes)
    )
    backscatter, truth, classified = [], [], []
    for scene in tqdm(
        valley_model.scenes(valley, levels), desc="demo scenes", disable=None if progress else True
    ):
        name = f"scene_{scene.index:02d}"
        sigma0_path = out_dir / "scenes" / f"{name}_sigma0_vv.tif"
        truth_path = out_dir / "truth" / f"{name}_water_truth.tif"
        valley_model.write_raster(
            sigma0_path, valley.grid, valley_model.sigma0(valley, scene, rng), np.nan, "VV"
        )
        valley_model.write_raster(
            truth_path, valley.grid, scene.water.astype(np.uint8), None, "water truth"
        )
        log.info("simulated %s: water level %.1f m", name, scene.level_m)
        classified.append(
            classify(
                sigma0_path, out_dir / "masks" / f"{name}_water.tif", band="VV", overwrite=overwrite
            )
        )
        backscatter.append(sigma0_path)
        truth.append(truth_path)
    aggregation = aggregate(
        [c.mask for c in classified], out_dir / "frequency", overwrite=overwrite, progress=progress
    )
    return DemoResult(out_dir, backscatter, truth, classified, aggregation)
