"""Atomic outputs: the umask's permissions, and temporaries a SIGKILL strands are cleared by the
next write of the same output, never those of a live writer (in this or another process)."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rasterio.crs import CRS

from s1flood.atomic import TempGroup, atomic_path, clear_stale, output_mode, write_text_atomic
from s1flood.raster import BandSpec, Grid, cog_writer

from helpers import UTM33, transform

HOLD = """
import sys, time
from pathlib import Path
from s1flood.atomic import TempGroup
group = TempGroup(Path(sys.argv[1]))
part = group.path(".part")
part.write_bytes(b"half")
Path(str(part) + ".ovr.tmp").write_bytes(b"overview")
print(group.token, flush=True)
time.sleep(60)
"""


def _holder(target: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def _stop(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.stdout is not None
    child.stdout.close()


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_outputs_take_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        assert output_mode() == 0o666 & ~umask
        write_text_atomic(tmp_path / "summary.json", "{}\n")
        grid = Grid(CRS.from_user_input(UTM33), transform(), 64, 64)
        with cog_writer(tmp_path / "mask.tif", grid, BandSpec("uint8", 255, "water")) as dst:
            dst.write(np.ones((1, 64, 64), np.uint8))
    finally:
        os.umask(previous)
    for name in ("summary.json", "mask.tif"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))
    assert _hidden(tmp_path) == []


def test_killed_writers_temporaries_go_at_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    target.write_bytes(b"previous")
    dead, dead_token = _holder(target)
    live, live_token = _holder(target)
    _stop(dead)
    mine = TempGroup(target)
    mine.path(".stage.tif").write_bytes(b"staging")
    assert any(dead_token in name for name in _hidden(tmp_path))

    removed = clear_stale(target)

    assert sorted(removed) == sorted(
        f".out.tif.{dead_token}.{end}" for end in ("lock", "part", "part.ovr.tmp")
    )
    left = _hidden(tmp_path)
    assert not any(dead_token in name for name in left)
    assert {f".out.tif.{live_token}.part.ovr.tmp", f".out.tif.{mine.token}.stage.tif"} <= set(left)
    assert target.read_bytes() == b"previous"
    _stop(live)
    mine.release()
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert _hidden(tmp_path) == []


def test_other_outputs_temporaries_are_not_touched(tmp_path: Path) -> None:
    other = tmp_path / "out.tif.json"
    child, token = _holder(other)
    _stop(child)
    assert clear_stale(tmp_path / "out.tif") == []
    assert any(token in name for name in _hidden(tmp_path))
    assert clear_stale(other)


def test_a_new_lock_file_is_removed_unless_held(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    held = tmp_path / ".x.json.0123abcd.new"
    fd = os.open(held, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a writer between locking it and renaming it to .lock
    try:
        assert clear_stale(target) == []
    finally:
        os.close(fd)
    assert clear_stale(target) == [held.name]  # its writer died before renaming it


def test_failed_block_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"

    def cut() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            Path(f"{tmp}.aux.xml").write_text("gdal side file")
            raise RuntimeError("cut")

    with pytest.raises(RuntimeError):
        cut()
    assert list(tmp_path.iterdir()) == []
