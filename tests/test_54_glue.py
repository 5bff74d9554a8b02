"""s1flood.glue writes scraps exactly as scrapbook.glue does, and scrapbook reads them back."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from s1flood.notebook import read_scraps, run_notebook

VALUES = {
    "mask": "masks/S1A_water.tif",
    "thresholds_db": [-17.25, -23.5],
    "area_km2": 12.5,
    "count": 3,
    "ok": True,
    "record": {"scenes": ["a", "b"], "fraction": 0.25, "nested": {"n": None}},
}


def _notebook(path: Path, module: str) -> Path:
    cells = [new_code_cell(f"{module}\nvalues = {VALUES!r}")]
    cells += [new_code_cell(f"sb.glue({name!r}, values[{name!r}])") for name in VALUES]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "s1flood", "language": "python"}
    nbformat.write(notebook, path)
    return path


def test_light_glue_outputs_equal_scrapbooks(tmp_path: Path) -> None:
    import scrapbook

    runs = {}
    modules = {"scrapbook": "import scrapbook as sb", "light": "from s1flood import glue as sb"}
    for label, module in modules.items():
        source = _notebook(tmp_path / f"{label}.ipynb", module)
        run_notebook(source, tmp_path / f"{label}-out.ipynb")
        runs[label] = tmp_path / f"{label}-out.ipynb"
    outputs = {
        label: [cell["outputs"] for cell in nbformat.read(path, as_version=4).cells[1:]]
        for label, path in runs.items()
    }
    assert outputs["light"] == outputs["scrapbook"]  # MIME types, payloads, metadata
    light = scrapbook.read_notebook(str(runs["light"])).scraps
    assert {name: scrap.data for name, scrap in light.items()} == VALUES
    assert {name: scrap.encoder for name, scrap in light.items()} == {
        name: "text" if isinstance(v, str) else "json" for name, v in VALUES.items()
    }
    assert read_scraps(runs["light"]) == VALUES


def test_light_glue_refuses_what_json_cannot_hold() -> None:
    from s1flood.glue import glue

    with pytest.raises(TypeError, match="not JSON serializable"):
        glue("d", {"x": Path("x")})
    assert json.dumps(VALUES)
