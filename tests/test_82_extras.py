"""A command whose optional extra is not installed says which extra, in one line, non-zero exit.

Each case runs the real console entry point in a child Python whose import system refuses the
extra's module, as a ``pip install s1flood`` without the extra would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AOI = "POLYGON ((12.4 42.0, 12.5 42.0, 12.5 42.1, 12.4 42.1, 12.4 42.0))"
WINDOW = ["--start", "2026-11-01", "--end", "2026-11-20"]

WITHOUT = """
import sys
blocked = set(sys.argv[1].split(","))
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
from s1flood.cli import main
sys.exit(main(sys.argv[2:]))
"""

NOTEBOOK = str(ROOT / "notebooks" / "02-classify.ipynb")
CASES = {
    "serve without werkzeug": ("werkzeug", ["serve", "--port", "0"], "s1flood serve", "ogc"),
    "serve without pygeoapi": ("pygeoapi", ["-v", "serve"], "s1flood serve", "ogc"),
    "serve without yaml": ("yaml", ["serve"], "s1flood serve", "ogc"),
    "notebook run without papermill": (
        "papermill",
        ["notebook", "run", NOTEBOOK, "{tmp}/out.ipynb"],
        "s1flood notebook run",
        "notebooks",
    ),
    "notebook scraps without scrapbook": (
        "scrapbook",
        ["notebook", "scraps", NOTEBOOK],
        "s1flood notebook scraps",
        "notebooks",
    ),
    "dhus discover without sentinelsat": (
        "sentinelsat",
        ["-q", "discover", "--aoi", AOI, *WINDOW, "--catalogue", "dhus:http://127.0.0.1:9/"],
        "s1flood discover",
        "discovery",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_missing_extra_names_the_extra(case: str, tmp_path: Path) -> None:
    module, args, command, extra = CASES[case]
    env = {**os.environ, "S1FLOOD_DHUS_USERNAME": "someone", "S1FLOOD_DHUS_PASSWORD": "pw"}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT, module, *(a.format(tmp=tmp_path) for a in args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0] == (
        f"s1flood: error: {command} needs the optional extra {extra!r} (module {module!r} is "
        f"not installed): pip install 's1flood[{extra}]'"
    )
    assert list(tmp_path.iterdir()) == []
