"""The STAC Item written beside each preprocessed COG (plain JSON, STAC 1.0)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely.geometry

from s1flood._version import __version__
from s1flood.atomic import write_text_atomic
from s1flood.grid import grid_footprint_lonlat
from s1flood.preprocessing.product import SarImage
from s1flood.raster import Grid

EXTENSIONS = [
    "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "https://stac-extensions.github.io/processing/v1.1.0/schema.json",
]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_output_item(
    item_path: Path,
    output: Path,
    grid: Grid,
    sar: SarImage,
    *,
    product: Path,
    quantity: str,
    engine: str,
    processing: dict[str, Any],
    polarisations: Sequence[str] = (),
) -> Path:
    """Write the STAC Item of an engine's output (atomically); return its path.

    Args:
        item_path: the file to write (hrefs are relative to it).
        output: the COG the Item describes.
        grid: the COG grid.
        sar: the product image (name, times, polarisation, orbit, mission).
        product: the source product.
        quantity: sigma0 or gamma0.
        engine: the engine name.
        processing: processing details.
        polarisations: the output's bands, one polarisation each (default: `sar`'s).
    """
    pols = list(polarisations) or [sar.polarisation]
    product_name, polarisation, platform = sar.name, "+".join(pols), sar.mission
    footprint = grid_footprint_lonlat(grid)
    epsg = grid.crs.to_epsg()
    href = os.path.relpath(output, item_path.parent)
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": EXTENSIONS,
        "id": f"{product_name}_{quantity}_{''.join(pols).lower()}",
        "geometry": shapely.geometry.mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": {
            "datetime": _iso(sar.start),
            "start_datetime": _iso(sar.start),
            "end_datetime": _iso(sar.stop),
            "platform": f"sentinel-{platform[-2:].lower()}" if platform else "sentinel-1",
            "constellation": "sentinel-1",
            "instruments": ["c-sar"],
            "sar:instrument_mode": "IW",
            "sar:frequency_band": "C",
            "sar:polarizations": pols,
            "sar:product_type": "GRD",
            "sat:orbit_state": sar.orbit_pass,
            "sat:relative_orbit": sar.relative_orbit,
            "sat:absolute_orbit": sar.absolute_orbit,
            "proj:epsg": epsg,
            "proj:shape": [grid.height, grid.width],
            "proj:transform": list(grid.transform)[:6],
            "processing:software": {"s1flood": __version__},
            "processing:level": "L2",
            "s1flood:engine": engine,
            "s1flood:quantity": quantity,
            "s1flood:processing": processing,
        },
        "links": [
            {"rel": "derived_from", "href": str(Path(product).resolve()), "title": product_name}
        ],
        "assets": {
            quantity: {
                "href": href,
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "title": f"{quantity} {polarisation} (dB)",
                "roles": ["data", "backscatter"],
                "raster:bands": [
                    {"data_type": "float32", "nodata": "nan", "unit": "dB"} for _ in pols
                ],
            }
        },
    }
    write_text_atomic(item_path, json.dumps(item, indent=2) + "\n")
    return item_path
