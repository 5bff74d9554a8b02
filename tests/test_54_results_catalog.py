"""The results folder: every file a run made, under one self-contained STAC catalog."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s1flood import steps
from s1flood.errors import InputError
from s1flood.results_catalog import write_results

from helpers import write_tif

PRODUCTS = (
    "S1A_IW_GRDH_1SDV_20261020T051004_20261020T051029_066826_05BD12_4A45",
    "S1A_IW_GRDH_1SDV_20261101T051004_20261101T051029_067001_05C3A1_1B2C",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two masks (each with a sidecar, a histogram, a notebook) and their aggregation."""
    base = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(0)
    masks, files, notebooks = [], [], []
    for product in PRODUCTS:
        mask = write_tif(
            base / f"{product}_water.tif", rng.integers(0, 2, (64, 64)).astype(np.uint8), nodata=255
        )
        (base / f"{product}_water.json").write_text('{"method": "split"}')
        histogram = base / f"{product}_water_histogram.png"
        histogram.write_bytes(b"\x89PNG\r\n\x1a\n")
        notebook = base / f"02-classify_{product}.ipynb"
        notebook.write_text("{}")
        masks.append(mask)
        files.append(histogram)
        notebooks.append(notebook)
    aggregation = base / "frequency"
    steps.aggregate([str(m) for m in masks], aggregation)
    # a product the aggregation may add later, unknown to the results code
    shutil.copyfile(aggregation / "frequency.tif", aggregation / "first_flooded.tif")
    (aggregation / "timeseries.csv").write_text("date,area_km2\n2026-10-20,0.1\n")
    run_notebooks = [base / "01-discover.ipynb", base / "03-aggregate.ipynb"]
    for path in run_notebooks:
        path.write_text("{}")
    # inputs staged as symbolic links (cwltool without containers)
    (base / "staged").mkdir()
    run_notebooks[0] = base / "staged" / "01-discover.ipynb"
    run_notebooks[0].symlink_to(base / "01-discover.ipynb")
    return {
        "aggregation": aggregation,
        "masks": masks,
        "files": files,
        "scene_notebooks": notebooks,
        "notebooks": run_notebooks,
    }


def items(folder: Path) -> dict[str, tuple[Path, dict[str, object]]]:
    catalog = json.loads((folder / "catalog.json").read_text())
    found = {}
    for link in catalog["links"]:
        if link["rel"] == "item":
            path = (folder / link["href"]).resolve()
            item = json.loads(path.read_text())
            found[item["id"]] = (path, item)
    return found


def test_every_file_is_an_asset_with_a_type_and_roles(
    tmp_path: Path, run: dict[str, object]
) -> None:
    from stac_pydantic import Catalog, Item

    out = tmp_path / "results"
    written = write_results(
        out,
        run["aggregation"],  # type: ignore[arg-type]
        run["masks"],  # type: ignore[arg-type]
        scene_files=run["files"],  # type: ignore[arg-type]
        scene_notebooks=run["scene_notebooks"],  # type: ignore[arg-type]
        notebooks=run["notebooks"],  # type: ignore[arg-type]
    )
    assert written.scene_count == 2
    assert written.cwl_outputs()["results"]["class"] == "Directory"
    Catalog.model_validate(json.loads((out / "catalog.json").read_text()))
    found = items(out)
    assert list(found) == ["water-frequency", *PRODUCTS]
    listed = set()
    for path, item in found.values():
        Item.model_validate(item)
        for asset in item["assets"].values():  # type: ignore[attr-defined]
            assert not Path(asset["href"]).is_absolute()
            target = (path.parent / asset["href"]).resolve()
            assert target.is_file(), asset["href"]
            assert asset["type"], asset
            assert asset["roles"], asset
            listed.add(target)
    documents = {path for path, _ in found.values()} | {(out / "catalog.json").resolve()}
    assert listed == {p.resolve() for p in out.rglob("*") if p.is_file()} - documents
    assert not [p for p in out.rglob("*") if p.is_symlink()], "a link out of the folder"
    _, aggregation = found["water-frequency"]
    assets = aggregation["assets"]
    assert assets["frequency"]["roles"] == ["data"]  # type: ignore[index]
    # the aggregation's own asset metadata (extension fields too) is kept
    own = json.loads(
        (Path(run["aggregation"]) / "water-frequency" / "water-frequency.json").read_text()
    )  # type: ignore[arg-type]
    for key, field in own["assets"].items():
        assert {k: v for k, v in field.items() if k != "href"} == {
            k: v
            for k, v in assets[key].items()
            if k != "href"  # type: ignore[index]
        }, key
    assert aggregation["stac_extensions"] == own["stac_extensions"]
    assert assets["first_flooded"]["type"].endswith("cloud-optimized")  # type: ignore[index]
    assert assets["timeseries"]["type"] == "text/csv"  # type: ignore[index]
    assert assets["map"]["roles"] == ["overview", "visual"]  # type: ignore[index]
    assert "notebook" in assets["notebook_discover"]["roles"]  # type: ignore[index]
    assert aggregation["properties"]["s1flood:scene_count"] == 2  # type: ignore[index]
    # the aggregation's own catalog is replaced by the results' one
    assert not (out / "frequency" / "catalog.json").exists()
    _, scene = found[PRODUCTS[1]]
    assert set(scene["assets"]) == {"water_mask", "sidecar", "histogram", "notebook"}  # type: ignore[arg-type]
    assert scene["properties"]["start_datetime"] == "2026-11-01T05:10:04Z"  # type: ignore[index]
    assert scene["assets"]["notebook"]["href"] == f"./02-classify_{PRODUCTS[1]}.ipynb"  # type: ignore[index]
    # the input files are left as they were
    assert (Path(run["aggregation"]) / "catalog.json").is_file()  # type: ignore[arg-type]


def test_bad_inputs_are_refused_before_anything_is_written(
    tmp_path: Path, run: dict[str, object]
) -> None:
    masks = run["masks"]
    with pytest.raises(InputError, match="2 masks"):
        write_results(tmp_path / "a", run["aggregation"], masks, scene_notebooks=masks[:1])  # type: ignore[arg-type,index]
    assert not (tmp_path / "a").exists()
    with pytest.raises(InputError, match="not found"):
        write_results(tmp_path / "b", tmp_path / "none", masks)  # type: ignore[arg-type]
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "s1flood.cli", "results", str(tmp_path / "c"),
         "--aggregation", str(run["aggregation"])],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "is not empty" in proc.stderr
