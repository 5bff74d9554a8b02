"""A full disk: outputs on a small tmpfs (root only; skipped cleanly otherwise).

`classify`, `aggregate`, `fetch` and a workflow run whose outputs land on a tmpfs left with
about 16 KB free end with one line naming the disk (ENOSPC), leave no partial file or
temporary, and leave the inputs and the earlier outputs as they were.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from faults import S1FLOOD, products, run, temporaries
from fetching import command as fetch_command
from fetching import enlarge, environment, final_path
from servers.cdse import start_cdse
from workflow_runs import BIN, CWL, cwltool_command, job, simulate
from workflow_runs import environment as run_environment

from helpers import bimodal_scene, write_tif

pytestmark = pytest.mark.slow

LEFT_FREE = 16_000


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, made and removed here."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if made.returncode:
        pytest.skip(f"cannot mount a tmpfs: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> None:
    """Leave about `LEFT_FREE` bytes free on `disk`."""
    stat = os.statvfs(disk)
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * (stat.f_bavail * stat.f_frsize - LEFT_FREE))


def fails_on_full_disk(args: list[str], disk: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("s1flood: error:"), done.stderr[-1000:]
    assert "ENOSPC" in last, last
    assert str(disk) in last, last


def test_classify_and_aggregate_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    linear, _ = bimodal_scene(np.random.default_rng(23), (1000, 1000))
    sigma0 = write_tif(tmp_path / "sigma0.tif", linear, descriptions=["VV"])
    masks = []
    for index in range(3):
        water = (np.random.default_rng(index).random((800, 800)) < 0.3).astype(np.uint8)
        masks.append(str(write_tif(tmp_path / f"m{index}.tif", water, nodata=255)))
    inputs = {p.name: p.read_bytes() for p in tmp_path.glob("*.tif")}
    out = disk / "out"
    run([str(S1FLOOD), "-q", "classify", str(sigma0), str(out / "w.tif")])
    earlier = products(out)
    fill(disk)
    fails_on_full_disk([str(S1FLOOD), "-q", "classify", str(sigma0), str(out / "w.tif"),
                        "--overwrite"], out)  # fmt: skip
    fails_on_full_disk([str(S1FLOOD), "-q", "classify", str(sigma0), str(out / "new.tif")], out)
    fails_on_full_disk([str(S1FLOOD), "-q", "aggregate", *masks, "-o", str(out / "freq")],
                       out / "freq")  # fmt: skip
    assert products(out) == earlier
    assert not temporaries(disk)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.tif")} == inputs


def test_fetch_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    main, zipper, state = start_cdse()
    try:
        product = enlarge(state, 0, 300_000)
        env = environment(main, state, tmp_path, retries=1, backoff=0.05)
        out = disk / "products"
        out.mkdir()
        (out / "earlier.zip").write_bytes(b"an earlier product")
        fill(disk)
        fails_on_full_disk(fetch_command(product, out, "-q"), out, env)
        assert not final_path(product, out).exists()
        assert sorted(p.name for p in out.iterdir()) == ["earlier.zip"]
        assert (out / "earlier.zip").read_bytes() == b"an earlier product"
    finally:
        main.close()
        zipper.close()


def test_workflow_on_a_full_disk(disk: Path, tmp_path: Path) -> None:
    simulation = simulate(tmp_path / "sim", 1)
    before = products(simulation)
    work = tmp_path / "run"
    command, _ = cwltool_command(CWL / "workflow.cwl", job(tmp_path / "job.yml", simulation), work)
    at = command.index("--tmp-outdir-prefix")
    command[at + 1] = f"{disk}/jobs/"  # every job writes its outputs on the full disk
    command[command.index("--outdir") + 1] = str(disk / "out")
    fill(disk)
    done = subprocess.run(command, capture_output=True, text=True, env=run_environment(BIN),
                          cwd=tmp_path, timeout=600, check=False)  # fmt: skip
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("s1flood: error:")]
    assert errors, done.stderr[-3000:]
    assert all("ENOSPC" in line for line in errors), errors
    assert "Traceback" not in done.stderr
    assert not (disk / "out").exists() or not products(disk / "out")
    assert products(simulation) == before
