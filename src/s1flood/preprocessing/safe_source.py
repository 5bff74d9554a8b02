"""The files of a Sentinel-1 product, whether a ``.SAFE`` folder or a ``.zip`` holding one."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from s1flood.errors import ProductError


class SafeSource:
    """Files of a product, whether a ``.SAFE`` folder or a ``.zip`` holding one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_zip = False
        self._prefix = ""
        self._names: list[str] = []
        if not path.exists():
            raise ProductError(path, "no such file or folder")
        if path.is_dir():
            if not (path / "manifest.safe").is_file():
                raise ProductError(
                    path, "not a Sentinel-1 product (no manifest.safe in the folder)"
                )
            self._names = [str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()]
        elif zipfile.is_zipfile(path):
            self.is_zip = True
            try:
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
            except (zipfile.BadZipFile, OSError) as exc:
                raise ProductError(path, f"unreadable zip ({exc})") from None
            manifests = [n for n in names if n.endswith("/manifest.safe") and n.count("/") == 1]
            if not manifests:
                raise ProductError(path, "not a Sentinel-1 product (no */manifest.safe in the zip)")
            self._prefix = manifests[0][: -len("manifest.safe")]
            self._names = [n[len(self._prefix) :] for n in names if n.startswith(self._prefix)]
        else:
            raise ProductError(
                path, "not a Sentinel-1 product (expected a .SAFE folder or its .zip)"
            )

    @property
    def url(self) -> str:
        """The path xarray-sentinel opens."""
        return f"zip://*/manifest.safe::{self.path}" if self.is_zip else str(self.path)

    def find(self, pattern: str) -> str | None:
        """The first member (relative to the SAFE root) matching a regular expression.

        Args:
            pattern: the regular expression (case ignored).
        """
        regex = re.compile(pattern, re.IGNORECASE)
        for name in sorted(self._names):
            if regex.fullmatch(name):
                return name
        return None

    def read(self, name: str) -> bytes:
        """The bytes of a member.

        Args:
            name: the member, relative to the SAFE root.
        """
        if self.is_zip:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self._prefix + name)
        return (self.path / name).read_bytes()

    def gdal_path(self, name: str) -> str:
        """A path of a member that GDAL opens.

        Args:
            name: the member, relative to the SAFE root.
        """
        if self.is_zip:
            return f"/vsizip/{self.path.resolve()}/{self._prefix}{name}"
        return str(self.path / name)
