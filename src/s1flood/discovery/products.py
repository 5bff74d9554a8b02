"""What happens to a product after (or instead of) a transfer: copied, unzipped, awaited."""

from __future__ import annotations

import logging
import os
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from s1flood.discovery.config import DiscoveryConfig
from s1flood.discovery.scene import Scene
from s1flood.errors import CatalogueError, OutputExistsError, ProductOfflineError

__all__ = ["copy_file_atomic", "unzip_product", "wait_until_online"]

logger = logging.getLogger(__name__)


def copy_file_atomic(source: Path, target: Path) -> Path:
    """Copy a file through ``target.part`` and rename it.

    Args:
        source: the file to copy.
        target: the copy's path.
    """
    part = target.with_name(target.name + ".part")
    shutil.copyfile(source, part)
    os.replace(part, target)
    return target


def unzip_product(archive: Path, out_dir: Path, *, overwrite: bool = False) -> Path:
    """Extract a zipped SAFE into ``out_dir`` (atomically); return the ``.SAFE`` directory.

    Args:
        archive: the zip.
        out_dir: the folder to extract into.
        overwrite: replace an existing ``.SAFE`` folder.
    """
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        roots = {n.split("/", 1)[0] for n in names if n.strip("/")}
        for name in names:
            if name.startswith("/") or ".." in Path(name).parts:
                raise CatalogueError(f"{archive.name}: unsafe path in zip: {name!r}")
        top = roots.pop() if len(roots) == 1 else archive.name.removesuffix(".zip")
        if not top.endswith(".SAFE"):
            top = top.removesuffix(".SAFE") + ".SAFE"
        target = out_dir / top
        if target.exists() and not overwrite:
            raise OutputExistsError(target)
        tmp = out_dir / f".{top}.unzip"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        zf.extractall(tmp)
    inner = tmp / top if (tmp / top).is_dir() else tmp
    if target.exists():
        shutil.rmtree(target)
    inner.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def wait_until_online(
    scene: Scene, refresh: Callable[[Scene], Scene], config: DiscoveryConfig
) -> Scene:
    """Poll the catalogue (`refresh`) until an offline product is online, or give up.

    Args:
        scene: the offline product.
        refresh: looks the product up again in the catalogue.
        config: ``offline_poll`` (seconds between looks) and ``offline_timeout``.
    """
    deadline = time.monotonic() + config.offline_timeout
    while scene.online is False:
        if time.monotonic() > deadline:
            raise ProductOfflineError(
                scene.name, f"still offline after {config.offline_timeout:g} s", can_wait=False
            )
        logger.info("%s is offline; checking again in %g s", scene.name, config.offline_poll)
        time.sleep(config.offline_poll)
        scene = refresh(scene)
    return scene
