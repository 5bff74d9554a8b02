"""AOI-only reads: a product's XML fetched, its measurements left remote (``read: aoi``).

`fetch_remote` writes ``NAME.SAFE/`` holding the manifest and the annotation, calibration,
noise (and RFI) XML, plus ``s1flood-remote.json`` saying where each measurement is; the
preprocessing then reads only the byte ranges of the rows or tiles the AOI needs. Three
layouts:

* ``zip``: a zipped SAFE served with HTTP Range (central directory and members read by range;
  the measurement must be stored, not deflated, as in ESA's zips);
* ``nodes``: single product files (CDSE OData ``Products(ID)/Nodes(NAME.SAFE)/Nodes(...)/$value``);
* ``cog``: a STAC Item with COG measurement assets and XML assets (Planetary Computer's
  ``sentinel-1-grd``), signed with a SAS token from the catalogue's token endpoint.

``s1flood-remote.json`` holds no secret: the catalogue spec is kept, and its credentials or
signature are obtained again where the product is read.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from s1flood.discovery._http import clean_url
from s1flood.discovery.access import Access, access_for
from s1flood.discovery.access import reader as _reader
from s1flood.discovery.catalogue import Catalogue, FetchOptions
from s1flood.discovery.config import DiscoveryConfig, load_config
from s1flood.discovery.ranges import RangeReader, RangesUnsupportedError
from s1flood.discovery.retries import RetryPolicy
from s1flood.discovery.scene import Scene
from s1flood.errors import CatalogueError, InvalidOptionError, OutputExistsError

__all__ = ["READ_MODES", "fetch_remote", "remote_safe"]

logger = logging.getLogger(__name__)

READ_MODES = ("auto", "whole", "aoi")
REMOTE_FILE = "s1flood-remote.json"
_XML = re.compile(r"(manifest\.safe|annotation/.*\.xml)", re.IGNORECASE)
_TIFF = re.compile(r"measurement/.*\.tiff?", re.IGNORECASE)


def _whole(reader: RangeReader) -> bytes:
    """A small file's bytes (read by range; a server ignoring Range is read whole)."""
    if not reader.probe():
        return reader.read(0, 1 << 40)
    return reader.read(0, reader.size or 0)


def remote_safe(
    dest: Path,
    layout: str,
    files: dict[str, bytes],
    measurements: dict[str, dict[str, Any]],
    catalogue: str | None,
) -> Path:
    """Write ``dest`` (a ``.SAFE`` folder) with the XML files and the remote record, atomically.

    Args:
        dest: the ``NAME.SAFE`` folder to write.
        layout: ``zip``, ``nodes`` or ``cog``.
        files: SAFE-relative name to bytes (manifest and annotation XML).
        measurements: SAFE-relative measurement name to ``{url, offset, size}``.
        catalogue: the catalogue spec whose credentials or signer the reads need.
    """
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, data in files.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    record = {"layout": layout, "catalogue": catalogue, "measurements": measurements}
    (tmp / REMOTE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


class _RangeFile:
    """A seekable file over a `RangeReader` (what `zipfile` reads the central directory from)."""

    def __init__(self, reader: RangeReader) -> None:
        self.reader = reader
        self.pos = 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.reader.size or 0}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = (self.reader.size or 0) - self.pos
        data = self.reader.read(self.pos, size)
        self.pos += len(data)
        return data


def zip_layout(
    url: str, dest: Path, access: Access, policy: RetryPolicy, catalogue: str | None
) -> Path:
    """The remote SAFE of a zipped product served with HTTP Range.

    Args:
        url: the zip's URL.
        dest: the ``NAME.SAFE`` folder to write.
        access: credentials or signer.
        policy: retries, backoff, timeout.
        catalogue: the catalogue spec (recorded for the reads).
    """
    reader = _reader(url, access, policy)
    if not reader.probe():
        raise RangesUnsupportedError(f"{dest.name}: the server ignores Range requests", url=url)
    try:
        archive = zipfile.ZipFile(_RangeFile(reader))
    except zipfile.BadZipFile as exc:
        raise CatalogueError(
            f"{dest.name}: not a readable zip ({exc})", url=clean_url(url)
        ) from None
    infos = archive.infolist()
    manifests = [i.filename for i in infos if i.filename.endswith("/manifest.safe")]
    if not manifests:
        raise CatalogueError(f"{dest.name}: no */manifest.safe in the zip", url=clean_url(url))
    prefix = manifests[0][: -len("manifest.safe")]
    files: dict[str, bytes] = {}
    measurements: dict[str, dict[str, Any]] = {}
    for info in infos:
        name = info.filename[len(prefix) :]
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        if _XML.fullmatch(name):
            files[name] = archive.read(info)
        elif _TIFF.fullmatch(name):
            if info.compress_type != zipfile.ZIP_STORED:
                raise RangesUnsupportedError(
                    f"{dest.name}: {name} is compressed in the zip (no random access)", url=url
                )
            header = reader.read(info.header_offset, 30)
            start = info.header_offset + 30 + int.from_bytes(header[26:28], "little")
            start += int.from_bytes(header[28:30], "little")
            measurements[name] = {"url": url, "offset": start, "size": info.file_size}
    logger.info(
        "%s: %d XML files read by range (%d bytes), %d measurements left remote",
        dest.name,
        len(files),
        reader.bytes_received,
        len(measurements),
    )
    return remote_safe(dest, "zip", files, measurements, catalogue)


def _manifest_files(manifest: bytes) -> list[str]:
    """The SAFE-relative file names a manifest lists (``fileLocation href``)."""
    root = ET.fromstring(manifest)
    names = []
    for loc in root.iter():
        if loc.tag.rsplit("}", 1)[-1] == "fileLocation" and loc.get("href"):
            names.append(str(loc.get("href")).removeprefix("./"))
    return names


def nodes_layout(
    base: str, dest: Path, access: Access, policy: RetryPolicy, catalogue: str | None
) -> Path:
    """The remote SAFE of a product served as single files (OData ``Nodes``).

    Args:
        base: the product folder's node URL (``.../Products(ID)/Nodes(NAME.SAFE)``).
        dest: the ``NAME.SAFE`` folder to write.
        access: credentials or signer.
        policy: retries, backoff, timeout.
        catalogue: the catalogue spec (recorded for the reads).
    """

    def node(name: str) -> str:
        return base + "".join(f"/Nodes({part})" for part in name.split("/")) + "/$value"

    manifest = _whole(_reader(node("manifest.safe"), access, policy))
    files = {"manifest.safe": manifest}
    measurements: dict[str, dict[str, Any]] = {}
    for name in _manifest_files(manifest):
        if _XML.fullmatch(name):
            files[name] = _whole(_reader(node(name), access, policy))
        elif _TIFF.fullmatch(name):
            reader = _reader(node(name), access, policy)
            if not reader.probe():
                raise RangesUnsupportedError(f"{name}: the server ignores Range requests", url=base)
            measurements[name] = {"url": node(name), "offset": 0, "size": reader.size}
    return remote_safe(dest, "nodes", files, measurements, catalogue)


def _asset_targets(manifest: bytes, assets: dict[str, Any]) -> dict[str, str]:
    """SAFE-relative names for an Item's assets, taken from the manifest's file list."""
    listed = _manifest_files(manifest)
    out: dict[str, str] = {}
    for key, asset in assets.items():
        if not asset.get("href"):
            continue
        pol = key.rsplit("-", 1)[-1].lower()
        if key in ("vv", "vh", "hh", "hv"):
            kind = [n for n in listed if n.startswith("measurement/") and f"-{pol}-" in n]
        elif key.startswith("schema-product-"):
            kind = [
                n for n in listed
                if n.startswith("annotation/") and n.count("/") == 1 and f"-{pol}-" in n
            ]  # fmt: skip
        elif key.startswith(("schema-calibration-", "schema-noise-")):
            stem = key.split("-")[1]
            kind = [n for n in listed if n.startswith(f"annotation/calibration/{stem}-")]
            kind = [n for n in kind if f"-{pol}-" in n]
        else:
            continue
        if kind:
            out[key] = kind[0]
    return out


def cog_layout(
    item: dict[str, Any], dest: Path, access: Access, policy: RetryPolicy, catalogue: str | None
) -> Path:
    """The remote SAFE of a STAC Item with COG measurements and XML metadata assets.

    Args:
        item: the STAC Item.
        dest: the ``NAME.SAFE`` folder to write.
        access: credentials or signer.
        policy: retries, backoff, timeout.
        catalogue: the catalogue spec (recorded for the reads).
    """
    assets = item.get("assets") or {}
    if "safe-manifest" not in assets:
        raise CatalogueError(f"{dest.name}: the Item has no safe-manifest asset")
    manifest = _whole(_reader(str(assets["safe-manifest"]["href"]), access, policy))
    files = {"manifest.safe": manifest}
    measurements: dict[str, dict[str, Any]] = {}
    for key, name in _asset_targets(manifest, assets).items():
        href = str(assets[key]["href"])
        if name.startswith("measurement/"):
            reader = _reader(href, access, policy)
            if not reader.probe():
                raise RangesUnsupportedError(f"{key}: the server ignores Range requests", url=href)
            measurements[name] = {"url": href, "offset": 0, "size": reader.size}
        else:
            files[name] = _whole(_reader(href, access, policy))
    if not measurements:
        raise CatalogueError(f"{dest.name}: the Item has no COG measurement asset")
    return remote_safe(dest, "cog", files, measurements, catalogue)


def _stac_item(catalogue: Catalogue, scene: Scene) -> dict[str, Any] | None:
    from s1flood.discovery.stac_api import StacApiCatalogue

    if not isinstance(catalogue, StacApiCatalogue):
        return None
    search = catalogue.client().search(collections=[catalogue.collection], ids=[scene.id])
    items = list(search.items_as_dicts())
    if items and any(k in items[0].get("assets", {}) for k in ("vv", "vh", "hh", "hv")):
        return items[0]
    return None


def fetch_remote(
    catalogue: Catalogue,
    scene: Scene,
    out_dir: Path,
    options: FetchOptions,
    read: str,
    config: DiscoveryConfig | None = None,
) -> Path | None:
    """The remote SAFE of `scene` in `out_dir`, or None to download it whole.

    Args:
        catalogue: the opened catalogue.
        scene: the product.
        out_dir: folder the ``NAME.SAFE`` folder is written to.
        options: overwrite (the other options concern whole downloads).
        read: ``auto`` (AOI-only where the catalogue serves ranges, else None), ``aoi``
            (AOI-only or a one-line error) or ``whole`` (None).
        config: endpoints and transfer settings; default: the configured ones.
    """
    if read not in READ_MODES:
        raise InvalidOptionError("read", read, f"use one of {', '.join(READ_MODES)}")
    if read == "whole":
        return None
    from s1flood.discovery.cdse import CdseCatalogue

    cfg = config or getattr(catalogue, "config", None) or load_config()
    policy = RetryPolicy.from_config(cfg)
    dest = Path(out_dir) / f"{scene.name}.SAFE"
    if dest.exists() and not options.overwrite:
        raise OutputExistsError(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    access = access_for(catalogue, cfg)
    try:
        if isinstance(catalogue, CdseCatalogue):
            base = (
                f"{cfg.cdse_download_url.rstrip('/')}/Products({scene.id})/Nodes({scene.name}.SAFE)"
            )
            return nodes_layout(base, dest, access, policy, catalogue.name)
        item = _stac_item(catalogue, scene)
        if item is not None:
            return cog_layout(item, dest, access, policy, catalogue.name)
        if scene.href and scene.href.startswith(("http://", "https://")):
            return zip_layout(scene.href, dest, access, policy, catalogue.name)
        problem = "the catalogue gives no URL that serves byte ranges"
    except CatalogueError as exc:
        if read == "aoi" and not isinstance(exc, RangesUnsupportedError):
            raise
        problem = str(exc)
    if read == "aoi":
        raise InvalidOptionError("read", read, f"{scene.name}: {problem}")
    logger.info("%s: AOI-only read not possible (%s); downloading it whole", scene.name, problem)
    return None
