"""The CWL workflow on a tiny simulated demo: cwltool and Toil, one run each for every test.

The cwltool run is given credentials (as the secrets a user would pass) that nothing needs
offline, so the same run shows they reach no output, notebook, log or temporary file.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path

import pytest
import rasterio

from workflow_runs import CWL, TOIL_BIN, Run, cwltool, job, simulate, toil

pytestmark = pytest.mark.slow

SCENES = 3
SECRETS = {
    "cdse_username": "s1flood-test-user-7Q2x",
    "cdse_password": "p4ss:W0rd/with+special=chars&more",
    "earthdata_token": "eyJ0ZXN0LXRva2VuLTlYcTQifQ.s1flood.T0k3n",
}
COGS = ("water_count.tif", "valid_count.tif", "frequency.tif", "classes.tif")


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("simulation"), SCENES)


@pytest.fixture(scope="module")
def cwltool_run(simulation: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("cwltool")
    job_file = job(base / "job.yml", simulation, **SECRETS)
    run = cwltool(CWL / "workflow.cwl", job_file, base / "run", "--debug")
    assert run.returncode == 0, run.log[-4000:]
    return run


@pytest.fixture(scope="module")
def outputs(cwltool_run: Run) -> dict[str, object]:
    text = cwltool_run.log[cwltool_run.log.index("{\n") :]
    record: dict[str, object] = json.JSONDecoder().raw_decode(text)[0]
    return record


def notebooks(outdir: Path) -> list[str]:
    return sorted(p.name for p in (outdir / "results").rglob("*.ipynb"))


def test_one_classification_job_per_scene(cwltool_run: Run, outputs: dict[str, object]) -> None:
    # the ADES shape: one Directory (a STAC catalog) and plain values, no File output
    assert set(outputs) == {"results", "identifiers", "scene_count"}
    identifiers = outputs["identifiers"]
    assert isinstance(identifiers, list)
    assert len(identifiers) == SCENES
    assert outputs["scene_count"] == SCENES
    jobs = re.findall(r"\[job (classify(?:_\d+)?)\] completed success", cwltool_run.log)
    assert len(set(jobs)) == SCENES, jobs
    names = notebooks(cwltool_run.outdir)
    assert names[0] == "01-discover.ipynb"
    assert names[-1] == "03-aggregate.ipynb"
    assert len(names) == SCENES + 2
    results = cwltool_run.outdir / "results" / "frequency"
    for name in (*COGS, "classes.png", "summary.json"):
        assert (results / name).is_file(), name


def test_outputs_are_valid_cogs(cwltool_run: Run) -> None:
    from rio_cogeo.cogeo import cog_validate

    results = cwltool_run.outdir / "results"
    paths = [results / "frequency" / name for name in COGS]
    paths += sorted(results.glob("scenes/*/*_water.tif"))
    assert len(paths) == len(COGS) + SCENES
    for path in paths:
        valid, errors, _warnings = cog_validate(str(path), strict=False, quiet=True)
        assert valid, f"{path.name}: {errors}"
        with rasterio.open(path) as dataset:
            assert dataset.overviews(1) or max(dataset.shape) <= 512


def test_stac_catalog_validates_offline(cwltool_run: Run, outputs: dict[str, object]) -> None:
    from stac_pydantic import Catalog, Item

    results = cwltool_run.outdir / "results"
    catalog = json.loads((results / "catalog.json").read_text(encoding="utf-8"))
    Catalog.model_validate(catalog)
    links = [link for link in catalog["links"] if link["rel"] == "item"]
    assert len(links) == 1 + SCENES
    items = {}
    for link in links:
        item_path = (results / link["href"]).resolve()
        item = json.loads(item_path.read_text(encoding="utf-8"))
        Item.model_validate(item)
        for asset in item["assets"].values():
            assert not Path(asset["href"]).is_absolute(), "a self-contained catalog"
            assert (item_path.parent / asset["href"]).resolve().is_file(), asset["href"]
            assert asset["roles"], asset
            assert asset["type"], asset
        items[item["id"]] = item
    # every file of the folder is an asset of one Item (or one of the catalog's documents)
    listed = {
        (results / link["href"]).resolve().parent / asset["href"]
        for link in links
        for asset in items[Path(link["href"]).stem]["assets"].values()
    }
    files = {p.resolve() for p in results.rglob("*") if p.is_file()}
    documents = {(results / link["href"]).resolve() for link in links} | {
        (results / "catalog.json").resolve()
    }
    assert {p.resolve() for p in listed} == files - documents
    aggregation = items.pop("water-frequency")
    assert links[0]["href"].endswith("water-frequency.json"), "the aggregation's Item first"
    assert {*(n.removesuffix(".tif") for n in COGS), "map", "summary"} <= set(aggregation["assets"])
    assert aggregation["assets"]["frequency"]["roles"] == ["data"]
    assert "notebook" in aggregation["assets"]["notebook_aggregate"]["roles"]
    assert aggregation["properties"]["start_datetime"].startswith("2026-10-20")
    assert aggregation["properties"]["s1flood:scene_count"] == SCENES
    assert sorted(items) == sorted(outputs["identifiers"])  # type: ignore[arg-type]
    for item in items.values():
        assert {"water_mask", "sidecar", "histogram", "notebook"} <= set(item["assets"])
        assert item["properties"]["start_datetime"][:10] == (
            f"{item['id'][17:21]}-{item['id'][21:23]}-{item['id'][23:25]}"
        )


def test_scraps_read_with_the_original_expression(
    cwltool_run: Run, outputs: dict[str, object]
) -> None:
    import scrapbook as sb

    folder = cwltool_run.outdir / "results"
    nb = sb.read_notebook(str(folder / "notebooks" / "01-discover.ipynb"))
    # the 2020 orchestration's own expression
    assert list(nb.scrap_dataframe["data"])[0] == outputs["identifiers"]  # noqa: RUF015
    assert nb.parameters["aoi"].startswith("POLYGON")

    from s1flood.notebook import read_scraps

    classify = sorted(folder.glob("scenes/*/02-classify_*.ipynb"))
    assert len(classify) == SCENES
    for path in classify:
        scraps = read_scraps(path)
        assert scraps["mask"].endswith("_water.tif")
        assert scraps["thresholds_db"]
    aggregate = read_scraps(folder / "notebooks" / "03-aggregate.ipynb")
    assert aggregate["scene_count"] == SCENES
    assert aggregate["map"].endswith(".png")


def secret_forms() -> list[bytes]:
    forms: set[str] = set()
    for value in SECRETS.values():
        forms |= {
            value,
            urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value),
            base64.b64encode(value.encode()).decode(),
            base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
        }
    basic = f"{SECRETS['cdse_username']}:{SECRETS['cdse_password']}"
    forms.add(base64.b64encode(basic.encode()).decode())
    return sorted(form.encode() for form in forms)


def test_credentials_reach_no_output_notebook_log_or_job_file(
    cwltool_run: Run, outputs: dict[str, object]
) -> None:
    forms = secret_forms()
    files = [p for p in cwltool_run.workdir.rglob("*") if p.is_file()]
    assert any(p.name == "parameters.json" for p in files), "job files were scanned too"
    assert any(p.suffix == ".ipynb" for p in files)
    for path in files:
        content = path.read_bytes()
        leaked = [form for form in forms if form in content]
        assert not leaked, f"{path}: holds a credential"
    log = cwltool_run.log.encode()
    assert not [form for form in forms if form in log], "the cwltool log holds a credential"
    outputs_text = json.dumps(outputs).encode()
    assert not [form for form in forms if form in outputs_text]


@pytest.fixture(scope="module")
def toil_run(simulation: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    if not (TOIL_BIN / "toil-cwl-runner").is_file():
        pytest.skip("Toil is not installed: `make toil` makes .venv-toil")
    base = tmp_path_factory.mktemp("toil")
    work = base / "run"
    # given the credentials too; the job store and Toil's log are kept to be scanned
    job_file = job(base / "job.yml", simulation, **SECRETS)
    run = toil(CWL / "workflow.cwl", job_file, work, "--clean", "never", "--logFile",
               str(work / "toil.log"), "--logDebug")  # fmt: skip
    assert run.returncode == 0, run.log[-4000:]
    return run


def test_toil_gives_byte_identical_rasters(cwltool_run: Run, toil_run: Run) -> None:
    expected = sorted(p.relative_to(cwltool_run.outdir) for p in cwltool_run.outdir.rglob("*.tif"))
    found = sorted(p.relative_to(toil_run.outdir) for p in toil_run.outdir.rglob("*.tif"))
    assert found == expected
    aggregated = list((cwltool_run.outdir / "results" / "frequency").glob("*.tif"))
    assert {p.name for p in aggregated} >= set(COGS)
    assert len(expected) == len(aggregated) + SCENES  # and one mask per scene
    for relative in expected:
        a = (cwltool_run.outdir / relative).read_bytes()
        b = (toil_run.outdir / relative).read_bytes()
        assert a == b, f"{relative}: Toil and cwltool rasters differ"
    assert (toil_run.outdir / "results" / "catalog.json").is_file()
    assert notebooks(toil_run.outdir) == notebooks(cwltool_run.outdir)


def test_summary_names_masks_by_product_not_staging_path(cwltool_run: Run) -> None:
    results = cwltool_run.outdir / "results"
    summary = json.loads((results / "frequency" / "summary.json").read_text())
    masks = sorted(p.name for p in results.glob("scenes/*/*_water.tif"))
    assert len(masks) == SCENES
    assert sorted(summary["masks"]) == masks
    assert not any("/" in name or "stg" in name for name in summary["masks"])


def test_credentials_reach_no_toil_job_store_log_or_output(toil_run: Run) -> None:
    forms = secret_forms()
    files = [p for p in toil_run.workdir.rglob("*") if p.is_file()]
    assert any(p.is_relative_to(toil_run.workdir / "jobstore") for p in files)
    assert (toil_run.workdir / "toil.log").is_file()
    assert any(p.name == "summary.json" for p in files)
    leaks = [str(p) for p in files for form in forms if form in p.read_bytes()]
    assert not leaks, f"files holding a credential: {leaks[:5]}"
    assert not [form for form in forms if form in toil_run.log.encode()]
