"""Print a step parameter as a notebook parameters-cell line and as a CWL input line.

Adding a parameter to a step is then one pasted line in the notebook and one in the CWL tool
(``tests/test_50_interfaces.py`` fails until both agree with `s1flood.steps`)::

    .venv/bin/python scripts/interface_lines.py scene threshold_db method
"""

from __future__ import annotations

import inspect
import json
import sys

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


if __name__ == "__main__":
    step_name, *names = sys.argv[1:]
    for parameter in names or list(inspect.signature(STEPS[step_name]).parameters):
        for line in lines(step_name, parameter):
            print(line)
