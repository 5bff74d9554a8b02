"""Compile (and cache on disk) every preprocessing kernel once, at install or image build time.

numba compiles a kernel for the argument types of its first call and, with ``cache=True``,
keeps the machine code beside the sources (or in ``NUMBA_CACHE_DIR``); a later process
loads it instead of compiling. `warm_kernels` preprocesses a tiny simulated product in
every mode (VV+VH, Lee, refined Lee, no filter, RTC), so each kernel is compiled for exactly
the types a job passes it, and the first job compiles nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

AOI = "POLYGON((12.42 41.90, 12.45 41.90, 12.45 41.925, 12.42 41.925, 12.42 41.90))"


def warm_kernels(work_dir: Path | str | None = None) -> list[str]:
    """Compile and cache the simulator's and the preprocessing's kernels; return their names.

    Args:
        work_dir: a folder for the tiny product and outputs (default: a temporary folder,
            removed afterwards).
    """
    from s1flood.preprocessing import preprocess
    from s1flood.synthetic.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="s1flood-warm-") as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        sim = simulate(
            AOI, "2024-05-01", "2024-05-02", root / "sim", scenes=1, size="tiny", progress=False
        )
        runs: list[dict[str, object]] = [
            {"polarisation": "VV+VH"},
            {"speckle": "refined-lee"},
            {"speckle": "none"},
            {"rtc": True},
        ]
        for k, run in enumerate(runs):
            preprocess(
                sim.products[0], root / f"warm{k}.tif", aoi_wkt=AOI, dem=sim.dem, overwrite=True,
                **run,  # type: ignore[arg-type]
            )  # fmt: skip
    return compiled_kernels()


def compiled_kernels() -> list[str]:
    """``module.kernel`` of every numba kernel of s1flood loaded so far that has been compiled."""
    import sys

    from numba.core.registry import CPUDispatcher

    names = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("s1flood") or module is None:
            continue
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.signatures:
                names.append(f"{module_name}.{attr}")
    return sorted(set(names))
