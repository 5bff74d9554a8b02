"""The application package's shape, from the CWL sources (no engine, no registry needed).

The images are pinned to made-up digests here; tests/test_62_containers.py pushes real images
to a registry on 127.0.0.1 and runs the package from it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from s1flood._version import __version__
from s1flood.package import (
    NOTEBOOK_DIR,
    build_package,
    check_package,
    docker_images,
    pack,
    package_document,
    source_metadata,
)

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "cwl" / "workflow.cwl"
CWLTOOL = Path(sys.executable).with_name("cwltool")

pytestmark = pytest.mark.skipif(not WORKFLOW.exists(), reason="no cwl/workflow.cwl yet (issue 11)")


@pytest.fixture(scope="module")
def packed():
    if not CWLTOOL.exists():
        pytest.skip("cwltool is not installed (pip install '.[cwl]')")
    return pack(WORKFLOW)


def fake_pins(images):
    return {
        image: f"registry.example/{image.split(':')[0]}@sha256:"
        + hashlib.sha256(image.encode()).hexdigest()
        for image in images
    }


@pytest.fixture(scope="module")
def package(packed):
    meta = source_metadata(WORKFLOW)
    return package_document(
        packed, images=fake_pins(docker_images(packed)), workflow_id=meta["id"], metadata=meta
    )


def test_package_is_an_application_package(package):
    assert check_package(package) == []
    entry = package["$graph"][0]
    assert entry["class"] == "Workflow"
    assert entry["id"] == "s1flood-water-frequency"
    assert package["s:softwareVersion"] == __version__
    tools = [p for p in package["$graph"] if p["class"] == "CommandLineTool"]
    assert {t["id"] for t in tools} == {"discover", "classify", "aggregate", "results"}
    for tool in tools:
        assert "hints" not in tool or not any(
            h["class"] == "DockerRequirement" for h in tool["hints"]
        )
        # the notebook baked into the image, not a path on the packer's disk
        assert not any(p["id"] == "notebook" for p in tool["inputs"])
        if tool["id"] != "results":
            assert any(str(a).startswith(f"{NOTEBOOK_DIR}/") for a in tool["arguments"])
    text = yaml.safe_dump(package)
    assert str(ROOT) not in text, "the package names a path on this machine"


def test_metadata_is_the_projects_from_one_place(package):
    import tomllib

    from s1flood.package_metadata import METADATA

    for key, value in METADATA.items():
        assert package[key] == value, key
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [a["email"] for a in project["authors"]] == [a["s:email"] for a in METADATA["s:author"]]
    names = [f"{a['s:givenName']} {a['s:familyName']}" for a in METADATA["s:author"]]
    assert [a["name"] for a in project["authors"]] == names
    assert project["keywords"] == METADATA["s:keywords"]
    assert METADATA["s:license"].endswith("/" + project["license"])
    assert project["urls"]["Source"] == METADATA["s:codeRepository"]
    source = yaml.safe_load(WORKFLOW.read_text())
    assert source["s:license"] == METADATA["s:license"]
    assert source["s:codeRepository"] == METADATA["s:codeRepository"]


def test_package_ids_are_local(package):
    """What the ADES runners' loader reads: ``id: aoi``, ``source: aoi``, ``run: '#discover'``."""
    entry = package["$graph"][0]
    names = {p["id"] for p in package["$graph"]}
    for process in package["$graph"]:
        for port in [*process["inputs"], *process["outputs"]]:
            assert "/" not in port["id"], port["id"]
            assert "#" not in port["id"], port["id"]
    steps = {step["id"]: step for step in entry["steps"]}
    assert set(steps) == {"discover", "classify", "aggregate", "gather"}
    assert steps["discover"]["run"] == "#discover"
    assert all(step["run"].lstrip("#") in names for step in steps.values())
    sources = {port["id"]: port["source"] for port in steps["classify"]["in"]}
    assert sources["aoi"] == "aoi"
    assert sources["product"] == "discover/identifiers"
    assert steps["classify"]["scatter"] == "product"
    assert steps["discover"]["out"] == ["identifiers", "executed_notebook"]
    outputs = {port["id"]: port for port in entry["outputs"]}
    assert outputs["results"]["outputSource"] == "gather/results"
    assert outputs["results"]["type"] == "Directory"
    assert all(port["type"] != "File" for port in entry["outputs"]), "a File output"


def test_packed_ids_are_reported(package):
    broken = yaml.safe_load(yaml.safe_dump(package))
    broken["$graph"][0]["steps"][0]["in"][0]["source"] = "#s1flood-water-frequency/aoi"
    broken["$graph"][0]["steps"][1]["run"] = "#nowhere"
    problems = "\n".join(check_package(broken))
    assert "#s1flood-water-frequency/aoi is not a local id" in problems
    assert "runs #nowhere, not a process of the $graph" in problems


def test_package_problems_are_named(package):
    broken = yaml.safe_load(yaml.safe_dump(package))
    broken["$graph"][0]["id"] = "#main"
    tool = broken["$graph"][1]
    docker = next(r for r in tool["requirements"] if r["class"] == "DockerRequirement")
    docker["dockerPull"] = "s1flood/x:1"
    res = next(r for r in tool["requirements"] if r["class"] == "ResourceRequirement")
    res.pop("ramMax")
    broken["$graph"][0]["outputs"] = [
        o for o in broken["$graph"][0]["outputs"] if "Directory" not in str(o["type"])
    ]
    problems = "\n".join(check_package(broken))
    assert "id is main" in problems
    assert "not pinned by @sha256:" in problems
    assert "lacks ramMax" in problems
    assert "stage-out" in problems


def test_package_file_validates_with_cwltool(tmp_path, packed):
    out = build_package(WORKFLOW, tmp_path / "pkg.cwl", strict=False)
    assert out.workflow_id == "s1flood-water-frequency"
    proc = subprocess.run(
        [str(CWLTOOL), "--enable-ext", "--validate", str(out.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "is valid CWL" in proc.stdout


def test_package_command_one_line_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "s1flood.cli", "package", "--workflow", str(tmp_path / "no.cwl")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "no.cwl not found" in proc.stderr
