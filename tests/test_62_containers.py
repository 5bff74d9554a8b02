"""The step images built and run here, and the application package pulled from a registry.

Needs root (dockerd, docker-registry started by hand through scripts/): builds the images with
a canary credential in the pip settings secret, runs the demo workflow in them on cwltool and
compares its rasters byte for byte with the --no-container run, checks that no layer holds
the canary, that a step failing in a container fails the workflow with the notebook's one-line
error, and that the packed application package validates and runs from the registry, every
image pulled by its @sha256: digest.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

import test_60_infra as infra
from s1flood._version import __version__
from s1flood.notebook import KERNEL
from s1flood.package import NOTEBOOK_DIR, check_package
from s1flood.package_images import IMAGE_PREFIX, image_path, step_image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (infra.ROOT / "cwl" / "workflow.cwl").exists(), reason="no cwl/ yet (issue 11)"
    ),
]

STEPS = ("discover", "classify", "aggregate")
IMAGES = [step_image(s) for s in ("base", *STEPS)]
CANARY = f"s1flood-canary-{secrets.token_hex(12)}"


@pytest.fixture(scope="session")
def engine():
    yield from infra.held("docker")


@pytest.fixture(scope="session")
def registry():
    yield from infra.held("registry")


@pytest.fixture(scope="session")
def images(engine, tmp_path_factory):
    """The images, built with a canary credential in the pip settings secret."""
    extra = tmp_path_factory.mktemp("secret") / "pip-extra.conf"
    extra.write_text(f"[s1flood-test]\npassword = {CANARY}\n")
    extra.chmod(0o600)
    start = time.monotonic()
    infra.script("base-image.sh")
    infra.record_time("base image (debootstrap + import, or cached)", time.monotonic() - start)
    start = time.monotonic()
    infra.script("docker-build-images.sh", *STEPS, env={"S1FLOOD_PIP_CONF_EXTRA": str(extra)})
    infra.record_time("image builds (base + 3 steps)", time.monotonic() - start)
    return IMAGES


@pytest.fixture(scope="session")
def base(tmp_path_factory):
    return tmp_path_factory.mktemp("containers")


def test_images_build_and_run_the_project(images):
    for image in images:
        config = json.loads(infra.docker("image", "inspect", image).stdout)[0]["Config"]
        assert config["User"] not in ("", "root", "0"), f"{image} runs as root"
    out = infra.docker(
        "run", "--rm", step_image("classify"), "sh", "-c",
        "s1flood --version; jupyter kernelspec list; ls " + NOTEBOOK_DIR,
    ).stdout  # fmt: skip
    assert f"s1flood {__version__}" in out
    assert f"  {KERNEL} " in out
    assert "02-classify.ipynb" in out


def test_no_secret_in_any_layer(images):
    history = "".join(
        infra.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", i).stdout
        for i in images
    )
    assert "pip" in history  # the history is really there
    assert CANARY not in history
    for image in images:
        env = json.loads(infra.docker("image", "inspect", image).stdout)[0]["Config"]["Env"]
        assert not [e for e in env if e.startswith(("PIP_", "SSL_CERT", "REQUESTS_CA", "CURL_CA"))]
    # Every byte of every layer (docker save writes them uncompressed).
    local_cas = [
        p.read_text().split("-----")[2].strip().splitlines()[1]
        for p in Path("/usr/local/share/ca-certificates").glob("*.crt")
    ]
    needles = [CANARY.encode(), *(line.encode() for line in local_cas if len(line) > 40)]
    tail, total = b"", 0
    with subprocess.Popen(
        [infra.DOCKER, "save", *images], stdout=subprocess.PIPE, env=infra.run_env()
    ) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 22):
            window = tail + chunk
            for needle in needles:
                assert needle not in window, f"a layer holds {needle[:20]!r}..."
            tail = window[-128:]
            total += len(chunk)
    assert proc.returncode == 0
    assert total > 100_000_000


def test_workflow_in_containers_matches_no_container_run(images, base):
    reference = infra.reference_run(base)
    out = infra.fresh_dir(base / "containers")
    start = time.monotonic()
    proc = infra.cwltool(infra.ROOT / "cwl" / "workflow.cwl", infra.demo_job(base), out)
    infra.record_time("cwltool run in containers", time.monotonic() - start)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "docker" in proc.stderr  # the steps really ran in containers
    assert infra.rasters(out) == infra.rasters(reference)
    assert json.loads(proc.stdout)["identifiers"]


def test_failing_step_in_a_container_fails_the_workflow_with_the_notebook_error(images, base):
    job = yaml.safe_load(infra.demo_job(base).read_text())
    bad = base / "bad" / "dem.tif"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text("not a raster\n")
    job["dem"] = {"class": "File", "path": str(bad)}
    job_path = bad.parent / "job.yml"
    job_path.write_text(yaml.safe_dump(job))
    proc = infra.cwltool(infra.ROOT / "cwl" / "workflow.cwl", job_path, base / "bad" / "out")
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("s1flood: error:")]
    assert errors, proc.stderr[-3000:]
    assert "02-classify.ipynb (cell" in errors[0]
    assert "dem.tif" in errors[0]
    assert "Final process status is permanentFail" in proc.stderr


def manifest_status(reference: str) -> int:
    host, rest = reference.split("/", 1)
    repo, digest = rest.split("@")
    request = urllib.request.Request(
        f"http://{host}/v2/{repo}/manifests/{digest}",
        method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        assert response.headers["Docker-Content-Digest"] == digest
        return int(response.status)


def test_package_validates_and_runs_from_the_registry(images, registry, base):
    address = subprocess.run(
        [str(infra.SCRIPTS / "registry-local.sh"), "address"], capture_output=True, text=True
    ).stdout.strip()
    package = base / "package" / "s1flood-water-frequency.cwl"
    start = time.monotonic()
    command = [sys.executable, "-m", "s1flood.cli", "package", "--registry", address]
    proc = subprocess.run(
        [*command, "--output", str(package)],
        capture_output=True,
        text=True,
        check=False,
        env=infra.run_env(),
        cwd=infra.ROOT,
    )
    infra.record_time("s1flood package (push 3 images)", time.monotonic() - start)
    assert proc.returncode == 0, proc.stderr
    document = yaml.safe_load(package.read_text())
    assert check_package(document) == []
    pulls = [
        r["dockerPull"]
        for p in document["$graph"]
        for r in p.get("requirements", [])
        if r["class"] == "DockerRequirement"
    ]
    assert len(set(pulls)) == 3  # the gather step runs in the aggregate image
    for pull in pulls:
        assert pull.startswith(f"{address}/{image_path(IMAGE_PREFIX)}")  # host swapped
        assert "@sha256:" in pull
        assert manifest_status(pull) == 200
    validate = subprocess.run(
        [str(infra.BIN / "cwltool"), "--enable-ext", "--validate", str(package)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validate.returncode == 0, validate.stderr[-2000:]
    # Pulled as an ADES pulls them: no local reference by digest before the run.
    for pull in pulls:
        infra.docker("rmi", pull, check=False)
        assert infra.docker("image", "inspect", pull, check=False).returncode != 0
    out = infra.fresh_dir(base / "package-run")
    start = time.monotonic()
    # an ADES runs the entry Workflow by its id: FILE#ID
    entry = document["$graph"][0]["id"].lstrip("#")
    run = infra.cwltool(f"{package}#{entry}", infra.demo_job(base), out)
    infra.record_time("cwltool run of the package from the registry", time.monotonic() - start)
    assert run.returncode == 0, run.stderr[-3000:]
    for pull in pulls:
        assert infra.docker("image", "inspect", pull, check=False).returncode == 0
    assert infra.rasters(out) == infra.rasters(infra.reference_run(base))
