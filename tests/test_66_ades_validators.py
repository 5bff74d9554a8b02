"""The application package through the public validators, run to the end (offline).

``ap-validator`` (ogc-ap-validator: OGC 20-089 compliance) and ``eoap-validator`` (profiles
``eoap-package`` and ``metadata``: the schema.org fields against Transpiler-Mate's
``SoftwareApplication`` model), pinned in the ``ades`` extra (``make ades`` -> .venv-ades).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from s1flood.package import build_package
from workflow_runs import CWL, ROOT

ADES = ROOT / ".venv-ades" / "bin"
ENTRY = "s1flood-water-frequency"

pytestmark = pytest.mark.skipif(
    not (ADES / "eoap-validator").is_file(), reason="the validators are not installed: make ades"
)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / f"{ENTRY}.cwl"
    return build_package(CWL / "workflow.cwl", out, strict=False).path


def eoap_report(path: Path, *profiles: str) -> dict[str, Any]:
    report = path.with_suffix(".report.json")
    done = subprocess.run(
        [str(ADES / "eoap-validator"), f"{path}#{ENTRY}",
         *[f"--profile={p}" for p in profiles], "--format=json", f"--output={report}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    assert not result["operational_failure"], done.stderr[-2000:]
    return result


def test_ap_validator_says_compliant(package: Path) -> None:
    done = subprocess.run(
        [str(ADES / "ap-validator"), str(package), "--format", "json", "--detail", "all"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    verdict = json.loads(done.stdout)
    assert verdict["valid"] is True
    assert not [i for i in verdict["issues"] if i["type"] == "error"], verdict["issues"]


def test_eoap_validator_package_and_metadata_profiles_pass(package: Path) -> None:
    report = eoap_report(package, "eoap-package", "metadata")
    counts = report["counts"]
    findings = [f for f in report["findings"] if f.get("status") in ("failed", "needs-review")]
    assert counts["failed"] == 0, findings
    assert counts["needs-review"] == 0, findings
    assert counts["passed"] > 0
    assert report["exit_code"] == 0
    print(f"\neoap-validator {report['validator_version']}: {counts}")


def test_eoap_validator_fails_a_package_without_authors(package: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(package.read_text(encoding="utf-8"))
    document["s:author"] = [{"class": "s:Organization", "s:name": "someone"}]
    broken = tmp_path / f"{ENTRY}.cwl"
    broken.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    report = eoap_report(broken, "metadata")
    assert report["counts"]["failed"] > 0
    assert any("author" in json.dumps(f) for f in report["findings"])
