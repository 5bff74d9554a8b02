"""The project's schema.org metadata: the one place the application package takes it from.

An application package carries schema.org fields at its top (OGC 20-089; the EOAP
validators' ``metadata`` profile checks them against Transpiler-Mate's ``SoftwareApplication``
model): name, description, creation date, licence, version, code repository, keywords, help,
publisher and the authors as ``s:Person`` entries with given and family name, e-mail and
affiliation. `s1flood.package` writes `METADATA` (and the version from ``s1flood._version``);
``pyproject.toml`` says the same of the Python package (tests/test_61_package.py holds them
together).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AUTHORS", "CODE_REPOSITORY", "KEYWORDS", "LICENSE", "METADATA", "PUBLISHER"]

CODE_REPOSITORY = "https://github.com/s1flood/s1flood"
LICENSE = "https://spdx.org/licenses/Apache-2.0"
KEYWORDS = ["Sentinel-1", "SAR", "flood mapping", "water frequency", "Multi-Otsu", "STAC"]

PUBLISHER: dict[str, Any] = {
    "class": "s:Organization",
    "s:name": "s1flood project",
    "s:email": "maintainers@s1flood.org",
    "s:identifier": "https://github.com/s1flood",
}
"""Who publishes the package: the project, as an organisation."""

AUTHORS: list[dict[str, Any]] = [
    {
        "class": "s:Person",
        "s:givenName": "s1flood",
        "s:familyName": "Maintainers",
        "s:email": "maintainers@s1flood.org",
        "s:affiliation": {"class": "s:Organization", "s:name": "s1flood project"},
    }
]
"""The authors as persons (the model takes no organisation as an author)."""

METADATA: dict[str, Any] = {
    "s:name": "s1flood",
    "s:description": (
        "Flood mapping from Sentinel-1 GRD: discovery, calibration and terrain correction, "
        "water masks per scene and water frequency, flood classes and flood record over a "
        "time window, as notebooks run by CWL"
    ),
    "s:dateCreated": "2026-11-24",
    "s:author": AUTHORS,
    "s:publisher": PUBLISHER,
    "s:license": LICENSE,
    "s:codeRepository": CODE_REPOSITORY,
    "s:keywords": KEYWORDS,
    "s:softwareHelp": {
        "class": "s:CreativeWork",
        "s:name": "s1flood README: install, run, deploy",
        "s:url": f"{CODE_REPOSITORY}#readme",
    },
}
"""schema.org metadata of the package (``s:softwareVersion`` is added from the version)."""
