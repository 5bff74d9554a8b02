"""Which optional extra (``pip install 's1flood[EXTRA]'``) provides a module that is missing."""

from __future__ import annotations

import traceback

MODULE_EXTRAS = {
    "blake3": "discovery",
    "cwl2ogc": "ogc",
    "cwltool": "cwl",
    "dask": "sar",
    "esa_snappy": "snap",
    "flask": "ogc",
    "ipykernel": "notebooks",
    "jupyter_client": "notebooks",
    "nbformat": "notebooks",
    "owslib": "ogc",
    "papermill": "notebooks",
    "pygeoapi": "ogc",
    "rioxarray": "sar",
    "sarsen": "sar",
    "scrapbook": "notebooks",
    "sentinelsat": "discovery",
    "six": "notebooks",
    "tinydb": "ogc",
    "toil": "toil",
    "werkzeug": "ogc",
    "yaml": "notebooks",
}
"""Top-level modules an extra installs (directly or as a dependency) -> the extra."""

PACKAGE_EXTRAS = {
    "s1flood.ogcapi": "ogc",
    "s1flood.notebook": "notebooks",
    "s1flood.discovery.dhus": "discovery",
    "s1flood.discovery.download": "discovery",
}
"""s1flood modules that need an extra -> the extra (before `MODULE_EXTRAS`: ``yaml`` is the
notebooks' and the server's)."""


def _s1flood_modules(exc: BaseException) -> list[str]:
    """The s1flood modules on the traceback, innermost first (``s1flood.ogcapi.app``)."""
    names = []
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = frame.filename.replace("\\", "/").split("/")
        if "s1flood" in parts:
            tail = parts[len(parts) - parts[::-1].index("s1flood") - 1 :]
            names.append(".".join(tail).removesuffix(".py"))
    return names[::-1]


def missing_extra(exc: ImportError) -> str | None:
    """The extra that installs what `exc` found missing, or None if it is no known extra's.

    Args:
        exc: the ImportError (``ModuleNotFoundError``) raised by an import.
    """
    for module in _s1flood_modules(exc):
        for package, extra in PACKAGE_EXTRAS.items():
            if module == package or module.startswith(package + "."):
                return extra
    return MODULE_EXTRAS.get((exc.name or "").split(".")[0])


def missing_extra_message(exc: ImportError, command: str) -> str:
    """One line: the command, the module missing, and the extra to install.

    Args:
        exc: the ImportError raised while running the command.
        command: the command as typed (``s1flood serve``).
    """
    module = exc.name or str(exc)
    extra = missing_extra(exc)
    if extra is None:
        return f"{command} needs the Python module {module!r}, which is not installed"
    return (
        f"{command} needs the optional extra {extra!r} (module {module!r} is not installed): "
        f"pip install 's1flood[{extra}]'"
    )
