"""The flood record against the simulator's truth, beside the peers' rules, in one run.

Simulated events (tiny scenes by default, several seeds, 6 to 12 scenes spread over before /
rising / peak / receding / after; one with wind-roughened water, one over two relative orbits,
one with always-dark land, one on the real DEM of ``../shared/data`` as terrain): every scene
is mapped alone (`steps.process_scene`), the masks aggregated (`steps.aggregate`, with the DEM),
and the outputs scored against the truth that `s1flood.synthetic.truth_record` derives from
``scenario.json`` (over the observations the masks hold valid):

- first / last flooded day exact, % of the truly flooded valid pixels (targets >= 98 %);
- the true flooded span inside [duration_min, duration_max] (open above where the record has
  no dry observation after/before), % of the same pixels (>= 98 %);
- flood extent IoU at the peak (>= 0.90: the peak mask's water that the record counts as
  flood) and over the window (>= 0.85: the maximum flood extent); reference water IoU against
  the permanent water (>= 0.90); always-dark land flagged as flood, % of it (<= 1 %);
- depth at the peak: RMSE (<= 0.5 m) and bias (|bias| <= 0.2 m) against the truth depth, over
  the truly flooded pixels, for the record's depth_max and for both estimators of
  `s1flood.flood.depth` (FwDET-type ``boundary``, HydroSAR-type ``hand``) on the record's
  flood extent and on the true peak extent.

Peers' rules, on the same masks: HYDRAFloods (``flood_duration``: flooded = water not in the
permanent class, duration = last minus first flooded observation, no bracket), today's
frequency classes (flood extent = 0.1 < frequency < 0.9, reference = frequency >= 0.9; at the
peak: the peak mask's water outside the reference). s1flood rows: the record with
``event_start`` between the first (dry) scene and the second, with its backscatter change
rule (``change_rule`` auto, the default) and without it (``off``: the mask rule), and without
``event_start`` (reference water by frequency); and the record of the true water masks (same
tags and sidecars): the record's own rules without classification errors. OMBRIA
before/after chips of ``../shared/data/flood-chips`` (flood-only labels): flood IoU of the
single-scene split of the after chip, of the record over the pair (mask and change rule) and
of classify's single-scene change against the before chip, pooled and mean per chip.
About 6 min for the events and 8 min for OMBRIA on a loaded 2-core machine.

    .venv/bin/python benchmarks/bench_flood_record.py [--size tiny] [--events NAME ...]
        [--no-ombria] [--out DIR]
"""

from __future__ import annotations

import argparse
import inspect
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling

sys.path.insert(0, str(Path(__file__).parent))

from s1flood import steps
from s1flood.flood import flood_depth
from s1flood.raster import Grid, warped_onto
from s1flood.synthetic.simulate import SimulationResult, simulate
from s1flood.synthetic.truth_record import TruthRecord, truth_depth, truth_record

from common import table

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_DEM = SHARED / "s1-grd" / "Rome-30m-DEM.tif"
OMBRIA = SHARED / "flood-chips" / "ombria" / "2021"
AOI = "POLYGON((12.40 41.90, 12.44 41.90, 12.44 41.93, 12.40 41.93, 12.40 41.90))"
ROME_AOI = "POLYGON((12.47 41.978, 12.53 41.978, 12.53 42.022, 12.47 42.022, 12.47 41.978))"
"""5 x 5 km at the centre of the real DEM (where the simulated image is centred)."""
START, END = "2024-05-01", "2024-05-31"
TARGETS = {
    "first %": (">=", 98.0),
    "last %": (">=", 98.0),
    "span in [min,max] %": (">=", 98.0),
    "IoU peak": (">=", 0.90),
    "IoU window": (">=", 0.85),
    "ref IoU": (">=", 0.90),
    "dark->flood %": ("<=", 1.0),
    "RMSE m": ("<=", 0.5),
    "|bias| m": ("<=", 0.2),
}


@dataclass(frozen=True)
class Event:
    """A simulated event."""

    name: str
    seed: int
    scenes: int
    wind: bool = False
    dark_land: bool = False
    relative_orbits: int = 1
    dem: Path | None = None
    aoi: str = AOI
    size: str | None = None
    """The scene size, if not the run's."""


EVENTS = [
    Event("calm s0 6", 0, 6),
    Event("calm s1 12", 1, 12),
    Event("wind s2 8", 2, 8, wind=True),
    Event("2 orbits s3 10", 3, 10, relative_orbits=2),
    Event("dark land s4 8", 4, 8, dark_land=True),
    Event("real DEM s5 6", 5, 6, dem=REAL_DEM, aoi=ROME_AOI, size="small"),
]


@dataclass
class Record:
    """One method's flood record on the output grid (arrays; None where it gives none)."""

    first: np.ndarray | None
    last: np.ndarray | None
    duration_min: np.ndarray | None
    duration_max: np.ndarray | None
    extent: np.ndarray
    """Flooded in at least one observation (bool)."""
    peak: np.ndarray
    """Flooded at the peak observation (bool)."""
    reference: np.ndarray
    """Reference water (bool)."""
    depth: dict[str, np.ndarray] = field(default_factory=dict)


# --- reading --------------------------------------------------------------------------------


def on_grid(path: Path, grid: Grid, nodata: float = 255) -> np.ndarray:
    """Band 1 of a raster on a grid (nearest)."""
    with rasterio.open(path) as src:
        if Grid.of(src).same_as(grid):
            return src.read(1)
        with warped_onto(src, grid, Resampling.nearest, nodata) as warped:
            return warped.read(1)


def read_masked(path: Path) -> np.ndarray:
    """A record COG as float64 with NaN at its nodata."""
    with rasterio.open(path) as src:
        data = src.read(1).astype(np.float64)
        if src.nodata is not None:
            data[data == src.nodata] = np.nan
    return data


def write_like(path: Path, array: np.ndarray, grid: Grid, nodata: float) -> Path:
    """A single-band GeoTIFF on a grid."""
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": array.dtype.name,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


# --- the rules ------------------------------------------------------------------------------


def s1flood_record(agg: Any, peak_water: np.ndarray, valid_peak: np.ndarray) -> Record:
    """The record s1flood's aggregation wrote."""
    out = agg.outputs
    first, last = read_masked(out["first_flooded"]), read_masked(out["last_flooded"])
    extent = read_masked(out["flood_extent"]) == 1
    reference = read_masked(out["reference_water"]) == 1
    record = Record(
        first=first,
        last=last,
        duration_min=read_masked(out["duration_min_days"]),
        duration_max=read_masked(out["duration_max_days"]),
        extent=extent,
        peak=peak_water & valid_peak & ~reference & extent,
        reference=reference,
    )
    if "depth_max" in out and Path(out["depth_max"]).exists():
        record.depth["depth_max (record)"] = read_masked(out["depth_max"])
    return record


def frequency_classes(agg: Any, peak_water: np.ndarray, valid_peak: np.ndarray) -> Record:
    """Today's classes: flood = 0.1 < frequency < 0.9, reference = frequency >= 0.9."""
    freq = read_masked(agg.outputs["frequency"])
    reference = freq >= 0.9
    return Record(
        first=None,
        last=None,
        duration_min=None,
        duration_max=None,
        extent=(freq > 0.1) & (freq < 0.9),
        peak=peak_water & valid_peak & ~reference,
        reference=reference,
    )


def hydrafloods(
    agg: Any, water: np.ndarray, valid: np.ndarray, days: np.ndarray, peak: int
) -> Record:
    """HYDRAFloods' flood_duration: flooded = water outside the permanent class; last - first."""
    freq = read_masked(agg.outputs["frequency"])
    permanent = freq >= 0.9
    flooded = water & valid & ~permanent[None]
    ever = flooded.any(axis=0)
    n = flooded.shape[0]
    first = np.where(ever, days[np.argmax(flooded, axis=0)], np.nan)
    last = np.where(ever, days[n - 1 - np.argmax(flooded[::-1], axis=0)], np.nan)
    duration = last - first
    return Record(first, last, duration, duration, ever, flooded[peak], permanent)


# --- scores ---------------------------------------------------------------------------------


def iou(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    a, b = a & where, b & where
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else float("nan")


def pct(hit: np.ndarray, over: np.ndarray) -> float:
    n = int(over.sum())
    return 100.0 * float((hit & over).sum()) / n if n else float("nan")


def date_scores(rec: Record, truth: TruthRecord) -> dict[str, float]:
    """First/last exact and span-in-bracket, % of the truly flooded valid pixels."""
    flooded = truth.extent
    out: dict[str, float] = {}
    if rec.first is None or rec.last is None:
        return {
            "first %": np.nan,
            "last %": np.nan,
            "span in [min,max] %": np.nan,
            "dmin - span d": np.nan,
        }
    out["first %"] = pct(rec.first == truth.first_flooded, flooded)
    out["last %"] = pct(rec.last == truth.last_flooded, flooded)
    span = truth.span_days
    has = flooded & np.isfinite(span)
    if rec.duration_min is not None and rec.duration_max is not None:
        upper = np.where(np.isnan(rec.duration_max), np.inf, rec.duration_max)
        inside = (span >= rec.duration_min) & (span <= upper)
        # a single duration (no bracket) has no bracket score
        single = rec.duration_min is rec.duration_max
        out["span in [min,max] %"] = np.nan if single else pct(inside, has)
        diff = (rec.duration_min - span)[has & np.isfinite(rec.duration_min)]
        out["dmin - span d"] = float(diff.mean()) if diff.size else np.nan
    return out


def extent_scores(rec: Record, truth: TruthRecord) -> dict[str, float]:
    """Flood extent IoU at the peak and over the window, reference IoU, dark land flagged."""
    seen = truth.observed.any(axis=0)
    scores = {
        "IoU peak": iou(rec.peak, truth.flooded[truth.peak], truth.observed[truth.peak]),
        "IoU window": iou(rec.extent, truth.extent, seen),
        "ref IoU": iou(rec.reference, truth.permanent_water, seen),
        "dark->flood %": np.nan,
    }
    if truth.always_dark is not None:
        scores["dark->flood %"] = pct(rec.extent, truth.always_dark & seen)
    return scores


def depth_score(estimate: np.ndarray, true_depth: np.ndarray, flooded: np.ndarray) -> list[str]:
    both = flooded & np.isfinite(estimate) & np.isfinite(true_depth)
    if not both.any():
        return ["-", "-", "0.0"]
    err = estimate[both] - true_depth[both]
    cover = 100.0 * both.sum() / max(int(flooded.sum()), 1)
    return [f"{np.sqrt(np.mean(err**2)):.3f}", f"{err.mean():+.3f}", f"{cover:.1f}"]


ORACLE = "s1flood (event_start) on the truth masks"
"""The record of the true water masks: what the record's own rules give without
classification errors."""


def truth_masks(sim: SimulationResult, masks: list[Path], out: Path) -> list[Path]:
    """The true water of each scene on its mask's grid, nodata where the mask is, same tags."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for truth_path, mask in zip(sim.truths, masks, strict=True):
        with rasterio.open(mask) as src:
            profile, tags, data = src.profile, src.tags(), src.read(1)
            grid = Grid.of(src)
        oracle = np.where(data == 255, 255, on_grid(truth_path, grid) == 1).astype(np.uint8)
        profile.update(driver="GTiff")
        path = out / mask.name
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(oracle, 1)
            dst.update_tags(**tags)
        sidecar = mask.with_suffix(".json")
        if sidecar.exists():  # names the sigma0 the change rule reads
            shutil.copyfile(sidecar, path.with_suffix(".json"))
        paths.append(path)
    return paths


# --- one event ------------------------------------------------------------------------------


@dataclass
class EventRun:
    rows: list[list[str]]
    depth_rows: list[list[str]]
    misses: list[str]
    seconds: float


def fmt(value: float, key: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.3f}" if "IoU" in key else f"{value:.1f}"


def check(key: str, value: float) -> bool:
    op, target = TARGETS[key]
    if np.isnan(value):
        return True
    return value >= target if op == ">=" else value <= target


CHANGE = "s1flood (event_start, change rule)"


def has_change_rule() -> bool:
    """Whether `steps.aggregate` has the backscatter change rule (``change_rule``)."""
    return "change_rule" in inspect.signature(steps.aggregate).parameters


def run_event(event: Event, size: str, out: Path) -> EventRun:
    t0 = time.perf_counter()
    sim = simulate(
        event.aoi,
        START,
        END,
        out / "sim",
        scenes=event.scenes,
        size=event.size or size,
        seed=event.seed,
        progress=False,
        wind=event.wind,
        dark_land=event.dark_land,
        relative_orbits=event.relative_orbits,
        dem=event.dem,
    )
    scenes = [
        steps.process_scene(str(p), out, aoi=event.aoi, dem=sim.dem, overwrite=True)
        for p in sim.products
    ]
    masks = [s.mask for s in scenes]
    oracle = truth_masks(sim, masks, out / "truth-masks")
    times = [a.time for a in sim.acquisitions]
    event_start = (times[0] + (times[1] - times[0]) / 2).isoformat()
    runs: dict[str, tuple[list[Path], dict[str, Any]]] = {}
    if has_change_rule():
        runs[CHANGE] = (masks, {"event_start": event_start})
        runs["s1flood (event_start, mask rule)"] = (
            masks,
            {"event_start": event_start, "change_rule": "off"},
        )
    else:
        runs["s1flood (event_start, mask rule)"] = (masks, {"event_start": event_start})
    runs["s1flood (no event_start)"] = (masks, {})
    runs[ORACLE] = (oracle, {"event_start": event_start})
    aggs = {
        name: steps.aggregate(
            [str(m) for m in paths], out / f"record-{k}", dem=sim.dem, overwrite=True, **kwargs
        )
        for k, (name, (paths, kwargs)) in enumerate(runs.items())
    }
    first_agg = next(iter(aggs.values()))
    grid = first_agg.grid
    like = Path(first_agg.outputs["frequency"])
    stack = np.stack([on_grid(m, grid) for m in masks])
    valid, water = stack != 255, stack == 1
    truth = truth_record(sim.scenario, like=like, valid=valid)
    days = truth.days
    peak = truth.peak
    peak_water = {name: on_grid(paths[peak], grid) == 1 for name, (paths, _) in runs.items()}
    records: dict[str, Record] = {
        name: s1flood_record(agg, peak_water[name], valid[peak]) for name, agg in aggs.items()
    }
    records["HYDRAFloods duration"] = hydrafloods(first_agg, water, valid, days, peak)
    records["frequency classes 0.1-0.9"] = frequency_classes(first_agg, water[peak], valid[peak])
    rows, misses = [], []
    for name, rec in records.items():
        scores = {**date_scores(rec, truth), **extent_scores(rec, truth)}
        cells = [fmt(scores.get(k, np.nan), k) for k in SCORE_KEYS]
        rows.append([event.name, name, *cells, fmt(scores.get("dmin - span d", np.nan), "d")])
        if name.startswith("s1flood"):
            misses += [
                f"{event.name} / {name}: {k} = {fmt(scores[k], k)} (target {TARGETS[k][0]}"
                f" {TARGETS[k][1]})"
                for k in SCORE_KEYS
                if k in scores and not check(k, scores[k])
            ]
    depth_rows = depth_table(event, sim, aggs, records, truth, out, misses)
    n_flooded = int(truth.extent.sum())
    rows.append(
        [
            event.name,
            f"(truth: {n_flooded} flooded px, {len(masks)} scenes, "
            f"peak {days[peak] - days[0]} d after the first)",
            *[""] * (len(SCORE_KEYS) + 1),
        ]
    )
    return EventRun(rows, depth_rows, misses, time.perf_counter() - t0)


SCORE_KEYS = [
    "first %",
    "last %",
    "span in [min,max] %",
    "IoU peak",
    "IoU window",
    "ref IoU",
    "dark->flood %",
]


def depth_table(
    event: Event,
    sim: SimulationResult,
    aggs: dict[str, Any],
    records: dict[str, Record],
    truth: TruthRecord,
    out: Path,
    misses: list[str],
) -> list[list[str]]:
    """Depth at the peak: the record's depth_max and both estimators on two extents."""
    name, agg = next(iter(aggs.items()))
    rec = records[name]
    grid = agg.grid
    like = Path(agg.outputs["frequency"])
    true_depth = truth_depth(sim.scenario, truth.peak, like=like)
    flooded = truth.flooded[truth.peak]
    rows = []
    for run in aggs:
        for estimate in records[run].depth.values():
            cells = depth_score(estimate, true_depth, flooded)
            rows.append([event.name, "its flood extent", f"depth_max of {run}", *cells])
            _depth_misses(event, f"depth_max of {run}", cells, misses)
    # as the record gives its extent to depth: reference water and unobserved pixels nodata
    unseen = read_masked(agg.outputs["flood_extent"])
    record_extent = np.where(rec.extent, 1, np.where(rec.reference, 255, 0)).astype(np.uint8)
    record_extent[np.isnan(unseen)] = 255
    true_extent = np.where(flooded, 1, np.where(truth.permanent_water, 255, 0)).astype(np.uint8)
    true_extent[~truth.observed[truth.peak]] = 255
    for extent_name, extent in (
        ("record flood extent", record_extent),
        ("true peak extent", true_extent),
    ):
        path = write_like(out / f"extent-{extent_name[:4]}.tif", extent, grid, 255)
        for method, peer in (("boundary", "FwDET-type"), ("hand", "HydroSAR-type")):
            result = flood_depth(
                path, sim.dem, out / f"depth-{extent_name[:4]}-{method}.tif", method=method
            )
            estimate = read_masked(result.output)
            cells = depth_score(estimate, true_depth, flooded)
            rows.append([event.name, extent_name, f"{method} ({peer})", *cells])
    return rows


def _depth_misses(event: Event, label: str, cells: list[str], misses: list[str]) -> None:
    if cells[0] == "-":
        misses.append(f"{event.name} / {label}: no depth over the true flood")
        return
    rmse, bias = float(cells[0]), float(cells[1])
    if not check("RMSE m", rmse):
        misses.append(f"{event.name} / {label}: depth RMSE {rmse:.3f} m (target <= 0.5)")
    if not check("|bias| m", abs(bias)):
        misses.append(f"{event.name} / {label}: depth bias {bias:+.3f} m (target |bias| <= 0.2)")


# --- OMBRIA ---------------------------------------------------------------------------------


def ombria_rows(out: Path) -> list[list[str]]:
    """Flood IoU on OMBRIA before/after chips: single-scene split, the record, single change."""
    from bench_accuracy_real import grey, to_db, write
    from s1flood.acquisition import Acquisition
    from s1flood.classification import classify

    out.mkdir(parents=True, exist_ok=True)
    pooled: dict[str, list[int]] = {}
    per_chip: dict[str, list[float]] = {}
    t_before = "2021-01-01T05:00:00Z"
    t_after = "2021-01-13T05:00:00Z"
    count = 0
    for after in sorted(OMBRIA.glob("*/Sentinel1/AFTER/imafter_*.png")):
        index = after.stem.split("_")[-1]
        before = after.parent.parent / "BEFORE" / f"imbefore_{index}.png"
        label = after.parent.parent / "MASK" / f"gt_{index}.png"
        if not (before.exists() and label.exists()):
            continue
        count += 1
        tag = f"{after.parts[-4]}_{index}"
        truth = grey(label) > 127
        files = {}
        for kind, png in (("before", before), ("after", after)):
            db = to_db(grey(png), "ombria", zero_is_nodata=False)
            files[kind] = write(out / f"{tag}_{kind}.tif", {"VV": db})
        masks = {}
        for kind, when in (("before", t_before), ("after", t_after)):
            masks[kind] = classify(
                files[kind],
                out / f"{tag}_{kind}_water.tif",
                overwrite=True,
                acquisition=Acquisition.of(start=when, relative_orbit=1),
            ).mask
        change = classify(
            files["after"],
            out / f"{tag}_change_water.tif",
            overwrite=True,
            reference=files["before"],
        ).mask
        pair = [str(masks["before"]), str(masks["after"])]
        rules = {"s1flood record, mask rule (before+after)": {"change_rule": "off"}}
        if has_change_rule():
            rules["s1flood record, change rule (before+after)"] = {}
        else:
            rules = {"s1flood record, mask rule (before+after)": {}}
        records = {}
        for k, (name, extra) in enumerate(rules.items()):
            agg = steps.aggregate(pair, out / f"{tag}_rec{k}", event_start="2021-01-07T00:00:00Z",
                                  overwrite=True, **extra)  # fmt: skip
            with rasterio.open(agg.outputs["flood_extent"]) as src:
                records[name] = src.read(1) == 1
        with rasterio.open(masks["after"]) as src:
            single = src.read(1) == 1
        with rasterio.open(change.with_name(change.stem + "_change.tif")) as src:
            new_water = src.read(1) == 1
        rules_flood = {"single-scene split (after)": single, **records}
        rules_flood["classify change vs before (new water)"] = new_water
        for name, flood in rules_flood.items():
            p = pooled.setdefault(name, [0, 0])
            p[0] += int((flood & truth).sum())
            p[1] += int((flood | truth).sum())
            union = (flood | truth).sum()
            if truth.any():
                per_chip.setdefault(name, []).append(float((flood & truth).sum() / max(union, 1)))
    table_rows = [["rule", "pooled flood IoU", "mean chip IoU", "chips"]]
    for name, (inter, union) in pooled.items():
        chips = per_chip.get(name, [])
        table_rows.append(
            [name, f"{inter / max(union, 1):.3f}", f"{np.mean(chips):.3f}", str(count)]
        )
    if not has_change_rule():
        table_rows.append(["s1flood record, change rule", "unavailable", "(no change_rule)", ""])
    return table_rows


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", help="scene size (tiny, small, LINESxSAMPLES)")
    parser.add_argument("--events", nargs="*", default=None, help="event names (default all)")
    parser.add_argument("--no-ombria", action="store_true", help="skip the OMBRIA chips")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_flood_record_"))
    header = ["event", "method", *SCORE_KEYS, "dmin-span d"]
    rows, depth, misses = (
        [header],
        [["event", "extent", "depth", "RMSE m", "bias m", "cover %"]],
        [],
    )
    for k, event in enumerate(EVENTS):
        if args.events and event.name not in args.events:
            continue
        if event.dem is not None and not event.dem.exists():
            print(f"skipped {event.name}: {event.dem} is absent")
            continue
        run = run_event(event, args.size, out / f"event-{k}")
        rows += run.rows
        depth += run.depth_rows
        misses += run.misses
        print(f"{event.name}: {run.seconds:.0f} s", file=sys.stderr)
    print(f"\nflood record vs simulator truth ({args.size} scenes, window {START} .. {END})")
    print(table(rows))
    print("targets: " + ", ".join(f"{k} {op} {v}" for k, (op, v) in TARGETS.items()))
    if not has_change_rule():
        print("s1flood change rule: unavailable (steps.aggregate has no change_rule yet)")
    print(
        "\ndepth at the peak vs the truth depth (over the truly flooded pixels; cover = % of "
        "them with a depth)"
    )
    print(table(depth))
    if REAL_DEM.exists() and not args.events:
        from bench_depth import REAL, accuracy

        rows = [["case (bench_depth)", "method", "RMSE m", "bias m", "max |err| m", "flooded Mpx"]]
        with tempfile.TemporaryDirectory() as tmp:
            for name, make in REAL.items():
                rows += accuracy(name, make, Path(tmp))
        print(f"\nboth estimators on the real DEM ({REAL_DEM.name}) with a known water surface")
        print(table(rows))
    if not args.no_ombria:
        if OMBRIA.exists():
            print("\nOMBRIA 2021 before/after chips (flood-only labels), VV")
            print(table(ombria_rows(out / "ombria")))
        else:
            print(f"\nOMBRIA skipped: {OMBRIA} is absent")
    print("\ns1flood targets missed:" if misses else "\ns1flood: every target met")
    for line in misses:
        print(f"  {line}")


if __name__ == "__main__":
    main()
