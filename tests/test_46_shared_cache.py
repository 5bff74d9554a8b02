"""One cache for every job of a run: the s1flood cache, the tools' caches, prebuilt kernels."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from s1flood import cache
from s1flood.cache import cache_dir, tool_cache_environment

# One project kernel, called once: how many of its signatures numba loaded from a cache.
CALL_KERNEL = """
import os, sys
import numpy as np
from s1flood.cache import tool_cache_environment
os.environ.update(tool_cache_environment())
from s1flood.kernels import accumulate_mask
mask = np.array([[0, 1], [255, 1]], dtype=np.uint8)
water = np.zeros((2, 2), np.uint16)
valid = np.zeros((2, 2), np.uint16)
accumulate_mask(mask, water, valid)
assert water.tolist() == [[0, 1], [0, 1]] and valid.tolist() == [[1, 1], [0, 1]]
print(os.environ.get("NUMBA_CACHE_DIR", ""), accumulate_mask.stats.cache_hits.most_common())
"""


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    drop = ("S1FLOOD_CACHE_DIR", "S1FLOOD_PREBUILT_KERNELS", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")
    env = {k: v for k, v in os.environ.items() if k not in drop and k not in ("MPLCONFIGDIR",)}
    return {**env, "HOME": str(home), **extra}


def test_shared_cache_carries_the_tools_caches(tmp_path: Path) -> None:
    env = {"S1FLOOD_CACHE_DIR": str(tmp_path / "run-cache"), "HOME": str(tmp_path / "job")}
    added = tool_cache_environment(env)
    assert added == {
        "MPLCONFIGDIR": str(tmp_path / "run-cache" / "matplotlib"),
        "IPYTHONDIR": str(tmp_path / "run-cache" / "ipython"),
    }
    # what a user (or an image) set already is kept
    kept = tool_cache_environment({**env, "MPLCONFIGDIR": "/elsewhere"})
    assert "MPLCONFIGDIR" not in kept
    assert "IPYTHONDIR" in kept
    # no shared cache: each tool keeps its own default
    assert tool_cache_environment({"HOME": str(tmp_path)}) == {}


def test_an_unwritable_shared_cache_falls_back_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"S1FLOOD_CACHE_DIR": str(blocker / "cache"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    cache._cache_root.cache_clear()
    with caplog.at_level(logging.WARNING, logger="s1flood.cache"):
        first = cache_dir("dem", env)
        again = cache_dir("orbits", env)
    assert first == tmp_path / "xdg" / "s1flood" / "dem"
    assert again.parent == first.parent
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot be written" in warnings[0]
    assert str(blocker / "cache") in warnings[0]


def test_prebuilt_kernels_are_copied_once_and_loaded_not_compiled(tmp_path: Path) -> None:
    prebuilt = tmp_path / "image-kernels"
    build = subprocess.run(
        [sys.executable, "-c", CALL_KERNEL],
        env=_clean_env(tmp_path / "build-home", NUMBA_CACHE_DIR=str(prebuilt)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert build.stdout.split()[0] == str(prebuilt)
    built = sorted(p.name for p in prebuilt.rglob("*") if p.is_file())
    assert any(name.endswith(".nbi") for name in built), built

    job_home = tmp_path / "job"
    run = subprocess.run(
        [sys.executable, "-c", CALL_KERNEL],
        env=_clean_env(job_home, S1FLOOD_PREBUILT_KERNELS=str(prebuilt)),
        capture_output=True,
        text=True,
        check=True,
    )
    numba_dir = job_home / ".cache" / "s1flood" / "numba"
    assert run.stdout.split()[0] == str(numba_dir)
    assert "[]" not in run.stdout, f"compiled instead of loaded: {run.stdout}"
    copied = sorted(p.name for p in numba_dir.rglob("*") if p.is_file())
    assert copied == built
    stamp = {p: p.stat().st_mtime_ns for p in numba_dir.rglob("*") if p.is_file()}
    subprocess.run(
        [sys.executable, "-c", CALL_KERNEL],
        env=_clean_env(job_home, S1FLOOD_PREBUILT_KERNELS=str(prebuilt)),
        check=True,
        capture_output=True,
    )
    assert {p: p.stat().st_mtime_ns for p in numba_dir.rglob("*") if p.is_file()} == stamp
