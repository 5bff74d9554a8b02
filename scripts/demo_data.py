"""Simulate the offline demo's products, DEM and STAC catalog (what parameters/demo.yml uses).

Writes ``OUT/simulation/`` (``catalog/``, ``products/``, ``dem/``, ``truth/``) and a copy of
the DEM as ``OUT/dem.tif``, outside the folder the workflow stages (cwltool maps a File that
lies inside a staged Directory to a path it never creates). ``make demo-data`` runs it when the
folder has no catalog yet::

    .venv/bin/python scripts/demo_data.py demo-data --scenes 4 --size small
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from s1flood import steps
from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START
from s1flood.errors import S1FloodError


def main(argv: list[str] | None = None) -> int:
    """Simulate the demo products into a folder; exit code 0 or 2 with a one-line error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder (simulation/, dem.tif)")
    parser.add_argument("--scenes", type=int, default=4, help="number of acquisitions")
    parser.add_argument("--size", default="small", help="tiny, small or demo")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    try:
        out = Path(args.out)
        result = steps.simulate(
            DEMO_AOI,
            DEMO_START,
            DEMO_END,
            out / "simulation",
            scenes=args.scenes,
            size=args.size,
            seed=args.seed,
        )
    except S1FloodError as exc:
        print(f"demo_data: error: {exc}", file=sys.stderr)
        return 2
    shutil.copyfile(result.dem, out / "dem.tif")
    print(f"{args.scenes} simulated {args.size} products; STAC catalog {result.catalog}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
