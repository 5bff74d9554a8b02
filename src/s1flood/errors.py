"""Exception hierarchy: every error a caller can act on carries the fields it needs.

`InputError` and its subclasses are user mistakes (exit code 2 on the command line);
other `S1FloodError`s are processing failures on valid input (exit code 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

ParameterNamer = Callable[[str], str]
"""How a face names a library parameter: itself in Python, ``--flag`` on the command line."""


def python_name(parameter: str) -> str:
    """A parameter as the library names it (the default way errors name parameters)."""
    return parameter


def cli_flag(parameter: str) -> str:
    """A parameter as the command line names it: ``threshold_db`` -> ``--threshold-db``."""
    return "--" + parameter.replace("_", "-")


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type name if empty), cut to `limit`."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]


class S1FloodError(Exception):
    """Base class of every error raised by s1flood on purpose.

    An error that names a parameter keeps it in a field and builds its message in
    `describe`, so each face (Python, command line, notebook, OGC problem document) can name
    the parameter in its own words; ``str(error)`` names it as the Python API does.
    """

    exit_code = 1

    def describe(self, name: ParameterNamer = python_name) -> str:
        """The message, naming parameters with `name`.

        Args:
            name: maps a library parameter name to the caller's name for it (identity for
                Python; `cli_flag` for the command line).
        """
        return str(self)


class InputError(S1FloodError):
    """The caller gave something unusable: a file, an option value, a list."""

    exit_code = 2


class InvalidOptionError(InputError):
    """A parameter value is out of range or inconsistent with another one.

    ``parameter`` is the library's parameter name (``threshold_db``), never a CLI flag.
    """

    def __init__(self, parameter: str, value: object, reason: str) -> None:
        self.parameter = parameter
        self.value = value
        self.reason = reason
        super().__init__(self.describe())

    @property
    def option(self) -> str:
        """The parameter name (kept for callers of earlier versions)."""
        return self.parameter

    def describe(self, name: ParameterNamer = python_name) -> str:
        """The message, naming the parameter with `name`.

        Args:
            name: maps the parameter name to the caller's name for it.
        """
        return f"invalid value for {name(self.parameter)}: {self.value!r} ({self.reason})"


class RasterReadError(InputError):
    """A path is missing, is not a raster, or cannot be read."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class MissingCRSError(InputError):
    """A raster has no coordinate reference system or no geotransform."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: raster has no CRS or geotransform; georeference it first")


class BandNotFoundError(InputError):
    """The requested band index or description does not exist in the raster."""

    def __init__(self, path: Path | str, band: str, available: Sequence[str]) -> None:
        self.path = Path(path)
        self.band = band
        self.available = list(available)
        super().__init__(f"{path}: no band {band!r}; available bands: {', '.join(self.available)}")


class UnitsUndecidedError(InputError):
    """Automatic detection could not tell linear power from dB."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(self.describe())

    def describe(self, name: ParameterNamer = python_name) -> str:
        """The message, naming the ``units`` parameter with `name`.

        Args:
            name: maps the parameter name to the caller's name for it.
        """
        return f"{self.path}: cannot tell linear from dB ({self.reason}); set {name('units')}"


class InvalidMaskError(InputError):
    """A water mask is not uint8 with values in {0, 1, 255}."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: not a water mask ({reason}); expected uint8 0/1/255")


class EmptyInputError(InputError):
    """A list of inputs (masks, scenes) is empty."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no {what} given")


class OutputExistsError(InputError):
    """An output file exists and overwriting was not asked for."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(self.describe())

    def describe(self, name: ParameterNamer = python_name) -> str:
        """The message, naming the ``overwrite`` parameter with `name`.

        Args:
            name: maps the parameter name to the caller's name for it.
        """
        return f"{self.path}: already exists; set {name('overwrite')} to replace it"


class OutputNotWritableError(InputError):
    """An output directory cannot be created or written to."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: cannot write output ({reason})")


class DiskFullError(OutputNotWritableError):
    """The file system holding an output is full (ENOSPC); nothing was written."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, "no space left on device (ENOSPC)")
        self.args = (
            f"{path}: no space left on device (ENOSPC): the disk is full; nothing was written, "
            "free space there or write the output elsewhere",
        )


class DegenerateInputError(S1FloodError):
    """A raster cannot be thresholded meaningfully (constant, too few pixels, unimodal)."""

    def __init__(self, path: Path | str | None, reason: str) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = reason
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}cannot classify: {reason}")


class CatalogueError(S1FloodError):
    """A catalogue or download host failed or answered something unusable.

    ``url`` never carries credentials or tokens (query strings with secrets are not used).
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        self.status = status
        self.url = url
        self.reason = message
        where = f" ({url})" if url else ""
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{code}{message}{where}")


class AuthenticationError(CatalogueError):
    """Credentials are missing, wrong, or not allowed to access a resource (401/403)."""


class ProductNotFoundError(CatalogueError):
    """No product with that name or id exists in the catalogue."""


class ProductOfflineError(CatalogueError):
    """The product is in the long-term archive and not downloadable right now.

    ``product`` is the product name, ``reason`` what the catalogue said; ``parameter`` is
    the library parameter that makes the fetch wait (``wait_offline``), ``None`` when
    waiting was already asked for (and timed out).
    """

    def __init__(
        self,
        product: str,
        reason: str = "offline (long-term archive)",
        *,
        can_wait: bool = True,
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        self.product = product
        self.parameter = "wait_offline" if can_wait else None
        super().__init__(self._message(reason, python_name), status=status, url=url)
        self.reason = reason

    def _message(self, reason: str, name: ParameterNamer) -> str:
        text = f"{self.product} is {reason}"
        if self.parameter is not None:
            text += f"; set {name(self.parameter)} to wait until it is restored, or fetch later"
        return text

    def describe(self, name: ParameterNamer = python_name) -> str:
        """The message, naming the ``wait_offline`` parameter with `name`.

        Args:
            name: maps the parameter name to the caller's name for it.
        """
        code = f"HTTP {self.status}: " if self.status is not None else ""
        where = f" ({self.url})" if self.url else ""
        return f"{code}{self._message(self.reason, name)}{where}"


class ChecksumError(CatalogueError):
    """A downloaded file does not match the checksum the catalogue gives."""

    def __init__(
        self, path: Path | str, algorithm: str, expected: str, actual: str, url: str | None = None
    ) -> None:
        self.path = Path(path)
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{Path(path).name}: {algorithm} checksum mismatch (expected {expected}, got {actual})",
            url=url,
        )


class ProductError(InputError):
    """A Sentinel-1 product is missing, not a Sentinel-1 GRD product, or unreadable."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class PolarisationNotFoundError(InputError):
    """The requested polarisation is not in the product."""

    def __init__(self, path: Path | str, polarisation: str, available: Sequence[str]) -> None:
        self.path = Path(path)
        self.polarisation = polarisation
        self.available = list(available)
        super().__init__(
            f"{Path(path).name}: no {polarisation} measurement in the product; "
            f"available: {', '.join(self.available) or 'none'}"
        )


class AoiOutsideFootprintError(InputError):
    """The AOI does not intersect the product's footprint."""

    def __init__(self, path: Path | str, footprint_wkt: str, aoi_wkt: str | None = None) -> None:
        self.path = Path(path)
        self.footprint_wkt = footprint_wkt
        aoi = f" (lon/lat bounds {_wkt_bounds(aoi_wkt)})" if aoi_wkt else ""
        super().__init__(
            f"{Path(path).name}: the AOI{aoi} is outside the product footprint "
            f"(lon/lat bounds {_wkt_bounds(footprint_wkt)})"
        )


def _wkt_bounds(wkt: str) -> str:
    """'lon0..lon1, lat0..lat1' of the coordinates in a WKT text (for short messages)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", wkt)]
    lons, lats = numbers[0::2], numbers[1::2]
    if not lons or not lats:
        return "unknown"
    return f"{min(lons):.3f}..{max(lons):.3f}, {min(lats):.3f}..{max(lats):.3f}"


class DemCoverageError(InputError):
    """The DEM does not cover the AOI (or its heights are missing there)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: DEM does not cover the AOI ({reason})")


class OrbitFileError(InputError):
    """An orbit file is unreadable, for another satellite, or does not cover the product."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class EngineUnavailableError(S1FloodError):
    """A processing engine (SNAP's gpt) is not installed here."""

    def __init__(self, engine: str, reason: str) -> None:
        self.engine = engine
        self.reason = reason
        super().__init__(f"{engine} engine unavailable: {reason}")
