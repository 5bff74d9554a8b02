"""Building blocks of preprocessing: target grid, speckle filters, calibration, node mapping."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from s1flood import errors
from s1flood.grid import target_grid, utm_crs
from s1flood.preprocessing.calibration import calibrate
from s1flood.preprocessing.geocoding import Geocoder, RegionMapper
from s1flood.preprocessing.product import open_product
from s1flood.preprocessing.python_engine import orbit_model
from s1flood.preprocessing.speckle import speckle_filter
from s1flood.synthetic.simulate import SimulationResult, simulate

AOI = "POLYGON((12.42 41.90, 12.45 41.90, 12.45 41.925, 12.42 41.925, 12.42 41.90))"


def test_target_grid_utm_snapped_and_shared() -> None:
    grid = target_grid(AOI, 10.0)
    assert grid.crs.to_epsg() == 32633
    t = grid.transform
    assert t.a == 10.0
    assert t.e == -10.0
    assert t.c % 10 == 0
    assert t.f % 10 == 0
    # a slightly different outline of the same place: the same pixel lattice
    other = target_grid(
        "POLYGON((12.421 41.901, 12.44 41.901, 12.44 41.92, 12.421 41.92, 12.421 41.901))"
    )
    assert (other.transform.c - t.c) % 10 == 0
    assert (other.transform.f - t.f) % 10 == 0
    assert target_grid(AOI, 20.0, "EPSG:32632").crs.to_epsg() == 32632
    assert utm_crs(-70.0, -33.0).to_epsg() == 32719
    with pytest.raises(errors.InvalidOptionError, match="for crs:"):
        target_grid(AOI, 10.0, "EPSG:4326")
    with pytest.raises(errors.InvalidOptionError, match="for resolution:"):
        target_grid(AOI, 0.0)


def test_lee_filters_keep_mean_reduce_variance(rng: np.random.Generator) -> None:
    looks = 4.4
    image = (rng.gamma(looks, 1 / looks, (200, 200)) * 0.1).astype(np.float32)
    image[50, 50] = np.nan
    for name in ("lee", "refined-lee"):
        out = speckle_filter(image, name, 7)
        assert np.isnan(out[50, 50])
        ok = np.isfinite(out)
        assert abs(np.nanmean(out) / np.nanmean(image) - 1) < 0.02
        assert np.std(out[ok]) < 0.45 * np.nanstd(image)
    assert speckle_filter(image, "none", 5) is image


def test_refined_lee_keeps_an_edge(rng: np.random.Generator) -> None:
    base = np.where(np.arange(100)[None, :] < 50, 0.2, 0.01).astype(np.float32)
    image = (base * rng.gamma(4.4, 1 / 4.4, (100, 100))).astype(np.float32)
    refined = speckle_filter(image, "refined-lee", 7)
    lee = speckle_filter(image, "lee", 7)
    # next to the edge the refined filter mixes the two sides less than the box filter
    dark = refined[:, 51:53].mean()
    assert dark < lee[:, 51:53].mean()
    assert dark < 0.03


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        AOI,
        "2024-05-01",
        "2024-05-02",
        tmp_path_factory.mktemp("sim28"),
        scenes=1,
        size="tiny",
        seed=2,
        progress=False,
    )


def test_calibration_matches_xarray_sentinel(tiny: SimulationResult) -> None:
    import xarray as xr
    import xarray_sentinel

    product = tiny.products[0]
    sar = open_product(product, "VV")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        ds = xr.open_dataset(product, engine="sentinel-1", group="IW/VV")
        cal = xr.open_dataset(product, engine="sentinel-1", group="IW/VV/calibration")
        window = ds.measurement.isel(azimuth_time=slice(100, 180), ground_range=slice(50, 250))
        ref = xarray_sentinel.calibrate_intensity(window, cal.sigmaNought).values
        with rasterio.open(sar.measurement) as src:
            dn = src.read(1, window=((100, 180), (50, 250)))
    mine = calibrate(sar, dn, 100, 50, "sigma", remove_noise=False)
    np.testing.assert_allclose(mine, ref, rtol=2e-5)
    denoised = calibrate(sar, dn, 100, 50, "sigma", remove_noise=True)
    assert np.nanmean(denoised) < np.nanmean(mine)


def test_node_interpolation_error_is_measured_and_bounded(tiny: SimulationResult) -> None:
    sar = open_product(tiny.products[0], "VV")
    geocoder = Geocoder.of(sar, orbit_model(sar, None))
    grid = target_grid(AOI, 10.0)
    rng = np.random.default_rng(0)
    heights = (50 + 300 * rng.random((grid.height, grid.width))).astype(np.float32)
    region = RegionMapper(geocoder, grid).map(0, 0, heights, shadow=False)
    assert region.max_error_px <= 0.1
    # exact solutions at random pixels agree with the interpolated mapping
    rows = rng.integers(0, grid.height, 200)
    cols = rng.integers(0, grid.width, 200)
    from pyproj import Transformer

    t = grid.transform
    x = t.c + t.a * (cols + 0.5)
    y = t.f + t.e * (rows + 0.5)
    lon, lat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform(x, y)
    line, sample = geocoder.lonlat_to_radar(
        np.asarray(lon), np.asarray(lat), heights[rows, cols].astype(np.float64)
    )
    assert np.abs(region.line[rows, cols] - line).max() <= 0.1
    assert np.abs(region.sample[rows, cols] - sample).max() <= 0.1


def test_unreadable_dem_is_one_line(tiny: SimulationResult, tmp_path: Path) -> None:
    from s1flood.preprocessing import preprocess

    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    with pytest.raises(errors.RasterReadError) as info:
        preprocess(tiny.products[0], tmp_path / "o.tif", aoi_wkt=AOI, dem=bad)
    assert "\n" not in str(info.value)


def test_shadow_behind_and_layover_in_front_of_a_ridge(tiny: SimulationResult) -> None:
    from s1flood.preprocessing.geocoding import LAYOVER, SHADOW

    sar = open_product(tiny.products[0], "VV")
    geocoder = Geocoder.of(sar, orbit_model(sar, None))
    grid = target_grid(AOI, 10.0)
    heights = np.full((grid.height, grid.width), 50.0, np.float32)
    mid = grid.width // 2
    heights[:, mid - 3 : mid + 3] = 450.0  # a 400 m wall running north-south
    region = RegionMapper(geocoder, grid).map(0, 0, heights)
    row = grid.height // 2
    marks = region.mask[row]
    near_side = -1 if region.sample[row, mid - 10] < region.sample[row, mid + 10] else 1
    far = marks[mid + 3 :] if near_side == -1 else marks[: mid - 3][::-1]
    near = marks[: mid - 3][::-1] if near_side == -1 else marks[mid + 3 :]
    # behind the wall: shadow over about 400 m / tan(90° - incidence) (incidence 30..45°)
    shadow_len = int(np.argmax(far != SHADOW))
    assert 23 <= shadow_len <= 70, shadow_len
    assert (near[:5] != SHADOW).all()
    # the wall's face towards the sensor lies over: its edge pixel is marked
    face = mid - 3 if near_side == -1 else mid + 2
    assert region.mask[row, face] == LAYOVER or (region.mask[row, :] == LAYOVER).any()
    assert (region.mask[:, :5] == 0).all()
