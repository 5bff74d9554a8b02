"""The notebook runner: papermill execution, scrapbook reading, ``cwl.output.json`` writing.

One function per action, shared by the command line (``s1flood notebook run``), the CWL
tools (which call that command), the tests and the benchmarks:

- `run_notebook` executes a notebook with papermill on a named kernel, reads its scraps and
  can write them as a CWL output object; a failing cell raises `NotebookError` whose message
  is the notebook's one-line error, and the executed notebook is kept.
- `read_scraps` is the only place scrapbook is used (``read_notebook(...).scraps``), so it
  can be swapped.
- `arguments` and `require_scenes` are what the notebooks themselves call;
  `write_identifiers`, `scene_products` and `write_mask_list` chain them when they run one
  after the other in JupyterLab with their defaults (notebook 1 lists what it found,
  notebook 2 maps every scene of that list and lists its masks for notebook 3).

papermill and scrapbook are imported when used: the notebooks import this module too, and
the command line must start fast.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import resource
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from s1flood.errors import InputError, InvalidOptionError, S1FloodError, first_line
from s1flood.results import JsonValue

if TYPE_CHECKING:
    from s1flood.discovery import DiscoveryResult

__all__ = [
    "IDENTIFIERS",
    "KERNEL",
    "MASK_LIST",
    "NoScenesError",
    "NotebookError",
    "NotebookRun",
    "arguments",
    "cwl_outputs",
    "load_parameters",
    "notebook_parameters",
    "parameter_comment",
    "read_scraps",
    "require_scenes",
    "run_notebook",
    "scene_products",
    "staged_catalog",
    "write_identifiers",
    "write_mask_list",
]

log = logging.getLogger(__name__)

KERNEL = "s1flood"
"""The Jupyter kernel `make install` registers (the project's venv)."""

IDENTIFIERS = "identifiers.txt"
"""Notebook 1's list of the products it found (one a line), in its working folder."""

MASK_LIST = "masks.txt"
"""Notebook 2's list of the masks it wrote (one a line, relative to the list), in its out_dir."""

STAGED_CATALOGUE = "catalogue"
"""The parameter that a staged STAC catalog folder (a CWL Directory) sets to ``local:PATH``."""


def _is_input_error(name: str) -> bool:
    """Whether the kernel's exception name is one of s1flood's user-mistake errors."""
    from s1flood import errors

    found = getattr(errors, name, None) or globals().get(name)
    return isinstance(found, type) and issubclass(found, InputError)


class NotebookError(S1FloodError):
    """A notebook cell failed; the message is the notebook's own one-line error.

    ``notebook`` is the notebook run, ``executed`` the executed copy kept (with the error in
    it), ``cell`` the execution count of the failing cell, ``ename`` / ``evalue`` the
    exception's name and message as the kernel reported them. The exit code is that of the
    kernel's error: 2 for a user mistake (an `InputError`), else 1.
    """

    def __init__(
        self, notebook: Path, executed: Path, cell: int | None, ename: str, evalue: str
    ) -> None:
        self.notebook = Path(notebook)
        self.executed = Path(executed)
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        reason = first_line(Exception(evalue)) if evalue.strip() else ename
        where = f" (cell {cell})" if cell is not None else ""
        self.exit_code = 2 if _is_input_error(ename) else 1
        super().__init__(
            f"{self.notebook.name}{where}: {ename}: {reason} [executed notebook: {executed}]"
        )


class NoScenesError(InputError):
    """Discovery found no scene: nothing to map, said before any other step runs."""

    def __init__(self, catalogue: str, start: str, end: str, listed: int, dropped: int) -> None:
        self.catalogue = catalogue
        self.listed = listed
        self.dropped = dropped
        why = f"{listed} listed, {dropped} dropped by the filters" if listed else "none listed"
        super().__init__(
            f"no Sentinel-1 scene found in {catalogue} for the aoi between {start} and {end}"
            f" ({why}); widen the window, relax the filters or check the catalogue"
        )


@dataclass
class NotebookRun:
    """An executed notebook: where it is, what it glued and how long it took."""

    notebook: Path
    executed: Path
    parameters: dict[str, Any]
    scraps: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    kernel_peak_rss_mb: float | None = None

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values; paths relative to `base` where they sit under it.

        Args:
            base: folder that paths are made relative to; default none (paths as given).
        """
        from s1flood.results import to_jsonable

        return {
            "notebook": to_jsonable(self.notebook, base),
            "executed": to_jsonable(self.executed, base),
            "parameters": to_jsonable(self.parameters, base),
            "scraps": to_jsonable(self.scraps, base),
            "seconds": self.seconds,
            "kernel_peak_rss_mb": self.kernel_peak_rss_mb,
        }


def parameter_comment(doc: str) -> str:
    """A parameter's documentation as its comment in a parameters cell.

    papermill skips a parameter line holding more than one ``=``, so the documentation's
    ``=`` (``KEY=VALUE``) is written as a full-width ``＝``.

    Args:
        doc: the parameter's documentation (`s1flood.docs.parameter_docs`).
    """
    return " ".join(doc.split()).replace("=", "\uff1d")


def arguments(step: Callable[..., Any], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a step call, taken from a notebook's variables by name.

    A notebook calls ``step(**arguments(step, globals()))``, so a parameter added to the
    step is one line in the notebook's parameters cell.

    Args:
        step: a step function of `s1flood.steps`.
        namespace: the notebook's variables (``globals()``).
    """
    names = inspect.signature(step).parameters
    return {name: namespace[name] for name in names if name in namespace}


def require_scenes(result: DiscoveryResult) -> None:
    """Raise `NoScenesError` (a one-line error naming the search) when nothing was found.

    Args:
        result: what `s1flood.discover` returned.
    """
    if result.scenes:
        return
    dropped = result.filtered + len(result.duplicates) + len(result.below_coverage)
    raise NoScenesError(
        result.catalogue,
        result.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        result.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        result.listed,
        dropped,
    )


def write_identifiers(names: list[str], folder: Path | str = ".") -> Path:
    """List the products discovery found, one a line, as ``identifiers.txt`` in `folder`.

    Notebook 2 maps each of them when its ``product`` is empty (`scene_products`).

    Args:
        names: the product identifiers (``DiscoveryResult.names``).
        folder: where the list goes; default the working folder (the notebooks' folder in
            JupyterLab, the job's output folder in a CWL run).
    """
    from s1flood.atomic import write_text_atomic

    path = Path(folder) / IDENTIFIERS
    write_text_atomic(path, "".join(f"{name}\n" for name in names))
    return path


def scene_products(product: str, folder: Path | str = ".") -> list[str]:
    """The products notebook 2 maps: ``[product]``, or when it is empty every one listed.

    Args:
        product: a product name, id or path; empty for every product in ``identifiers.txt``
            (what notebook 1 wrote, see `write_identifiers`).
        folder: the folder holding ``identifiers.txt``; default the working folder.
    """
    if product.strip():
        return [product]
    path = Path(folder) / IDENTIFIERS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise InvalidOptionError(
            "product", product, f"empty and no {path} (run notebook 1 first, or name a product)"
        ) from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise InvalidOptionError("product", product, f"empty and {path} lists no product")
    return names


def write_mask_list(masks: list[str], out_dir: Path | str) -> Path:
    """List water masks as ``out_dir/masks.txt``, one a line, relative to that folder.

    Notebook 3 aggregates them as ``@out_dir/masks.txt``.

    Args:
        masks: mask paths, absolute or relative to the working folder.
        out_dir: the folder of the list (notebook 2's ``out_dir``).
    """
    from s1flood.atomic import write_text_atomic

    folder = Path(out_dir).resolve()
    path = folder / MASK_LIST
    lines = [os.path.relpath(Path(mask).resolve(), folder) for mask in masks]
    write_text_atomic(path, "".join(f"{line}\n" for line in lines))
    return path


def staged_catalog(folder: Path) -> Path:
    """The static STAC catalog in a staged folder: its ``catalog.json`` or ``catalog/``'s.

    A staged folder carries the catalog and the products its Items point to (a CWL runner
    that copies inputs, such as Toil, keeps only what is inside the folder).

    Args:
        folder: the staged folder.
    """
    for candidate in (folder / "catalog.json", folder / "catalog" / "catalog.json"):
        if candidate.is_file():
            return candidate.parent
    raise InvalidOptionError(
        STAGED_CATALOGUE, str(folder), "no catalog.json in it or in its catalog/ folder"
    )


def _plain(value: Any, name: str) -> Any:
    """A CWL File/Directory object as its path; a staged catalogue folder as ``local:PATH``."""
    if isinstance(value, list):
        return [_plain(item, name) for item in value]
    if isinstance(value, dict) and value.get("class") in ("File", "Directory"):
        path = value.get("path") or str(value.get("location", "")).removeprefix("file://")
        if not isinstance(path, str) or not path:
            raise InvalidOptionError(name, value, f"a {value['class']} needs a path or location")
        if name == STAGED_CATALOGUE and value["class"] == "Directory":
            return f"local:{staged_catalog(Path(path))}"
        return path
    return value


def load_parameters(path: Path | str | None = None, **values: Any) -> dict[str, Any]:
    """Notebook parameters from a YAML or JSON file (a CWL job object too) and from values.

    CWL ``File`` / ``Directory`` objects become their paths, and a ``Directory`` given as
    ``catalogue`` (a staged folder with a static STAC catalog and its products, see
    `staged_catalog`) becomes ``local:PATH``. Values given here override the file's.

    Args:
        path: a YAML or JSON mapping of parameter names to values; default none.
        **values: more parameters by name.
    """
    loaded: dict[str, Any] = {}
    if path is not None:
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
            data = yaml.safe_load(text) if text.strip() else {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidOptionError("parameters", str(path), first_line(exc)) from None
        if not isinstance(data, dict):
            raise InvalidOptionError("parameters", str(path), "not a mapping of names to values")
        loaded.update(data)
    loaded.update(values)
    return {str(name): _plain(value, str(name)) for name, value in loaded.items()}


def _papermill() -> ModuleType:
    """papermill, imported without pyarrow.

    ``papermill.iorw`` imports ``pyarrow.fs`` (and with it numpy) for ``hdfs://`` paths
    whenever pyarrow is installed: 0.15 CPU-s of every notebook job's runner, which reads
    and writes local paths only. With ``pyarrow.fs`` hidden while papermill loads, papermill
    keeps its own "missing dependency" stub for HDFS; pyarrow stays importable afterwards.
    """
    import sys

    if "papermill" in sys.modules:
        return importlib.import_module("papermill")
    hide = "pyarrow.fs" not in sys.modules
    if hide:
        sys.modules["pyarrow.fs"] = None  # type: ignore[assignment]
    try:
        return importlib.import_module("papermill")
    finally:
        if hide and sys.modules.get("pyarrow.fs", ModuleType("x")) is None:
            del sys.modules["pyarrow.fs"]


def notebook_parameters(notebook: Path | str) -> dict[str, dict[str, Any]]:
    """The parameters cell of a notebook: each name's type, default and comment.

    Args:
        notebook: an ``.ipynb`` with a cell tagged ``parameters``.
    """
    papermill = _papermill()
    found: dict[str, dict[str, Any]] = papermill.inspect_notebook(str(notebook))
    return found


def read_scraps(notebook: Path | str) -> dict[str, Any]:
    """Every scrap an executed notebook glued, by name, in glue order.

    The one place scrapbook is read (``read_notebook(...).scraps``).

    Args:
        notebook: an executed ``.ipynb``.
    """
    import scrapbook

    scraps = scrapbook.read_notebook(str(notebook)).scraps
    return {name: scrap.data for name, scrap in scraps.items()}


def _cwl_value(value: Any, base: Path) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        converted = [_cwl_value(v, base) for v in value]
        if all(isinstance(v, dict) for v in converted):
            return converted
        return value
    if isinstance(value, str) and value and "\n" not in value and len(value) < 4096:
        path = Path(value) if Path(value).is_absolute() else base / value
        try:
            if path.is_file():
                record: dict[str, Any] = {"class": "File", "path": str(path.resolve())}
                sidecar = path.with_suffix(".json")
                if sidecar != path and sidecar.is_file():
                    # a product's sidecar (what made it) travels with it
                    record["secondaryFiles"] = [{"class": "File", "path": str(sidecar.resolve())}]
                return record
            if path.is_dir():
                return {"class": "Directory", "path": str(path.resolve())}
        except OSError:
            return value
    return value


def cwl_outputs(scraps: Mapping[str, Any], executed: Path, base: Path) -> dict[str, Any]:
    """A CWL output object from a notebook's scraps.

    A scrap that names an existing file or folder (relative to `base` or absolute) becomes a
    ``File`` (with its ``.json`` sidecar, when there is one, as a secondary file) or
    ``Directory``, a list of them a list; other values stay as they are. The executed
    notebook is ``executed_notebook``.

    Args:
        scraps: what `read_scraps` returned.
        executed: the executed notebook.
        base: the folder relative paths are relative to (the run's working folder).
    """
    out = {name: _cwl_value(value, base) for name, value in scraps.items()}
    out["executed_notebook"] = {"class": "File", "path": str(Path(executed).resolve())}
    return out


def _literal(text: str) -> Any:
    """A ``-p NAME VALUE`` value: JSON (numbers, true/false/null, lists) or else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@contextmanager
def _kernel_environment() -> Iterator[None]:
    """The kernel's environment: the tools' caches in the shared s1flood cache, if one is set."""
    from s1flood.cache import tool_cache_environment

    added = tool_cache_environment()
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def run_notebook(
    notebook: Path | str,
    output: Path | str,
    parameters: Mapping[str, Any] | None = None,
    *,
    kernel: str = KERNEL,
    cwd: Path | str | None = None,
    cwl_output: Path | str | None = None,
    ignore_unknown: bool = False,
) -> NotebookRun:
    """Execute a notebook with papermill, read its scraps, optionally write them for CWL.

    Args:
        notebook: the ``.ipynb`` to run (its parameters cell is tagged ``parameters``).
        output: the executed notebook to write; kept when a cell fails.
        parameters: values for the parameters cell, by name; each must be a parameter of
            the notebook. Default none (the notebook's defaults).
        kernel: the Jupyter kernel to run on. Default ``s1flood``.
        cwd: the working folder of the kernel; default the current one.
        cwl_output: write the scraps as a CWL output object (``cwl.output.json``) here;
            default none.
        ignore_unknown: drop parameters the notebook does not have instead of refusing
            them (a CWL job object may hold the whole workflow's job). Default false.
    """
    papermill = _papermill()
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from papermill.exceptions import PapermillExecutionError

    notebook, output = Path(notebook), Path(output)
    if not notebook.is_file():
        raise InvalidOptionError("notebook", str(notebook), "no such notebook")
    params = dict(parameters or {})
    known = notebook_parameters(notebook)
    unknown = sorted(set(params) - set(known))
    if unknown and ignore_unknown:
        log.info("not parameters of %s, ignored: %s", notebook.name, ", ".join(unknown))
        params = {name: value for name, value in params.items() if name in known}
    elif unknown:
        raise InvalidOptionError(
            "parameters", ", ".join(unknown), f"not parameters of {notebook.name}"
        )
    try:  # before papermill, whose kernel manager logs a missing kernel with a traceback
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise InvalidOptionError(
            "kernel", kernel, "no such Jupyter kernel; `make install` registers s1flood"
        ) from None
    work = Path(cwd) if cwd is not None else Path.cwd()
    output.parent.mkdir(parents=True, exist_ok=True)
    log.info("running %s on kernel %s -> %s", notebook, kernel, output)
    started = time.perf_counter()
    try:
        with _kernel_environment():
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=params,
                kernel_name=kernel,
                cwd=str(work),
                progress_bar=False,
                log_output=False,
                # the kernel's start-up warnings would only add noise to a step's log
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    except PapermillExecutionError as exc:
        raise NotebookError(notebook, output, exc.exec_count, exc.ename, exc.evalue) from None
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    scraps = read_scraps(output)
    run = NotebookRun(notebook, output, params, scraps, seconds, peak)
    if cwl_output is not None:
        target = Path(cwl_output)
        record = cwl_outputs(scraps, output, work)
        target.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("%s done in %.1f s (kernel peak RSS %.0f MB)", notebook.name, seconds, peak)
    return run


def parse_values(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs as parameters: each value JSON if it parses, else text.

    Args:
        pairs: (name, value) pairs as the command line gives them.
    """
    return {name: _literal(value) for name, value in pairs}
