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
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1flood._version import __version__
from s1flood.errors import InputError, S1FloodError

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

log = logging.getLogger(__name__)

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
METADATA: dict[str, Any] = {
    "s:author": [{"class": "s:Organization", "s:name": "s1flood developers"}],
    "s:license": "https://spdx.org/licenses/Apache-2.0",
    "s:codeRepository": "https://github.com/s1flood/s1flood",
    "s:keywords": ["Sentinel-1", "SAR", "flood mapping", "water frequency", "Multi-Otsu", "STAC"],
}
"""schema.org metadata of the package (the version is added from ``s1flood._version``)."""

Json = Any
"""A JSON value as CWL documents hold them (dicts, lists, strings, numbers)."""


class PackageError(S1FloodError):
    """The CWL sources cannot become an application package (one line: what and where)."""


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


def docker_images(document: dict[str, Json]) -> list[str]:
    """Every ``dockerPull`` of a CWL document (packed or single process), in order, once each.

    Args:
        document: the parsed CWL document.
    """
    found: list[str] = []
    processes = document.get("$graph", [document])
    for process in processes:
        for key in ("requirements", "hints"):
            docker = _requirements(process, key).get("DockerRequirement")
            if docker and docker.get("dockerPull") and docker["dockerPull"] not in found:
                found.append(docker["dockerPull"])
    return found


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
        metadata: schema.org fields of the source workflow (``s:keywords``...); they win over
            `METADATA`, whose fields fill the gaps.
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

    def tool_name(ident: str) -> str:
        return ident.removeprefix("#").removesuffix(".cwl")

    for process in graph:
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
    renames: dict[str, str] = {}
    for process in graph:
        old = process["id"]
        new = f"#{workflow_id}" if old == "#main" else f"#{tool_name(old)}"
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

    def fix(text: str) -> str:
        for old, new in renames.items():
            if text == old:
                return new
            if text.startswith(old + "/"):
                return new + text[len(old) :]
        return text

    graph = _walk(graph, fix)
    entry = next(p for p in graph if p["id"] == f"#{workflow_id}")
    tools = [p for p in graph if p is not entry]
    for tool in tools:
        if tool.get("class") != "CommandLineTool":
            continue
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
            {
                k: reqs[k]
                for k in [*[o for o in order if o in reqs], *sorted(set(reqs) - set(order))]
            }
        )
        if hints:
            tool["hints"] = _as_list(hints)
        else:
            tool.pop("hints", None)
    document: dict[str, Json] = {
        "cwlVersion": packed.get("cwlVersion", "v1.2"),
        "$namespaces": {**packed.get("$namespaces", {}), "s": SCHEMA_ORG},
        **METADATA,
        **{k: v for k, v in (metadata or {}).items() if k.startswith("s:")},
        "s:softwareVersion": version,
        "$graph": [entry, *tools],
    }
    return document


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


def _docker(docker: str, *args: str) -> str:
    proc = subprocess.run([docker, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise PackageError(f"docker {args[0]} {args[-1]} failed: {lines[-1] if lines else '?'}")
    return proc.stdout


def push_images(
    images: Sequence[str], registry: str, *, docker: str | None = None
) -> dict[str, str]:
    """Push images to a registry; each source image -> ``REGISTRY/NAME@sha256:DIGEST``.

    The digest is the one the registry reports for the pushed manifest, so the reference
    resolves there (and only there).

    Args:
        images: local image references (``s1flood/classify:0.1.0``).
        registry: ``HOST[:PORT][/PREFIX]`` to push to (``127.0.0.1:5000``).
        docker: the docker client; default ``$S1FLOOD_DOCKER`` or ``docker`` on PATH.
    """
    client = docker or os.environ.get("S1FLOOD_DOCKER") or "docker"
    registry = registry.rstrip("/")
    pinned: dict[str, str] = {}
    for image in images:
        target = f"{registry}/{image}"
        repo = target.rsplit(":", 1)[0] if ":" in target.rsplit("/", 1)[-1] else target
        _docker(client, "tag", image, target)
        out = _docker(client, "push", target)
        digest = next((w for w in out.split() if w.startswith("sha256:")), None)
        if digest is None:
            raise PackageError(f"docker push {target} reported no digest")
        pinned[image] = f"{repo}@{digest}"
        log.info("pushed %s as %s", image, pinned[image])
    return pinned


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
