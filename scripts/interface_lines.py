"""Print a step parameter as a notebook parameters-cell line and as a CWL input line.

Adding a parameter to a step is then one pasted line in the notebook and one in the CWL tool
(``tests/test_50_interfaces.py`` fails until both agree with `s1flood.steps`)::

    .venv/bin/python scripts/interface_lines.py scene threshold_db method

When a step's documentation changes, ``--sync`` rewrites the comments of the notebooks'
parameters cells and the ``doc`` of the CWL inputs from `s1flood.steps`, nothing else::

    .venv/bin/python scripts/interface_lines.py --sync
"""

from __future__ import annotations

import contextlib
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
    """CWL type of a step annotation (a path is a File; the tool may widen it)."""
    optional = annotation.endswith(" | None")
    core = annotation.removesuffix(" | None")
    if core == "Path | str":
        base = "File"
    elif core == "list[str]":
        base = "string[]"
    else:
        base = CWL_TYPES[core]
    return base + ("?" if optional else "")


def lines(step: str, name: str) -> tuple[str, str]:
    """The notebook parameters-cell line and the CWL input line of a step parameter."""
    param = inspect.signature(STEPS[step]).parameters[name]
    annotation = str(param.annotation)
    text = doc(step, name)
    default = None if param.default is inspect.Parameter.empty else param.default
    value = repr(default)
    nb = f"{name}: {notebook_type(annotation)} = {value}  # {parameter_comment(text)}"
    entry: dict[str, object] = {"type": cwl_type(annotation, name), "label": name, "doc": text}
    if default is not None:
        entry["default"] = default
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


def _sync_notebook(path: Path, step: str) -> bool:
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if "parameters" not in cell.metadata.get("tags", []):
            continue
        out = []
        for line in cell.source.splitlines():
            head, sep, _comment = line.partition("  # ")
            name = head.split(":", 1)[0].strip()
            if sep and name.isidentifier():
                with contextlib.suppress(KeyError):
                    line = f"{head}  # {parameter_comment(doc(step, name))}"
            out.append(line)
        source = "\n".join(out)
        changed |= source != cell.source
        cell.source = source
    if changed:
        nbformat.write(notebook, path)
    return changed


def _sync_cwl(path: Path, owner: Callable[[str], str | None]) -> bool:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = False
    for index, line in enumerate(lines):
        name, sep, rest = line.strip().partition(": ")
        step = owner(name) if sep and line.startswith("  ") and not line.startswith("   ") else None
        if step is None or not rest.startswith("{"):
            continue
        try:
            entry = json.loads(rest)
            entry["doc"] = doc(step, name)
        except (ValueError, KeyError):
            continue
        new = f"  {name}: {json.dumps(entry)}\n"
        changed |= new != line
        lines[index] = new
    if changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed


def sync() -> list[str]:
    """Rewrite the parameter comments and CWL docs from the steps; the files changed."""
    changed = []
    for name, step in NOTEBOOKS.items():
        if _sync_notebook(ROOT / "notebooks" / name, step):
            changed.append(f"notebooks/{name}")
    for name, step in TOOLS.items():
        if _sync_cwl(ROOT / "cwl" / name, lambda _n, s=step: s):
            changed.append(f"cwl/{name}")

    def workflow_owner(name: str) -> str | None:
        for step in (WORKFLOW_OWNER.get(name), "discover", "scene", "aggregate"):
            if step and name in inspect.signature(STEPS[step]).parameters:
                return step
        return None

    if _sync_cwl(ROOT / "cwl" / "workflow.cwl", workflow_owner):
        changed.append("cwl/workflow.cwl")
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--sync"]:
        print("\n".join(sync()) or "in sync")
        sys.exit(0)
    step_name, *names = sys.argv[1:]
    for parameter in names or list(inspect.signature(STEPS[step_name]).parameters):
        for line in lines(step_name, parameter):
            print(line)
