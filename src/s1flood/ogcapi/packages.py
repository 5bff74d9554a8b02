"""Application packages: reading, validating, describing (via cwl2ogc) and storing them.

A package is a CWL document, usually a packed ``$graph`` whose entry Workflow comes first;
that workflow's id is the process id. The process description (inputs, outputs, title,
version) is generated from the CWL, so it is never written twice.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from s1flood.ogcapi.inputs import input_specs, secret_inputs
from s1flood.ogcapi.problems import OGC_TYPES, Problem

__all__ = [
    "CWL_MEDIA_TYPES",
    "Package",
    "PackageStore",
    "describe_package",
    "parse_package",
]

logger = logging.getLogger(__name__)

CWL_MEDIA_TYPES = ("application/cwl+yaml", "application/cwl", "application/cwl+json")
YAML_MEDIA_TYPES = (*CWL_MEDIA_TYPES, "application/yaml", "application/x-yaml", "text/yaml")
JSON_MEDIA_TYPES = ("application/json", "application/ogcapppkg+json")
PROCESS_ID = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Package:
    """A parsed application package.

    Args:
        process_id: the entry workflow's id (the process id).
        document: the CWL document (a dict, with ``$graph`` when packed).
        text: the package as stored and returned by ``GET /processes/{id}/package``.
    """

    process_id: str
    document: dict[str, Any]
    text: str


def parse_package(body: bytes, media_type: str) -> Package:
    """Read an application package from a request body; raise `Problem` (400/415) if unusable.

    Args:
        body: the request body.
        media_type: its ``Content-Type`` without parameters: ``application/cwl+yaml`` (or
            another CWL/YAML type) for CWL, ``application/json`` or
            ``application/ogcapppkg+json`` for the OGC application package
            (``{"executionUnit": {"value": CWL, "mediaType": ...}}``) or CWL as JSON.
    """
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in (*YAML_MEDIA_TYPES, *JSON_MEDIA_TYPES):
        raise Problem(
            415,
            f"a package is sent as application/cwl+yaml or application/ogcapppkg+json, "
            f"not {media_type or 'no Content-Type'}",
            type_=OGC_TYPES["UnsupportedMediaType"],
        )
    try:
        text = body.decode("utf-8")
        loaded = yaml.safe_load(text) if media_type in YAML_MEDIA_TYPES else json.loads(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Problem(400, f"the package is not {media_type}: {reason}") from None
    if isinstance(loaded, dict) and "executionUnit" in loaded:
        loaded, text = _execution_unit(loaded["executionUnit"])
    if not isinstance(loaded, dict) or ("cwlVersion" not in loaded and "$graph" not in loaded):
        raise Problem(400, "the package is not a CWL document (no cwlVersion or $graph)")
    process_id = entry_workflow(loaded)["id"].lstrip("#")
    return Package(process_id, loaded, text)


def _execution_unit(unit: Any) -> tuple[dict[str, Any], str]:
    if isinstance(unit, list) and len(unit) == 1:
        unit = unit[0]
    if isinstance(unit, dict) and "unit" in unit:
        unit = unit["unit"]
    if not isinstance(unit, dict) or "value" not in unit:
        raise Problem(
            400,
            "executionUnit must carry the CWL inline as {'value': ..., 'mediaType': "
            "'application/cwl+yaml'} (packages by reference are not fetched)",
        )
    value = unit["value"]
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise Problem(
                400, f"executionUnit value is not CWL: {str(exc).splitlines()[0]}"
            ) from None
    if not isinstance(value, dict):
        raise Problem(400, "executionUnit value is not a CWL document")
    return value, yaml.safe_dump(value, sort_keys=False)


def entry_workflow(document: dict[str, Any]) -> dict[str, Any]:
    """The entry Workflow: the first one of a ``$graph``, or the document itself.

    Args:
        document: the CWL document.
    """
    graph = document.get("$graph")
    candidates = graph if isinstance(graph, list) else [document]
    for item in candidates:
        if isinstance(item, dict) and item.get("class") == "Workflow":
            process_id = str(item.get("id", "")).lstrip("#")
            if not PROCESS_ID.match(process_id):
                raise Problem(
                    400,
                    f"the entry Workflow's id {process_id!r} cannot be a process id "
                    "(letters, digits, '.', '_', '-'; up to 64)",
                )
            return item
    raise Problem(400, "the package has no Workflow (an application package's entry point)")


def validate_package(path: Path, process_id: str, timeout: float = 120.0) -> None:
    """Run ``cwltool --validate`` on a stored package; raise `Problem` 400 with its reason.

    Args:
        path: the CWL file.
        process_id: the entry workflow id.
        timeout: seconds before validation is given up.
    """
    command = [sys.executable, "-m", "cwltool", "--validate", f"{path}#{process_id}"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise Problem(400, f"cwltool --validate took over {timeout:.0f} s") from None
    output = run.stderr + run.stdout
    # cwltool 3.3 exits 0 when a referenced tool fails to load: trust its verdict line too
    if run.returncode != 0 or "is valid CWL" not in output:
        lines = [_plain(ln) for ln in output.splitlines() if _plain(ln)]
        useful = [ln for ln in lines if not ln.startswith(("INFO", "Resolved", "/", "WARNING"))]
        reason = " ".join((useful or lines or ["invalid CWL"])[-3:])
        reason = reason.replace(str(path.parent) + "/", "")
        raise Problem(400, f"the package fails cwltool --validate: {reason[:400]}")


def _plain(line: str) -> str:
    """A log line without terminal colours."""
    return re.sub(r"\x1b\[[0-9;]*m", "", line).strip()


def describe_package(path: Path, process_id: str) -> dict[str, Any]:
    """The OGC process description of a package's entry workflow.

    Inputs and outputs come from cwl2ogc; title, description, version and keywords from the CWL.

    Args:
        path: the CWL file.
        process_id: the entry workflow id.
    """
    from cwl2ogc import BaseCWLtypes2OGCConverter
    from cwl_utils.parser import load_document_by_uri

    with _CWL_PARSE_LOCK:
        loaded = load_document_by_uri(path, load_all=True)
    processes = loaded if isinstance(loaded, list) else [loaded]
    workflow = next(p for p in processes if str(p.id).split("#")[-1] == process_id)
    converter = BaseCWLtypes2OGCConverter(workflow)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = entry_workflow(raw)
    meta = {**raw, **entry}
    secrets = secret_inputs(entry)
    specs = input_specs(entry)
    inputs = {}
    for name, spec in converter.get_inputs().items():
        if name in secrets:
            continue
        inputs[name] = _clean(spec)
        cwl = specs.get(name)
        if cwl is not None and cwl.optional:
            inputs[name]["minOccurs"] = 0
        if cwl is not None and cwl.default is not None and not isinstance(cwl.default, dict):
            inputs[name]["schema"]["default"] = cwl.default
    outputs = {name: _clean(spec) for name, spec in converter.get_outputs().items()}
    keywords = meta.get("s:keywords") or []
    return {
        "id": process_id,
        "title": workflow.label or process_id,
        "description": workflow.doc or workflow.label or process_id,
        "version": str(meta.get("s:softwareVersion") or "0.0.0"),
        "keywords": keywords if isinstance(keywords, list) else [str(keywords)],
        "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
        "outputTransmission": ["value", "reference"],
        "inputs": inputs,
        "outputs": outputs,
        "links": [],
    }


_CWL_PARSE_LOCK = threading.Lock()


def _clean(spec: Any) -> dict[str, Any]:
    """cwl2ogc's description without its non-standard ``nullable`` flags."""
    if isinstance(spec, dict):
        return {k: _clean(v) for k, v in spec.items() if k != "nullable"}
    if isinstance(spec, list):
        return [_clean(v) for v in spec]  # type: ignore[return-value]
    return spec  # type: ignore[no-any-return]


class PackageStore:
    """Processes: the configured (built-in) packages and the deployed ones.

    Deployed packages are files in `directory`, so they survive a restart.

    Args:
        directory: where deployed packages are written (``<id>.cwl``).
        builtin: configured package files; their processes cannot be replaced or undeployed.
    """

    def __init__(self, directory: Path, builtin: list[Path]) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.paths: dict[str, Path] = {}
        self.builtin: set[str] = set()
        self.descriptions: dict[str, dict[str, Any]] = {}
        for file in builtin:
            text = file.read_text(encoding="utf-8")
            package = parse_package(text.encode(), "application/cwl+yaml")
            self._add(package.process_id, file)
            self.builtin.add(package.process_id)
        for file in sorted(self.directory.glob("*.cwl")):
            if file.stem not in self.paths:
                try:
                    self._add(file.stem, file)
                except Exception as exc:  # a broken file must not stop the server
                    logger.error("skipping deployed package %s: %s", file.name, exc)

    def _add(self, process_id: str, path: Path) -> None:
        self.descriptions[process_id] = describe_package(path, process_id)
        self.paths[process_id] = path

    def ids(self) -> list[str]:
        """Process ids, built-in first."""
        with self.lock:
            return sorted(self.paths, key=lambda p: (p not in self.builtin, p))

    def path(self, process_id: str) -> Path:
        """The CWL file of a process; `Problem` 404 if there is none."""
        with self.lock:
            if process_id not in self.paths:
                raise Problem(404, f"no process {process_id!r}", type_=OGC_TYPES["NoSuchProcess"])
            return self.paths[process_id]

    def process(self, process_id: str) -> tuple[Path, dict[str, Any]]:
        """The CWL file and description of a process, read together; `Problem` 404 if none.

        Args:
            process_id: the process.
        """
        with self.lock:
            return self.path(process_id), self.descriptions[process_id]

    def deploy(self, package: Package, *, replace: bool = False) -> dict[str, Any]:
        """Validate, store and describe a package; return its description.

        Args:
            package: the parsed package.
            replace: replace an existing deployed process (PUT) instead of refusing it (409).
        """
        process_id = package.process_id
        with self.lock:
            exists = process_id in self.paths
            if process_id in self.builtin:
                raise Problem(
                    409 if not replace else 403,
                    f"process {process_id!r} is configured on the server and cannot be "
                    + ("redeployed" if not replace else "replaced"),
                    type_=OGC_TYPES["DuplicatedProcess"] if not replace else "about:blank",
                )
            if exists and not replace:
                raise Problem(
                    409,
                    f"process {process_id!r} is already deployed (PUT replaces it)",
                    type_=OGC_TYPES["DuplicatedProcess"],
                )
            if replace and not exists:
                raise Problem(404, f"no process {process_id!r}", type_=OGC_TYPES["NoSuchProcess"])
            staging = self.directory / f".{process_id}.cwl.new"
            staging.write_text(package.text, encoding="utf-8")
            try:
                validate_package(staging, process_id)
                description = describe_package(staging, process_id)
            except Problem:
                staging.unlink(missing_ok=True)
                raise
            except Exception as exc:
                staging.unlink(missing_ok=True)
                raise Problem(400, f"the package cannot be described: {exc}") from None
            final = self.directory / f"{process_id}.cwl"
            staging.replace(final)
            self.paths[process_id] = final
            self.descriptions[process_id] = description
            return description

    def undeploy(self, process_id: str) -> None:
        """Remove a deployed process; `Problem` 404 if unknown, 403 if built in.

        Args:
            process_id: the process.
        """
        with self.lock:
            path = self.path(process_id)
            if process_id in self.builtin:
                raise Problem(403, f"process {process_id!r} is configured on the server")
            path.unlink(missing_ok=True)
            del self.paths[process_id]
            del self.descriptions[process_id]
