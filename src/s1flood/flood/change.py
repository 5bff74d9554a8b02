"""The backscatter change rule: flood is water that darkened against the pre-event scenes.

With ``event_start`` and the sigma0 COGs the masks were classified from, each pixel's
reference backscatter per relative orbit is the mean sigma0 (dB) of the pre-event scenes of
that orbit; an event observation's water is flood only where its sigma0 lies at least
``change_db`` below that reference (NDFI-type, Cian et al. 2018). Surfaces dark in every
scene (dry sand, tarmac, radar shadow) do not darken: never flood. Pixels without a
pre-event scene of the same orbit keep the mask-only rule. A mask finds its sigma0 by the
``input`` its sidecar names: among the given files by file name, else that path itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rasterio.enums import Resampling
from rasterio.windows import Window

from s1flood.flood import record_kernels as rk
from s1flood.flood.record import RecordPlan
from s1flood.raster import Grid, open_raster, reading, warped_onto

log = logging.getLogger(__name__)


def sigma0_of(mask: Path, given: dict[str, Path]) -> Path | None:
    """The sigma0 COG a mask was classified from, or None if it cannot be found.

    Args:
        mask: the water mask (its sidecar ``NAME.json`` names its ``input``).
        given: sigma0 files by file name.
    """
    try:
        record = json.loads(mask.with_suffix(".json").read_text(encoding="utf-8"))
        source = Path(str(record["input"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if source.name in given:
        return given[source.name]
    return source if not given and source.is_file() else None


@dataclass
class ChangePlan:
    """Each observation's sigma0 (or None) and relative-orbit slot; the threshold."""

    sigma0: list[Path | None]
    slots: list[int]
    """Index of the observation's relative orbit among those with pre-event sigma0; -1 none."""
    orbits: int
    change_db: float


def plan_change(
    plan: RecordPlan, sigma0: Sequence[Path | str], change_db: float, use_paths: bool
) -> ChangePlan | None:
    """The change rule's plan, or None when it cannot apply.

    It cannot without ``event_start`` or without a pre-event sigma0 of any event
    observation's relative orbit.

    Args:
        plan: the record's plan.
        sigma0: the sigma0 COGs given (matched to masks by file name).
        change_db: darkening (dB) that makes water flood.
        use_paths: also find a mask's sigma0 at the path its sidecar names.
    """
    if plan.event_start is None or not (sigma0 or use_paths):
        return None
    given = {Path(p).name: Path(p) for p in sigma0}
    found = [
        sigma0_of(o.sources[0].path, given) if position < plan.timed else None
        for position, o in enumerate(plan.observations)
    ]
    orbits: dict[int, int] = {}
    for position, (observation, path) in enumerate(zip(plan.observations, found, strict=True)):
        if path is not None and plan.kinds[position] == rk.PRE_EVENT:
            orbits.setdefault(observation.acquisition.relative_orbit, len(orbits))
    slots = [
        orbits.get(o.acquisition.relative_orbit, -1) if path is not None else -1
        for o, path in zip(plan.observations, found, strict=True)
    ]
    event = [i for i in range(len(found)) if plan.kinds[i] == rk.EVENT]
    if not orbits or not any(slots[i] >= 0 for i in event):
        log.info("change rule: no event scene has a pre-event sigma0 of its orbit: masks only")
        return None
    missing = sum(1 for i in event if slots[i] < 0)
    if missing:
        log.info("change rule: %d event observation(s) without a reference: masks only", missing)
    return ChangePlan(found, slots, len(orbits), change_db)


class ChangeBuffers:
    """One worker's per-orbit reference sums and counts and its sigma0 block."""

    def __init__(self, orbits: int, rows: int, width: int) -> None:
        self.total = np.zeros((orbits, rows, width), dtype=np.float32)
        self.count = np.zeros((orbits, rows, width), dtype=np.uint16)
        self.sigma0 = np.empty((rows, width), dtype=np.float32)

    def reset(self, rows: int) -> None:
        """Clear the sums of the first `rows` rows for a new window."""
        self.total[:, :rows] = 0
        self.count[:, :rows] = 0


def read_sigma0(path: Path, grid: Grid, window: Window, out: npt.NDArray[np.float32]) -> None:
    """Band 1 of a sigma0 COG (dB) on `window` of the grid (nearest), NaN where it has none.

    Args:
        path: the sigma0 COG.
        grid: the output grid.
        window: the window.
        out: the block to fill.
    """
    with open_raster(path) as dataset, reading(path):
        if Grid.of(dataset).same_as(grid):
            out[...] = dataset.read(1, window=window).astype(np.float32)
            return
        with warped_onto(dataset, grid, Resampling.nearest, float("nan"), dtype="float32") as vrt:
            vrt.read(1, window=window, out=out)


def apply(
    change: ChangePlan,
    buffers: ChangeBuffers,
    index: int,
    kind: int,
    mask: npt.NDArray[np.uint8],
    grid: Grid,
    window: Window,
) -> tuple[bool, bool]:
    """Add observation `index`'s sigma0 to the reference, or mark its water that did not darken.

    Pre-event observations add to the reference; event ones mark. Returns (marked,
    invalid mask values).

    Args:
        change: the change plan.
        buffers: the worker's buffers (reset for the window).
        index: the observation's position.
        kind: its `record_kernels` kind.
        mask: its merged mask block.
        grid: the output grid.
        window: the window.
    """
    path, slot = change.sigma0[index], change.slots[index]
    if path is None or slot < 0:
        return False, False
    rows = mask.shape[0]
    sigma0 = buffers.sigma0[:rows]
    read_sigma0(path, grid, window, sigma0)
    total, count = buffers.total[slot, :rows], buffers.count[slot, :rows]
    if kind == rk.PRE_EVENT:
        rk.add_reference(sigma0, total, count)
        return False, False
    if kind != rk.EVENT:
        return False, False
    return True, bool(rk.mark_unchanged(mask, sigma0, total, count, change.change_db))
