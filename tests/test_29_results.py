"""Results as data: preprocessing and simulation results round-trip through JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from s1flood.grid import target_grid
from s1flood.preprocessing import PreprocessResult, preprocess
from s1flood.synthetic.scenario import Acquisition
from s1flood.synthetic.simulate import SimulationResult, simulate

AOI = "POLYGON((12.40 41.90, 12.44 41.90, 12.44 41.93, 12.40 41.93, 12.40 41.90))"


def _through_json(record: dict[str, object]) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(json.dumps(record, allow_nan=False))
    return loaded


def _preprocess_result(out: Path) -> PreprocessResult:
    return PreprocessResult(
        output=out / "sigma0" / "scene.tif",
        stac_item=out / "sigma0" / "scene.json",
        grid=target_grid(AOI, 10.0),
        engine="python",
        polarisation="VV",
        quantity="sigma0",
        orbit_source="annotation",
        seconds=1.5,
        valid_fraction=0.75,
        swath_fraction=0.8,
        shadow_fraction=0.01,
        layover_fraction=0.0,
        radar_window=(10, 300, 20, 400),
        max_geocoding_error_px=0.002,
        extra={"node_steps": [16, 32], "tiles": 4},
    )


def test_preprocess_result_round_trip_relative_to_the_output_folder(tmp_path: Path) -> None:
    result = _preprocess_result(tmp_path)
    record = _through_json(result.to_dict(tmp_path))
    assert record["output"] == "sigma0/scene.tif"
    assert record["stac_item"] == "sigma0/scene.json"
    assert record["radar_window"] == [10, 300, 20, 400]
    assert record["grid"] == result.grid.to_dict()
    back = PreprocessResult.from_dict(record, tmp_path)
    assert back.output == tmp_path / "sigma0" / "scene.tif"
    assert back.grid.same_as(result.grid)
    assert back == result


def test_preprocess_result_paths_outside_the_base_stay_absolute(tmp_path: Path) -> None:
    result = _preprocess_result(tmp_path / "elsewhere")
    base = tmp_path / "out"
    record = _through_json(result.to_dict(base))
    assert record["output"] == str(tmp_path / "elsewhere" / "sigma0" / "scene.tif")
    assert PreprocessResult.from_dict(record, base).output == result.output
    no_window = PreprocessResult.from_dict({**record, "radar_window": None})
    assert no_window.radar_window is None


def test_simulation_result_round_trip(tmp_path: Path) -> None:
    acquisition = Acquisition(
        index=0, time=datetime(2024, 5, 3, 5, 1, tzinfo=UTC), stage=1.25, phase="peak", wind_db=0.0
    )
    result = SimulationResult(
        products=[tmp_path / "products" / "S1A_X.SAFE"],
        truths=[tmp_path / "truth" / "S1A_X_truth.tif"],
        dem=tmp_path / "dem" / "dem.tif",
        catalog=tmp_path / "catalog" / "catalog.json",
        landcover=None,
        scenario=tmp_path / "scenario.json",
        acquisitions=[acquisition],
    )
    record = _through_json(result.to_dict(tmp_path))
    assert record["products"] == ["products/S1A_X.SAFE"]
    assert record["acquisitions"] == [
        {
            "index": 0,
            "time": "2024-05-03T05:01:00+00:00",
            "stage": 1.25,
            "phase": "peak",
            "wind_db": 0.0,
            "fraction": 0.0,
            "track": 0,
        }
    ]
    assert SimulationResult.from_dict(record, tmp_path) == result


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_real_results_are_json_ready(tmp_path: Path) -> None:
    sim = simulate(AOI, "2024-05-01", "2024-05-03", tmp_path / "sim", 1, "tiny", progress=False)
    record = _through_json(sim.to_dict(tmp_path))
    assert record["dem"] == "sim/dem/dem.tif"
    assert SimulationResult.from_dict(record, tmp_path) == sim
    result = preprocess(sim.products[0], tmp_path / "s.tif", aoi_wkt=AOI, dem=sim.dem)
    back = PreprocessResult.from_dict(_through_json(result.to_dict(tmp_path)), tmp_path)
    assert back.output == tmp_path / "s.tif"
    assert back.grid.same_as(result.grid)
    assert back.radar_window == result.radar_window
    assert back.valid_fraction == result.valid_fraction
