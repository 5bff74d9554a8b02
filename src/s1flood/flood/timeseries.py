"""Per observation: time, platform, orbit, valid/water/flooded area and an advisory flag.

Written as ``timeseries.csv``, a ``timeseries`` section of ``summary.json`` and
``flooded_area.png`` (flooded area over time, each observation marked).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from s1flood.atomic import atomic_path, write_text_atomic
from s1flood.flood import record_kernels as rk
from s1flood.flood.record import RecordPlan

DARK_REFERENCE = 0.5
"""An observation whose reference water is water on less than this fraction of its observed
reference water is flagged: reference water not dark (wind-roughened or frozen)."""
MIN_REFERENCE_KM2 = 0.01
"""Reference water area (km²) below which an observation is not judged by it."""
COLUMNS = ("time", "platform", "relative_orbit", "orbit_direction", "kind", "valid_km2",
           "water_km2", "flooded_km2", "advisory", "masks")  # fmt: skip
KINDS = {rk.PRE_EVENT: "pre-event", rk.EVENT: "event", rk.UNTIMED: "no time"}


def rows(plan: RecordPlan, per_observation: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    """One record per observation (time order, untimed last).

    Args:
        plan: the record's plan.
        per_observation: `streaming.Streamed.per_observation` (km²).
    """
    records = []
    for index, observation in enumerate(plan.observations):
        valid, water, flooded, ref_seen, ref_wet = (float(v) for v in per_observation[index])
        advisory = ""
        if ref_seen >= MIN_REFERENCE_KM2 and ref_wet < DARK_REFERENCE * ref_seen:
            advisory = (
                f"reference water not dark: water on {100 * ref_wet / ref_seen:.0f}% of the "
                f"reference water observed (wind or ice?)"
            )
        acquisition = observation.acquisition.to_dict()
        records.append(
            {
                "time": acquisition["start"],
                "platform": acquisition["platform"],
                "relative_orbit": acquisition["relative_orbit"],
                "orbit_direction": acquisition["orbit_direction"],
                "kind": KINDS[int(plan.kinds[index])],
                "valid_km2": round(valid, 6),
                "water_km2": round(water, 6),
                "flooded_km2": round(flooded, 6),
                "advisory": advisory,
                "masks": [s.path.name for s in observation.sources],
            }
        )
    return records


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """Write the records as CSV (masks joined by ``;``), atomically.

    Args:
        path: the CSV file.
        records: `rows`' records.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                **{k: "" if v is None else v for k, v in record.items()},
                "masks": ";".join(record["masks"]),
            }
        )
    write_text_atomic(path, buffer.getvalue())


def write_png(path: Path, records: list[dict[str, Any]], title: str) -> None:
    """Plot flooded (and water) area over time, each observation marked; atomically.

    Args:
        path: the PNG file.
        records: `rows`' records (untimed ones are left out).
        title: the figure title.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    timed = [r for r in records if r["time"]]
    times = np.array(
        [
            datetime.fromisoformat(r["time"].replace("Z", "+00:00")).replace(tzinfo=None)
            for r in timed
        ],
        dtype="datetime64[s]",
    )
    figure = Figure(figsize=(8, 3.8), layout="constrained")
    axes = figure.add_subplot()
    flooded = [r["flooded_km2"] for r in timed]
    water = [r["water_km2"] for r in timed]
    if times.size:
        axes.plot(times, water, color="#9ecae1", marker=".", label="water (all)")
        axes.plot(times, flooded, color="#f08c2e", marker="o", label="flooded")
        flagged = [(t, f) for t, f, r in zip(times, flooded, timed, strict=True) if r["advisory"]]
        if flagged:
            axes.scatter(*zip(*flagged, strict=True), marker="x", color="#c0392b", zorder=3,
                         label="advisory")  # fmt: skip
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.legend(fontsize=8)
    else:
        axes.text(0.5, 0.5, "no observation with a time", ha="center", transform=axes.transAxes)
    axes.set_ylabel("area (km²)")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
