"""The CWL side of `s1flood.package`: `pack` (``cwltool --pack``), reading CWL, `check_package`.

CWL writes requirements, hints and ports either as a list or as a map keyed by class or id;
the helpers here read both. `check_package` lists what keeps a document from being an
application package, so a test and the command line say the same thing.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from s1flood.errors import InputError, S1FloodError

__all__ = ["Json", "PackageError", "check_package", "pack"]

log = logging.getLogger("s1flood.package")
"""The log of `s1flood.package` (packing is part of building the package)."""

Json = Any
"""A JSON value as CWL documents hold them (dicts, lists, strings, numbers)."""


class PackageError(S1FloodError):
    """The CWL sources cannot become an application package (one line: what and where)."""


def _cwltool() -> str:
    """The ``cwltool`` next to this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("cwltool")
    if beside.exists():
        return str(beside)
    found = shutil.which("cwltool")
    if not found:
        raise PackageError("cwltool not found (pip install 's1flood[cwl]')")
    return found


def pack(workflow: Path) -> dict[str, Json]:
    """The workflow and every tool it runs as one packed document (``cwltool --pack``).

    Args:
        workflow: the development workflow (``cwl/workflow.cwl``).
    """
    workflow = Path(workflow)
    if not workflow.is_file():
        raise InputError(f"workflow {workflow} not found")
    proc = subprocess.run(
        [_cwltool(), "--pack", str(workflow)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise PackageError(f"packing {workflow} with cwltool failed: {lines[-1] if lines else '?'}")
    packed: dict[str, Json] = json.loads(proc.stdout)
    _restore_shadowed_ports(packed, workflow.parent)
    return packed


def _restore_shadowed_ports(packed: dict[str, Json], folder: Path) -> None:
    """Put back the ports cwltool --pack replaced by ``{$import: ...}``.

    When an output has the id of an input of the same tool, the packer writes a reference to
    the input in its place; the output's own definition is taken from the tool's file.
    """
    for process in packed.get("$graph", []):
        for key in ("inputs", "outputs"):
            ports = process.get(key)
            if not isinstance(ports, list):
                continue
            for i, port in enumerate(ports):
                ref = port.get("$import") if isinstance(port, dict) else None
                if not ref:
                    continue
                source = folder / str(process["id"]).lstrip("#")
                yaml = importlib.import_module("yaml")
                tool = (
                    yaml.safe_load(source.read_text(encoding="utf-8")) if source.is_file() else {}
                )
                found = next((q for q in _ports(tool, key) if q["id"] == _short(ref)), None)
                if found is None:
                    continue
                log.warning(
                    "%s: %s %s has the id of another port of the tool (CWL ids are unique per "
                    "process); packed from %s",
                    source.name,
                    key[:-1],
                    _short(ref),
                    source,
                )
                ports[i] = {**found, "id": ref}


def _walk(value: Json, fix: Callable[[str], str]) -> Json:
    """`value` with `fix` applied to every string in it (keys included)."""
    if isinstance(value, dict):
        return {fix(k): _walk(v, fix) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    if isinstance(value, str):
        return fix(value)
    return value


def _requirements(process: dict[str, Json], key: str) -> dict[str, dict[str, Json]]:
    """A process's ``requirements`` or ``hints`` by class, whichever form the source used."""
    value = process.get(key) or {}
    if isinstance(value, dict):
        return {name: {"class": name, **body} for name, body in value.items()}
    return {item["class"]: dict(item) for item in value}


def _as_list(reqs: Mapping[str, dict[str, Json]]) -> list[dict[str, Json]]:
    """Requirements as a list, ``class`` first in each."""
    return [
        {"class": body["class"], **{k: v for k, v in body.items() if k != "class"}}
        for body in reqs.values()
    ]


def _ports(process: dict[str, Json], key: str) -> list[dict[str, Json]]:
    value = process.get(key) or []
    if isinstance(value, dict):
        return [
            {"id": name, **(body if isinstance(body, dict) else {"type": body})}
            for name, body in value.items()
        ]
    return list(value)


def _short(ident: str) -> str:
    return ident.rsplit("/", 1)[-1].lstrip("#")


def _types(port: dict[str, Json]) -> Iterator[str]:
    """Every type name a port can take (``Directory``, ``Directory[]``, unions, arrays)."""
    stack = [port.get("type")]
    while stack:
        t = stack.pop()
        if isinstance(t, str):
            yield t.rstrip("?").removesuffix("[]")
        elif isinstance(t, list):
            stack.extend(t)
        elif isinstance(t, dict):
            stack.append(t.get("items"))


def _nonlocal_ids(graph: list[dict[str, Json]]) -> list[str]:
    """Ids and references that are not local (``#wf/aoi`` where a package says ``aoi``).

    The ADES runners' loader (cwl-loader) refuses a ``$graph`` whose ids are packed in full.
    """
    problems: list[str] = []
    names = {str(p.get("id", "")) for p in graph}

    def check(where: str, value: Json) -> None:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and text.startswith("#"):
                problems.append(f"{where}: {text} is not a local id")

    for process in graph:
        name = str(process.get("id", ""))
        check("process id", name)
        for key in ("inputs", "outputs"):
            for port in _ports(process, key):
                check(f"{name.lstrip('#')} {key[:-1]}", port.get("id"))
                check(f"{name.lstrip('#')} outputSource", port.get("outputSource"))
        for step in process.get("steps") or []:
            where = f"{name.lstrip('#')} step {step.get('id')}"
            check(where, step.get("id"))
            for port in step.get("in") or []:
                check(where, port.get("id"))
                check(where, port.get("source"))
            check(where, [o if isinstance(o, str) else o.get("id") for o in step.get("out", [])])
            run = step.get("run")
            if isinstance(run, str) and run.removeprefix("#") not in names:
                problems.append(f"{where}: runs {run}, not a process of the $graph")
    return problems


def check_package(document: dict[str, Json]) -> list[str]:
    """What keeps a document from being an application package as OGC 20-089 writes it.

    One line per problem; an empty list when there is none.

    Args:
        document: the parsed package.
    """
    problems: list[str] = []
    graph = document.get("$graph")
    if not isinstance(graph, list) or not graph:
        return ["no $graph"]
    entry = graph[0]
    if entry.get("class") != "Workflow":
        problems.append("the first process of $graph is not the Workflow")
    ident = _short(str(entry.get("id", "")))
    if ident in ("", "main"):
        problems.append(f"the entry Workflow's id is {ident or 'missing'} (must name the process)")
    for key in ("label", "doc"):
        if not entry.get(key):
            problems.append(f"the entry Workflow has no {key}")
    for key in ("s:softwareVersion", "s:author", "s:license", "s:codeRepository", "s:keywords"):
        if not document.get(key):
            problems.append(f"no {key}")
    for kind in ("inputs", "outputs"):
        for port in _ports(entry, kind):
            for key in ("label", "doc"):
                if not port.get(key):
                    problems.append(f"workflow {kind[:-1]} {_short(port['id'])} has no {key}")
    if not any("Directory" in _types(p) for p in _ports(entry, "inputs")):
        problems.append("no Directory input (a staged STAC catalog: stage-in)")
    if not any("Directory" in _types(p) for p in _ports(entry, "outputs")):
        problems.append("no Directory output (a STAC catalog of the results: stage-out)")
    problems += _nonlocal_ids(graph)
    for tool in graph[1:]:
        if tool.get("class") != "CommandLineTool":
            continue
        name = _short(tool["id"])
        reqs = _requirements(tool, "requirements")
        pull = reqs.get("DockerRequirement", {}).get("dockerPull", "")
        if not pull:
            problems.append(f"tool {name}: no DockerRequirement under requirements")
        elif "@sha256:" not in pull:
            problems.append(f"tool {name}: image {pull} is not pinned by @sha256: digest")
        res = reqs.get("ResourceRequirement", {})
        missing = [k for k in ("coresMin", "coresMax", "ramMin", "ramMax") if k not in res]
        if missing:
            problems.append(f"tool {name}: ResourceRequirement lacks {', '.join(missing)}")
    return problems
