"""``local:PATH``: a static STAC catalog on disk (e.g. the simulator's), read with pystac."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pystac

from s1flood.discovery.catalogue import FetchOptions, SearchQuery
from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.products import copy_file_atomic, unzip_product
from s1flood.discovery.scene import Scene
from s1flood.discovery.stac_items import scene_from_item
from s1flood.errors import InvalidOptionError, OutputExistsError, ProductNotFoundError

__all__ = ["LocalCatalogue"]

logger = logging.getLogger(__name__)


class LocalCatalogue:
    """Items of a static STAC catalog; asset hrefs resolved against the Item files."""

    usage: ClassVar[str] = "local:PATH"

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if path.is_dir():
            path = path / "catalog.json"
        if not path.is_file():
            raise InvalidOptionError("catalogue", f"local:{path}", "no such STAC catalog file")
        self.path = path.resolve()
        self.name = f"local:{self.path}"
        self._items: list[dict[str, Any]] | None = None

    @classmethod
    def from_spec(cls, arg: str, config: DiscoveryConfig) -> LocalCatalogue:
        """The catalogue for the spec ``local:PATH``.

        Args:
            arg: the path of a static STAC catalog's ``catalog.json`` or of its folder.
            config: unused (a local catalog has no endpoints); taken for the registry.
        """
        if not arg:
            raise InvalidOptionError("catalogue", "local", "expected local:PATH")
        return cls(Path(arg))

    def items(self) -> list[dict[str, Any]]:
        """Every Item of the catalog as a dict with absolute asset hrefs."""
        if self._items is None:
            try:
                root = pystac.read_file(str(self.path))
            except Exception as exc:  # pystac raises many kinds on a bad file
                raise InvalidOptionError(
                    "catalogue", self.name, f"not a STAC catalog ({type(exc).__name__})"
                ) from None
            if isinstance(root, pystac.Item):
                found: list[pystac.Item] = [root]
            elif isinstance(root, pystac.Catalog):
                found = list(root.get_items(recursive=True))
            else:
                raise InvalidOptionError("catalogue", self.name, "not a STAC catalog")
            items = []
            for item in found:
                item.make_asset_hrefs_absolute()
                items.append(item.to_dict(include_self_link=False, transform_hrefs=False))
            self._items = items
        return self._items

    def search(self, query: SearchQuery) -> Iterator[Scene]:
        """Items whose footprint intersects the AOI and whose time overlaps the window.

        Args:
            query: what to look for: AOI, time window, product filters.
        """
        for item in self.items():
            scene = scene_from_item(item, self.name)
            if scene.stop < query.start or scene.start > query.end:
                continue
            geom = scene.geometry
            if geom is None or not geom.intersects(query.aoi):
                continue
            yield scene

    def get(self, name_or_id: str) -> Scene:
        """An Item by product name or id.

        Args:
            name_or_id: product name (with or without ``.SAFE`` / ``.zip``) or catalogue id.
        """
        key = name_or_id.removesuffix(".zip").removesuffix(".SAFE")
        for item in self.items():
            scene = scene_from_item(item, self.name)
            if key in (scene.name, scene.id):
                return scene
        raise ProductNotFoundError(f"no product {name_or_id!r} in the catalogue", url=self.name)

    def fetch(self, scene: Scene, out_dir: Path, options: FetchOptions) -> Path:
        """Copy the product (SAFE directory or zip) into ``out_dir``; unzip if asked.

        Args:
            scene: the product to fetch, as :meth:`get` or :meth:`search` gave it.
            out_dir: folder the product is written to.
            options: unzip, wait for offline products, overwrite, checksum, progress.
        """
        if not scene.href:
            raise ProductNotFoundError(f"{scene.name}: the Item has no product asset")
        source = Path(scene.href.removeprefix("file://"))
        if not source.exists():
            raise ProductNotFoundError(f"{scene.name}: product file missing", url=str(source))
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / source.name
        if target.exists() and not options.overwrite:
            raise OutputExistsError(target)
        if source.is_dir():
            tmp = out_dir / f".{source.name}.part"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
            return target
        copy_file_atomic(source, target)
        if options.unzip:
            return unzip_product(target, out_dir, overwrite=options.overwrite)
        return target
