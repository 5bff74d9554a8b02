"""Both polarisations in one pass (``VV+VH``): one two-band COG equal to the single-band runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1flood import errors
from s1flood.preprocessing import preprocess
from s1flood.preprocessing.model import split_polarisations
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
