"""The offline demo end to end: simulated valley, masks, frequency, against the truth."""

from __future__ import annotations

import numpy as np

from helpers import read
from s1flood.cli import main
from s1flood.demo import run_demo


def test_demo_recovers_the_simulated_flood(tmp_path):
    result = run_demo(tmp_path, scenes=4, size=300, seed=3)
    truths = [read(p).astype(bool) for p in result.truth]
    for classified, truth in zip(result.classifications, truths, strict=True):
        mask = read(classified.mask)
        observed = mask != 255
        water = mask == 1
        iou = (water & truth & observed).sum() / ((water | truth) & observed).sum()
        assert iou > 0.85  # unfiltered speckle: ~1 % of dark fields look like water
    outputs = result.aggregation.outputs
    valid = read(outputs["valid_count"])
    # scene 3 saw only the western 70 %: the east was observed 3 times, not counted dry
    assert (valid[:, :200] == 4).all()
    assert (valid[:, 215:] == 3).all()
    classes = read(outputs["classes"])
    always_wet = np.logical_and.reduce(truths)
    sometimes_wet = np.logical_or.reduce(truths) & ~always_wet
    assert (classes[always_wet] == 2).mean() > 0.95
    assert (classes[sometimes_wet] == 1).mean() > 0.9
    assert "map (PNG)" in result.report()


def test_demo_command_refuses_to_overwrite(tmp_path, capsys):
    assert main(["-q", "demo", "-o", str(tmp_path), "--scenes", "2", "--size", "200"]) == 0
    assert "classes.png" in capsys.readouterr().out
    assert main(["-q", "demo", "-o", str(tmp_path), "--scenes", "2", "--size", "200"]) == 2
    assert "already exists" in capsys.readouterr().err
