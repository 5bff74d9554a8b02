"""The command line: results, and one-line errors with non-zero exit codes for user mistakes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import rasterio
import rasterio.shutil

from s1flood import __version__
from s1flood.cli import main

from helpers import bimodal_scene, read, write_tif


@pytest.fixture
def files(tmp_path, rng):
    linear, _ = bimodal_scene(rng, (200, 200))
    sigma0 = write_tif(tmp_path / "sigma0.tif", linear, descriptions=["VV"])
    mask = write_tif(tmp_path / "mask.tif", np.zeros((50, 50), np.uint8), nodata=255)
    no_crs = write_tif(tmp_path / "nocrs.tif", linear, crs=None)
    bad_mask = write_tif(tmp_path / "bad_mask.tif", np.full((50, 50), 3, np.uint8))
    float_mask = write_tif(tmp_path / "float_mask.tif", np.zeros((50, 50), np.float32))
    constant = write_tif(tmp_path / "constant.tif", np.full((60, 60), 0.05, np.float32))
    text = tmp_path / "notes.txt"
    text.write_text("not a raster\n")
    empty_list = tmp_path / "empty.txt"
    empty_list.write_text("# no masks yet\n")
    existing = tmp_path / "existing.tif"
    existing.write_bytes(b"keep me")
    return {
        "truncated": truncated_copy(sigma0, tmp_path / "truncated.tif"),
        "truncated_mask": truncated_copy(
            write_tif(tmp_path / "big_mask.tif", (linear > 0.05).astype(np.uint8), nodata=255),
            tmp_path / "truncated_mask.tif",
        ),
        "sigma0": sigma0,
        "mask": mask,
        "no_crs": no_crs,
        "bad_mask": bad_mask,
        "float_mask": float_mask,
        "constant": constant,
        "text": text,
        "empty_list": empty_list,
        "existing": existing,
        "tmp": tmp_path,
    }


def truncated_copy(source, target):
    """A COG (header first) cut in the middle of its pixel data, as a broken download is."""
    cog = target.with_name(f"whole_{target.name}")
    rasterio.shutil.copy(source, cog, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=64)
    data = cog.read_bytes()
    target.write_bytes(data[: len(data) * 2 // 3])
    return target


AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
WINDOW = ["--start", "2026-11-01", "--end", "2026-11-20"]
SIM = [*WINDOW, "-o", "{tmp}/sim"]

BAD_INPUTS = {
    "missing input": (["classify", "{tmp}/nope.tif", "{tmp}/w.tif"], "nope.tif: no such file"),
    "not a raster": (["classify", "{text}", "{tmp}/w.tif"], "not a readable raster"),
    "directory as input": (["classify", "{tmp}", "{tmp}/w.tif"], "is a directory"),
    "no CRS": (["classify", "{no_crs}", "{tmp}/w.tif"], "has no CRS"),
    "band index": (["classify", "{sigma0}", "{tmp}/w.tif", "--band", "4"], "no band '4'"),
    "band name": (["classify", "{sigma0}", "{tmp}/w.tif", "--band", "HV"], "no band 'HV'"),
    "classes": (["classify", "{sigma0}", "{tmp}/w.tif", "--classes", "1"], "--classes"),
    "classes type": (["classify", "{sigma0}", "{tmp}/w.tif", "--classes", "x"], "'--classes'"),
    "units": (["classify", "{sigma0}", "{tmp}/w.tif", "--units", "amplitude"], "--units"),
    "output exists": (["classify", "{sigma0}", "{existing}"], "already exists"),
    "truncated input": (
        ["classify", "{truncated}", "{tmp}/w.tif", "--allow-unimodal"],
        "truncated.tif: corrupt or truncated raster",
    ),
    "truncated mask": (
        ["aggregate", "{mask}", "{truncated_mask}", "-o", "{tmp}/agg"],
        "truncated_mask.tif: corrupt or truncated raster",
    ),
    "unwritable dir": (["classify", "{sigma0}", "{text}/sub/w.tif"], "cannot write output"),
    "constant": (["classify", "{constant}", "{tmp}/w.tif"], "constant raster"),
    "empty list": (["aggregate", "@{empty_list}", "-o", "{tmp}/agg"], "no water masks given"),
    "missing list": (["aggregate", "@{tmp}/none.txt", "-o", "{tmp}/agg"], "cannot read mask list"),
    "mask values": (["aggregate", "{mask}", "{bad_mask}", "-o", "{tmp}/agg"], "value 3"),
    "mask type": (["aggregate", "{float_mask}", "-o", "{tmp}/agg"], "data type float32"),
    "thresholds": (
        ["aggregate", "{mask}", "-o", "{tmp}/agg", "--candidate", "0.5", "--permanent", "0.4"],
        "--candidate",
    ),
    "missing option": (["aggregate", "{mask}"], "'--out-dir'"),
    "aoi not a polygon": (["simulate", "--aoi", "POINT (12.5 42)", *SIM], "--aoi"),
    "aoi not wkt": (["simulate", "--aoi", "Rome", *SIM], "--aoi"),
    "end before start": (
        [
            "simulate",
            "--aoi",
            AOI,
            "--start",
            "2026-11-02",
            "--end",
            "2026-11-01",
            "-o",
            "{tmp}/sim",
        ],
        "--end",
    ),
    "size unknown": (["simulate", "--aoi", AOI, *SIM, "--size", "huge"], "--size"),
    "dem without crs": (["simulate", "--aoi", AOI, *SIM, "--dem", "{no_crs}"], "has no CRS"),
    "demo size": (["demo", "-o", "{tmp}/demo", "--size", "full"], "--size"),
    "unknown catalogue": (["discover", "--aoi", AOI, *WINDOW, "--catalogue", "scihub"], "scihub"),
    "missing local catalogue": (
        ["discover", "--aoi", AOI, *WINDOW, "--catalogue", "local:{tmp}/none/catalog.json"],
        "none/catalog.json",
    ),
    "preprocess not a product": (
        ["preprocess", "{sigma0}", "-o", "{tmp}/s.tif", "--aoi", AOI, "--dem", "{sigma0}"],
        "not a Sentinel-1 product",
    ),
    "preprocess engine": (
        [
            "preprocess",
            "{tmp}",
            "-o",
            "{tmp}/s.tif",
            "--aoi",
            AOI,
            "--dem",
            "{sigma0}",
            "--engine",
            "gamma",
        ],
        "--engine",
    ),
    "preprocess speckle": (
        [
            "preprocess",
            "{tmp}",
            "-o",
            "{tmp}/s.tif",
            "--aoi",
            AOI,
            "--dem",
            "{sigma0}",
            "--speckle",
            "median",
        ],
        "--speckle",
    ),
    "discover bad setting": (
        ["discover", "--aoi", AOI, *WINDOW, "--set", "asf_url"],
        "--set",
    ),
    "discover unknown setting": (
        ["discover", "--aoi", AOI, *WINDOW, "--set", "colour=blue"],
        "unknown discovery setting",
    ),
    "discover bad window": (
        ["discover", "--aoi", AOI, "--start", "yesterday", "--end", "2026-11-20"],
        "--start",
    ),
    "unknown option": (["classify", "--speed", "9"], "--speed"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_non_zero(case, files, capsys):
    args, expected = BAD_INPUTS[case]
    code = main([a.format(**files) for a in args])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1, err
    assert lines[0].startswith("s1flood: error: ")
    assert expected in lines[0]
    assert "Traceback" not in err
    assert files["existing"].read_bytes() == b"keep me"


def test_classify_and_aggregate_commands(files, capsys):
    tmp = files["tmp"]
    assert main(["-q", "classify", str(files["sigma0"]), str(tmp / "w.tif"), "--band", "VV"]) == 0
    assert "water below" in capsys.readouterr().out
    listing = tmp / "masks.txt"
    listing.write_text("w.tif\n")
    assert main(["-q", "aggregate", f"@{listing}", str(tmp / "w.tif"), "-o", str(tmp / "f")]) == 0
    assert "2 scenes" in capsys.readouterr().out
    assert read(tmp / "f" / "water_count.tif").max() == 2


def test_console_script_version_and_error_exit_code(tmp_path):
    script = [sys.executable, "-m", "s1flood.cli"]
    done = subprocess.run([*script, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"s1flood {__version__}"
    failed = subprocess.run(
        [*script, "classify", str(tmp_path / "x.tif"), str(tmp_path / "w.tif")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [f"s1flood: error: {tmp_path}/x.tif: no such file"]
