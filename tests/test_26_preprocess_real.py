"""Preprocessing against real Sentinel-1 data: the blank S1B GRD, its DEM, a zip, an EOF file."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from scipy.interpolate import griddata

from s1flood import errors
from s1flood.preprocessing import preprocess
from s1flood.preprocessing.dem import DemSampler, egm96_undulation
from s1flood.preprocessing.geocoding import Geocoder
from s1flood.preprocessing.orbit import OrbitModel, parse_eof, select_orbit_file
from s1flood.preprocessing.product import open_product
from s1flood.preprocessing.python_engine import orbit_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAFE = (
    SHARED / "s1-grd" / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
)
DEM = SHARED / "s1-grd" / "Rome-30m-DEM.tif"
ZIP = (
    SHARED
    / "s1-grd-zip-metadata-only"
    / "S1A_IW_GRDH_1SDV_20210119T031653_20210119T031718_036201_043ED0_8255.zip"
)
EOF = (
    SHARED
    / "orbits"
    / "S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF"
)
ROME_AOI = "POLYGON((12.46 41.96, 12.54 41.96, 12.54 42.04, 12.46 42.04, 12.46 41.96))"

needs_safe = pytest.mark.skipif(not SAFE.exists(), reason="shared/data/s1-grd not available")
needs_zip = pytest.mark.skipif(not ZIP.exists(), reason="shared zip product not available")
needs_eof = pytest.mark.skipif(not EOF.exists(), reason="shared/data/orbits not available")


@needs_safe
def test_geocoder_reproduces_the_annotation_geolocation_grid() -> None:
    sar = open_product(SAFE, "VV")
    geocoder = Geocoder.of(sar, orbit_model(sar, None))
    gcp = sar.gcp
    line, sample = geocoder.lonlat_to_radar(
        gcp["longitude"].ravel(), gcp["latitude"].ravel(), gcp["height"].ravel()
    )
    lines = np.broadcast_to(gcp["line"][:, None], gcp["latitude"].shape).ravel()
    pixels = np.broadcast_to(gcp["pixel"][None, :], gcp["latitude"].shape).ravel()
    assert np.abs(line - lines).max() < 0.5
    assert np.abs(sample - pixels).max() < 1.0
    assert abs(float(np.median(sample - pixels))) < 0.1


@needs_safe
def test_real_product_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "rome.tif"
    res = preprocess(SAFE, out, aoi_wkt=ROME_AOI, dem=DEM)
    assert res.orbit_source == "annotation"
    # the image is blank (DN 0 = the border/no-data value): every pixel is nodata, while the
    # geometry puts every pixel of the AOI inside the image
    assert res.swath_fraction == 1.0
    assert res.valid_fraction == 0.0
    assert res.max_geocoding_error_px <= 0.1
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 32633
        assert src.res == (10.0, 10.0)
        assert src.bounds.left % 10 == 0
        assert src.bounds.top % 10 == 0
        assert np.isnan(src.read(1)).all()
    # the image window read is where the annotation's geolocation grid puts the AOI
    sar = open_product(SAFE, "VV")
    gcp = sar.gcp
    points = np.column_stack([gcp["longitude"].ravel(), gcp["latitude"].ravel()])
    lines = np.broadcast_to(gcp["line"][:, None], gcp["latitude"].shape).ravel()
    pixels = np.broadcast_to(gcp["pixel"][None, :], gcp["latitude"].shape).ravel()
    corners = np.array([[12.46, 41.96], [12.54, 41.96], [12.54, 42.04], [12.46, 42.04]])
    cl = griddata(points, lines, corners)
    cp = griddata(points, pixels, corners)
    assert res.radar_window is not None
    l0, l1, s0, s1 = res.radar_window
    assert l0 <= cl.min()
    assert cl.max() <= l1
    assert s0 <= cp.min()
    assert cp.max() <= s1
    assert (l1 - l0) < 1.3 * (cl.max() - cl.min()) + 50  # only the window the AOI needs


@needs_safe
def test_real_dem_is_geoid_referenced_and_converted() -> None:
    sampler = DemSampler(DEM)
    assert sampler.vertical == "egm96"
    n = float(egm96_undulation(12.5, 42.0))
    assert 45.0 < n < 52.0  # EGM96 at Rome is about 48 m
    from s1flood.grid import target_grid

    grid = target_grid("POLYGON((12.49 41.99, 12.51 41.99, 12.51 42.01, 12.49 42.01, 12.49 41.99))")
    ellipsoidal = sampler.heights(grid)
    plain = DemSampler(DEM, "ellipsoid").heights(grid)
    np.testing.assert_allclose(ellipsoidal - plain, n, atol=0.5)


@needs_safe
def test_aoi_outside_the_dem_and_the_footprint(tmp_path: Path) -> None:
    outside_dem = "POLYGON((13.0 41.5, 13.1 41.5, 13.1 41.6, 13.0 41.6, 13.0 41.5))"
    with pytest.raises(errors.DemCoverageError):
        preprocess(SAFE, tmp_path / "a.tif", aoi_wkt=outside_dem, dem=DEM)
    outside = "POLYGON((2.0 48.0, 2.1 48.0, 2.1 48.1, 2.0 48.1, 2.0 48.0))"
    with pytest.raises(errors.AoiOutsideFootprintError) as info:
        preprocess(SAFE, tmp_path / "b.tif", aoi_wkt=outside, dem=DEM)
    assert "\n" not in str(info.value)
    with pytest.raises(errors.PolarisationNotFoundError) as pol:
        preprocess(SAFE, tmp_path / "c.tif", aoi_wkt=ROME_AOI, dem=DEM, polarisation="VH")
    assert "no VH measurement" in str(pol.value)
    assert list(tmp_path.iterdir()) == []


@needs_zip
@needs_safe
def test_zip_without_measurement_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(errors.ProductError) as info:
        preprocess(ZIP, tmp_path / "z.tif", aoi_wkt=ROME_AOI, dem=DEM)
    text = str(info.value)
    assert "\n" not in text
    assert "no VV measurement file" in text
    assert info.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


@needs_zip
def test_zip_metadata_opens_up_to_the_image() -> None:
    with pytest.raises(errors.ProductError, match="no VH measurement file"):
        open_product(ZIP, "VH")


def test_not_a_product(tmp_path: Path) -> None:
    text_file = tmp_path / "x.zip"
    text_file.write_text("hello")
    with pytest.raises(errors.ProductError, match="not a Sentinel-1 product"):
        open_product(text_file)


@needs_eof
def test_eof_parses() -> None:
    orbit = parse_eof(EOF)
    assert orbit.mission == "S1A"
    assert orbit.file_type == "AUX_RESORB"
    assert orbit.times.size == orbit.positions.shape[0] == 1186
    assert orbit.validity_start == datetime(2023, 8, 23, 12, 31, 39, tzinfo=UTC)
    assert orbit.validity_stop == datetime(2023, 8, 23, 15, 49, 9, tzinfo=UTC)
    radius = np.linalg.norm(orbit.positions, axis=1)
    assert 7.0e6 < radius.min() < radius.max() < 7.1e6


@needs_eof
def test_eof_orbit_interpolation_matches_held_out_vectors() -> None:
    orbit = parse_eof(EOF)
    sel = slice(500, 513)  # 2 minutes
    times, pos, vel = orbit.times[sel], orbit.positions[sel], orbit.velocities[sel]
    model = OrbitModel(times[0], times[::2], pos[::2])
    t = (times[1::2] - times[0]) / np.timedelta64(1, "s")
    assert np.abs(model.position(t) - pos[1::2]).max() < 0.05
    assert np.abs(model.velocity(t) - vel[1::2]).max() < 1e-3


@needs_eof
def test_eof_selected_or_rejected_by_validity(tmp_path: Path) -> None:
    inside = (
        datetime(2023, 8, 23, 14, 0, tzinfo=UTC),
        datetime(2023, 8, 23, 14, 0, 25, tzinfo=UTC),
    )
    assert select_orbit_file(EOF, "S1A", *inside) is not None
    late = (
        datetime(2023, 8, 23, 15, 48, tzinfo=UTC),
        datetime(2023, 8, 23, 15, 48, 25, tzinfo=UTC),
    )
    with pytest.raises(errors.OrbitFileError, match="does not cover"):
        select_orbit_file(EOF, "S1A", *late)
    with pytest.raises(errors.OrbitFileError, match="is for S1A"):
        select_orbit_file(EOF, "S1B", *inside)
    folder = tmp_path / "orbits"
    folder.mkdir()
    shutil.copy(EOF, folder)
    (folder / "S1A_OPER_AUX_POEORB_broken.EOF").write_text("<not-eof/>")
    chosen = select_orbit_file(folder, "S1A", *inside)
    assert chosen is not None
    assert chosen.path.name == EOF.name
    assert select_orbit_file(folder, "S1A", *late) is None


@needs_eof
@needs_safe
def test_eof_not_covering_the_product_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(errors.OrbitFileError) as info:
        preprocess(SAFE, tmp_path / "o.tif", aoi_wkt=ROME_AOI, dem=DEM, orbit=EOF)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    # a folder without a covering file: the annotation orbit, logged
    folder = tmp_path / "orbits"
    folder.mkdir()
    shutil.copy(EOF, folder)
    res = preprocess(SAFE, tmp_path / "p.tif", aoi_wkt=ROME_AOI, dem=DEM, orbit=folder)
    assert res.orbit_source == "annotation"
