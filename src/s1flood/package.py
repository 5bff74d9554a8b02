"""The OGC application package: ``cwl/`` packed into one ``$graph`` document.

OGC Best Practice for Earth Observation Application Package (20-089) and the EOEPCA examples
(eoap/mastering-app-package, eoap/application-package-patterns) write an application package as:

- one CWL document with a ``$graph``, the entry ``Workflow`` first, its id not ``main``, with a
  ``label`` and ``doc`` on it and on every input and output;
- schema.org metadata at the top (``s:softwareVersion``, ``s:author``, ``s:license``,
  ``s:codeRepository``, ``s:keywords``);
- every ``CommandLineTool`` with ``DockerRequirement`` under ``requirements`` (the development
  CWL keeps it under ``hints`` so ``--no-container`` runs work), its image pinned by
  ``@sha256:`` digest, and a ``ResourceRequirement`` with min and max cores and RAM;
- staged products as a ``Directory`` input holding a STAC catalog (stage-in) and the results as a
  ``Directory`` output holding a STAC catalog (stage-out).

`build_package` does all of it: `pack` (``cwltool --pack``), `push_images` (tag, push, read the
digest the registry gave) and `package_document` (the rewriting); `check_package` lists what an
application package lacks, so a test and the command line say the same thing.

`pack`, the CWL readers and `check_package` live in `s1flood.package_cwl`; `docker_images` and
`push_images` in `s1flood.package_images`. All of them are importable from here.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1flood._version import __version__
from s1flood.errors import InputError
from s1flood.package_cwl import (
    Json,
    PackageError,
    _as_list,
    _ports,
    _requirements,
    _short,
    _walk,
    check_package,
    pack,
)
from s1flood.package_images import docker_images, push_images
from s1flood.package_metadata import METADATA

__all__ = [
    "DEFAULT_ID",
    "DEFAULT_RESOURCES",
    "NOTEBOOK_DIR",
    "PackageError",
    "PackageResult",
    "build_package",
    "check_package",
    "docker_images",
    "pack",
    "package_document",
    "push_images",
    "source_metadata",
]

DEFAULT_ID = "s1flood-water-frequency"
"""The entry Workflow's id when the source workflow has none (an ADES deploys the process
under this name; the package file is ``<id>.cwl``)."""

NOTEBOOK_DIR = "/opt/s1flood/notebooks"
"""Where each step image holds its notebook (docker/*.Dockerfile copy it there)."""

NOTEBOOK_ARGUMENT = "$(inputs.notebook.path)"
"""How a development tool names its notebook: a ``File`` input defaulting to ``notebooks/``."""

DEFAULT_RESOURCES: dict[str, int] = {"coresMin": 1, "coresMax": 2, "ramMin": 1024, "ramMax": 4096}
"""Cores and RAM (MiB) for a tool whose source CWL does not say."""

SCHEMA_ORG = "https://schema.org/"


@dataclass
class PackageResult:
    """What `build_package` wrote.

    ``path`` is the package file, ``workflow_id`` its entry Workflow's id, ``images`` maps
    each source image (``s1flood/classify:0.1.0``) to the reference in the package
    (``127.0.0.1:5000/s1flood/classify@sha256:...``).
    """

    path: Path
    workflow_id: str
    images: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Json]:
        """The result as plain JSON types."""
        return {"path": str(self.path), "workflow_id": self.workflow_id, "images": self.images}


def package_document(
    packed: dict[str, Json],
    *,
    images: Mapping[str, str] | None = None,
    workflow_id: str = DEFAULT_ID,
    version: str = __version__,
    resources: Mapping[str, int] | None = None,
    metadata: Mapping[str, Json] | None = None,
) -> dict[str, Json]:
    """The application package made from a packed workflow.

    Args:
        packed: the output of `pack` (a ``$graph`` whose entry is ``#main``).
        images: source image -> pinned reference; images not in it are left as they are.
        workflow_id: the entry Workflow's id (not ``main``).
        version: ``s:softwareVersion``.
        resources: cores/RAM filled in where a tool's ``ResourceRequirement`` lacks them
            (default `DEFAULT_RESOURCES`).
        metadata: schema.org fields of the source workflow (``s:keywords``...); they fill
            the gaps of `s1flood.package_metadata.METADATA`, the project's own.
    """
    if workflow_id == "main" or not workflow_id:
        raise InputError("workflow_id must name the process (not 'main')")
    images = dict(images or {})
    fill = dict(DEFAULT_RESOURCES if resources is None else resources)
    graph = packed.get("$graph")
    if graph is None:
        raise PackageError("the packed workflow has no $graph (a workflow with its tools)")
    entry_ids = [p["id"] for p in graph if p.get("class") == "Workflow" and p["id"] == "#main"]
    if not entry_ids:
        raise PackageError("the packed workflow has no #main Workflow")
    _check_port_ids(graph)
    graph = [_local_ids(p) for p in _rename(graph, _renames(graph, workflow_id))]
    entry = next(p for p in graph if p["id"] == workflow_id)
    tools = [p for p in graph if p is not entry]
    for tool in tools:
        if tool.get("class") == "CommandLineTool":
            _package_tool(tool, images, fill)
    document: dict[str, Json] = {
        "cwlVersion": packed.get("cwlVersion", "v1.2"),
        "$namespaces": {**packed.get("$namespaces", {}), "s": SCHEMA_ORG},
        **{k: v for k, v in (metadata or {}).items() if k.startswith("s:")},
        **METADATA,
        "s:softwareVersion": version,
        "$graph": [entry, *tools],
    }
    return document


def _check_port_ids(graph: list[dict[str, Json]]) -> None:
    """Refuse a port or step cwltool --pack wrote as ``{$import: ...}`` (its id is taken)."""
    for process in graph:
        for step in process.get("steps") or []:
            if "id" not in step:
                raise PackageError(
                    f"{process['id'].lstrip('#')}: a step has the id of an input or output "
                    f"({_short(str(step.get('$import', step)))}; CWL ids are unique per "
                    "process): rename one"
                )
        for key in ("inputs", "outputs"):
            for port in _ports(process, key):
                if "id" not in port:
                    # cwltool --pack writes {$import: ...} for a port whose id an input of the
                    # same process already has: CWL ids share one namespace per process.
                    ref = str(port.get("$import", port))
                    raise PackageError(
                        f"{process['id'].lstrip('#')}: {key[:-1]} {_short(ref)} has the id of "
                        "an input of the same tool (CWL ids are unique per process): rename one"
                    )


def _renames(graph: list[dict[str, Json]], workflow_id: str) -> dict[str, str]:
    """Packed id -> package id (``#main`` -> ``#<workflow_id>``, ``#a.cwl`` -> ``#a``)."""
    renames: dict[str, str] = {}
    for process in graph:
        old = process["id"]
        new = f"#{workflow_id}" if old == "#main" else f"#{_tool_name(old)}"
        # cwltool --pack keeps a tool's own id inside its ports (#classify.cwl/classify/aoi)
        inner = {
            p["id"][len(old) + 1 :].split("/")[0]
            for key in ("inputs", "outputs")
            for p in _ports(process, key)
            if p["id"].count("/") >= 2
        }
        if len(inner) == 1:
            renames[f"{old}/{inner.pop()}"] = new
        renames[old] = new
    return renames


def _local(reference: Json, scope: str) -> Json:
    """A reference (or list of them) without the ``scope`` prefix it was packed with."""
    if isinstance(reference, list):
        return [_local(r, scope) for r in reference]
    if isinstance(reference, str) and reference.startswith(scope):
        return reference[len(scope) :]
    return reference


def _local_ids(process: dict[str, Json]) -> dict[str, Json]:
    """`process` with the local ids a hand-written package has (what the ADES runners load).

    ``cwltool --pack`` writes every id and reference in full (``#wf/aoi``, ``source:
    #wf/aoi``, ``#wf/step/in``); in a ``$graph`` an id is relative to its process, so the
    package says ``id: aoi``, ``source: aoi``, ``discover/identifiers``, ``out: [identifiers]``
    and ``run: '#discover'``; the processes' own ids lose their ``#``.
    """
    own = str(process["id"])
    scope = own + "/"
    for key in ("inputs", "outputs"):
        for port in _ports(process, key):
            port["id"] = _local(port["id"], scope)
            if "outputSource" in port:
                port["outputSource"] = _local(port["outputSource"], scope)
    for step in process.get("steps") or []:
        step_scope = f"{step['id']}/"
        step["id"] = _local(step["id"], scope)
        for port in step.get("in") or []:
            port["id"] = _local(port["id"], step_scope)
            if "source" in port:
                port["source"] = _local(port["source"], scope)
        step["out"] = [
            _local(o, step_scope)
            if isinstance(o, str)
            else {**o, "id": _local(o["id"], step_scope)}
            for o in step.get("out") or []
        ]
        if "scatter" in step:
            step["scatter"] = _local(step["scatter"], step_scope)
    process["id"] = own.removeprefix("#")
    return process


def _tool_name(ident: str) -> str:
    return ident.removeprefix("#").removesuffix(".cwl")


def _rename(graph: list[dict[str, Json]], renames: Mapping[str, str]) -> Json:
    """`graph` with every id (and every reference to one) renamed by `renames`."""

    def fix(text: str) -> str:
        for old, new in renames.items():
            if text == old:
                return new
            if text.startswith(old + "/"):
                return new + text[len(old) :]
        return text

    return _walk(graph, fix)


def _package_tool(
    tool: dict[str, Json], images: Mapping[str, str], fill: Mapping[str, int]
) -> None:
    """Make a CommandLineTool a package's: Docker and resources under ``requirements``.

    Its image is replaced by its pinned reference in `images` (when there), the resources
    missing from its ``ResourceRequirement`` are taken from `fill`, and it runs the notebook
    baked into its image.
    """
    reqs = _requirements(tool, "requirements")
    hints = _requirements(tool, "hints")
    for name in ("DockerRequirement", "ResourceRequirement", "NetworkAccess"):
        if name in hints:
            reqs[name] = {**hints.pop(name), **reqs.get(name, {})}
    docker = reqs.get("DockerRequirement")
    if docker is None:
        raise PackageError(f"tool {tool['id']} has no DockerRequirement")
    _bake_notebook(tool)
    pull = docker.get("dockerPull", "")
    docker["dockerPull"] = images.get(pull, pull)
    res = reqs.setdefault("ResourceRequirement", {"class": "ResourceRequirement"})
    for key, value in fill.items():
        res.setdefault(key, value)
    # Requirements first, in a stable order; hints only if any remain.
    order = ["DockerRequirement", "ResourceRequirement", "NetworkAccess"]
    tool["requirements"] = _as_list(
        {k: reqs[k] for k in [*[o for o in order if o in reqs], *sorted(set(reqs) - set(order))]}
    )
    if hints:
        tool["hints"] = _as_list(hints)
    else:
        tool.pop("hints", None)


def _bake_notebook(tool: dict[str, Json]) -> None:
    """Run the notebook baked into the image instead of a ``notebook`` File from ``notebooks/``.

    The development tool stages ``notebooks/NN-step.ipynb`` from the checkout (its default
    location is a path on the developer's disk); in the package that input goes and the tool
    runs ``NOTEBOOK_DIR/NN-step.ipynb``, the copy its image was built with.
    """
    ports = _ports(tool, "inputs")
    nb = next((p for p in ports if _short(p["id"]) == "notebook"), None)
    if nb is None:
        return
    location = str((nb.get("default") or {}).get("location", ""))
    if not location.endswith(".ipynb"):
        raise PackageError(f"tool {tool['id']}: input notebook has no .ipynb default")
    baked = f"{NOTEBOOK_DIR}/{location.rsplit('/', 1)[-1]}"
    arguments = tool.get("arguments", [])
    if NOTEBOOK_ARGUMENT not in arguments:
        raise PackageError(f"tool {tool['id']}: no argument {NOTEBOOK_ARGUMENT} to replace")
    tool["arguments"] = [baked if a == NOTEBOOK_ARGUMENT else a for a in arguments]
    tool["inputs"] = [p for p in ports if p is not nb]


def _dump(document: dict[str, Json], path: Path) -> None:
    """Write the package as YAML (JSON when PyYAML is absent), atomically."""
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        yaml = None
    if yaml is not None:

        class Dumper(yaml.SafeDumper):  # type: ignore[misc,name-defined]
            """Multi-line strings (docs, the expression library) as literal blocks."""

        def literal(dumper: Any, value: str) -> Any:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        Dumper.add_representer(str, literal)
        text = "# Generated by `s1flood package` from cwl/: do not edit.\n" + yaml.dump(
            document, Dumper=Dumper, sort_keys=False, width=100, allow_unicode=True
        )
    else:
        text = json.dumps(document, indent=2) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def source_metadata(workflow: Path) -> dict[str, Json]:
    """The top-level fields of the source workflow (``id``, ``s:...``) that packing drops.

    Args:
        workflow: the development workflow file (YAML).
    """
    yaml = importlib.import_module("yaml")
    data = yaml.safe_load(Path(workflow).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PackageError(f"{workflow} is not a CWL document")
    return {k: v for k, v in data.items() if k == "id" or k.startswith("s:")}


def build_package(
    workflow: Path,
    output: Path | None = None,
    *,
    registry: str | None = None,
    workflow_id: str | None = None,
    docker: str | None = None,
    strict: bool = True,
) -> PackageResult:
    """Pack the workflow, push and pin its images, write the application package.

    Args:
        workflow: the development workflow (``cwl/workflow.cwl``).
        output: the package file to write; default ``<id>.cwl`` beside the workflow.
        registry: ``HOST[:PORT][/PREFIX]`` to push the images to and pin them from; without
            it the images keep their tags (a development package, not an application package).
        workflow_id: the entry Workflow's id; default the source workflow's id, else
            `DEFAULT_ID`.
        docker: the docker client for pushing (default ``$S1FLOOD_DOCKER`` or ``docker``).
        strict: refuse to write a package that `check_package` finds problems in.
    """
    packed = pack(workflow)
    meta = source_metadata(workflow)
    source_id = str(meta.pop("id", "")).lstrip("#")
    workflow_id = workflow_id or (source_id if source_id not in ("", "main") else DEFAULT_ID)
    images = docker_images(packed)
    pinned = push_images(images, registry, docker=docker) if registry else {}
    document = package_document(packed, images=pinned, workflow_id=workflow_id, metadata=meta)
    problems = check_package(document)
    if not registry:
        problems = [p for p in problems if "not pinned" not in p]
    if problems and strict:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PackageError(f"{workflow}: {problems[0]}{more}")
    output = Path(output) if output else Path(workflow).with_name(f"{workflow_id}.cwl")
    output.parent.mkdir(parents=True, exist_ok=True)
    _dump(document, output)
    return PackageResult(path=output, workflow_id=workflow_id, images=pinned)
