"""The hand-offs that chain the notebooks in JupyterLab: identifiers.txt, then masks.txt.

Notebook 1 lists what it found, notebook 2 with an empty ``product`` maps every listed
product and lists its masks, notebook 3 aggregates ``@masks.txt`` (the whole chain runs in a
real browser in ``tests/test_56_lab_browser.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from s1flood.errors import InvalidOptionError
from s1flood.mask_sources import expand_mask_arguments
from s1flood.notebook import scene_products, write_identifiers, write_mask_list


def test_empty_product_maps_every_listed_identifier(tmp_path: Path) -> None:
    names = ["S1A_IW_GRDH_1SDV_A", "S1A_IW_GRDH_1SDV_B"]
    listing = write_identifiers(names, tmp_path)
    assert listing == tmp_path / "identifiers.txt"
    assert scene_products("", tmp_path) == names
    assert scene_products("S1A_IW_GRDH_1SDV_C", tmp_path) == ["S1A_IW_GRDH_1SDV_C"]


@pytest.mark.parametrize("content", [None, "\n  \n"])
def test_empty_product_without_a_list_is_a_one_line_error(
    tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / "identifiers.txt").write_text(content, encoding="utf-8")
    with pytest.raises(InvalidOptionError, match="product") as caught:
        scene_products("", tmp_path)
    assert "\n" not in str(caught.value)
    assert "identifiers.txt" in str(caught.value)


def test_mask_list_is_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "notebooks"
    out_dir = tmp_path / "demo-output" / "scene"
    (out_dir / "masks").mkdir(parents=True)
    work.mkdir()
    monkeypatch.chdir(work)
    masks = ["../demo-output/scene/masks/a_water.tif", str(out_dir / "masks" / "b_water.tif")]
    listing = write_mask_list(masks, "../demo-output/scene")
    assert listing == out_dir / "masks.txt"
    assert listing.read_text(encoding="utf-8").splitlines() == [
        "masks/a_water.tif",
        "masks/b_water.tif",
    ]
    expanded = expand_mask_arguments([f"@{listing}"])
    assert [p.resolve() for p in expanded] == [
        out_dir / "masks" / n for n in ("a_water.tif", "b_water.tif")
    ]
