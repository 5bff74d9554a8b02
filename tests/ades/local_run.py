"""Running an application package where no container engine is: the images' paths mapped.

A package's tools hold ``DockerRequirement`` under ``requirements`` (cwltool and Toil refuse
them with ``--no-container``) and run the notebook baked into their image
(``/opt/s1flood/notebooks``). `local_document` moves the requirement to ``hints`` and points
the baked notebook paths at the checkout's ``notebooks/``; the rest of the document (the
runner's wrapping, ids, steps) is run as the runner wrote it.
"""

from __future__ import annotations

from typing import Any

NOTEBOOK_DIR = "/opt/s1flood/notebooks"


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [{"class": name, **body} for name, body in value.items()]
    return list(value or [])


def _map_paths(value: Any, notebooks: str) -> Any:
    if isinstance(value, dict):
        return {k: _map_paths(v, notebooks) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_paths(v, notebooks) for v in value]
    if isinstance(value, str) and value.startswith(NOTEBOOK_DIR + "/"):
        return notebooks.rstrip("/") + value[len(NOTEBOOK_DIR) :]
    return value


def local_document(document: dict[str, Any], notebooks: str) -> dict[str, Any]:
    """`document` runnable with ``--no-container`` on this machine (a new dict).

    Args:
        document: a packed CWL document (``$graph``), e.g. the runner's wrapped workflow.
        notebooks: the checkout's ``notebooks/`` folder.
    """
    out: dict[str, Any] = _map_paths(document, notebooks)
    for process in out.get("$graph", [out]):
        requirements = _as_list(process.get("requirements"))
        docker = [r for r in requirements if r.get("class") == "DockerRequirement"]
        if docker:
            process["requirements"] = [r for r in requirements if r not in docker]
            process["hints"] = [*_as_list(process.get("hints")), *docker]
    return out
