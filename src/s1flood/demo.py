"""The offline demo: the workflow's step calls in one process, on simulated products.

simulate -> discover (the simulator's STAC catalog) -> process_scene for each scene
(preprocess, classify, each scene alone) -> aggregate, with every mask scored against the
simulated truth. The CWL workflow makes the same calls, one notebook per step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1flood import steps
from s1flood.aggregation import OUTPUT_NAMES, AggregationResult
from s1flood.classification import ClassificationResult
from s1flood.errors import InvalidOptionError
from s1flood.raster import check_outputs
from s1flood.synthetic.scoring import scenario_phase, scene_assets, water_iou
from s1flood.synthetic.simulate import SIZES

log = logging.getLogger(__name__)

DEMO_AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
"""The Tiber valley north of Rome."""
DEMO_START = "2026-10-20T00:00:00Z"
DEMO_END = "2026-11-20T00:00:00Z"
DEMO_SIZES = ("tiny", "small", "demo")


@dataclass
class DemoScene:
    """One acquisition of the demo: its water mask and accuracy."""

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
            *self.record_lines(),
        ]
        return "\n".join(lines)

    def record_lines(self) -> list[str]:
        """The flood record: flooded area, first/last flooded, durations, depth, files."""
        from s1flood.flood.report import record_lines

        outputs = self.aggregation.outputs
        summary = json.loads(Path(outputs["summary"]).read_text(encoding="utf-8"))
        return [
            *record_lines(summary),
            f"first/last flooded: {outputs['first_flooded']}, {outputs['last_flooded'].name}",
            f"duration (days):  {outputs['duration_min_days']}, "
            f"{outputs['duration_max_days'].name}",
            f"depth (m):        {outputs.get('depth_max', '-')}",
            f"flooded area:     {outputs['flooded_area_plot']}, {outputs['timeseries'].name}",
        ]


def _event_start(scenes: Sequence[Any], phases: list[str]) -> str | None:
    """The start of the first scene past the simulated 'before' phase, if one came before."""
    timed = sorted(zip((s.start for s in scenes), phases, strict=True))
    for position, (start, phase) in enumerate(timed):
        if phase != "before":
            return start.isoformat() if position else None
    return None


def run_demo(
    out_dir: Path | str,
    *,
    scenes: int = 6,
    size: str = "demo",
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> DemoResult:
    """Simulate a flood, find its scenes in the STAC catalogue, map each alone, aggregate.

    Args:
        out_dir: folder of every output (``simulation/``, ``sigma0/``, ``masks/``,
            ``frequency/``).
        scenes: number of acquisitions to simulate (2 to 24). Default 6.
        size: scene size: ``tiny``, ``small`` or ``demo``. Default ``demo``.
        seed: random seed of the simulation. Default 0.
        overwrite: replace an earlier demo's outputs. Default false.
        progress: show progress bars. Default false.
    """
    if not 2 <= scenes <= 24:
        raise InvalidOptionError("scenes", scenes, "between 2 and 24")
    if size not in DEMO_SIZES:
        raise InvalidOptionError("size", size, f"one of {', '.join(DEMO_SIZES)}")
    out_dir = Path(out_dir)
    frequency_dir = out_dir / "frequency"
    check_outputs([frequency_dir / name for name in OUTPUT_NAMES.values()], overwrite)
    log.info("simulating %d %s scenes (%d x %d) of %s", scenes, size, *SIZES[size], DEMO_AOI)
    simulation = steps.simulate(
        DEMO_AOI,
        DEMO_START,
        DEMO_END,
        out_dir / "simulation",
        scenes=scenes,
        size=size,
        seed=seed,
        progress=progress,
    )
    found = steps.discover(DEMO_AOI, DEMO_START, DEMO_END, catalogue=f"local:{simulation.catalog}")
    log.info("discovered %d scenes in %s", len(found.scenes), simulation.catalog)
    mapped = [
        steps.process_scene(
            scene.href or "",
            out_dir,
            aoi=DEMO_AOI,
            dem=simulation.dem,
            overwrite=True,
            progress=progress,
        )
        for scene in found.scenes
    ]
    phases = [scenario_phase(simulation.scenario, scene.name) for scene in found.scenes]
    aggregation = steps.aggregate(
        [str(scene.mask) for scene in mapped],
        frequency_dir,
        event_start=_event_start(found.scenes, phases),
        dem=simulation.dem,
        overwrite=overwrite,
        progress=progress,
    )
    results = [
        DemoScene(
            name=scene.name,
            datetime=scene.start.isoformat(),
            phase=phase,
            classification=result.classified,
            iou=water_iou(result.mask, scene_assets(simulation.catalog, scene.id)["truth"]),
        )
        for scene, result, phase in zip(found.scenes, mapped, phases, strict=True)
    ]
    return DemoResult(out_dir, simulation.catalog, results, aggregation)
