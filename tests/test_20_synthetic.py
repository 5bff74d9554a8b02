"""Sentinel-1 GRD simulator: structure, radiometry and geometry of the simulated products."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import Affine

from s1flood import errors
from s1flood.aoi import parse_aoi_wkt, parse_time_window
from s1flood.synthetic.simulate import SimulationResult, parse_size, simulate

xr = pytest.importorskip("xarray")
xarray_sentinel = pytest.importorskip("xarray_sentinel")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_SAFE = (
    SHARED / "s1-grd" / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
)
ROME_DEM = SHARED / "s1-grd" / "Rome-30m-DEM.tif"
AOI = "POLYGON((12.40 41.90, 12.44 41.90, 12.44 41.93, 12.40 41.93, 12.40 41.90))"
LOOKS = 4.4


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("sim")
    return simulate(
        AOI,
        "2024-05-01",
        "2024-05-25",
        out,
        scenes=3,
        size="320x320",
        seed=3,
        progress=False,
        write_model=True,
    )


def _open(safe: Path | str, group: str | None = None) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return xr.open_dataset(safe, engine="sentinel-1", group=group)


GROUPS = [
    "IW/VV",
    "IW/VH",
    "IW/VV/calibration",
    "IW/VV/noise_range",
    "IW/VV/noise_azimuth",
    "IW/VV/orbit",
    "IW/VV/gcp",
    "IW/VV/attitude",
    "IW/VV/coordinate_conversion",
    "IW/VH/calibration",
    "IW/VH/noise_range",
]


def test_products_truths_catalog_exist(sim: SimulationResult) -> None:
    assert len(sim.products) == 3
    assert all(p.is_dir() for p in sim.products)
    assert [a.phase for a in sim.acquisitions] == ["before", "peak", "after"]
    for truth in sim.truths:
        with rasterio.open(truth) as src, rasterio.open(sim.dem) as dem:
            assert src.shape == dem.shape
            assert src.transform == dem.transform
            assert set(np.unique(src.read(1))) <= {0, 1, 255}
    before, peak = (rasterio.open(t).read(1) for t in sim.truths[:2])
    assert (peak == 1).sum() > 1.5 * (before == 1).sum()  # the flood
    name = sim.products[0].name
    assert name.startswith("S1A_IW_GRDH_1SDV_2024050")
    assert name.endswith(".SAFE")
    assert len(name.removesuffix(".SAFE").split("_")) == 9


@pytest.mark.parametrize("group", [None, *GROUPS])
def test_xarray_sentinel_opens_every_group(sim: SimulationResult, group: str | None) -> None:
    ds = _open(sim.products[1], group)
    if group is None:
        assert {g for g in GROUPS} <= set(ds.attrs["subgroups"])
    elif group.count("/") == 1:
        assert ds.measurement.shape == (320, 320)
        assert ds.attrs["product_type"] == "GRD"
        assert ds.attrs["pass"] == "DESCENDING"
    else:
        assert len(ds.data_vars) > 0


def _paths(xml: Path, roots: tuple[str, ...]) -> set[str]:
    out: set[str] = set()

    def walk(el: ET.Element, path: str, inside: bool) -> None:
        path = f"{path}/{el.tag}"
        inside = inside or el.tag in roots
        if inside:
            out.add(path)
        for ch in el:
            walk(ch, path, inside)

    walk(ET.parse(xml).getroot(), "", False)
    return out


# the subtrees xarray-sentinel's openers query, per file kind
READ_ROOTS = {
    "annotation": (
        "productInformation",
        "imageInformation",
        "swathTiming",
        "orbitList",
        "attitudeList",
        "geolocationGrid",
        "coordinateConversion",
        "azimuthFmRateList",
        "adsHeader",
    ),
    "calibration": ("adsHeader", "calibrationInformation", "calibrationVectorList"),
    "noise": ("adsHeader", "noiseRangeVectorList", "noiseAzimuthVectorList"),
}
MANIFEST_QUERIES = [
    ".//safe:platform/safe:familyName",
    ".//safe:platform/safe:number",
    ".//s1sarl1:instrumentMode/s1sarl1:mode",
    ".//s1sarl1:instrumentMode/s1sarl1:swath",
    ".//safe:orbitNumber",
    ".//safe:relativeOrbitNumber",
    ".//s1:pass",
    ".//s1:ascendingNodeTime",
    ".//s1sarl1:missionDataTakeID",
    ".//s1sarl1:transmitterReceiverPolarisation",
    ".//s1sarl1:productType",
    ".//safe:startTime",
    ".//safe:stopTime",
    ".//gml:coordinates",
    ".//s1sarl1:productTimelinessCategory",
    ".//safe:nssdcIdentifier",
]


@pytest.mark.skipif(not REAL_SAFE.exists(), reason="shared/data/s1-grd is absent")
def test_xml_paths_read_by_xarray_sentinel_match_real(sim: SimulationResult) -> None:
    from xarray_sentinel.esa_safe import SENTINEL1_NAMESPACES

    sim_safe = sim.products[0]
    pairs = {
        "annotation": ("annotation/s1?-*-vv-*.xml", "annotation/s1?-*-vv-*.xml"),
        "calibration": ("annotation/calibration/calibration-*vv*.xml",) * 2,
        "noise": ("annotation/calibration/noise-*vv*.xml",) * 2,
    }
    for kind, (real_glob, sim_glob) in pairs.items():
        real = _paths(next(REAL_SAFE.glob(real_glob)), READ_ROOTS[kind])
        simulated = _paths(next(sim_safe.glob(sim_glob)), READ_ROOTS[kind])
        assert real, kind
        assert real <= simulated, f"{kind}: missing {sorted(real - simulated)[:5]}"
    real_manifest = ET.parse(REAL_SAFE / "manifest.safe").getroot()
    sim_manifest = ET.parse(sim_safe / "manifest.safe").getroot()
    for query in MANIFEST_QUERIES:
        n_real = len(real_manifest.findall(query, SENTINEL1_NAMESPACES))
        n_sim = len(sim_manifest.findall(query, SENTINEL1_NAMESPACES))
        assert n_real == n_sim > 0, query
    # every data object the manifest lists exists, with its size
    for obj in sim_manifest.iter("dataObject"):
        loc = obj.find(".//fileLocation")
        stream = obj.find("byteStream")
        assert loc is not None
        assert stream is not None
        assert (sim_safe / loc.attrib["href"]).stat().st_size == int(stream.attrib["size"])
    real_groups = set(_open(REAL_SAFE).attrs["subgroups"])
    assert real_groups == set(_open(sim_safe).attrs["subgroups"])


def _calibrated(safe: Path, pol: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ds = _open(safe, f"IW/{pol}")
    cal = _open(safe, f"IW/{pol}/calibration")
    nr = _open(safe, f"IW/{pol}/noise_range")
    na = _open(safe, f"IW/{pol}/noise_azimuth")
    dn = ds.measurement.compute()
    sigma = xarray_sentinel.calibrate_intensity(dn, cal.sigmaNought).values
    lut = cal.sigmaNought.interp(line=dn.line, pixel=dn.pixel).values
    noise = nr.noiseRangeLut.interp(line=dn.line, pixel=dn.pixel).values
    noise = noise * na.noiseAzimuthLut.interp(line=dn.line).values[:, None]
    return sigma, noise / lut**2, dn.values.astype(np.float64) ** 2 / lut**2


@pytest.mark.parametrize("pol", ["VV", "VH"])
def test_calibration_round_trip_and_enl(sim: SimulationResult, pol: str) -> None:
    from scipy import ndimage

    safe = sim.products[1]
    sigma, noise_sigma, _ = _calibrated(safe, pol)
    model_path = sim.products[1].parent.parent / "model" / f"{safe.stem}_sigma0_{pol.lower()}.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        model = rasterio.open(model_path).read(1).astype(np.float64)
    # homogeneous areas: the model varies by less than 0.4 dB over 5 x 5 pixels
    hi = ndimage.maximum_filter(model, 5)
    lo = ndimage.minimum_filter(model, 5)
    homogeneous = (hi <= lo * 1.1) & (lo > 0)
    assert homogeneous.sum() > 5000
    model_db = 10 * np.log10(model)
    bins = np.round(model_db * 2) / 2  # groups of equal model sigma0
    checked = 0
    for value in np.unique(bins[homogeneous]):
        sel = homogeneous & (bins == value)
        if sel.sum() < 1000:
            continue
        removed = sigma[sel] - noise_sigma[sel]  # thermal noise removal with the noise LUTs
        diff = 10 * np.log10(removed.mean() / model[sel].mean())
        assert abs(diff) < 0.3, (value, diff)
        # speckle: intensity over its expectation has variance 1 / looks
        ratio = sigma[sel] / (model[sel] + noise_sigma[sel])
        enl = ratio.mean() ** 2 / ratio.var()
        assert abs(enl / LOOKS - 1) < 0.1, (value, enl)
        checked += 1
    assert checked >= 2


def test_thermal_noise_matters_on_water(sim: SimulationResult) -> None:
    safe = sim.products[1]
    sigma, noise_sigma, _ = _calibrated(safe, "VH")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        model = rasterio.open(safe.parent.parent / "model" / f"{safe.stem}_sigma0_vh.tif").read(1)
    water = (model > 0) & (model < 10 ** (-2.6))
    assert water.sum() > 500
    raw = 10 * np.log10(sigma[water].mean() / model[water].mean())
    removed = 10 * np.log10((sigma[water] - noise_sigma[water]).mean() / model[water].mean())
    assert raw > 1.0  # without noise removal calm water looks several dB too bright
    assert abs(removed) < 0.5


def test_sarsen_terrain_correction_puts_water_back(sim: SimulationResult, tmp_path: Path) -> None:
    from sarsen import apps, sentinel1
    from scipy import ndimage
    from skimage.registration import phase_cross_correlation

    safe = sim.products[0]
    out = tmp_path / "gtc.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        product = sentinel1.Sentinel1SarProduct(str(safe), "IW/VV")
        apps.terrain_correction(product, str(sim.dem), output_urlpath=str(out))
    with rasterio.open(out) as src, rasterio.open(sim.truths[0]) as tr:
        gtc = src.read(1)
        if src.transform.e > 0:
            gtc = gtc[::-1]
        truth = tr.read(1)
    assert gtc.shape == truth.shape
    valid = np.isfinite(gtc) & (gtc > 0)
    db = 10 * np.log10(np.where(valid, gtc, 1.0))
    db = ndimage.uniform_filter(np.where(valid, db, np.nanmean(db[valid])), 5)
    # the largest square fully inside the image footprint
    rc = np.argwhere(valid).mean(0).astype(int)
    h = 5
    while valid[rc[0] - h - 1 : rc[0] + h + 1, rc[1] - h - 1 : rc[1] + h + 1].all():
        h += 1
    win = (slice(rc[0] - h + 3, rc[0] + h - 3), slice(rc[1] - h + 3, rc[1] + h - 3))
    water = (truth[win] == 1).astype(float)
    assert 0.02 < water.mean() < 0.9
    shift, _, _ = phase_cross_correlation(
        water - water.mean(),
        -(db[win] - db[win].mean()),
        upsample_factor=20,
        normalization=None,
    )
    assert np.hypot(*shift) < 1.0, shift
    # and the water of the image is the truth's water: threshold agreement
    agree = ((db[win] < -15.0) == (water > 0.5)).mean()
    assert agree > 0.95


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    runs = []
    for k in range(2):
        res = simulate(
            AOI,
            "2024-05-01",
            "2024-05-02",
            tmp_path / str(k),
            scenes=1,
            size="128x160",
            seed=11,
            progress=False,
        )
        runs.append(res)
    files = [next(r.products[0].glob("measurement/*vh*.tiff")) for r in runs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        a, b = (rasterio.open(f).read(1) for f in files)
    assert a.shape == (128, 160)
    assert np.array_equal(a, b)
    assert runs[0].products[0].name == runs[1].products[0].name


def test_stac_catalog_items(sim: SimulationResult) -> None:
    catalog = json.loads(sim.catalog.read_text())
    assert catalog["type"] == "Catalog"
    collection_path = sim.catalog.parent / "sentinel-1-grd" / "collection.json"
    collection = json.loads(collection_path.read_text())
    items = [link for link in collection["links"] if link["rel"] == "item"]
    assert len(items) == 3
    for link in items:
        item_path = (collection_path.parent / link["href"]).resolve()
        item = json.loads(item_path.read_text())
        props = item["properties"]
        assert props["sar:instrument_mode"] == "IW"
        assert props["sar:product_type"] == "GRD"
        assert props["sar:polarizations"] == ["VV", "VH"]
        assert props["sat:orbit_state"] == "descending"
        assert props["sat:relative_orbit"] > 0
        assert item["geometry"]["type"] == "Polygon"
        for asset in item["assets"].values():
            assert (item_path.parent / asset["href"]).resolve().exists()


@pytest.mark.skipif(not ROME_DEM.exists(), reason="shared/data/s1-grd is absent")
def test_user_dem_rome_and_zip(tmp_path: Path) -> None:
    aoi = "POLYGON((12.46 41.96, 12.54 41.96, 12.54 42.04, 12.46 42.04, 12.46 41.96))"
    res = simulate(
        aoi,
        "2024-05-01",
        "2024-05-03",
        tmp_path,
        scenes=1,
        size="200x200",
        dem=ROME_DEM,
        seed=2,
        progress=False,
        zip_products=True,
    )
    assert res.dem == ROME_DEM
    assert res.products[0].suffix == ".zip"
    with rasterio.open(res.truths[0]) as src:
        assert src.shape == (360, 360)
        assert src.crs == CRS.from_epsg(9707)
        assert (src.read(1) == 1).sum() > 100  # the traced river
    ds = _open(f"zip://*/manifest.safe::{res.products[0]}", "IW/VV/calibration")
    assert ds.sizes["pixel"] > 2


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda: parse_aoi_wkt("POINT(12 41)"), errors.InvalidOptionError, "not a POLYGON"),
        (lambda: parse_aoi_wkt("LINESTRING(0 0, 1 1)"), errors.InvalidOptionError, "POLYGON"),
        (lambda: parse_aoi_wkt("POLYGON((0 0, 1"), errors.InvalidOptionError, "not valid WKT"),
        (
            lambda: parse_aoi_wkt("POLYGON((0 0, 2 2, 2 0, 0 1, 0 0))"),
            errors.InvalidOptionError,
            "invalid polygon",
        ),
        (
            lambda: parse_time_window("2024-05-02", "2024-05-01"),
            errors.InvalidOptionError,
            "must be after",
        ),
        (
            lambda: parse_time_window("yesterday", "2024-05-01"),
            errors.InvalidOptionError,
            "ISO 8601",
        ),
        (lambda: parse_size("huge"), errors.InvalidOptionError, "for size:"),
    ],
)
def test_bad_input_is_a_one_line_error(call: object, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as info:
        call()  # type: ignore[operator]
    message = str(info.value)
    assert text in message
    assert "\n" not in message


def test_bad_simulate_options(tmp_path: Path) -> None:
    nocrs = tmp_path / "nocrs.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            nocrs,
            "w",
            driver="GTiff",
            width=64,
            height=64,
            count=1,
            dtype="float32",
            transform=Affine.identity(),
        ) as dst:
            dst.write(np.ones((64, 64), np.float32), 1)
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({"dem": nocrs}, errors.MissingCRSError),
        ({"dem": tmp_path / "missing.tif"}, errors.RasterReadError),
        ({"size": "enormous"}, errors.InvalidOptionError),
        ({"orbit_direction": "sideways"}, errors.InvalidOptionError),
        ({"end": "2024-04-01"}, errors.InvalidOptionError),
        ({"aoi_wkt": "POINT(12 41)"}, errors.InvalidOptionError),
        ({"scenes": 0}, errors.InvalidOptionError),
    ]
    for override, error in cases:
        kwargs: dict[str, object] = {
            "aoi_wkt": AOI,
            "start": "2024-05-01",
            "end": "2024-05-05",
            "out_dir": tmp_path / "out",
            "progress": False,
        }
        kwargs.update(override)
        with pytest.raises(error) as info:
            simulate(**kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)
