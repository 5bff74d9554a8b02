"""Python preprocessing engine on simulated products: accuracy, grid, errors, no leftovers."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import from_bounds
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from s1flood import errors
from s1flood.classification import classify
from s1flood.grid import target_grid
from s1flood.preprocessing import preprocess
from s1flood.synthetic.simulate import SimulationResult, simulate

AOI = "POLYGON((12.40 41.89, 12.47 41.89, 12.47 41.94, 12.40 41.94, 12.40 41.89))"
SMALL_AOI = "POLYGON((12.42 41.90, 12.45 41.90, 12.45 41.925, 12.42 41.925, 12.42 41.90))"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        AOI,
        "2024-05-01",
        "2024-05-25",
        tmp_path_factory.mktemp("sim25"),
        scenes=3,
        size="small",
        seed=1,
        progress=False,
    )


@pytest.fixture(scope="module")
def peak(sim: SimulationResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("pp25") / "peak.tif"
    preprocess(sim.products[1], out, aoi_wkt=AOI, dem=sim.dem)
    return out, sim.truths[1]


def _truth_on(out: Path, truth: Path) -> np.ndarray:
    with rasterio.open(out) as src, rasterio.open(truth) as tr:
        return tr.read(1, window=from_bounds(*src.bounds, tr.transform))


def _offset_px(db: np.ndarray, truth: np.ndarray) -> float:
    v = np.where(np.isfinite(db), db, np.nanmean(db))
    v = ndimage.uniform_filter(v, 5)
    water = (truth == 1).astype(float)
    shift, _, _ = phase_cross_correlation(
        water - water.mean(), -(v - v.mean()), upsample_factor=20, normalization=None
    )
    return float(np.hypot(*shift))


def test_flood_iou_and_geolocation(peak: tuple[Path, Path], tmp_path: Path) -> None:
    out, truth_path = peak
    mask = tmp_path / "water.tif"
    classify(out, mask)
    with rasterio.open(mask) as src, rasterio.open(out) as s0:
        water = src.read(1)
        db = s0.read(1)
    truth = _truth_on(out, truth_path)
    assert truth.shape == water.shape
    ok = (water != 255) & (truth != 255)
    assert ok.mean() > 0.99
    inter = ((water == 1) & (truth == 1) & ok).sum()
    union = (((water == 1) | (truth == 1)) & ok).sum()
    assert 0.2 < (truth[ok] == 1).mean() < 0.9
    assert inter / union >= 0.95, inter / union
    assert _offset_px(db, truth) <= 0.5


def test_output_cog_grid_tags_and_stac_item(peak: tuple[Path, Path]) -> None:
    out, _ = peak
    grid = target_grid(AOI, 10.0)
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 32633
        assert src.transform == grid.transform
        assert (src.height, src.width) == (grid.height, grid.width)
        assert src.dtypes[0] == "float32"
        assert np.isnan(src.nodata)
        assert src.tags(1).get("units") == "dB" or src.tags().get("units") == "dB"
        assert src.descriptions[0] == "VV"
        assert src.overviews(1)  # a COG with overviews
        db = src.read(1)
    assert -30 < np.nanmedian(db) < 0
    item = json.loads(out.with_suffix(".json").read_text())
    assert item["properties"]["proj:shape"] == [grid.height, grid.width]
    assert item["properties"]["proj:epsg"] == 32633
    assert item["assets"]["sigma0"]["href"] == out.name
    assert item["properties"]["s1flood:processing"]["max_geocoding_error_px"] <= 0.1


def test_speckle_filters_and_no_filter(sim: SimulationResult, tmp_path: Path) -> None:
    spreads = {}
    for name in ("none", "lee", "refined-lee"):
        out = tmp_path / f"{name}.tif"
        res = preprocess(sim.products[0], out, aoi_wkt=SMALL_AOI, dem=sim.dem, speckle=name)
        assert res.valid_fraction > 0.99
        with rasterio.open(out) as src:
            db = src.read(1)
        truth = _truth_on(out, sim.truths[0])
        land = db[(truth == 0) & np.isfinite(db)]
        spreads[name] = float(np.std(land))
    assert spreads["lee"] < 0.85 * spreads["none"]
    assert spreads["refined-lee"] < 0.9 * spreads["none"]


def test_zipped_product_gives_the_same_output(sim: SimulationResult, tmp_path: Path) -> None:
    safe = sim.products[0]
    archive = shutil.make_archive(str(tmp_path / safe.stem), "zip", safe.parent, safe.name)
    a = preprocess(safe, tmp_path / "a.tif", aoi_wkt=SMALL_AOI, dem=sim.dem)
    b = preprocess(Path(archive), tmp_path / "b.tif", aoi_wkt=SMALL_AOI, dem=sim.dem)
    with rasterio.open(a.output) as sa, rasterio.open(b.output) as sb:
        np.testing.assert_array_equal(sa.read(1), sb.read(1))


@pytest.fixture(scope="module")
def two_orbits(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path, Path]]:
    runs = []
    for direction in ("ascending", "descending"):
        res = simulate(
            SMALL_AOI,
            "2024-05-01",
            "2024-05-02",
            tmp_path_factory.mktemp(direction),
            scenes=1,
            size="tiny",
            seed=5,
            orbit_direction=direction,
            progress=False,
        )
        out = res.products[0].parent.parent / f"{direction}.tif"
        preprocess(res.products[0], out, aoi_wkt=SMALL_AOI, dem=res.dem)
        runs.append((out, res.truths[0], res.dem))
    return runs


def test_two_orbits_pixel_aligned(two_orbits: list[tuple[Path, Path, Path]]) -> None:
    (a, _, _), (b, _, _) = two_orbits
    with rasterio.open(a) as sa, rasterio.open(b) as sb:
        assert sa.transform == sb.transform
        assert sa.shape == sb.shape
        assert sa.crs == sb.crs
        va = np.isfinite(sa.read(1))
        vb = np.isfinite(sb.read(1))
    assert (va & vb).mean() > 0.5


def test_sarsen_gtc_agreement(two_orbits: list[tuple[Path, Path, Path]], tmp_path: Path) -> None:
    from sarsen import apps, sentinel1

    from s1flood.preprocessing import PreprocessOptions
    from s1flood.preprocessing.python_engine import PythonEngine
    from s1flood.raster import Grid

    out, _truth_path, dem = two_orbits[1]
    product = next((out.parent / "products").glob("*.SAFE"))
    gtc = tmp_path / "gtc.tif"
    with warnings.catch_warnings():
        for category in (NotGeoreferencedWarning, FutureWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", RuntimeWarning)
        apps.terrain_correction(
            sentinel1.Sentinel1SarProduct(str(product), "IW/VV"), str(dem), output_urlpath=str(gtc)
        )
    with rasterio.open(gtc) as src:
        ref = src.read(1)
        transform = src.transform
        crs = src.crs
        if transform.e > 0:
            ref = ref[::-1]
            transform = (
                transform
                * rasterio.Affine.translation(0, ref.shape[0])
                * rasterio.Affine.scale(1, -1)
            )
    from pyproj import CRS

    from s1flood.aoi import parse_aoi_wkt

    grid = Grid(CRS.from_wkt(crs.to_wkt()), transform, ref.shape[1], ref.shape[0])
    options = PreprocessOptions(
        aoi=parse_aoi_wkt(SMALL_AOI),
        grid=grid,
        dem=dem,
        speckle="none",
        lut="beta",
        noise_removal=False,
    )
    mine_path = tmp_path / "beta0.tif"
    PythonEngine().run(product, mine_path, options)
    with rasterio.open(mine_path) as src:
        mine = 10 ** (src.read(1) / 10)
    both = np.isfinite(mine) & np.isfinite(ref) & (ref > 0)
    assert both.mean() > 0.3
    # homogeneous areas: 9 x 9 means where the local coefficient of variation is speckle-like
    fill_m = np.where(both, mine, 0.0)
    fill_r = np.where(both, ref, 0.0)
    n = ndimage.uniform_filter(both.astype(float), 9)
    mean_m = ndimage.uniform_filter(fill_m, 9) / np.maximum(n, 1e-9)
    mean_r = ndimage.uniform_filter(fill_r, 9) / np.maximum(n, 1e-9)
    sq_r = ndimage.uniform_filter(fill_r**2, 9) / np.maximum(n, 1e-9)
    cv = np.sqrt(np.maximum(sq_r - mean_r**2, 0)) / np.maximum(mean_r, 1e-12)
    homogeneous = (n > 0.999) & (cv < 0.8)
    assert homogeneous.sum() > 1000
    diff = 10 * np.log10(mean_m[homogeneous] / mean_r[homogeneous])
    assert abs(float(np.median(diff))) <= 0.1, np.median(diff)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_bad_inputs_one_line_errors_no_output(sim: SimulationResult, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "s.tif"
    product = sim.products[0]
    not_product = tmp_path / "folder.SAFE"
    not_product.mkdir()
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"product": not_product}, errors.ProductError, "not a Sentinel-1 product"),
        ({"product": tmp_path / "missing.SAFE"}, errors.ProductError, "no such file"),
        ({"polarisation": "HH"}, errors.PolarisationNotFoundError, "no HH measurement"),
        (
            {"aoi_wkt": "POLYGON((20 50, 20.1 50, 20.1 50.1, 20 50.1, 20 50))"},
            errors.AoiOutsideFootprintError,
            "outside the product footprint",
        ),
        ({"speckle": "median"}, errors.InvalidOptionError, "for speckle:"),
        ({"window": 4}, errors.InvalidOptionError, "for window:"),
        ({"engine": "gamma"}, errors.InvalidOptionError, "for engine:"),
    ]
    for override, error, text in cases:
        kwargs: dict[str, object] = {"product": product, "aoi_wkt": SMALL_AOI, "dem": sim.dem}
        kwargs.update(override)
        with pytest.raises(error) as info:
            preprocess(kwargs.pop("product"), out, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)
        assert text in str(info.value)
        assert info.value.exit_code == 2  # type: ignore[attr-defined]
        assert _leftovers(out_dir) == []


def test_dem_not_covering_the_aoi(sim: SimulationResult, tmp_path: Path) -> None:
    small_dem = tmp_path / "dem_part.tif"
    with rasterio.open(sim.dem) as src:
        profile = src.profile
        window = rasterio.windows.Window(0, 0, src.width // 3, src.height // 3)
        profile.update(
            width=window.width, height=window.height, transform=src.window_transform(window)
        )
        data = src.read(1, window=window)
    with rasterio.open(small_dem, "w", **profile) as dst:
        dst.write(data, 1)
    out = tmp_path / "out" / "s.tif"
    with pytest.raises(errors.DemCoverageError) as info:
        preprocess(sim.products[0], out, aoi_wkt=AOI, dem=small_dem)
    assert "DEM does not cover the AOI" in str(info.value)
    assert not out.exists()
    assert not out.with_suffix(".json").exists()


def test_corrupt_measurement_leaves_nothing(sim: SimulationResult, tmp_path: Path) -> None:
    broken = tmp_path / sim.products[0].name
    shutil.copytree(sim.products[0], broken)
    tiff = next((broken / "measurement").glob("*-vv-*.tiff"))
    data = tiff.read_bytes()
    tiff.write_bytes(data[: len(data) // 3])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(errors.ProductError) as info:
        preprocess(broken, out_dir / "s.tif", aoi_wkt=SMALL_AOI, dem=sim.dem)
    assert "measurement file" in str(info.value)
    assert "\n" not in str(info.value)
    assert _leftovers(out_dir) == []


def test_existing_output_needs_overwrite(sim: SimulationResult, tmp_path: Path) -> None:
    out = tmp_path / "s.tif"
    out.write_bytes(b"x")
    with pytest.raises(errors.OutputExistsError):
        preprocess(sim.products[0], out, aoi_wkt=SMALL_AOI, dem=sim.dem)
    assert out.read_bytes() == b"x"


def test_rtc_gamma0_on_flat_ground(sim: SimulationResult, tmp_path: Path) -> None:
    sigma = preprocess(sim.products[0], tmp_path / "s.tif", aoi_wkt=SMALL_AOI, dem=sim.dem)
    gamma = preprocess(
        sim.products[0], tmp_path / "g.tif", aoi_wkt=SMALL_AOI, dem=sim.dem, rtc=True
    )
    assert gamma.quantity == "gamma0"
    assert gamma.valid_fraction > 0.95
    with rasterio.open(sigma.output) as s, rasterio.open(gamma.output) as g:
        ds = s.read(1)
        dg = g.read(1)
        assert g.tags(1).get("quantity", g.tags().get("quantity")) == "gamma0"
    with rasterio.open(sim.dem) as dem_src:
        heights = dem_src.read(
            1, window=from_bounds(*rasterio.open(sigma.output).bounds, dem_src.transform)
        )
    gy, gx = np.gradient(heights, 10.0)
    flat = (np.hypot(gx, gy) < 0.01) & np.isfinite(ds) & np.isfinite(dg)
    assert flat.sum() > 1000
    # flat ground: gamma0 = sigma0 / cos(incidence), +0.9 .. +1.4 dB at 33..43 degrees
    diff = float(np.median(dg[flat] - ds[flat]))
    assert 0.8 < diff < 1.5, diff
    item = json.loads(gamma.stac_item.read_text())
    assert "gamma0" in item["assets"]
