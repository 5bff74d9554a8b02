"""The images of an application package: which ones it pulls, and pinning them in a registry.

`docker_images` lists a CWL document's ``dockerPull`` references; `push_images` tags and pushes
them to a registry and pins each by the ``@sha256:`` digest the registry reported.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence

from s1flood.package_cwl import Json, PackageError, _requirements

__all__ = ["docker_images", "push_images"]

log = logging.getLogger("s1flood.package")
"""The log of `s1flood.package` (pushes are part of building the package)."""


def docker_images(document: dict[str, Json]) -> list[str]:
    """Every ``dockerPull`` of a CWL document (packed or single process), in order, once each.

    Args:
        document: the parsed CWL document.
    """
    found: list[str] = []
    processes = document.get("$graph", [document])
    for process in processes:
        for key in ("requirements", "hints"):
            docker = _requirements(process, key).get("DockerRequirement")
            if docker and docker.get("dockerPull") and docker["dockerPull"] not in found:
                found.append(docker["dockerPull"])
    return found


def _docker(docker: str, *args: str) -> str:
    proc = subprocess.run([docker, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise PackageError(f"docker {args[0]} {args[-1]} failed: {lines[-1] if lines else '?'}")
    return proc.stdout


def push_images(
    images: Sequence[str], registry: str, *, docker: str | None = None
) -> dict[str, str]:
    """Push images to a registry; each source image -> ``REGISTRY/NAME@sha256:DIGEST``.

    The digest is the one the registry reports for the pushed manifest, so the reference
    resolves there (and only there).

    Args:
        images: local image references (``s1flood/classify:0.1.0``).
        registry: ``HOST[:PORT][/PREFIX]`` to push to (``127.0.0.1:5000``).
        docker: the docker client; default ``$S1FLOOD_DOCKER`` or ``docker`` on PATH.
    """
    client = docker or os.environ.get("S1FLOOD_DOCKER") or "docker"
    registry = registry.rstrip("/")
    pinned: dict[str, str] = {}
    for image in images:
        target = f"{registry}/{image}"
        repo = target.rsplit(":", 1)[0] if ":" in target.rsplit("/", 1)[-1] else target
        _docker(client, "tag", image, target)
        out = _docker(client, "push", target)
        digest = next((w for w in out.split() if w.startswith("sha256:")), None)
        if digest is None:
            raise PackageError(f"docker push {target} reported no digest")
        pinned[image] = f"{repo}@{digest}"
        log.info("pushed %s as %s", image, pinned[image])
    return pinned
