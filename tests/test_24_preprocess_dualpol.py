"""Both polarisations in one pass (``VV+VH``): one two-band COG equal to the single-band runs."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood import errors
from s1flood.preprocessing import preprocess
from s1flood.preprocessing.model import split_polarisations
from s1flood.preprocessing.product import open_polarisations
from s1flood.synthetic.simulate import SimulationResult, simulate

AOI = "POLYGON((12.42 41.90, 12.45 41.90, 12.45 41.925, 12.42 41.925, 12.42 41.90))"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        AOI,
        "2024-05-01",
        "2024-05-02",
        tmp_path_factory.mktemp("sim24"),
        scenes=1,
        size="tiny",
        seed=4,
        progress=False,
    )


@pytest.mark.parametrize("rtc", [False, True])
def test_two_band_cog_equals_single_band_runs(
    sim: SimulationResult, tmp_path: Path, rtc: bool
) -> None:
    product = sim.products[0]
    both = preprocess(
        product, tmp_path / "both.tif", aoi_wkt=AOI, dem=sim.dem, polarisation="vh+vv", rtc=rtc
    )
    assert both.polarisation == "VV+VH"
    singles = {
        pol: preprocess(product, tmp_path / f"{pol}.tif", aoi_wkt=AOI, dem=sim.dem,
                        polarisation=pol, rtc=rtc)
        for pol in ("VV", "VH")
    }  # fmt: skip
    with rasterio.open(both.output) as src:
        assert src.count == 2
        assert src.descriptions == ("VV", "VH")
        assert src.dtypes == ("float32", "float32")
        assert src.tags()["polarisation"] == "VV+VH"
        values = src.read()
        band_tags = [src.tags(1), src.tags(2)]
    quantity = "gamma0" if rtc else "sigma0"
    for index, (pol, single) in enumerate(singles.items()):
        assert band_tags[index]["polarisation"] == pol
        assert band_tags[index]["units"] == "dB"
        assert band_tags[index]["quantity"] == quantity
        with rasterio.open(single.output) as src:
            assert src.count == 1
            assert src.descriptions == (pol,)
            assert src.tags()["units"] == "dB"
            alone = src.read(1)
        assert np.array_equal(np.isnan(values[index]), np.isnan(alone))
        assert np.nanmax(np.abs(values[index] - alone)) <= 1e-4
        assert single.valid_fraction == pytest.approx(both.valid_fraction)
    # VH is darker than VV over the simulated land and water
    assert np.nanmedian(values[1]) < np.nanmedian(values[0]) - 3
    item = json.loads(both.stac_item.read_text())
    assert item["properties"]["sar:polarizations"] == ["VV", "VH"]
    assert len(item["assets"][quantity]["raster:bands"]) == 2


def test_one_polarisation_product_asked_for_both(sim: SimulationResult, tmp_path: Path) -> None:
    single = tmp_path / sim.products[0].name
    shutil.copytree(sim.products[0], single)
    for path in single.rglob("*-vh-*"):
        path.unlink()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(errors.PolarisationNotFoundError) as info:
        preprocess(single, out_dir / "s.tif", aoi_wkt=AOI, dem=sim.dem, polarisation="VV+VH")
    text = str(info.value)
    assert "\n" not in text
    assert "no VH measurement" in text
    assert "available: VV" in text
    assert info.value.exit_code == 2
    assert list(out_dir.iterdir()) == []
    alone = preprocess(single, out_dir / "s.tif", aoi_wkt=AOI, dem=sim.dem, polarisation="VV")
    with rasterio.open(alone.output) as src:
        assert src.count == 1


def test_polarisation_values() -> None:
    assert split_polarisations("VV") == ("VV",)
    assert split_polarisations("vh, vv") == ("VV", "VH")
    assert split_polarisations("HV+HH") == ("HH", "HV")
    for bad in ("VV+HH", "VV+VH+HH", "XX", ""):
        with pytest.raises(errors.InvalidOptionError, match="for polarisation:") as info:
            preprocess(Path("x.SAFE"), Path("x.tif"), aoi_wkt=AOI, dem="d.tif", polarisation=bad)
        assert "\n" not in str(info.value)


SHARED_SAFE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "s1-grd"
    / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
)


def test_metadata_equals_xarray_sentinel(sim: SimulationResult) -> None:
    """The ElementTree parsing gives xarray-sentinel's manifest attributes and LUTs."""
    import xarray as xr

    products = [(sim.products[0], "VH")]
    if SHARED_SAFE.exists():
        products.append((SHARED_SAFE, "VV"))
    for product, pol in products:
        sar = open_polarisations(product, [pol])[0]
        manifest = xr.open_dataset(product, engine="sentinel-1").attrs
        for key in ("family_name", "number", "pass", "product_type", "start_time", "stop_time"):
            assert sar.attrs[key] == manifest[key], key
        for key in ("orbit_number", "relative_orbit_number"):
            assert sar.attrs[key] == manifest[key], key
        assert list(sar.attrs["swaths"]) == list(manifest["swaths"])
        group = f"{manifest['swaths'][0]}/{pol}"
        cal = xr.open_dataset(product, engine="sentinel-1", group=f"{group}/calibration")
        noise = xr.open_dataset(product, engine="sentinel-1", group=f"{group}/noise_range")
        for lut, ds, name in (
            (sar.sigma, cal, "sigmaNought"),
            (sar.beta, cal, "betaNought"),
            (sar.gamma, cal, "gamma"),
            (sar.noise_range, noise, "noiseRangeLut"),
        ):
            assert lut is not None
            assert np.array_equal(lut.lines, ds["line"].values)
            assert np.array_equal(lut.pixels, ds["pixel"].values)
            assert np.array_equal(lut.values, ds[name].values.astype(np.float64))


def test_block_pyramid_overviews_are_valid_means(tmp_path: Path) -> None:
    """Overviews made block by block: the 2 x 2 means of valid pixels, in a valid COG."""
    from affine import Affine
    from rasterio.crs import CRS
    from rio_cogeo.cogeo import cog_validate

    from s1flood.pyramid import pyramid, pyramid_cog
    from s1flood.raster import BandSpec, Grid

    rng = np.random.default_rng(0)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 300_000, 0, -10, 4_600_000), 1300, 700)
    values = rng.normal(-12, 3, (2, 700, 1300)).astype(np.float32)
    values[:, 100:301, 50:99] = np.nan
    values[1, 5, 7] = np.nan
    spec = BandSpec("float32", float("nan"), "VV", band_tags=({"description": "VV"},
                    {"description": "VH", "units": "dB"}))  # fmt: skip
    out = tmp_path / "p.tif"
    with pyramid_cog(out, grid, spec, 512) as cog:
        assert cog.factors == [2, 4]
        for r in range(0, 700, 512):
            for c in range(0, 1300, 512):
                block = values[:, r : r + 512, c : c + 512]
                cog.write(block, r, c, pyramid(block, 2))
    assert cog_validate(out)[0]
    padded = np.full((2, 700, 1300), np.nan, np.float32)
    padded[:] = values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells
        expected = np.nanmean(padded.reshape(2, 350, 2, 650, 2), axis=(2, 4))
    with rasterio.open(out) as src:
        assert src.descriptions == ("VV", "VH")
        assert src.tags(2)["units"] == "dB"
        assert src.overviews(1) == [2, 4]
        assert np.array_equal(src.read(), values, equal_nan=True)
    with rasterio.open(out, OVERVIEW_LEVEL=0) as level:
        got = level.read()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.nanmax(np.abs(got - expected)) < 1e-5
    assert not [p.name for p in tmp_path.iterdir() if p.name != "p.tif"]


CHECK_NO_COMPILE = """
import sys
from pathlib import Path
from s1flood.preprocessing import preprocess
from s1flood.preprocessing.warm import AOI, compiled_kernels
from s1flood.synthetic.simulate import simulate
import s1flood.preprocessing.warm as warm

root = Path(sys.argv[1])
sim = simulate(AOI, "2024-05-01", "2024-05-02", root / "sim", scenes=1, size="tiny", progress=False)
preprocess(sim.products[0], root / "job.tif", aoi_wkt=AOI, dem=sim.dem, polarisation="VV+VH")
preprocess(sim.products[0], root / "rtc.tif", aoi_wkt=AOI, dem=sim.dem, rtc=True)
import importlib
missed = []
for name in compiled_kernels():
    module, _, attr = name.rpartition(".")
    kernel = getattr(importlib.import_module(module), attr)
    if sum(kernel.stats.cache_misses.values()):
        missed.append(name)
print(len(compiled_kernels()), "MISSED", missed)
"""


def test_warm_kernels_leave_nothing_to_compile(tmp_path: Path) -> None:
    """After `warm_kernels` in one process, a job in the next loads every kernel from disk."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    warm = "from s1flood.preprocessing.warm import warm_kernels; print(len(warm_kernels()))"
    done = subprocess.run(
        [sys.executable, "-c", warm], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout.split()[-1]) >= 10
    assert any((tmp_path / "numba").rglob("*.nbi"))
    job = tmp_path / "job"
    job.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CHECK_NO_COMPILE, str(job)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    count, _, missed = done.stdout.strip().splitlines()[-1].partition(" MISSED ")
    assert int(count) >= 10
    assert missed == "[]", missed
