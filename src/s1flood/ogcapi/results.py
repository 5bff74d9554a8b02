"""The OGC results document of a finished run: links to its files, and plain values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1flood.results_catalog import media_type

__all__ = ["media_type", "results_document"]


def results_document(cwl_outputs: dict[str, Any], outdir: Path, base: str) -> dict[str, Any]:
    """The OGC results of a run: links to its files (COGs, PNG, STAC catalog), values.

    Args:
        cwl_outputs: the CWL outputs object.
        outdir: the job's output folder.
        base: the URL the folder is served at.
    """

    def convert(value: Any) -> Any:
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict) and value.get("class") in ("File", "Directory"):
            path = Path(str(value.get("path") or value.get("location", "")).removeprefix("file://"))
            try:
                rel = path.resolve().relative_to(outdir.resolve()).as_posix()
            except ValueError:
                return {"title": path.name}
            if value["class"] == "Directory":
                catalog = path / "catalog.json"
                if catalog.is_file():
                    return {
                        "href": f"{base}/{rel}/catalog.json",
                        "type": "application/json",
                        "title": f"{path.name} (STAC catalog)",
                    }
                return {
                    "href": f"{base}/{rel}/",
                    "type": "application/json",
                    "title": path.name,
                }
            return {"href": f"{base}/{rel}", "type": media_type(path), "title": path.name}
        return value

    return {name: convert(value) for name, value in cwl_outputs.items()}
