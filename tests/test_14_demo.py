"""The offline demo end to end: simulated products, STAC catalogue, masks, frequency, truth."""

from __future__ import annotations

import json

import numpy as np
from scipy import ndimage

from s1flood.cli import main
from s1flood.demo import run_demo
from s1flood.synthetic.scoring import scene_assets, truth_on_grid

from helpers import read


def test_demo_recovers_the_simulated_flood(tmp_path):
    result = run_demo(tmp_path, scenes=4, size="tiny", seed=1)
    names = [scene.name for scene in result.scenes]
    assert len(names) == 4
    assert [s.datetime for s in result.scenes] == sorted(s.datetime for s in result.scenes)
    peak = max(result.scenes, key=lambda s: s.classification.water_area_km2)
    assert peak.iou > 0.95  # preprocessed (Lee-filtered, terrain-corrected) flood peak
    assert all(s.iou > 0.7 for s in result.scenes)  # before/after: a narrow river only
    # each scene is classified alone (no threshold borrowed from the others), the path recorded
    for scene in result.scenes:
        classified = scene.classification
        assert classified.path in ("split", "prior", "no-water"), classified.path
        sidecar = json.loads(classified.sidecar.read_text())
        assert sidecar["path"] == classified.path
        assert sidecar["reason"]
    outputs = result.aggregation.outputs
    like = outputs["valid_count"]
    truths = np.stack(
        [truth_on_grid(scene_assets(result.catalog, name)["truth"], like) for name in names]
    )
    valid = read(outputs["valid_count"])
    classes = read(outputs["classes"])
    wet = np.sum(truths == 1, axis=0)
    seen = valid == 4
    # away from water edges (the Lee filter and resampling blur them by a pixel or two):
    # always water in the truth -> permanent; flooded in some scenes -> candidates
    always = ndimage.binary_erosion(seen & (wet == 4), iterations=2)
    sometimes = ndimage.binary_erosion(seen & (wet >= 1) & (wet < 4), iterations=2)
    assert always.sum() > 100
    assert (classes[always] == 2).mean() > 0.9
    assert (classes[sometimes] == 1).mean() > 0.9
    summary = json.loads(outputs["summary"].read_text())
    assert summary["scene_count"] == 4
    assert "map (PNG)" in result.report()


def test_demo_command_refuses_to_overwrite(tmp_path, capsys):
    args = ["-q", "demo", "-o", str(tmp_path), "--scenes", "3", "--size", "tiny"]
    assert main(args) == 0
    assert "classes.png" in capsys.readouterr().out
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
