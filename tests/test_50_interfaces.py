"""The notebooks' parameters and the CWL inputs are the step functions' parameters.

Name, type, default and documentation of every notebook parameter and every CWL input come
from `s1flood.steps` (tests here fail when a step gains, loses or changes a parameter that a
notebook or CWL file does not follow); ``cwltool --validate`` passes on every CWL file; the
job files hold what they say.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from s1flood.docs import parameter_docs
from s1flood.notebook import notebook_parameters, parameter_comment
from s1flood.package_images import step_image
from s1flood.steps import COMPOSED, STEPS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CWL = ROOT / "cwl"
BIN = Path(sys.executable).parent

NOTEBOOK_STEPS = {
    "01-discover.ipynb": "discover",
    "02-classify.ipynb": "scene",
    "03-aggregate.ipynb": "aggregate",
}
TOOL_STEPS = {"discover.cwl": "discover", "classify.cwl": "scene", "aggregate.cwl": "aggregate"}
NOT_IN_NOTEBOOKS = {"progress"}
"""Step parameters a notebook leaves at the step's default (no progress bars in a notebook)."""
NOT_IN_CWL = {"progress", "out_dir", "overwrite"}
"""Step parameters a CWL tool sets itself: every job writes into a fresh output folder."""
CWL_ONLY = {"notebook", "cdse_username", "cdse_password", "earthdata_token"}
"""CWL inputs that are not step parameters: the notebook to run and the secrets."""
STAGED = {"catalogue": ("Directory", "catalogue_name"), "dem": ("File", "dem_name")}
"""Step parameters CWL splits in two: a staged input and a ``string?`` naming the same thing
(``cwl/notebook.js`` joins them); their docs are the workflow's own."""
DEMO_DEFAULTS = {"aoi", "start", "end", "catalogue", "dem", "product", "masks", "out_dir"}
"""Notebook defaults that are the offline demo's, so a notebook runs top to bottom as it is."""

PYTHON_TYPES = {"str": "str", "float": "float", "int": "int", "bool": "bool", "list[str]": "list"}
CWL_TYPES = {"str": "string", "float": "float", "int": "int", "bool": "boolean"}


def step_parameters(step: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(STEPS[step]).parameters)


def step_doc(step: str, name: str) -> str:
    for owner in (step, *COMPOSED.get(step, ())):
        text = parameter_docs(STEPS[owner]).get(name)
        if text:
            return " ".join(text.split())
    raise AssertionError(f"{step}: parameter {name} has no documentation in s1flood.steps")


def split_optional(annotation: str) -> tuple[str, bool]:
    if annotation.startswith("Optional[") and annotation.endswith("]"):
        return annotation[len("Optional[") : -1], True
    if annotation.endswith(" | None"):
        return annotation.removesuffix(" | None"), True
    return annotation, False


def normalise_python(annotation: str) -> tuple[str, bool]:
    core, optional = split_optional(annotation)
    return ("str" if core in ("Path | str", "str | Path") else core), optional


def cwl_type(value: Any) -> tuple[set[str], bool]:
    """The base CWL types of an input type and whether it may be null."""
    items = value if isinstance(value, list) else [value]
    names: set[str] = set()
    optional = False
    for item in items:
        if isinstance(item, dict):
            names.add(f"{item['items']}[]")
            continue
        if item == "null":
            optional = True
            continue
        if item.endswith("?"):
            optional = True
            item = item[:-1]
        names.add(item)
    return names, optional


def load_cwl(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CWL / name).read_text(encoding="utf-8"))
    return data


def cwl_inputs(name: str) -> dict[str, dict[str, Any]]:
    inputs = load_cwl(name)["inputs"]
    return {key: value for key, value in inputs.items()}


@pytest.mark.parametrize(("notebook", "step"), NOTEBOOK_STEPS.items())
def test_notebook_parameters_are_the_step_parameters(notebook: str, step: str) -> None:
    found = notebook_parameters(NOTEBOOKS / notebook)
    params = step_parameters(step)
    expected = [name for name in params if name not in NOT_IN_NOTEBOOKS]
    assert list(found) == expected, f"{notebook}: parameters differ from s1flood.steps ({step})"
    for name, info in found.items():
        param = params[name]
        nb_type, nb_optional = split_optional(info["inferred_type_name"])
        py_type, py_optional = normalise_python(str(param.annotation))
        assert (nb_type, nb_optional) == (py_type, py_optional), f"{notebook}: type of {name}"
        assert info["help"] == parameter_comment(step_doc(step, name)), f"{notebook}: {name} doc"
        if name in DEMO_DEFAULTS:
            continue
        assert param.default is not inspect.Parameter.empty, name
        assert eval(info["default"]) == param.default, f"{notebook}: default of {name}"


@pytest.mark.parametrize(("tool", "step"), TOOL_STEPS.items())
def test_cwl_tool_inputs_are_the_step_parameters(tool: str, step: str) -> None:
    inputs = cwl_inputs(tool)
    params = step_parameters(step)
    expected = {name for name in params if name not in NOT_IN_CWL}
    siblings = {STAGED[name][1] for name in expected & set(STAGED)}
    found = set(inputs) - CWL_ONLY - siblings
    assert found == expected, f"{tool}: inputs differ from s1flood.steps ({step})"
    for name in expected:
        spec, param = inputs[name], params[name]
        types, optional = cwl_type(spec["type"])
        py_type, py_optional = normalise_python(str(param.annotation))
        default = None if param.default is inspect.Parameter.empty else param.default
        if name in STAGED:
            kind, sibling = STAGED[name]
            assert spec["type"] == f"{kind}?", f"{tool}: {name} is a staged {kind}?"
            assert inputs[sibling]["type"] == "string?", f"{tool}: {sibling} is a string?"
            assert spec.get("label"), f"{tool}: {name} has no label"
            assert inputs[sibling].get("label"), f"{tool}: {sibling} has no label"
            continue
        if py_type == "list[str]" and py_optional:
            # ap-validator crashes on string[]?: an empty list is the CWL default
            assert spec["type"] in ("string[]", "File[]"), f"{tool}: type of {name}"
            assert spec.get("default") == [], f"{tool}: default of {name}"
        elif py_type == "list[str]":
            assert types <= {"string[]", "File[]"}, f"{tool}: type of {name}"
            assert spec.get("default") == default, f"{tool}: default of {name}"
        else:
            assert optional == py_optional, f"{tool}: {name} optional"
            assert types == {CWL_TYPES[py_type]}, f"{tool}: type of {name}"
            assert spec.get("default") == default, f"{tool}: default of {name}"
        assert " ".join(spec["doc"].split()) == step_doc(step, name), f"{tool}: doc of {name}"
        assert spec.get("label"), f"{tool}: {name} has no label"


def test_workflow_inputs_are_the_tools_inputs() -> None:
    workflow = load_cwl("workflow.cwl")
    assert workflow.get("label")
    assert workflow.get("doc")
    wiring: dict[str, list[tuple[str, str]]] = {}
    for step in workflow["steps"].values():
        for target, source in step["in"].items():
            wiring.setdefault(source, []).append((step["run"], target))
    for name, spec in workflow["inputs"].items():
        assert spec.get("label"), f"workflow input {name} has no label"
        assert spec.get("doc"), f"workflow input {name} is not documented"
        targets = wiring.get(name)
        assert targets, f"workflow input {name} goes to no step"
        definitions = [cwl_inputs(run)[target] for run, target in targets]
        assert all(target == name for _, target in targets), f"{name} renamed on its way"
        assert any(
            (d["type"], d.get("default"), d["doc"])
            == (spec["type"], spec.get("default"), spec["doc"])
            for d in definitions
        ), f"workflow input {name} differs from the tools it feeds"
    for step in workflow["steps"].values():
        tool_inputs = cwl_inputs(step["run"])
        wired = set(step["in"])
        required = {
            n
            for n, s in tool_inputs.items()
            if "default" not in s and not cwl_type(s["type"])[1] and n not in CWL_ONLY
        }
        assert required <= wired, f"{step['run']}: required inputs not wired: {required - wired}"
        # every step parameter a tool takes is also a workflow input (or comes from a step)
        assert wired == set(tool_inputs) - {"notebook"}, f"{step['run']}: inputs not wired"


def test_inputs_take_the_shape_an_ades_runs() -> None:
    """What the ADES runner code and the validators accept (issue 19).

    zoo-runner-common refuses an input without a default unless its type is exactly
    ``string?``; eoap-cwlwrap stages in every input whose type holds a File or Directory, so
    a union with a string breaks a string value; ap-validator crashes on ``string[]?``. A
    staged input is optional only beside a ``string?`` sibling naming the same thing.
    """
    for name in ["workflow.cwl", *TOOL_STEPS]:
        inputs = cwl_inputs(name)
        for key, spec in inputs.items():
            kind = spec["type"]
            assert isinstance(kind, str), f"{name}: {key} is a union {kind}"
            if key in STAGED:
                assert kind == f"{STAGED[key][0]}?", f"{name}: {key}"
                assert inputs[STAGED[key][1]]["type"] == "string?", f"{name}: {key}'s sibling"
            elif kind.endswith("?"):
                assert kind == "string?" or "default" in spec, f"{name}: {key} is {kind}"
            assert not kind.endswith("[]?"), f"{name}: {key} is {kind}"


def test_every_cwl_file_is_valid() -> None:
    for path in sorted(CWL.glob("*.cwl")):
        done = subprocess.run(
            [str(BIN / "cwltool"), "--enable-ext", "--validate", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "is valid CWL" in done.stdout + done.stderr


def test_tools_declare_resources_network_and_images() -> None:
    for tool in TOOL_STEPS:
        data = load_cwl(tool)
        assert data["label"]
        assert data["doc"]
        resources = data["requirements"]["ResourceRequirement"]
        assert resources["ramMin"] <= resources["ramMax"]
        assert resources["coresMin"] <= resources["coresMax"]
        assert "NetworkAccess" in data["requirements"]
        image = data["hints"]["DockerRequirement"]["dockerPull"]
        assert image == step_image(tool.removesuffix(".cwl")), "the published image name"
        assert "DockerRequirement" not in data["requirements"], "--no-container needs it in hints"
    assert load_cwl("classify.cwl")["requirements"]["NetworkAccess"]["networkAccess"] is True
    secrets = load_cwl("classify.cwl")["hints"]["cwltool:Secrets"]["secrets"]
    assert set(secrets) == CWL_ONLY - {"notebook"}
    assert set(load_cwl("workflow.cwl")["hints"]["cwltool:Secrets"]["secrets"]) == set(secrets)


def test_notebooks_are_stored_without_outputs_with_a_tagged_parameters_cell() -> None:
    for notebook in NOTEBOOK_STEPS:
        data = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
        code = [cell for cell in data["cells"] if cell["cell_type"] == "code"]
        assert all(not cell["outputs"] and cell["execution_count"] is None for cell in code)
        tagged = [cell for cell in code if "parameters" in cell["metadata"].get("tags", [])]
        assert len(tagged) == 1, notebook
        assert data["metadata"]["kernelspec"]["name"] == "s1flood"
        source = "".join("".join(cell["source"]) for cell in code)
        assert "sb.glue(" in source
        assert "plt." in source


def test_identifiers_are_glued_first() -> None:
    data = json.loads((NOTEBOOKS / "01-discover.ipynb").read_text(encoding="utf-8"))
    source = "".join("".join(cell["source"]) for cell in data["cells"])
    first = source.index("sb.glue(")
    assert source[first:].startswith('sb.glue("identifiers"')


def test_job_files() -> None:
    from s1flood.aoi import parse_aoi_wkt
    from s1flood.demo import DEMO_AOI, DEMO_END, DEMO_START

    demo = yaml.safe_load((ROOT / "parameters" / "demo.yml").read_text(encoding="utf-8"))
    assert (demo["aoi"], demo["start"], demo["end"]) == (DEMO_AOI, DEMO_START, DEMO_END)
    assert demo["catalogue"]["class"] == "Directory"
    workflow_inputs = load_cwl("workflow.cwl")["inputs"]
    for name in ("ahr-erft-2021.yml", "emilia-romagna-2023.yml", "demo.yml"):
        job = yaml.safe_load((ROOT / "parameters" / name).read_text(encoding="utf-8"))
        assert set(job) <= set(workflow_inputs), f"{name}: unknown inputs"
        parse_aoi_wkt(job["aoi"])
        assert not {"cdse_username", "cdse_password", "earthdata_token"} & set(job)
