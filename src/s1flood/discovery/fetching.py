"""Step 2: fetch one product by name or id, and the record of what was fetched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1flood.discovery.catalogue import Catalogue, FetchOptions
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.registry import open_catalogue
from s1flood.discovery.remote import fetch_remote
from s1flood.results import JsonValue, fields_to_dict, resolve_path

__all__ = ["FetchResult", "fetch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchResult:
    """A product fetched from a catalogue: where it is and which product it is.

    ``path`` is the zip (or the ``.SAFE`` folder when unzipped or copied as one), ``size``
    its size on disk in bytes, ``catalogue`` the catalogue's name (``cdse``, ``local:PATH``).
    """

    path: Path
    name: str
    id: str
    catalogue: str
    size: int
    unzipped: bool = False

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values; the path as a string, relative to `base` when under it.

        Args:
            base: the output folder that the path is made relative to (``None``: as is).
        """
        return fields_to_dict(self, base)

    @classmethod
    def from_dict(cls, record: dict[str, Any], base: Path | None = None) -> FetchResult:
        """The result a :meth:`to_dict` record stands for.

        Args:
            record: a dict as :meth:`to_dict` returns it.
            base: the folder relative paths in ``record`` were written against.
        """
        path = resolve_path(record["path"], base)
        assert path is not None
        return cls(
            path=path,
            name=str(record["name"]),
            id=str(record["id"]),
            catalogue=str(record["catalogue"]),
            size=int(record["size"]),
            unzipped=bool(record.get("unzipped", False)),
        )


def _size_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def fetch(
    name_or_id: str,
    *,
    catalogue: str | Catalogue,
    out_dir: Path | str,
    unzip: bool = False,
    wait_offline: bool = False,
    progress: bool = False,
    verify_checksum: bool = True,
    overwrite: bool = False,
    config: DiscoveryConfig | None = None,
    read: str = "whole",
) -> FetchResult:
    """Fetch one product by name or id into ``out_dir``.

    Args:
        name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        catalogue: a catalogue spec (see :func:`~s1flood.discovery.open_catalogue`) or an
            opened catalogue.
        out_dir: folder the product is written to (created if missing).
        unzip: also extract the zip to ``NAME.SAFE`` (the result's path is that folder).
        wait_offline: poll an offline (archived) product until it is online, instead of
            failing with :class:`~s1flood.errors.ProductOfflineError`.
        progress: show a progress bar.
        verify_checksum: check the download against the catalogue's checksum.
        overwrite: replace an existing download.
        config: endpoints and transfer settings; default: the configured ones.
        read: ``whole`` downloads the product; ``aoi`` fetches its XML only and leaves the
            measurements remote (``NAME.SAFE/`` with ``s1flood-remote.json``), read later
            by byte range for the AOI; ``auto`` does ``aoi`` where the catalogue serves
            ranges, else ``whole``.
    """
    cat = open_catalogue(catalogue, config) if isinstance(catalogue, str) else catalogue
    scene = cat.get(name_or_id)
    options = FetchOptions(
        unzip=unzip,
        wait_offline=wait_offline,
        progress=progress,
        verify_checksum=verify_checksum,
        overwrite=overwrite,
    )
    path = fetch_remote(cat, scene, Path(out_dir), options, read, config)
    if path is None:
        path = cat.fetch(scene, Path(out_dir), options)
    logger.info("fetched %s to %s", scene.name, path)
    return FetchResult(
        path=path,
        name=scene.name,
        id=scene.id,
        catalogue=cat.name,
        size=_size_on_disk(path),
        unzipped=unzip and path.is_dir(),
    )
