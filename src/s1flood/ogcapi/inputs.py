"""Execute-request inputs: checked against the package's CWL types, turned into a job order.

Bad values become 400 problem documents naming the input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from s1flood.errors import S1FloodError
from s1flood.ogcapi.problems import Problem

__all__ = [
    "SECRET_INPUT",
    "InputSpec",
    "check_domain",
    "input_specs",
    "secret_inputs",
    "server_secrets",
    "to_job_order",
]

SECRET_INPUT = re.compile(
    r"(^|_)(password|passwd|secret|token|credentials?|username|api_?key)$", re.I
)
"""Input names that carry credentials: left out of descriptions, refused in requests."""

PRIMITIVES = {"string", "int", "long", "float", "double", "boolean", "File", "Directory", "Any"}


@dataclass(frozen=True)
class InputSpec:
    """One workflow input.

    Args:
        name: the input id.
        type: the CWL type, normalised: a primitive name, ``("array", item)``,
            ``("enum", symbols)`` or ``("record",)``.
        optional: whether the request may leave it out (nullable or defaulted).
        default: the CWL default, if any.
    """

    name: str
    type: Any
    optional: bool
    default: Any = None


def input_specs(workflow: dict[str, Any]) -> dict[str, InputSpec]:
    """The inputs of a CWL workflow (a dict as loaded from YAML).

    Args:
        workflow: the entry workflow.
    """
    raw = workflow.get("inputs") or {}
    items = [(str(i.get("id", "")), i) for i in raw] if isinstance(raw, list) else list(raw.items())
    specs: dict[str, InputSpec] = {}
    for key, value in items:
        name = key.split("/")[-1].split("#")[-1]
        spec = value if isinstance(value, dict) and "type" in value else {"type": value}
        cwl_type, nullable = _normalise(spec["type"])
        default = spec.get("default")
        specs[name] = InputSpec(name, cwl_type, nullable or default is not None, default)
    return specs


def secret_inputs(workflow: dict[str, Any]) -> set[str]:
    """The inputs that carry credentials.

    Those listed by ``cwltool:Secrets`` and those whose names say so (``cdse_password``,
    ``earthdata_token``...).

    Args:
        workflow: the entry workflow.
    """
    names: set[str] = set()
    for section in ("hints", "requirements"):
        block = workflow.get(section) or {}
        entries = (
            list(block.items())
            if isinstance(block, dict)
            else [(e.get("class"), e) for e in block if isinstance(e, dict)]
        )
        for key, entry in entries:
            if str(key).endswith("Secrets") and isinstance(entry, dict):
                names.update(str(s).split("/")[-1].split("#")[-1] for s in entry.get("secrets", []))
    names.update(n for n in input_specs(workflow) if SECRET_INPUT.search(n))
    return names


def server_secrets(names: set[str], credentials: dict[str, str]) -> dict[str, str]:
    """Values of credential inputs from the server's configuration.

    Input ``cdse_password`` takes ``S1FLOOD_CDSE_PASSWORD`` (or ``CDSE_PASSWORD``).

    Args:
        names: the workflow's credential inputs.
        credentials: the server's credential variables.
    """
    values = {}
    for name in names:
        for key in (f"S1FLOOD_{name.upper()}", name.upper()):
            if credentials.get(key):
                values[name] = credentials[key]
                break
    return values


def _normalise(cwl_type: Any) -> tuple[Any, bool]:
    if isinstance(cwl_type, str):
        if cwl_type.endswith("?"):
            return _normalise(cwl_type[:-1])[0], True
        if cwl_type.endswith("[]"):
            return ("array", _normalise(cwl_type[:-2])[0]), False
        return cwl_type.split("#")[-1], cwl_type == "null"
    if isinstance(cwl_type, list):
        options = [t for t in cwl_type if t != "null"]
        inner = _normalise(options[0])[0] if len(options) == 1 else ("union", options)
        return inner, len(options) < len(cwl_type)
    if isinstance(cwl_type, dict):
        kind = cwl_type.get("type")
        if kind == "array":
            return ("array", _normalise(cwl_type.get("items"))[0]), False
        if kind == "enum":
            symbols = tuple(str(s).split("/")[-1].split("#")[-1] for s in cwl_type["symbols"])
            return ("enum", symbols), False
        return ("record",), False
    return "Any", False


def to_job_order(
    values: Any,
    specs: dict[str, InputSpec],
    input_roots: list[Path],
    secrets: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, Any]:
    """The CWL job order of an execute request's ``inputs``; `Problem` 400 when unusable.

    Args:
        values: the request's ``inputs`` member.
        specs: the workflow's inputs.
        input_roots: local folders whose files may be named (as paths or file:// URIs).
        secrets: credential inputs, which a request may not set.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise Problem(400, "'inputs' must be an object of input values by id")
    order: dict[str, Any] = {}
    for name, value in values.items():
        if name in secrets or SECRET_INPUT.search(str(name)):
            raise Problem(
                400,
                f"input {name!r}: credentials are configured on the server, "
                "never sent in an execute request",
            )
        if name not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise Problem(400, f"unknown input {name!r} (this process takes: {known})")
        spec = specs[name]
        if value is None and spec.optional:
            continue
        order[name] = _convert(name, _unqualify(value), spec.type, input_roots)
    missing = [
        n for n, s in specs.items() if not s.optional and n not in order and n not in secrets
    ]
    if missing:
        raise Problem(400, f"missing required input {missing[0]!r}")
    return order


def _unqualify(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and "href" not in value:
        return value["value"]
    return value


def _convert(name: str, value: Any, cwl_type: Any, roots: list[Path]) -> Any:
    def wrong(expected: str) -> Problem:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return Problem(400, f"input {name!r}: expected {expected}, got {shown}")

    if cwl_type in ("string",):
        if not isinstance(value, str):
            raise wrong("a string")
        if "\x00" in value:
            raise Problem(400, f"input {name!r}: a NUL character cannot be passed to a tool")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Problem(400, f"input {name!r}: not valid Unicode text") from None
        _check_path_text(name, value, roots)
        return value
    if cwl_type in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        bits = 31 if cwl_type == "int" else 63
        if not -(2**bits) <= value < 2**bits:
            raise wrong(f"a {bits + 1}-bit integer")
        return value
    if cwl_type in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong("a number")
        if not math.isfinite(value):
            raise wrong("a finite number")
        return value
    if cwl_type == "boolean":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if cwl_type in ("File", "Directory"):
        return _location(name, value, cwl_type, roots, wrong)
    if isinstance(cwl_type, tuple) and cwl_type[0] == "array":
        if not isinstance(value, list):
            raise wrong("an array")
        return [_convert(name, _unqualify(v), cwl_type[1], roots) for v in value]
    if isinstance(cwl_type, tuple) and cwl_type[0] == "union":
        options = [_normalise(t)[0] for t in cwl_type[1]]
        if isinstance(value, str):
            _check_path_text(name, value, roots)
        locations = [t for t in options if t in ("File", "Directory")]
        if locations and (isinstance(value, dict) or "string" not in options):
            return _convert(name, value, locations[0], roots)
        for option in options:
            try:
                return _convert(name, value, option, roots)
            except Problem:
                continue
        raise wrong(" or ".join(str(o) for o in options))
    if isinstance(cwl_type, tuple) and cwl_type[0] == "enum":
        if value not in cwl_type[1]:
            raise wrong("one of " + ", ".join(cwl_type[1]))
        return value
    return value


def _location(name: str, value: Any, kind: str, roots: list[Path], wrong: Any) -> dict[str, str]:
    href = value.get("href") if isinstance(value, dict) else value
    if not isinstance(href, str) or not href:
        raise wrong(f"a URI of a {kind} (or {{'href': URI}})")
    parts = urlsplit(href)
    if parts.scheme in ("http", "https"):
        return {"class": kind, "location": href}
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme else href)
        if path.is_absolute():
            resolved = path.resolve()
            if any(resolved.is_relative_to(root) for root in roots) and resolved.exists():
                return {"class": kind, "location": resolved.as_uri()}
        raise Problem(
            400,
            f"input {name!r}: {href!r} is not a file this server offers "
            "(give an http(s) URI or a path under the server's input_roots)",
        )
    raise wrong(f"an http(s) or file URI of a {kind}")


def _check_path_text(name: str, value: str, roots: list[Path]) -> None:
    """A string naming a server path must lie under the input roots, as a File must.

    Strings that name paths: ``/data/dem.tif``, ``file:///data/x``, ``local:/data/catalog``
    (string alternatives of File inputs and the ``local:`` catalogue).
    """
    text = value.strip()
    if text.startswith("file:"):
        path = unquote(urlsplit(text).path)
    elif text.startswith("local:"):
        path = text.removeprefix("local:")
    elif text.startswith("/"):
        path = text
    else:
        return
    resolved = Path(path).resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise Problem(
            400,
            f"input {name!r}: {value!r} is not a file this server offers "
            "(paths must lie under the server's input_roots)",
        )


def check_domain(job_order: dict[str, Any]) -> None:
    """The library's own checks of the inputs it knows (``aoi``, ``start``, ``end``).

    A bad WKT or a window ending before it starts is a 400 now rather than a failed job later.

    Args:
        job_order: the converted inputs.
    """
    from s1flood.aoi import parse_aoi_wkt, parse_time_window

    try:
        if isinstance(job_order.get("aoi"), str):
            parse_aoi_wkt(job_order["aoi"])
        if isinstance(job_order.get("start"), str) and isinstance(job_order.get("end"), str):
            parse_time_window(job_order["start"], job_order["end"])
    except S1FloodError as exc:
        raise Problem(400, exc.describe(lambda n: f"input {n!r}")) from None
