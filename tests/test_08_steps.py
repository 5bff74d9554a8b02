"""One step specification: the CLI options are the step functions' parameters, all documented."""

from __future__ import annotations

import ast
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from s1flood.cli import app
from s1flood.docs import parameter_docs
from s1flood.steps import COMPOSED, STEPS

SRC = Path(__file__).resolve().parents[1] / "src" / "s1flood"
PLAIN_TYPES = {"str", "float", "int", "bool", "list[str]", "Path | str"}
NOT_ON_THE_COMMAND_LINE = {"progress"}
"""Step parameters the CLI sets from its global options (-q) instead of an option."""


def plain(annotation: str) -> str:
    """The annotation without ``| None``."""
    return annotation.replace(" | None", "")


def click_kind(param: object) -> str:
    """The step-annotation kind of a typer parameter's Python type."""
    annotation = param.type_descriptor.annotation  # type: ignore[attr-defined]
    if annotation == list[str]:
        return "list[str]"
    return "Path | str" if annotation is Path else annotation.__name__


def documented(step: str) -> dict[str, str]:
    docs: dict[str, str] = {}
    for name in (*COMPOSED.get(step, ()), step):
        docs.update(parameter_docs(STEPS[name]))
    return docs


COMMANDS = {cmd.name: cmd for cmd in typer.main.get_command(app).commands.values()}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_step_parameter_is_plain_and_documented(step):
    signature = inspect.signature(STEPS[step])
    docs = documented(step)
    for name, parameter in signature.parameters.items():
        assert plain(str(parameter.annotation)) in PLAIN_TYPES, (step, name, parameter.annotation)
        assert docs.get(name, "").strip(), f"{step}: parameter {name!r} has no documentation"


@pytest.mark.parametrize("step", sorted(set(STEPS) & set(COMMANDS)))
def test_cli_options_are_the_step_parameters(step):
    signature = inspect.signature(STEPS[step])
    command = COMMANDS[step]
    docs = documented(step)
    options = {p.name: p for p in command.params if p.name != "help"}
    rendering = {"output_format"} if step == "discover" else set()
    for name, param in options.items():
        if name in rendering:
            continue
        assert name in signature.parameters, f"{step}: CLI option {name!r} is not a parameter"
        parameter = signature.parameters[name]
        assert click_kind(param) == plain(str(parameter.annotation)) or (
            click_kind(param) == "Path | str" and plain(str(parameter.annotation)) == "str"
        ), (step, name, click_kind(param), parameter.annotation)
        if parameter.default is not inspect.Parameter.empty:
            cli_default = param.default
            if isinstance(cli_default, Path):
                cli_default = str(cli_default)
            assert cli_default == parameter.default or (
                cli_default in ((), []) and parameter.default is None
            ), (step, name, cli_default, parameter.default)
        else:
            assert param.required, f"{step}: {name} is required by the step, optional in the CLI"
        assert param.help == docs[name], f"{step}: help of {name!r} is not the step's doc"
    missing = set(signature.parameters) - set(options) - NOT_ON_THE_COMMAND_LINE
    assert not missing, f"{step}: parameters without a CLI option: {sorted(missing)}"


def test_library_errors_never_name_a_cli_flag():
    flags = {
        opt
        for command in COMMANDS.values()
        for param in command.params
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    }
    flagged = []
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise):
                continue
            for constant in ast.walk(node):
                if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                    named = set(re.findall(r"--[a-z][a-z-]*", constant.value)) & flags
                    flagged += [f"{path.relative_to(SRC)}:{node.lineno} {f}" for f in named]
    assert not flagged, flagged


def test_start_imports_no_heavy_module():
    code = (
        "import sys, json, s1flood, s1flood.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'numba', 'rasterio', 'xarray', 'matplotlib', 'scipy', 'skimage'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("inner", ["preprocess", "classify"])
def test_process_scene_takes_every_option_of_the_steps_it_calls(inner):
    outer = inspect.signature(STEPS["scene"]).parameters
    for name, parameter in inspect.signature(STEPS[inner]).parameters.items():
        if parameter.kind is not parameter.KEYWORD_ONLY:
            continue
        if name in ("acquisition_start", "platform", "relative_orbit", "orbit_direction"):
            continue  # for a plain raster; process_scene reads them from the product
        assert name in outer, f"process_scene lacks {inner}'s {name!r}"
        if name != "dem":  # required for preprocess; optional (exclusion) for classify
            assert outer[name].default == parameter.default, (inner, name)
            assert outer[name].annotation == parameter.annotation, (inner, name)
