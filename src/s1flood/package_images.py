"""The images of an application package: their names, which ones it pulls, pinning them.

The step images are named as the release workflow publishes them (`step_image`:
``ghcr.io/s1flood/s1flood-STEP:VERSION``), so the CWL tools' ``dockerPull`` can be pulled
anywhere; ``scripts/docker-build-images.sh`` tags its builds with the same names.
`docker_images` lists a CWL document's ``dockerPull`` references; `push_images` tags and pushes
them to another registry (the image's own registry host swapped) and pins each by the
``@sha256:`` digest the registry reported.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence

from s1flood.package_cwl import Json, PackageError, _requirements

__all__ = ["IMAGE_PREFIX", "docker_images", "image_path", "push_images", "step_image"]

log = logging.getLogger("s1flood.package")
"""The log of `s1flood.package` (pushes are part of building the package)."""

IMAGE_PREFIX = "ghcr.io/s1flood/s1flood-"
"""Where the step images are published: ``.github/workflows/release.yml`` pushes
``IMAGE_PREFIX + STEP:VERSION`` (``scripts/docker-build-images.sh`` tags them so)."""


def step_image(step: str, version: str | None = None) -> str:
    """The published name of a step image (``ghcr.io/s1flood/s1flood-classify:0.1.0``).

    Args:
        step: ``base``, ``discover``, ``classify``, ``aggregate`` or ``classify-snap``.
        version: the image tag; default the package's version.
    """
    if version is None:
        from s1flood._version import __version__ as version
    return f"{IMAGE_PREFIX}{step}:{version}"


def image_path(image: str) -> str:
    """An image reference without its registry host (``s1flood/s1flood-classify:0.1.0``).

    The first component is a registry host when it holds a ``.`` or a ``:`` or is
    ``localhost`` (Docker's rule); a reference without one is returned as it is.

    Args:
        image: an image reference, ``[HOST[:PORT]/]PATH[:TAG]``.
    """
    head, sep, rest = image.partition("/")
    if sep and ("." in head or ":" in head or head == "localhost"):
        return rest
    return image


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


def _docker(docker: str, *args: str, hint: str = "") -> str:
    proc = subprocess.run([docker, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise PackageError(
            f"docker {args[0]} {args[-1]} failed: {lines[-1] if lines else '?'}{hint}"
        )
    return proc.stdout


def push_images(
    images: Sequence[str], registry: str, *, docker: str | None = None
) -> dict[str, str]:
    """Push images to a registry; each source image -> ``REGISTRY/NAME@sha256:DIGEST``.

    The digest is the one the registry reports for the pushed manifest, so the reference
    resolves there (and only there).

    The pushed name is the image's with its registry host swapped for `registry`
    (``ghcr.io/s1flood/s1flood-classify:0.1.0`` to ``127.0.0.1:5000`` is
    ``127.0.0.1:5000/s1flood/s1flood-classify:0.1.0``; to ``ghcr.io``, the published name).

    Args:
        images: local image references (``ghcr.io/s1flood/s1flood-classify:0.1.0``).
        registry: ``HOST[:PORT][/PREFIX]`` to push to (``127.0.0.1:5000``).
        docker: the docker client; default ``$S1FLOOD_DOCKER`` or ``docker`` on PATH.
    """
    client = docker or os.environ.get("S1FLOOD_DOCKER") or "docker"
    registry = registry.rstrip("/")
    pinned: dict[str, str] = {}
    for image in images:
        target = f"{registry}/{image_path(image)}"
        repo = target.rsplit(":", 1)[0] if ":" in target.rsplit("/", 1)[-1] else target
        _docker(client, "tag", image, target, hint=" (make images builds the step images)")
        out = _docker(client, "push", target)
        digest = next((w for w in out.split() if w.startswith("sha256:")), None)
        if digest is None:
            raise PackageError(f"docker push {target} reported no digest")
        pinned[image] = f"{repo}@{digest}"
        log.info("pushed %s as %s", image, pinned[image])
    return pinned
