"""Flood depth on analytic terrain with a known water level, for both estimators."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_bounds, xy
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_validate

from s1flood.errors import InvalidOptionError
from s1flood.flood import flood_depth
from s1flood.flood.depth import MAX_HOLE_PX, SPREAD_REACH_PX

from helpers import ORIGIN, write_tif

N = 300
EIGHT = np.ones((3, 3), bool)


def flume(level_col: float = 80.5) -> tuple[np.ndarray, float]:
    """A plane rising 5 cm per column between two walls; the water level half way up a cell."""
    r, c = np.mgrid[0:N, 0:N]
    dem = 100.0 + 0.05 * c + 20.0 * ((r == 0) | (r == N - 1))
    return dem.astype(np.float32), 100.0 + 0.05 * level_col


def valley() -> tuple[np.ndarray, np.ndarray]:
    """Two planes rising 2 cm per column from a channel falling 1 mm per row; water 1.5 m deep
    over the channel, its surface parallel to it. Returns the DEM and the water surface."""
    r, c = np.mgrid[0:N, 0:N]
    channel = 100.0 + 0.001 * (N - r)
    dem = channel + 0.02 * np.abs(c - 150.0)
    return dem.astype(np.float32), (channel + 1.5).astype(np.float32)


def oblique_plane() -> tuple[np.ndarray, float]:
    r, c = np.mgrid[0:N, 0:N]
    return (100.0 + 0.02 * c + 0.0073 * r).astype(np.float32), 101.234


def bowl() -> tuple[np.ndarray, float]:
    """A closed paraboloid basin, 3 m deep at its centre at the given level."""
    r, c = np.mgrid[0:N, 0:N]
    return (100.0 + 0.0004 * ((r - 150.0) ** 2 + (c - 140.0) ** 2)).astype(np.float32), 103.0


def run(tmp_path: Path, dem: np.ndarray, extent: np.ndarray, method: str, **kw) -> np.ndarray:
    write_tif(tmp_path / "dem.tif", dem)
    write_tif(tmp_path / "extent.tif", extent, nodata=255)
    out = tmp_path / f"depth-{method}-{kw.get('window', 0)}.tif"
    flood_depth(tmp_path / "extent.tif", tmp_path / "dem.tif", out, method=method, **kw)
    with rasterio.open(out) as src:
        return src.read(1)


@pytest.mark.parametrize(
    ("method", "terrain"),
    [
        ("boundary", flume),
        ("boundary", bowl),
        ("boundary", valley),
        ("hand", bowl),
        ("hand", valley),
    ],
)
def test_depth_is_the_known_level_minus_the_terrain(tmp_path, method, terrain):
    """HAND's level follows the drainage: exact in a closed basin and down a valley (but for
    the cells that leave the grid before they reach the channel: 75 rows by the valley's
    outlet); on a plane its D8 flow paths (ties broken by the priority queue) wander, see
    bench_depth.py."""
    dem, level = terrain()
    extent = (dem < level).astype(np.uint8)
    depth = run(tmp_path, dem, extent, method)
    assert np.isnan(depth[extent != 1]).all()
    assert np.isfinite(depth[extent == 1]).all()
    flooded = extent == 1
    tolerance = 0.03
    if method == "hand" and terrain is valley:
        flooded[N - 80 :] = False
        # a shore cell 75 columns out drains to the channel 75 rows (7.5 cm) downstream
        tolerance = 0.03 + 0.075
    error = depth[flooded] - (level - dem)[flooded]
    # the waterline lies between a shore cell and its dry neighbour: the level is found to
    # within half a cell's rise at the shore (2.5 cm in the flume, 6 cm on the bowl's rim)
    assert np.abs(error).max() < tolerance
    assert abs(error.mean()) < tolerance / 2
    assert depth[flooded].max() == pytest.approx(np.max(level - dem), abs=tolerance)


def test_boundary_level_on_an_oblique_plane(tmp_path):
    dem, level = oblique_plane()
    extent = (dem < level).astype(np.uint8)
    depth = run(tmp_path, dem, extent, "boundary")
    error = depth[extent == 1] - (level - dem[extent == 1])
    assert np.abs(error).max() <= 0.5 * (0.02 + 0.0073) + 1e-3


def test_level_below_the_terrain_gives_zero_not_a_hole(tmp_path):
    dem, level = bowl()
    extent = (dem < level).astype(np.uint8)
    island = (np.hypot(*np.mgrid[0:N, 0:N] - np.array([150, 140])[:, None, None]) < 6) & (
        extent == 1
    )
    dem = dem.copy()
    dem[island] += 5.0  # a mound the extent calls flooded, above the water
    for method in ("boundary", "hand"):
        depth = run(tmp_path, dem, extent, method)
        assert (depth[island] == 0).all()
        assert np.isfinite(depth[extent == 1]).all()


def pinholes(extent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ten 1-pixel dry holes and a 2 x 2 one (across the 64-px tiles' edge) inside the flood."""
    from scipy import ndimage

    inside = ndimage.binary_erosion(extent == 1, iterations=4)
    rows, cols = np.nonzero(inside)
    pick = rng.choice(rows.size, 10, replace=False)
    holed = extent.copy()
    holed[rows[pick], cols[pick]] = 0
    edge = next(r for r in range(64, N, 64) if (inside[r - 1] & inside[r]).sum() > 2)
    across = np.flatnonzero(inside[edge - 1] & inside[edge])
    middle = across[across.size // 2]
    holed[edge - 1 : edge + 1, middle : middle + 2] = 0
    assert inside[edge - 1 : edge + 1, middle : middle + 2].all()
    return holed


@pytest.mark.parametrize(("method", "terrain"), [("boundary", oblique_plane), ("hand", bowl)])
def test_small_holes_inside_the_flood_are_not_shore(tmp_path, rng, method, terrain):
    dem, level = terrain()
    extent = (dem < level).astype(np.uint8)
    holed = pinholes(extent, rng)
    holes = holed != extent
    truth = level - dem
    whole = run(tmp_path, dem, extent, method)
    depth = run(tmp_path, dem, holed, method)
    tiled = run(tmp_path, dem, holed, method, window=64)
    np.testing.assert_allclose(tiled, depth, atol=1e-5, equal_nan=True)
    assert np.isnan(depth[holes]).all()  # outside the flood
    flooded = holed == 1
    rmse = np.sqrt(np.mean((depth[flooded] - truth[flooded]) ** 2))
    rmse_whole = np.sqrt(np.mean((whole[flooded] - truth[flooded]) ** 2))
    assert rmse == pytest.approx(rmse_whole, abs=2e-3)
    assert np.abs(depth[flooded] - whole[flooded]).max() < 1e-3


def test_a_dry_island_above_the_hole_size_is_shore(tmp_path):
    """An 8 x 8 dry patch (MAX_HOLE_PX) is a hole: the depth around it is as without it; a
    9 x 9 one is an island whose shore, 1 m above the bowl's floor, lowers the level there."""
    dem, level = bowl()
    extent = (dem < level).astype(np.uint8)
    whole = run(tmp_path, dem, extent, "boundary")
    ring = np.zeros_like(extent, dtype=bool)
    ring[144:155, 134:145] = True
    changes = []
    for size in (MAX_HOLE_PX**0.5, MAX_HOLE_PX**0.5 + 1):
        patch = (slice(145, 145 + int(size)), slice(135, 135 + int(size)))
        holed = extent.copy()
        holed[patch] = 0
        island = dem.copy()
        island[patch] = dem[patch].min() + 1.0
        depth = run(tmp_path, island, holed, "boundary")
        near = ring & (holed == 1)
        changes.append(float(np.max(np.abs(depth[near] - whole[near]))))
    assert changes[0] < 1e-3  # the level averaged over the flooded cells only: fewer there
    assert changes[1] > 0.05, changes


def blobs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rough terrain and an irregular flood with nodata patches, crossing many 64-px tiles."""
    from scipy import ndimage

    noise = ndimage.gaussian_filter(rng.normal(size=(N, N)), 12) * 40
    dem = (100 + noise + 0.01 * np.arange(N)).astype(np.float32)
    extent = (dem < np.quantile(dem, 0.45)).astype(np.uint8)
    extent[rng.random((N, N)) < 0.02] = 0
    extent[100:130, 40:90] = 255
    return dem, extent


@pytest.mark.parametrize("method", ["boundary", "hand"])
def test_regions_across_windows_match_one_window(tmp_path, rng, method):
    dem, extent = blobs(rng)
    tiled = run(tmp_path, dem, extent, method, window=64)
    whole = run(tmp_path, dem, extent, method, window=1024)
    assert np.isfinite(whole[extent == 1]).all()
    np.testing.assert_array_equal(np.isnan(tiled), np.isnan(whole))
    np.testing.assert_allclose(tiled, whole, atol=1e-5, equal_nan=True)


def test_spread_beyond_its_reach_takes_the_region_level(tmp_path):
    n = 2 * SPREAD_REACH_PX + 100
    dem = np.full((n, n), 50.0, np.float32)
    dem[:, :10] = dem[:, -10:] = dem[:10] = dem[-10:] = 50.8
    extent = (dem < 50.5).astype(np.uint8)
    write_tif(tmp_path / "dem.tif", dem)
    write_tif(tmp_path / "extent.tif", extent, nodata=255)
    result = flood_depth(tmp_path / "extent.tif", tmp_path / "dem.tif", tmp_path / "d.tif")
    with rasterio.open(tmp_path / "d.tif") as src:
        depth = src.read(1)
    assert result.regions == 1
    assert np.allclose(depth[extent == 1], 0.4, atol=1e-4)  # level midway up the rim


def test_dem_partly_missing_gives_nodata_there_and_one_warning(tmp_path, caplog):
    dem, level = bowl()
    extent = (dem < level).astype(np.uint8)
    # the DEM covers only the left 140 columns of the grid
    write_tif(tmp_path / "dem.tif", dem[:, :140], nodata=None)
    write_tif(tmp_path / "extent.tif", extent, nodata=255)
    with caplog.at_level(logging.WARNING):
        result = flood_depth(tmp_path / "extent.tif", tmp_path / "dem.tif", tmp_path / "d.tif")
    with rasterio.open(tmp_path / "d.tif") as src:
        depth = src.read(1)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    flooded = extent == 1
    # bilinear sampling reaches half a pixel past the DEM's last column centre
    outside = flooded & (np.arange(N) >= 140)[None, :]
    assert np.isnan(depth[outside]).all()
    assert np.isfinite(depth[flooded & (np.arange(N) < 139)[None, :]]).all()
    assert result.outside_dem_pixels == int(np.isnan(depth[flooded]).sum())
    share = 100 * result.outside_dem_pixels / result.flooded_pixels
    assert f"{share:.1f}%" in warnings[0].getMessage()
    assert f"{result.outside_dem_km2:.3f} km²" in warnings[0].getMessage()
    assert result.outside_dem_km2 == pytest.approx(result.outside_dem_pixels * 1e-4)


def test_output_is_a_cog_with_units_and_a_result_record(tmp_path):
    dem, level = bowl()
    extent = (dem < level).astype(np.uint8)
    extent[:5] = 255
    write_tif(tmp_path / "extent.tif", extent, nodata=255)
    # the DEM in geographic coordinates: warped bilinear onto the extent's UTM grid
    west, south, east, north = transform_bounds(
        "EPSG:32633", "EPSG:4326", ORIGIN[0], ORIGIN[1] - 3000, ORIGIN[0] + 3000, ORIGIN[1]
    )
    lon_lat = from_bounds(west, south, east, north, 600, 600)
    rows, cols = np.mgrid[0:600, 0:600]
    xs, ys = xy(lon_lat, rows.ravel(), cols.ravel())
    ux, uy = warp_transform("EPSG:4326", "EPSG:32633", xs, ys)
    r = (ORIGIN[1] - np.asarray(uy)) / 10 - 0.5
    c = (np.asarray(ux) - ORIGIN[0]) / 10 - 0.5
    geo = (100.0 + 0.0004 * ((r - 150.0) ** 2 + (c - 140.0) ** 2)).reshape(600, 600)
    write_tif(tmp_path / "dem.tif", geo.astype(np.float32), crs="EPSG:4326", affine=lon_lat)
    result = flood_depth(
        tmp_path / "extent.tif", tmp_path / "dem.tif", tmp_path / "depth.tif", method="auto"
    )
    valid, errors, _ = cog_validate(str(tmp_path / "depth.tif"), strict=False, quiet=True)
    assert valid, errors
    with rasterio.open(tmp_path / "depth.tif") as src:
        assert src.dtypes[0] == "float32"
        assert np.isnan(src.nodata)
        assert src.tags()["units"] == "m"
        assert src.units[0] == "m"
        assert src.tags()["method"] == result.method == "boundary"
        depth = src.read(1)
    flooded = extent == 1
    record = result.to_dict()
    assert record["regions"] == 1
    assert record["flooded_pixels"] == int(flooded.sum())
    assert record["outside_dem_pixels"] == 0
    assert record["depth_max_m"] == pytest.approx(float(np.nanmax(depth)))
    assert record["depth_mean_m"] == pytest.approx(float(np.nanmean(depth)), rel=1e-5)
    truth = level - dem[flooded]
    assert np.sqrt(np.mean((depth[flooded] - truth) ** 2)) < 0.05


def test_bad_options_are_one_line_errors(tmp_path):
    dem, level = bowl()
    write_tif(tmp_path / "dem.tif", dem)
    write_tif(tmp_path / "extent.tif", (dem < level).astype(np.uint8), nodata=255)
    with pytest.raises(InvalidOptionError, match="method"):
        flood_depth(tmp_path / "extent.tif", tmp_path / "dem.tif", tmp_path / "d.tif", method="x")
    with pytest.raises(InvalidOptionError, match="window"):
        flood_depth(tmp_path / "extent.tif", tmp_path / "dem.tif", tmp_path / "d.tif", window=8)
    assert not (tmp_path / "d.tif").exists()


def test_small_holes_are_the_enclosed_dry_components_scipy_labels(rng):
    """`mark_small_holes` (a search from the shore, stopped early) marks exactly the 4-connected
    dry components of at most `max_area` cells with no unknown cell or array edge among their
    8-neighbours, as `ndimage.label` finds them."""
    from scipy import ndimage

    from s1flood.flood.depth_kernels import HOLE, mark_small_holes

    for _ in range(50):
        n = int(rng.integers(5, 60))
        extent = (rng.random((n, n)) < rng.uniform(0.5, 0.95)).astype(np.uint8)
        extent[rng.random((n, n)) < 0.01] = 255
        max_area = int(rng.integers(1, 40))
        labels, _ = ndimage.label(extent == 0)
        unknown = np.pad(~np.isin(extent, (0, 1)), 1, constant_values=True)
        near = ndimage.binary_dilation(unknown, EIGHT)[1:-1, 1:-1] & (extent == 0)
        not_hole = np.isin(labels, labels[near])
        small = np.bincount(labels.ravel())[labels] <= max_area
        expected = np.where((extent == 0) & small & ~not_hole, HOLE, extent)
        marked = extent.copy()
        count = mark_small_holes(marked, max_area)
        np.testing.assert_array_equal(marked, expected)
        assert count == int((expected == HOLE).sum())
