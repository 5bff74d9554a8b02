"""A few lines on a flood record from its ``summary.json`` (``python -m s1flood.flood.report``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def record_lines(summary: dict[str, Any]) -> list[str]:
    """Flooded area, first/last flooded, longest durations and depth of an aggregation.

    Args:
        summary: the aggregation's ``summary.json`` contents.
    """
    record = summary.get("flood_record")
    if not record:
        return ["no flood record in this summary"]
    extremes, depth = record["extremes"], record.get("depth") or {}
    lines = [
        f"flood record ({record['reference_rule']}):",
        f"  flooded {summary['area_km2'].get('flooded', 0.0):.2f} km² over "
        f"{record['observations']} observations; first flooded {extremes['first_flooded']}, "
        f"last flooded {extremes['last_flooded']}; longest duration "
        f"{extremes['longest_duration_min_days']} (min) to "
        f"{extremes['longest_duration_max_days']} (max) days",
    ]
    if depth.get("depth_max_m") is not None:
        lines.append(
            f"  depth ({depth['method']}): mean {depth['depth_mean_m']:.2f} m, "
            f"max {depth['depth_max_m']:.2f} m"
        )
    if record.get("time_note"):
        lines.append(f"  note: {record['time_note']}")
    return lines


def main(argv: list[str]) -> int:
    """Print `record_lines` of the summary named in `argv`.

    Args:
        argv: ``[summary.json]``.
    """
    if len(argv) != 1:
        print("usage: python -m s1flood.flood.report SUMMARY.json", file=sys.stderr)
        return 2
    try:
        summary = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{argv[0]}: cannot read ({exc})", file=sys.stderr)
        return 2
    print("\n".join(record_lines(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
