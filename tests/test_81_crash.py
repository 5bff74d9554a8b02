"""SIGKILL of classify, aggregate and preprocess at seeded random moments (long: bench_faults).

After each kill every output is whole (the previous product or the new one, pixel for pixel);
the rerun completes, gives what an uninterrupted run gives, and leaves no temporary.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faults import S1FLOOD, kill_series, products, run, temporaries

from helpers import bimodal_scene, write_tif

pytestmark = pytest.mark.slow


def classify_case(
    tmp: Path, size: int = 1000
) -> tuple[list[str], Path, Path, dict[str, str], float]:
    """The classify command, its output folder, previous products, new products, duration."""
    linear, _ = bimodal_scene(np.random.default_rng(23), (size, size))
    sigma0 = write_tif(tmp / "sigma0.tif", linear, descriptions=["VV"])
    previous, fresh, out = tmp / "previous", tmp / "fresh", tmp / "out"
    run([str(S1FLOOD), "-q", "classify", str(sigma0), str(previous / "w.tif"), "--method", "otsu"])
    command = [str(S1FLOOD), "-q", "classify", str(sigma0), str(fresh / "w.tif")]
    duration = run(command)
    expected = products(fresh)
    shutil.rmtree(fresh)
    return [*command[:-1], str(out / "w.tif"), "--overwrite"], out, previous, expected, duration


def aggregate_case(
    tmp: Path, size: int = 1000, scenes: int = 4
) -> tuple[list[str], Path, Path, dict[str, str], float]:
    """The aggregate command, its output folder, previous products, new products, duration."""
    rng = np.random.default_rng(24)
    masks = []
    for index in range(scenes):
        water = (rng.random((size, size)) < 0.1 + 0.2 * index).astype(np.uint8)
        water[:, : size // 10] = 255
        masks.append(str(write_tif(tmp / f"mask{index}.tif", water, nodata=255)))
    previous, fresh, out = tmp / "previous", tmp / "fresh", tmp / "out"
    run([str(S1FLOOD), "-q", "aggregate", *masks, "-o", str(previous), "--candidate", "0.3"])
    command = [str(S1FLOOD), "-q", "aggregate", *masks, "-o"]
    duration = run([*command, str(fresh)])
    expected = products(fresh)
    shutil.rmtree(fresh)
    return [*command, str(out), "--overwrite"], out, previous, expected, duration


def preprocess_case(
    tmp: Path, size: int = 1000
) -> tuple[list[str], Path, Path, dict[str, str], float]:
    """The preprocess command (a tiny simulated product; `size` is unused), its output folder,
    previous products (at 20 m), new products (10 m), duration.
    """
    from s1flood import steps
    from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START

    simulation = tmp / "simulation"
    steps.simulate(DEMO_AOI, DEMO_START, DEMO_END, simulation, scenes=1, size="tiny", seed=0)
    (product,) = sorted((simulation / "products").glob("*.SAFE"))
    previous, fresh, out = tmp / "previous", tmp / "fresh", tmp / "out"
    command = [str(S1FLOOD), "-q", "preprocess", str(product), "--aoi", DEMO_AOI, "--dem",
               str(simulation / "dem" / "dem.tif"), "-o"]  # fmt: skip
    run([*command, str(previous / "s.tif"), "--resolution", "20"])
    duration = run([*command, str(fresh / "s.tif")])
    expected = products(fresh)
    shutil.rmtree(fresh)
    return [*command, str(out / "s.tif"), "--overwrite"], out, previous, expected, duration


CASES = {"classify": classify_case, "aggregate": aggregate_case, "preprocess": preprocess_case}


@pytest.mark.parametrize(("name", "kills"), [("classify", 2), ("aggregate", 2), ("preprocess", 2)])
def test_sigkill_leaves_whole_products_and_the_rerun_clears_temporaries(
    tmp_path: Path, name: str, kills: int
) -> None:
    args, out, previous, expected, duration = CASES[name](tmp_path)
    assert expected
    assert not temporaries(previous)
    report = kill_series(name, args, out, previous, expected, duration, kills, seed=2023)
    assert report.ok(), report.problems
    assert report.kills == kills
