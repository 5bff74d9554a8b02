"""Print a step parameter as a notebook parameters-cell line and as a CWL input line.

Adding a parameter to a step is then one pasted line in the notebook and one in the CWL tool
(``tests/test_50_interfaces.py`` fails until both agree with `s1flood.steps`)::

    .venv/bin/python scripts/interface_lines.py scene threshold_db method

When a step gains a parameter or its documentation changes, ``--sync`` brings the notebooks'
parameters cells and the CWL inputs (and the workflow's wiring) in line with `s1flood.steps`;
review the diff (a new path parameter comes in as a ``File``)::

    .venv/bin/python scripts/interface_lines.py --sync [REPOSITORY]
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

from s1flood.docs import parameter_docs
from s1flood.notebook import parameter_comment
from s1flood.steps import COMPOSED, STEPS

CWL_TYPES = {"str": "string", "float": "float", "int": "int", "bool": "boolean"}
PATHS = {"Path | str": "str", "Path | str | None": "str | None"}


def doc(step: str, name: str) -> str:
    """A step parameter's documentation (a composed step's from the steps it calls)."""
    for owner in (step, *COMPOSED.get(step, ())):
        text = parameter_docs(STEPS[owner]).get(name)
        if text:
            return text
    raise KeyError(f"{step}: {name} is not documented")


def notebook_type(annotation: str) -> str:
    """Notebook type: papermill reads ``Optional[X]``, not ``X | None``."""
    annotation = PATHS.get(annotation, annotation)
    if annotation.endswith(" | None"):
        return f"Optional[{annotation.removesuffix(' | None')}]"
    return annotation


def cwl_type(annotation: str, name: str) -> str:
    """CWL type of a step annotation, in the shape an ADES runs (see `cwl_default`).

    A required path is a staged ``File``; an optional one a ``string?`` (a path or URL:
    zoo-runner-common refuses an optional input without a default unless it is
    ``string?``); a list is ``string[]`` (ap-validator crashes on ``string[]?``).
    """
    optional = annotation.endswith(" | None")
    core = annotation.removesuffix(" | None")
    if core == "Path | str":
        return "string?" if optional else "File"
    if core == "list[str]":
        return "string[]"
    return CWL_TYPES[core] + ("?" if optional else "")


def cwl_default(step: str, name: str) -> object:
    """The CWL default of a step parameter: the step's, an empty list for an optional list."""
    param = inspect.signature(STEPS[step]).parameters[name]
    default = None if param.default is inspect.Parameter.empty else param.default
    if default is None and str(param.annotation) == "list[str] | None":
        return []
    return default


def lines(step: str, name: str) -> tuple[str, str]:
    """The notebook parameters-cell line and the CWL input line of a step parameter."""
    param = inspect.signature(STEPS[step]).parameters[name]
    annotation = str(param.annotation)
    text = doc(step, name)
    default = None if param.default is inspect.Parameter.empty else param.default
    value = repr(default)
    nb = f"{name}: {notebook_type(annotation)} = {value}  # {parameter_comment(text)}"
    entry: dict[str, object] = {"type": cwl_type(annotation, name), "label": name, "doc": text}
    if cwl_default(step, name) is not None:
        entry["default"] = cwl_default(step, name)
    cwl = f"  {name}: {json.dumps(entry)}"
    return nb, cwl


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    "01-discover.ipynb": "discover",
    "02-classify.ipynb": "scene",
    "03-aggregate.ipynb": "aggregate",
}
TOOLS = {"discover.cwl": "discover", "classify.cwl": "scene", "aggregate.cwl": "aggregate"}
WORKFLOW_OWNER = {"polarisation": "scene"}
"""Workflow inputs fed to several steps whose definition is not discover's."""


NOT_IN_NOTEBOOKS = {"progress"}
DEMO_DEFAULTS = {"aoi", "start", "end", "catalogue", "dem", "product", "masks", "out_dir"}
"""Notebook values that are the offline demo's (kept); the others are the step's defaults."""
NOT_IN_CWL = {"progress", "out_dir", "overwrite"}
STAGED = {"catalogue": "catalogue_name", "dem": "dem_name"}
"""Step parameters that CWL splits in two: a staged ``Directory?``/``File?`` and a
``string?`` naming the same thing (``cwl/notebook.js`` joins them again). Their lines are
the workflow's (``cwl/workflow.cwl``), not made from the step."""


def _sync_notebook(path: Path, step: str) -> bool:
    """Rebuild a parameters cell in the step's order.

    Values are kept; comments and new parameters (at the step's default) come from the step;
    parameters the step lost are dropped.
    """
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    changed = False
    names = [n for n in inspect.signature(STEPS[step]).parameters if n not in NOT_IN_NOTEBOOKS]
    for cell in notebook.cells:
        if "parameters" not in cell.metadata.get("tags", []):
            continue
        present: dict[str, str] = {}
        for line in cell.source.splitlines():
            head, sep, _comment = line.partition("  # ")
            name = head.split(":", 1)[0].strip()
            if sep and name.isidentifier():
                present[name] = head
        out = []
        for name in names:
            if name in present and name in DEMO_DEFAULTS:
                out.append(f"{present[name]}  # {parameter_comment(doc(step, name))}")
            else:
                out.append(lines(step, name)[0])
        source = "\n".join(out)
        changed |= source != cell.source
        cell.source = source
    if changed:
        nbformat.write(notebook, path)
    return changed


def _top_names(block: list[str], indent: str) -> dict[str, int]:
    """Line index of each ``NAME:`` entry at exactly `indent` in a block of lines."""
    found = {}
    for index, line in enumerate(block):
        if line.startswith(indent) and not line.startswith(indent + " "):
            name = line.strip().split(":", 1)[0]
            if name.isidentifier():
                found[name] = index
    return found


def _insert_after(
    block: list[str], where: dict[str, int], order: list[str], name: str, new: str
) -> None:
    """Insert `new` after the entry of the nearest earlier name of `order` (else at the end)."""
    earlier = [n for n in order[: order.index(name)] if n in where]
    index = where[earlier[-1]] + 1 if earlier else len(block)
    block.insert(index, new)
    for key, value in where.items():
        if value >= index:
            where[key] = value + 1
    where[name] = index


def _section(lines_: list[str], start: str, indent: str) -> tuple[int, int]:
    """First and past-the-end line of the block under `start` (lines deeper than `indent`)."""
    first = lines_.index(start) + 1
    end = first
    while end < len(lines_) and (lines_[end].startswith(indent + " ") or not lines_[end].strip()):
        end += 1
    return first, end


def _input_lines(path: Path) -> dict[str, str]:
    """Each top-level input line of a CWL file by input name."""
    text = [line + "\n" for line in path.read_text(encoding="utf-8").splitlines()]
    first, end = _section(text, "inputs:\n", "")
    return {
        line.strip().split(":", 1)[0]: line.rstrip("\n")
        for line in text[first:end]
        if line.startswith("  ") and not line.startswith("   ") and ":" in line
    }


def _add_tool_inputs(path: Path, step: str) -> bool:
    """Add an input line for each step parameter a CWL tool lacks (the tool owns the rest)."""
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first, end = _section(text, "inputs:\n", "")
    block = text[first:end]
    where = _top_names(block, "  ")
    order = [n for n in inspect.signature(STEPS[step]).parameters if n not in NOT_IN_CWL]
    missing = [n for n in order if n not in where]
    workflow = _input_lines(path.parent / "workflow.cwl")
    for name in missing:
        if name in STAGED:
            sibling = STAGED[name]
            _insert_after(block, where, order, name, workflow[name] + "\n")
            _insert_after(block, where, [*order, sibling], sibling, workflow[sibling] + "\n")
            continue
        _insert_after(block, where, order, name, lines(step, name)[1] + "\n")
    if missing:
        path.write_text("".join(text[:first] + block + text[end:]), encoding="utf-8")
    return bool(missing)


def _wire_workflow(path: Path) -> bool:
    """Give the workflow an input and an ``in:`` line for each tool input it does not wire."""
    import yaml

    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = False
    for step_id, step in workflow["steps"].items():
        tool = path.parent / step["run"]
        tool_lines = _input_lines(tool)
        order = [n for n in yaml.safe_load(tool.read_text(encoding="utf-8"))["inputs"]]
        for name in [n for n in order if n != "notebook" and n not in step["in"]]:
            first, end = _section(text, f"  {step_id}:\n", "  ")
            in_first, in_end = _section(text[first:end], "    in:\n", "    ")
            block = text[first + in_first : first + in_end]
            where = _top_names(block, "      ")
            _insert_after(block, where, order, name, f"      {name}: {name}\n")
            text[first + in_first : first + in_end] = block
            step["in"][name] = name
            if name not in workflow["inputs"]:
                first_i, end_i = _section(text, "inputs:\n", "")
                inputs = text[first_i:end_i]
                where_i = _top_names(inputs, "  ")
                _insert_after(inputs, where_i, order, name, tool_lines[name] + "\n")
                text[first_i:end_i] = inputs
                workflow["inputs"][name] = {}
            changed = True
    if changed:
        path.write_text("".join(text), encoding="utf-8")
    return changed


def _sync_cwl(path: Path, owner: Callable[[str], str | None]) -> bool:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = False
    for index, line in enumerate(lines):
        name, sep, rest = line.strip().partition(": ")
        top = sep and line.startswith("  ") and not line.startswith("   ")
        step = owner(name) if top and name not in STAGED else None
        if step is None or not rest.startswith("{"):
            continue
        try:
            entry = json.loads(rest)
            entry["doc"] = doc(step, name)
        except (ValueError, KeyError):
            continue
        default = cwl_default(step, name)
        if default is None:
            entry.pop("default", None)
        else:
            entry["default"] = default
        new = f"  {name}: {json.dumps(entry)}\n"
        changed |= new != line
        lines[index] = new
    if changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed


def sync(root: Path = ROOT) -> list[str]:
    """Bring the notebooks and CWL files in line with the steps; the files changed.

    Parameters cells are rebuilt in the step's order (the demo's values kept, the others at
    the step's default); CWL tools get an input line for each new step parameter, the
    workflow an input and an ``in:`` line for each tool input it does not wire; every
    comment, ``doc`` and ``default`` is the step's. Types of existing CWL inputs are left as
    they are (a path may be a File, a Directory or a string; the tests check them).
    """
    changed = []
    for name, step in NOTEBOOKS.items():
        if _sync_notebook(root / "notebooks" / name, step):
            changed.append(f"notebooks/{name}")
    for name, step in TOOLS.items():
        added = _add_tool_inputs(root / "cwl" / name, step)
        if _sync_cwl(root / "cwl" / name, lambda _n, s=step: s) or added:
            changed.append(f"cwl/{name}")

    def workflow_owner(name: str) -> str | None:
        for step in (WORKFLOW_OWNER.get(name), "discover", "scene", "aggregate"):
            if step and name in inspect.signature(STEPS[step]).parameters:
                return step
        return None

    wired = _wire_workflow(root / "cwl" / "workflow.cwl")
    if _sync_cwl(root / "cwl" / "workflow.cwl", workflow_owner) or wired:
        changed.append("cwl/workflow.cwl")
    return changed


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sync"]:
        target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT
        print("\n".join(sync(target)) or "in sync")
        sys.exit(0)
    if not sys.argv[1:] or sys.argv[1] not in STEPS:
        sys.exit(
            f"usage: interface_lines.py STEP [PARAMETER ...] | --sync [REPOSITORY]; "
            f"STEP is one of {', '.join(STEPS)}"
        )
    step_name, *names = sys.argv[1:]
    unknown = set(names) - set(inspect.signature(STEPS[step_name]).parameters)
    if unknown:
        sys.exit(f"{step_name} has no parameter {', '.join(sorted(unknown))}")
    for parameter in names or list(inspect.signature(STEPS[step_name]).parameters):
        for line in lines(step_name, parameter):
            print(line)
