"""The offline demo end to end: simulated products, STAC catalogue, masks, frequency, truth."""

from __future__ import annotations

import json

import numpy as np

from s1flood.cli import main
from s1flood.demo import run_demo, scene_assets

from helpers import read


def test_demo_recovers_the_simulated_flood(tmp_path):
    result = run_demo(tmp_path, scenes=4, size="tiny", seed=1)
    names = [scene.name for scene in result.scenes]
    assert len(names) == 4
    assert [s.datetime for s in result.scenes] == sorted(s.datetime for s in result.scenes)
    peak = max(result.scenes, key=lambda s: s.classification.water_area_km2)
    assert peak.classification.method == "multi-otsu"
    assert peak.iou > 0.9
    # scenes without enough water for their own threshold borrow the others' median
    fixed = [s for s in result.scenes if s.classification.method == "fixed"]
    otsu = [s.classification.water_threshold_db for s in result.scenes if s not in fixed]
    for scene in fixed:
        assert scene.classification.water_threshold_db == np.median(otsu)
    outputs = result.aggregation.outputs
    truths = np.stack([read(scene_assets(result.catalog, name)["truth"]) for name in names])
    valid = read(outputs["valid_count"])
    classes = read(outputs["classes"])
    wet = np.sum(truths == 1, axis=0)
    seen = valid == 4
    # always water in the truth -> permanent; flooded in some scenes -> mostly candidates
    assert (classes[seen & (wet == 4)] == 2).mean() > 0.9
    assert (classes[seen & (wet >= 1) & (wet < 4)] == 1).mean() > 0.9
    summary = json.loads(outputs["summary"].read_text())
    assert summary["scene_count"] == 4
    assert "map (PNG)" in result.report()


def test_demo_command_refuses_to_overwrite(tmp_path, capsys):
    args = ["-q", "demo", "-o", str(tmp_path), "--scenes", "3", "--size", "tiny"]
    assert main(args) == 0
    assert "classes.png" in capsys.readouterr().out
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
