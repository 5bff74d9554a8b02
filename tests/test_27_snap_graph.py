"""SNAP engine: the GPT graph it writes (everywhere) and a run where SNAP is installed."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from s1flood import errors
from s1flood.aoi import parse_aoi_wkt
from s1flood.grid import target_grid
from s1flood.preprocessing import PreprocessOptions, preprocess
from s1flood.preprocessing.snap_engine import OPERATORS, build_graph, find_gpt

AOI = "POLYGON((12.46 41.96, 12.54 41.96, 12.54 42.04, 12.46 42.04, 12.46 41.96))"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAFE = (
    SHARED / "s1-grd" / "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
)
DEM = SHARED / "s1-grd" / "Rome-30m-DEM.tif"


def _options(**kw: object) -> PreprocessOptions:
    base: dict[str, object] = {
        "aoi": parse_aoi_wkt(AOI),
        "grid": target_grid(AOI, 10.0),
        "dem": Path("/data/dem.tif"),
    }
    base.update(kw)
    return PreprocessOptions(**base)  # type: ignore[arg-type]


def _graph(tmp_path: Path, **kw: object) -> ET.Element:
    product = tmp_path / "S1A_IW_GRDH_1SDV_X.SAFE"
    product.mkdir(exist_ok=True)
    tree = build_graph(product, tmp_path / "out.tif", _options(**kw), dem_applies_egm=True)
    path = tmp_path / "graph.xml"
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return ET.parse(path).getroot()


def _params(root: ET.Element, node_id: str) -> dict[str, str]:
    node = root.find(f"node[@id='{node_id}']")
    assert node is not None, node_id
    params = node.find("parameters")
    assert params is not None
    return {child.tag: child.text or "" for child in params}


def test_graph_chain_and_sources(tmp_path: Path) -> None:
    root = _graph(tmp_path)
    assert root.tag == "graph"
    assert root.findtext("version") == "1.0"
    nodes = root.findall("node")
    operators = [n.findtext("operator") for n in nodes]
    expected = [op for op in OPERATORS if op != "Terrain-Flattening"]
    assert operators == expected
    # a linear chain: each node reads the previous one
    for previous, node in itertools.pairwise(nodes):
        source = node.find("sources/sourceProduct")
        assert source is not None
        assert source.get("refid") == previous.get("id")


def test_graph_parameters_as_snap_documents_them(tmp_path: Path) -> None:
    root = _graph(tmp_path, speckle="lee", window=5)
    assert _params(root, "Read")["file"].endswith("manifest.safe")
    orbit = _params(root, "Apply-Orbit-File")
    assert orbit["orbitType"] == "Sentinel Precise (Auto Download)"
    assert orbit["continueOnFail"] == "true"
    noise = _params(root, "ThermalNoiseRemoval")
    assert noise["removeThermalNoise"] == "true"
    assert noise["selectedPolarisations"] == "VV"
    border = _params(root, "Remove-GRD-Border-Noise")
    assert border["borderLimit"] == "500"
    assert border["trimThreshold"] == "0.5"
    cal = _params(root, "Calibration")
    assert cal["outputSigmaBand"] == "true"
    assert cal["outputImageScaleInDb"] == "false"
    subset = _params(root, "Subset")
    assert subset["geoRegion"].startswith("POLYGON")
    assert subset["sourceBands"] == "Sigma0_VV"
    speckle = _params(root, "Speckle-Filter")
    assert speckle["filter"] == "Lee"
    assert speckle["filterSizeX"] == speckle["filterSizeY"] == "5"
    tc = _params(root, "Terrain-Correction")
    assert tc["demName"] == "External DEM"
    assert tc["externalDEMFile"] == "/data/dem.tif"
    assert tc["externalDEMApplyEGM"] == "true"
    assert tc["pixelSpacingInMeter"] == "10"
    assert tc["mapProjection"] == "EPSG:32633"
    assert tc["alignToStandardGrid"] == "true"
    assert tc["imgResamplingMethod"] == "BILINEAR_INTERPOLATION"
    assert _params(root, "LinearToFromdB")["sourceBands"] == "Sigma0_VV"
    write = _params(root, "Write")
    assert write["formatName"] == "GeoTIFF-BigTIFF"


def test_graph_refined_lee_and_rtc(tmp_path: Path) -> None:
    root = _graph(tmp_path, speckle="refined-lee", window=7, rtc=True, polarisation="VH")
    assert _params(root, "Speckle-Filter")["filter"] == "Refined Lee"
    cal = _params(root, "Calibration")
    assert cal["outputBetaBand"] == "true"
    assert cal["outputSigmaBand"] == "false"
    tf = _params(root, "Terrain-Flattening")
    assert tf["sourceBands"] == "Beta0_VH"
    assert _params(root, "Terrain-Correction")["sourceBands"] == "Gamma0_VH"


def test_graph_both_polarisations_in_one_chain(tmp_path: Path) -> None:
    for rtc, quantity in ((False, "Sigma0"), (True, "Gamma0")):
        root = _graph(tmp_path, polarisation="VV+VH", rtc=rtc)
        for node in ("ThermalNoiseRemoval", "Remove-GRD-Border-Noise", "Calibration"):
            assert _params(root, node)["selectedPolarisations"] == "VV,VH"
        first = "Beta0" if rtc else "Sigma0"
        assert _params(root, "Subset")["sourceBands"] == f"{first}_VV,{first}_VH"
        assert _params(root, "Speckle-Filter")["sourceBands"] == f"{first}_VV,{first}_VH"
        bands = f"{quantity}_VV,{quantity}_VH"
        assert _params(root, "Terrain-Correction")["sourceBands"] == bands
        assert _params(root, "LinearToFromdB")["sourceBands"] == bands
        assert len(root.findall("node[@id='Write']")) == 1


@pytest.mark.skipif(not SAFE.exists(), reason="shared/data/s1-grd not available")
def test_snap_absent_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if find_gpt() is not None:
        pytest.skip("SNAP is installed here")
    monkeypatch.delenv("SNAP_HOME", raising=False)
    with pytest.raises(errors.EngineUnavailableError) as info:
        preprocess(SAFE, tmp_path / "s.tif", aoi_wkt=AOI, dem=DEM, engine="snap")
    assert "\n" not in str(info.value)
    assert "gpt not found" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(find_gpt() is None, reason="SNAP (gpt) not installed")
@pytest.mark.skipif(not SAFE.exists(), reason="shared/data/s1-grd not available")
def test_snap_runs_on_the_real_product(tmp_path: Path) -> None:
    res = preprocess(SAFE, tmp_path / "s.tif", aoi_wkt=AOI, dem=DEM, engine="snap")
    assert res.output.exists()
    assert res.grid == target_grid(AOI, 10.0)
