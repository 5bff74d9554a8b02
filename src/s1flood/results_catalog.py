"""The results folder of a workflow run: everything a user gets, in one STAC catalog.

An ADES stages out ``Directory`` outputs that hold a STAC catalog (and scalars), so the
workflow's one folder output is laid out as::

    results/
      catalog.json                      the root catalog: one Item per product below
      frequency/                        every file the aggregation wrote (COGs, map, summary...)
        water-frequency.json            its Item: those files + the discover/aggregate notebooks
      scenes/<product>/                 each scene's water mask, its sidecar, histogram, notebook
        <product>.json                  its Item
      notebooks/                        the executed 01-discover and 03-aggregate notebooks

The aggregation's Item lists whatever files its folder holds (a new product of
`s1flood.aggregate` appears without an edit here): an asset's key, title and roles come from
the aggregation's own catalog or its ``summary.json`` where they name the file, else from its
name and suffix. Catalog links and asset hrefs are relative (a self-contained catalog), so the
folder can be copied, staged out or served as it is.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1flood._version import __version__
from s1flood.errors import InputError

if TYPE_CHECKING:
    import pystac

__all__ = [
    "AGGREGATION_FOLDER",
    "CATALOG_ID",
    "MEDIA_TYPES",
    "ResultsCatalog",
    "media_type",
    "write_results",
]

log = logging.getLogger(__name__)

CATALOG_ID = "s1flood-results"
AGGREGATION_FOLDER = "frequency"
"""The folder of the aggregation's files inside the results folder."""
SCENES_FOLDER = "scenes"
NOTEBOOKS_FOLDER = "notebooks"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"
SCENE_TITLES = {
    "histogram": "Histogram of the scene's backscatter with the thresholds",
    "confidence": "Confidence of the water mask",
}
"""Titles of a scene's files by what follows the mask's name (``<product>_water_histogram``)."""

MEDIA_TYPES = {
    ".tif": COG,
    ".tiff": "image/tiff; application=geotiff",
    ".png": "image/png",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".ipynb": "application/x-ipynb+json",
    ".txt": "text/plain",
    ".yml": "application/yaml",
    ".yaml": "application/yaml",
}
"""Media type of a result file by its suffix."""

ROLES = {
    ".tif": ["data"],
    ".tiff": ["data"],
    ".png": ["overview", "visual"],
    ".ipynb": ["metadata", "notebook"],
}
"""STAC asset roles of a result file by its suffix (anything else: ``metadata``)."""


def media_type(path: Path | str) -> str:
    """The media type of a result file, by its suffix.

    Args:
        path: the file.
    """
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


@dataclass
class ResultsCatalog:
    """What `write_results` wrote: the folder, its catalog and the run's counts."""

    folder: Path
    catalog: Path
    scene_count: int
    items: list[str] = field(default_factory=list)

    def cwl_outputs(self) -> dict[str, Any]:
        """The CWL output object of the results tool (``cwl.output.json``)."""
        return {
            "results": {"class": "Directory", "path": str(self.folder.resolve())},
            "scene_count": self.scene_count,
        }


def _place(source: Path, target: Path) -> None:
    """`source` at `target`: a hard link where the file system allows it, else a copy.

    A staged input may be a symbolic link (cwltool without containers): the link is made to
    the file it points to, never to the symbolic link itself.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    source = source.resolve()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _stac_files(folder: Path) -> tuple[set[Path], pystac.Item | None]:
    """The STAC documents of the aggregation's own catalog, and its Item (if any)."""
    import pystac

    root = folder / "catalog.json"
    if not root.is_file():
        return set(), None
    catalog = pystac.Catalog.from_file(str(root))
    files = {root.resolve()}
    found: pystac.Item | None = None
    for item in catalog.get_items(recursive=True):
        files.add(Path(str(item.get_self_href())).resolve())
        found = found or item
    for child in catalog.get_children():
        files.add(Path(str(child.get_self_href())).resolve())
    return files, found


def _asset_names(folder: Path, item: pystac.Item | None) -> dict[Path, tuple[str, Any]]:
    """File -> (asset key, the aggregation's own asset or None) from its catalog and summary."""
    names: dict[Path, tuple[str, Any]] = {}
    summary = folder / "summary.json"
    if summary.is_file():
        outputs = json.loads(summary.read_text(encoding="utf-8")).get("outputs", {})
        for key, name in outputs.items():
            names[(folder / str(name)).resolve()] = (str(key), None)
        names[summary.resolve()] = ("summary", None)
    if item is not None:
        for key, asset in item.assets.items():
            names[Path(asset.get_absolute_href() or asset.href).resolve()] = (key, asset)
    return names


def _asset(path: Path, own: Any = None, title: str | None = None) -> Any:
    """A STAC asset for a result file, from its suffix or the step's own asset.

    Where the step gave an asset for the file, its title, type, roles, description and
    extension fields (``raster:bands``...) are kept.
    """
    import pystac

    suffix = path.suffix.lower()
    asset = pystac.Asset(
        os.path.abspath(path),
        title=title or path.name,
        media_type=media_type(path),
        roles=ROLES.get(suffix, ["metadata"]),
    )
    if own is not None:
        asset.extra_fields = dict(own.extra_fields)
        asset.title = own.title or asset.title
        asset.media_type = own.media_type or asset.media_type
        asset.roles = list(own.roles or asset.roles or [])
        asset.description = own.description
    return asset


def _footprint(raster: Path) -> tuple[list[float], dict[str, Any]]:
    """Lon/lat bounding box and polygon of a raster."""
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(raster) as dataset:
        west, south, east, north = transform_bounds(
            dataset.crs, "EPSG:4326", *dataset.bounds, densify_pts=21
        )
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [west, south, east, north], {"type": "Polygon", "coordinates": [ring]}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _product_name(mask: Path) -> str:
    return mask.name.split(".")[0].removesuffix("_water")


def _aggregation_item(
    source: Path, target: Path, masks: Sequence[Path], notebooks: Sequence[Path], root: Path
) -> tuple[Any, int]:
    """The aggregation's Item over every file its folder holds (placed under `target`)."""
    import pystac

    from s1flood.stac import ITEM_ID, acquisition_range

    stac_files, own_item = _stac_files(source)
    names = _asset_names(source, own_item)
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.resolve() not in stac_files)
    rasters = [p for p in files if p.suffix.lower() in (".tif", ".tiff")]
    if not rasters:
        raise InputError(f"aggregation folder {source} holds no raster")
    summary_path = source / "summary.json"
    summary: dict[str, Any] = (
        json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    )
    if own_item is not None:
        geometry, bbox = own_item.geometry, own_item.bbox
        properties = dict(own_item.properties)
    else:
        bbox, geometry = _footprint(_named_first(rasters, names, "frequency"))
        span = acquisition_range(masks)
        now = datetime.now(UTC).replace(microsecond=0)
        start, end = span if span is not None else (now, now)
        properties = {"start_datetime": _stamp(start), "end_datetime": _stamp(end)}
    properties.setdefault("s1flood:version", __version__)
    scene_count = int(summary.get("scene_count", properties.get("s1flood:scene_count", 0)))
    properties["s1flood:scene_count"] = scene_count
    item = pystac.Item(ITEM_ID, geometry, bbox, None, properties)
    if own_item is not None:
        item.stac_extensions = list(own_item.stac_extensions)
    used: set[str] = set()
    for path in files:
        relative = path.relative_to(source)
        placed = target / relative
        _place(path, placed)
        key, own = names.get(path.resolve(), (relative.with_suffix("").as_posix(), None))
        key = key if key not in used else relative.as_posix()
        used.add(key)
        item.add_asset(key, _asset(placed, own))
    for notebook in notebooks:
        placed = root / NOTEBOOKS_FOLDER / notebook.name
        _place(notebook, placed)
        key = f"notebook_{placed.stem.split('-', 1)[-1]}"
        item.add_asset(key, _asset(placed, title=f"Executed notebook {placed.name}"))
    return item, scene_count


def _named_first(rasters: list[Path], names: dict[Path, tuple[str, Any]], key: str) -> Path:
    """The raster whose asset key is `key`, else the first one."""
    return next((p for p in rasters if names.get(p.resolve(), ("",))[0] == key), rasters[0])


def _scene_item(
    mask: Path, extras: Sequence[Path], notebook: Path | None, folder: Path, root: Path
) -> Any:
    """A scene's Item: its water mask (+ sidecar and histogram) and its executed notebook."""
    import pystac

    from s1flood.discovery.scene import parse_product_name

    product = _product_name(mask)
    bbox, geometry = _footprint(mask)
    fields = parse_product_name(product)
    properties: dict[str, Any] = {"s1flood:version": __version__}
    moment: datetime | None = None
    if fields is not None:
        properties["start_datetime"] = _stamp(fields["start"])
        properties["end_datetime"] = _stamp(fields["stop"])
        properties["platform"] = str(product[:3]).lower().replace("s1", "sentinel-1")
    else:
        moment = datetime.fromtimestamp(mask.stat().st_mtime, UTC).replace(microsecond=0)
    item = pystac.Item(product, geometry, bbox, moment, properties)
    placed = folder / mask.name
    _place(mask, placed)
    item.add_asset("water_mask", _asset(placed, title="Water mask: 0 dry, 1 water, 255 nodata"))
    for extra in extras:
        placed = folder / extra.name
        _place(extra, placed)
        if placed.suffix.lower() == ".json":
            key, title = "sidecar", "Classification sidecar: thresholds, method, path taken"
        else:
            key = placed.stem.removeprefix(mask.stem).strip("_") or placed.stem
            title = SCENE_TITLES.get(key, placed.name)
        item.add_asset(key, _asset(placed, title=title))
    if notebook is not None:
        placed = folder / notebook.name
        _place(notebook, placed)
        item.add_asset("notebook", _asset(placed, title=f"Executed notebook {notebook.name}"))
    return item


def write_results(
    out_dir: Path | str,
    aggregation: Path | str,
    masks: Sequence[Path | str],
    *,
    scene_files: Sequence[Path | str] = (),
    scene_notebooks: Sequence[Path | str] = (),
    notebooks: Sequence[Path | str] = (),
) -> ResultsCatalog:
    """Gather a run's outputs into `out_dir` with a STAC catalog of all of them.

    Args:
        out_dir: the results folder to write (must not exist yet, or be empty).
        aggregation: the aggregation's output folder (``s1flood.aggregate``'s ``out_dir``).
        masks: the per-scene water masks (``<product>_water.tif``).
        scene_files: other per-scene files (histograms ``<product>_water_histogram.png``):
            each joins the scene whose mask name starts its own name. A mask's sidecar
            (``<product>_water.json`` beside it) joins it anyway.
        scene_notebooks: the executed classification notebooks, one per mask, in the masks'
            order.
        notebooks: the run's other executed notebooks (discovery, aggregation).
    """
    import pystac

    out = Path(out_dir)
    source = Path(aggregation)
    mask_paths = [Path(m) for m in masks]
    if not source.is_dir():
        raise InputError(f"aggregation folder {source} not found")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"results folder {out} is not empty")
    if scene_notebooks and len(scene_notebooks) != len(mask_paths):
        raise InputError(
            f"{len(scene_notebooks)} classification notebooks for {len(mask_paths)} masks"
        )
    for path in [*mask_paths, *map(Path, scene_files), *map(Path, scene_notebooks)]:
        if not path.is_file():
            raise InputError(f"result file {path} not found")
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    catalog = pystac.Catalog(
        CATALOG_ID,
        "Water frequency, flood classes, per-scene water masks and the executed notebooks "
        "of one s1flood run",
        title="s1flood results",
    )
    aggregation_item, scene_count = _aggregation_item(
        source, root / AGGREGATION_FOLDER, mask_paths, [Path(n) for n in notebooks], root
    )
    folders = {aggregation_item.id: root / AGGREGATION_FOLDER}
    catalog.add_item(aggregation_item)
    extras = [Path(p) for p in scene_files]
    for index, mask in enumerate(mask_paths):
        product = _product_name(mask)
        folder = root / SCENES_FOLDER / product
        own = [p for p in extras if p.name.startswith(mask.stem) and p.name != mask.name]
        sidecar = mask.with_suffix(".json")
        if sidecar.is_file() and sidecar.name not in {p.name for p in own}:
            own.insert(0, sidecar)
        notebook = Path(scene_notebooks[index]) if scene_notebooks else None
        item = _scene_item(mask, own, notebook, folder, root)
        if item.id in folders:
            raise InputError(f"two masks of product {item.id}")
        folders[item.id] = folder
        catalog.add_item(item)

    def item_href(item: pystac.Item, parent_dir: str) -> str:
        return str(folders[item.id] / f"{item.id}.json")

    catalog.normalize_hrefs(
        str(root), strategy=pystac.layout.CustomLayoutStrategy(item_func=item_href)
    )
    catalog.make_all_asset_hrefs_relative()
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    log.info("results: %s (%d items)", root / "catalog.json", len(folders))
    return ResultsCatalog(out, out / "catalog.json", scene_count, list(folders))
