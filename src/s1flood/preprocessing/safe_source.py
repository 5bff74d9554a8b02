"""The files of a Sentinel-1 product, whether a ``.SAFE`` folder or a ``.zip`` holding one.

A ``.SAFE`` folder holding ``s1flood-remote.json`` (what ``fetch(read="aoi")`` writes: the
manifest and annotation XML, and where the measurements are) is a remote product: its
measurement members open through a rasterio Python opener that reads only the byte ranges GDAL
asks for (`s1flood.discovery.ranges`), so only the rows or tiles the AOI needs travel.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1flood.errors import ProductError

if TYPE_CHECKING:
    from s1flood.discovery.ranges import RangeReader

REMOTE_FILE = "s1flood-remote.json"
"""The file in a ``.SAFE`` folder that makes it a remote product."""
_REMOTE_PREFIX = "/s1flood-remote/"


class SafeSource:
    """Files of a product, whether a ``.SAFE`` folder or a ``.zip`` holding one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_zip = False
        self._prefix = ""
        self._names: list[str] = []
        self.remote: dict[str, Any] = {}
        if not path.exists():
            raise ProductError(path, "no such file or folder")
        if path.is_dir():
            if not (path / "manifest.safe").is_file():
                raise ProductError(
                    path, "not a Sentinel-1 product (no manifest.safe in the folder)"
                )
            self._names = [str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()]
            if (path / REMOTE_FILE).is_file():
                self.remote = _load_remote(path)
                self._names += [n for n in self.remote["measurements"] if n not in self._names]
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
        if self.remote and name in self.remote["measurements"]:
            return _register(self.path, name, self.remote)
        return str(self.path / name)


def _load_remote(path: Path) -> dict[str, Any]:
    try:
        record = json.loads((path / REMOTE_FILE).read_text(encoding="utf-8"))
        if not isinstance(record.get("measurements"), dict):
            raise ValueError("no measurements")
    except (OSError, ValueError, AttributeError) as exc:
        raise ProductError(path, f"unreadable {REMOTE_FILE} ({exc})") from None
    return dict(record)


@dataclass
class _Member:
    """A measurement member: the reader of the file that holds it, where it starts, its size."""

    reader: RangeReader
    offset: int
    size: int


_MEMBERS: dict[str, _Member] = {}
_READERS: dict[tuple[str, str], RangeReader] = {}
_LOCK = threading.Lock()


def _register(path: Path, name: str, remote: dict[str, Any]) -> str:
    """The opener path of a remote member (its reader made, or reused, for this process)."""
    from s1flood.discovery.access import member_reader

    entry = remote["measurements"][name]
    key = (str(path.resolve()), name)
    with _LOCK:
        reader = _READERS.get(key)
    if reader is None:
        reader = member_reader(remote, entry)
        with _LOCK:
            reader = _READERS.setdefault(key, reader)
    if not entry.get("size") and reader.size is None:
        reader.read(0, 1)  # learns the size (a server ignoring ranges: the body is kept once)
    size = int(entry.get("size") or (reader.size or 0) - int(entry.get("offset", 0)))
    href = f"{_REMOTE_PREFIX}{uuid.uuid4().hex}/{Path(name).name}"
    with _LOCK:
        _MEMBERS[href] = _Member(reader, int(entry.get("offset", 0)), size)
    return href


def measurement_opener(href: str) -> RemoteOpener | None:
    """The rasterio opener for a remote measurement path, None for a local one.

    Args:
        href: a path `SafeSource.gdal_path` returned.
    """
    return RemoteOpener() if href.startswith(_REMOTE_PREFIX) else None


def remote_bytes(href: str) -> int:
    """Bytes received so far for the file behind a remote measurement path (0 if local).

    Args:
        href: a path `SafeSource.gdal_path` returned.
    """
    member = _MEMBERS.get(href)
    return member.reader.bytes_received if member else 0


class _MemberFile(io.RawIOBase):
    """A seekable read-only view of one member's bytes."""

    def __init__(self, member: _Member) -> None:
        self._member = member
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._member.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._member.size if size < 0 else min(self._pos + size, self._member.size)
        if end <= self._pos:
            return b""
        data = self._member.reader.read(self._member.offset + self._pos, end - self._pos)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class RemoteOpener:
    """A rasterio Python opener (the FileContainer protocol) for remote measurement members."""

    def open(self, path: str, mode: str = "r", **kwargs: Any) -> _MemberFile:
        """A file object of a member.

        Args:
            path: the member's opener path.
            mode: ``r`` / ``rb`` only.
            kwargs: ignored.
        """
        if "w" in mode or "a" in mode:
            raise OSError(f"{path}: remote members are read-only")
        member = _MEMBERS.get(path)
        if member is None:
            raise FileNotFoundError(path)
        return _MemberFile(member)

    def isfile(self, path: str) -> bool:
        """Whether `path` is a registered member.

        Args:
            path: an opener path.
        """
        return path in _MEMBERS

    def isdir(self, path: str) -> bool:
        """Never a folder.

        Args:
            path: an opener path.
        """
        return False

    def ls(self, path: str) -> list[str]:
        """No listing (GDAL looks for sidecar files).

        Args:
            path: an opener path.
        """
        return []

    def mtime(self, path: str) -> int:
        """No modification time.

        Args:
            path: an opener path.
        """
        return 0

    def size(self, path: str) -> int:
        """The member's size in bytes.

        Args:
            path: an opener path.
        """
        member = _MEMBERS.get(path)
        if member is None:
            raise FileNotFoundError(path)
        return member.size

    def rm(self, path: str) -> None:
        """Refused: remote members are read-only.

        Args:
            path: an opener path.
        """
        raise OSError(f"{path}: remote members are read-only")
