"""Static STAC catalog of simulated products: ``sentinel-1-grd``-shaped Items (plain JSON).

The layout is ``catalog.json`` + ``sentinel-1-grd/collection.json`` +
``sentinel-1-grd/<id>/<id>.json``; asset hrefs are relative paths to the SAFE (or zip) and
its files, so the catalogue can be moved together with the products.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s1flood.atomic import write_text_atomic

STAC_VERSION = "1.0.0"
EXTENSIONS = [
    "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
]
COLLECTION_ID = "sentinel-1-grd"
SIGMA0_ASSET = "sigma0-vv-map"


@dataclass(frozen=True)
class ProductRecord:
    """What the catalogue needs to know about one simulated product."""

    product_id: str
    path: Path  # .SAFE directory or .zip
    start: datetime
    end: datetime
    footprint: Sequence[tuple[float, float]]  # (lon, lat) corners
    orbit_state: str  # ascending / descending
    absolute_orbit: int
    relative_orbit: int
    datatake_id: int
    polarisations: tuple[str, ...]
    measurement_files: dict[str, str]  # pol -> path relative to the SAFE root
    truth_path: Path | None = None
    level_path: Path | None = None
    sigma0_path: Path | None = None
    stage_m: float | None = None
    phase: str | None = None


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def item_dict(rec: ProductRecord, item_dir: Path) -> dict[str, Any]:
    """One STAC Item for a product, with hrefs relative to ``item_dir``.

    Args:
        rec: the product's record.
        item_dir: the folder the Item is written to.
    """
    ring = [list(p) for p in rec.footprint] + [list(rec.footprint[0])]
    lons = [p[0] for p in rec.footprint]
    lats = [p[1] for p in rec.footprint]
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": EXTENSIONS,
        "id": rec.product_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "properties": _properties(rec),
        "links": [
            {"rel": "root", "href": "../../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
        ],
        "assets": _assets(rec, item_dir),
        "collection": COLLECTION_ID,
    }


def _assets(rec: ProductRecord, item_dir: Path) -> dict[str, Any]:
    """The product (manifest or zip), its measurements and the truth and sigma0 extras."""
    zipped = rec.path.suffix == ".zip"
    href_root = _rel(rec.path, item_dir)
    assets: dict[str, Any] = {
        "safe-manifest" if not zipped else "product": {
            "href": f"{href_root}/manifest.safe" if not zipped else href_root,
            "type": "application/xml" if not zipped else "application/zip",
            "title": "Manifest File" if not zipped else "Zipped SAFE product",
            "roles": ["metadata"] if not zipped else ["data"],
        }
    }
    if not zipped:
        for pol, rel in rec.measurement_files.items():
            assets[pol.lower()] = {
                "href": f"{href_root}/{rel}",
                "type": "image/tiff; application=geotiff",
                "title": f"{pol} Data",
                "roles": ["data"],
            }
    if rec.truth_path is not None:
        assets["truth"] = {
            "href": _rel(rec.truth_path, item_dir),
            "type": "image/tiff; application=geotiff",
            "title": "Simulated water truth (uint8: 0 dry, 1 water, 255 nodata)",
            "roles": ["truth"],
        }
    if rec.level_path is not None:
        assets["truth-level"] = {
            "href": _rel(rec.level_path, item_dir),
            "type": "image/tiff; application=geotiff",
            "title": "Simulated water level (float32 m, NaN dry: band 1 water-surface height, "
            "band 2 depth)",
            "roles": ["truth"],
        }
    if rec.sigma0_path is not None:
        assets[SIGMA0_ASSET] = {
            "href": _rel(rec.sigma0_path, item_dir),
            "type": "image/tiff; application=geotiff",
            "title": "Simulated terrain-corrected sigma0 VV (linear, DEM grid), "
            "a stand-in for preprocessing",
            "roles": ["data"],
        }
    return assets


def _properties(rec: ProductRecord) -> dict[str, Any]:
    """The Item properties: times and the sar, sat, s1 and s1flood fields."""
    mid = rec.start + (rec.end - rec.start) / 2
    props: dict[str, Any] = {
        "datetime": _iso(mid),
        "start_datetime": _iso(rec.start),
        "end_datetime": _iso(rec.end),
        "platform": "sentinel-1" + rec.product_id[2].lower(),
        "constellation": "sentinel-1",
        "instruments": ["c-sar"],
        "sar:frequency_band": "C",
        "sar:center_frequency": 5.405,
        "sar:observation_direction": "right",
        "sar:instrument_mode": "IW",
        "sar:polarizations": list(rec.polarisations),
        "sar:product_type": "GRD",
        "sar:resolution_range": 20,
        "sar:resolution_azimuth": 22,
        "sar:pixel_spacing_range": 10,
        "sar:pixel_spacing_azimuth": 10,
        "sar:looks_range": 5,
        "sar:looks_azimuth": 1,
        "sar:looks_equivalent_number": 4.4,
        "sat:platform_international_designator": "2014-016A",
        "sat:orbit_state": rec.orbit_state,
        "sat:absolute_orbit": rec.absolute_orbit,
        "sat:relative_orbit": rec.relative_orbit,
        "s1:datatake_id": str(rec.datatake_id),
        "s1:product_timeliness": "NRT-3h",
        "s1:resolution": "high",
        "s1:product_identifier": rec.product_id,
        "processing:software": {"s1flood-simulator": "synthetic"},
    }
    if rec.stage_m is not None:
        props["s1flood:stage_m"] = rec.stage_m
    if rec.phase is not None:
        props["s1flood:phase"] = rec.phase
    return props


def _dump(obj: dict[str, Any], path: Path) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def write_catalog(catalog_dir: Path, records: Sequence[ProductRecord], title: str) -> Path:
    """Write (or rewrite) the static catalog; return the path of ``catalog.json``.

    Args:
        catalog_dir: the catalog folder.
        records: one record per product.
        title: the catalog title.
    """
    col_dir = catalog_dir / COLLECTION_ID
    items = []
    for rec in records:
        item_dir = col_dir / rec.product_id
        item = item_dict(rec, item_dir)
        _dump(item, item_dir / f"{rec.product_id}.json")
        items.append(item)
    bboxes = [it["bbox"] for it in items] or [[-180.0, -90.0, 180.0, 90.0]]
    times = sorted(it["properties"]["datetime"] for it in items)
    collection = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": EXTENSIONS,
        "id": COLLECTION_ID,
        "title": "Sentinel-1 GRD (simulated)",
        "description": "Simulated Sentinel-1 IW GRDH products with known water truth (s1flood).",
        "license": "Apache-2.0",
        "extent": {
            "spatial": {
                "bbox": [
                    [
                        min(b[0] for b in bboxes),
                        min(b[1] for b in bboxes),
                        max(b[2] for b in bboxes),
                        max(b[3] for b in bboxes),
                    ]
                ]
            },
            "temporal": {"interval": [[times[0] if times else None, times[-1] if times else None]]},
        },
        "links": [
            {"rel": "root", "href": "../catalog.json", "type": "application/json"},
            {"rel": "parent", "href": "../catalog.json", "type": "application/json"},
        ]
        + [
            {"rel": "item", "href": f"./{it['id']}/{it['id']}.json", "type": "application/json"}
            for it in items
        ],
    }
    _dump(collection, col_dir / "collection.json")
    catalog = {
        "type": "Catalog",
        "stac_version": STAC_VERSION,
        "id": "s1flood-simulated",
        "title": title,
        "description": "Static catalog of simulated Sentinel-1 GRD products (s1flood simulate).",
        "links": [
            {"rel": "root", "href": "./catalog.json", "type": "application/json"},
            {
                "rel": "child",
                "href": f"./{COLLECTION_ID}/collection.json",
                "type": "application/json",
            },
        ],
    }
    path = catalog_dir / "catalog.json"
    _dump(catalog, path)
    return path
