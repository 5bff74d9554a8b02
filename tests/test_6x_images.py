"""Static checks of the container images: what the CWL names is what docker/ builds.

No engine needed: every image a CWL file names is built by a Dockerfile here (and by the build
script), every file a Dockerfile copies exists and reaches the build context, the base layer
is pinned, non-root, registers the kernel the notebooks run on and bakes no credential.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from s1flood._version import __version__
from s1flood.notebook import KERNEL
from s1flood.package import NOTEBOOK_DIR, docker_images
from s1flood.package_images import IMAGE_PREFIX, image_path

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
CWL_FILES = sorted((ROOT / "cwl").glob("*.cwl"))
BUILD_SCRIPT = ROOT / "scripts" / "docker-build-images.sh"
PACKAGE_NAMES = {"s1flood-water-frequency.cwl", "s1flood-flood-mapping.cwl"}
"""Packed application packages (generated; pinned to some registry) are not sources."""


def dockerfiles() -> dict[str, str]:
    return {p.name.removesuffix(".Dockerfile"): p.read_text() for p in DOCKER.glob("*.Dockerfile")}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def cwl_images() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in CWL_FILES:
        if path.name in PACKAGE_NAMES:
            continue
        for image in docker_images(yaml.safe_load(path.read_text())):
            found.setdefault(image, []).append(path.name)
    return found


def dockerignore_allows(relative: str) -> bool:
    allowed = True
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!")
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            allowed = negate
    return allowed


def test_every_image_a_cwl_file_names_is_built_here():
    if not CWL_FILES:
        pytest.skip("no cwl/*.cwl yet (issue 11)")
    images = cwl_images()
    assert images, "the CWL tools name no image (DockerRequirement.dockerPull)"
    files = dockerfiles()
    script = BUILD_SCRIPT.read_text()
    for image, where in images.items():
        match = re.fullmatch(rf"{re.escape(IMAGE_PREFIX)}([a-z-]+):(.+)", image)
        assert match, f"{where}: image {image} is not {IMAGE_PREFIX}STEP:VERSION"
        step, tag = match.groups()
        assert tag == __version__, f"{where}: {image} is not tagged with the version"
        assert step in files, f"{where}: no docker/{step}.Dockerfile builds {image}"
        assert "docker/$step.Dockerfile" in script
        assert re.search(rf"\b{step}\b[^)]*\)", script), f"the build script skips {step}"


def test_every_file_a_dockerfile_copies_exists_and_reaches_the_build():
    copied = 0
    for name, text in dockerfiles().items():
        for word, args in instructions(text):
            if word not in ("COPY", "ADD"):
                continue
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            for source in sources:
                copied += 1
                assert (ROOT / source).exists(), (
                    f"docker/{name}.Dockerfile copies {source}: missing"
                )
                assert dockerignore_allows(source), f".dockerignore hides {source} ({name})"
    assert copied >= 5


def test_step_images_bake_their_notebook_where_the_package_runs_it():
    if not CWL_FILES:
        pytest.skip("no cwl/*.cwl yet (issue 11)")
    files = dockerfiles()
    for path in CWL_FILES:
        if path.name in PACKAGE_NAMES:
            continue
        tool = yaml.safe_load(path.read_text())
        if tool.get("class") != "CommandLineTool" or "notebook" not in tool["inputs"]:
            continue  # results.cwl runs s1flood results, no notebook
        step = docker_images(tool)[0].removeprefix(IMAGE_PREFIX).split(":")[0]
        notebook = tool["inputs"]["notebook"]["default"]["location"].rsplit("/", 1)[-1]
        copies = [a for w, a in instructions(files[step]) if w == "COPY"]
        assert any(
            a.split()[0] == f"notebooks/{notebook}" and a.split()[-1].rstrip("/") == NOTEBOOK_DIR
            for a in copies
        ), f"docker/{step}.Dockerfile does not copy notebooks/{notebook} to {NOTEBOOK_DIR}"


def test_base_image_is_pinned_non_root_and_registers_the_kernel():
    base = dockerfiles()["base"]
    steps = instructions(base)
    default = next(a for w, a in steps if w == "ARG" and a.startswith("BASE_IMAGE="))
    image = default.split("=", 1)[1]
    assert re.search(r"@sha256:[0-9a-f]{64}$|:bookworm-\d{8}-slim$", image), image
    assert ("FROM", "${BASE_IMAGE}") in steps
    users = [a for w, a in steps if w == "USER"]
    assert users, "no USER: the image runs as root"
    assert users[-1] not in ("root", "0"), "the image runs as root"
    assert f"--name {KERNEL}" in base, f"the base image does not register kernel {KERNEL}"
    for name, text in dockerfiles().items():
        for word, args in instructions(text):
            if word in ("FROM",) and name != "base":
                assert args.startswith("${"), f"{name}: FROM {args} is not the built base"
            if word == "FROM":
                assert not args.endswith(":latest"), f"{name}: FROM {args}"


@pytest.mark.parametrize("name", sorted(dockerfiles()))
def test_no_credential_or_host_setting_is_baked(name):
    text = dockerfiles()[name]
    for word, args in instructions(text):
        if word in ("ENV", "ARG", "LABEL"):
            assert not re.search(
                r"(?i)(token|passw|secret|credential|PIP_INDEX|PIP_CERT|CA_BUNDLE|CERT_FILE|@)",
                args,
            ), f"docker/{name}.Dockerfile {word} {args}"
        if word == "COPY":
            assert not re.search(r"(?i)(\.crt|pip\.conf|netrc|\.pem)", args), args
        if word == "RUN" and ("PIP_CERT" in args or "PIP_CONFIG_FILE" in args):
            assert "--mount=type=secret" in args, f"{name}: pip settings not from a build secret"


def test_the_release_publishes_the_names_the_cwl_tools_pull():
    """`s1flood package --registry $REGISTRY` in the release swaps the registry host only."""
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    job = release["jobs"]["images-and-package"]
    registry = job["env"]["REGISTRY"]
    assert any('--registry "$REGISTRY"' in step.get("run", "") for step in job["steps"])
    for image in cwl_images():
        assert f"{registry}/{image_path(image)}" == image, image
