"""The user's command: ``cwl-runner cwl/workflow.cwl parameters/demo.yml``.

``cwl-runner`` is in the venv (the ``cwlref-runner`` package, the cwl extra), each CWL file runs
through its ``#!/usr/bin/env cwl-runner`` shebang, the images the tools pull are the names the
release publishes, and a step image that is neither local nor pullable ends the run with
cwltool's message naming the image and ``--no-container`` (the README names ``make images``
beside it). The images' names as ``s1flood package`` pushes them are checked with a stand-in
docker client that records its calls.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from s1flood.package_cwl import PackageError
from s1flood.package_images import IMAGE_PREFIX, image_path, push_images, step_image

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CWL_FILES = sorted((ROOT / "cwl").glob("*.cwl"))


def venv_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def test_cwl_runner_is_installed_and_is_cwltool() -> None:
    runner = BIN / "cwl-runner"
    assert runner.is_file(), "no cwl-runner in the venv: pip install '.[cwl]' (cwlref-runner)"
    out = subprocess.run([str(runner), "--version"], capture_output=True, text=True, check=True)
    assert "cwltool" in out.stdout or "cwl-runner" in out.stdout, out.stdout


@pytest.mark.parametrize("path", CWL_FILES, ids=lambda p: p.name)
def test_each_cwl_file_runs_through_its_shebang(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env cwl-runner\n")
    assert path.stat().st_mode & stat.S_IXUSR, f"{path.name} is not executable"
    # --help: cwl-runner loads and validates the document and lists its inputs
    out = subprocess.run(
        [str(path), "--help"], capture_output=True, text=True, env=venv_env(), check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    inputs = yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"]
    listed = [name for name in inputs if f"--{name}" in out.stdout]
    assert listed, f"{path.name}: --help lists none of its inputs: {out.stdout[-2000:]}"


def test_a_missing_image_says_no_container(tmp_path: Path) -> None:
    """No Docker engine answers here (a socket that does not exist): the pull fails."""
    env = venv_env(DOCKER_HOST=f"unix://{tmp_path / 'no-engine.sock'}")
    out = subprocess.run(
        [str(BIN / "cwl-runner"), "--outdir", str(tmp_path / "out"),
         str(ROOT / "cwl" / "discover.cwl"), str(ROOT / "parameters" / "demo.yml")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300,
    )  # fmt: skip
    assert out.returncode != 0
    assert "--no-container" in out.stderr, out.stderr[-2000:]
    assert not (tmp_path / "out" / "01-discover.ipynb").exists()
    if "executable is not available" not in out.stderr:  # a docker client is on PATH
        assert step_image("discover") in out.stderr, out.stderr[-2000:]


def test_images_are_the_published_names_and_push_swaps_the_registry_host(tmp_path: Path) -> None:
    assert step_image("classify", "1.2.3") == f"{IMAGE_PREFIX}classify:1.2.3"
    assert step_image("classify").startswith("ghcr.io/s1flood/s1flood-classify:")
    assert image_path("ghcr.io/s1flood/s1flood-classify:1") == "s1flood/s1flood-classify:1"
    assert image_path("127.0.0.1:5000/a/b:1") == "a/b:1"
    assert image_path("localhost/a:1") == "a:1"
    assert image_path("s1flood/x:1") == "s1flood/x:1"

    calls = tmp_path / "calls.txt"
    docker = tmp_path / "docker"
    docker.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        'case "$1" in\n'
        '  tag) if [ "$2" = missing:1 ]; then echo "Error: No such image: $2" >&2; exit 1; fi ;;\n'
        '  push) echo "1: digest: sha256:' + "ab" * 32 + ' size: 1" ;;\n'
        "esac\n"
    )
    docker.chmod(0o755)
    image = step_image("classify", "1.2.3")
    pinned = push_images([image], "127.0.0.1:5000", docker=str(docker))
    target = "127.0.0.1:5000/s1flood/s1flood-classify"
    assert pinned == {image: f"{target}@sha256:{'ab' * 32}"}
    assert calls.read_text().splitlines() == [f"tag {image} {target}:1.2.3", f"push {target}:1.2.3"]
    assert push_images([image], "ghcr.io", docker=str(docker))[image].startswith(
        "ghcr.io/s1flood/s1flood-classify@sha256:"
    )
    with pytest.raises(PackageError, match="make images") as caught:
        push_images(["missing:1"], "127.0.0.1:5000", docker=str(docker))
    assert "No such image" in str(caught.value)
