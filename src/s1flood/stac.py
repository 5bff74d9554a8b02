"""STAC catalogs of what the workflow writes: the aggregation's COGs, map and summary.

A self-contained static catalog (relative links and asset hrefs) beside the outputs, so the
folder can be copied, staged out by a CWL runner or served as it is: ``catalog.json`` and one
Item, ``water-frequency/water-frequency.json``, whose assets are the counts, the frequency,
the classes, the PNG map and the summary. Its time range is that of the masks' products
(read from their Sentinel-1 names) or, when no name says it, the time it was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1flood._version import __version__

if TYPE_CHECKING:
    from s1flood.aggregation import AggregationResult

__all__ = ["CATALOG_ID", "ITEM_ID", "acquisition_range", "write_aggregation_catalog"]

CATALOG_ID = "s1flood-water-frequency"
ITEM_ID = "water-frequency"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"
ASSETS: dict[str, tuple[str, list[str], str]] = {
    "frequency": (COG, ["data"], "Water frequency: water / valid observations (0 to 1)"),
    "classes": (COG, ["data"], "Classes: 0 dry, 1 flood candidate, 2 permanent water"),
    "water_count": (COG, ["data"], "Number of observations classified as water"),
    "valid_count": (COG, ["data"], "Number of valid observations"),
    "map": ("image/png", ["overview", "visual"], "Quick-look map of the classes, with legend"),
    "summary": ("application/json", ["metadata"], "Summary: thresholds, areas, pixel counts"),
}
"""Asset key (an `AggregationResult.outputs` key): media type, roles, title."""


def acquisition_range(masks: Sequence[Path | str]) -> tuple[datetime, datetime] | None:
    """The first start and last stop of the products the masks were made from.

    Args:
        masks: water mask paths named ``<product name>_water.tif`` (as `process_scene`
            writes them); masks without such a name are skipped.
    """
    from s1flood.discovery.scene import parse_product_name

    times: list[datetime] = []
    for mask in masks:
        stem = Path(str(mask)).name.split(".")[0].removesuffix("_water")
        fields = parse_product_name(stem)
        if fields is not None:
            times += [fields["start"], fields["stop"]]
    return (min(times), max(times)) if times else None


def _footprint(result: AggregationResult) -> tuple[list[float], dict[str, Any]]:
    from rasterio.warp import transform_bounds

    west, south, east, north = transform_bounds(
        result.grid.crs, "EPSG:4326", *result.grid.bounds, densify_pts=21
    )
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [west, south, east, north], {"type": "Polygon", "coordinates": [ring]}


def write_aggregation_catalog(result: AggregationResult, masks: Sequence[Path | str] = ()) -> Path:
    """Write the STAC catalog of an aggregation's outputs beside them; its path.

    Args:
        result: what `s1flood.aggregate` returned (its ``outputs`` share one folder).
        masks: the masks that were aggregated (their names give the time range).
    """
    import pystac

    out_dir = Path(result.outputs["frequency"]).parent
    bbox, geometry = _footprint(result)
    span = acquisition_range(masks)
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = span if span is not None else (now, now)
    properties: dict[str, Any] = {
        "title": "Water frequency and flood classes",
        "description": f"{result.scene_count} Sentinel-1 water masks aggregated by s1flood",
        "created": now.isoformat().replace("+00:00", "Z"),
        "start_datetime": start.isoformat().replace("+00:00", "Z"),
        "end_datetime": end.isoformat().replace("+00:00", "Z"),
        "s1flood:version": __version__,
        "s1flood:scene_count": result.scene_count,
        "s1flood:area_km2": dict(result.area_km2),
        "s1flood:grid": result.grid.to_dict(),
    }
    item = pystac.Item(ITEM_ID, geometry, bbox, None, properties)
    for key, (media_type, roles, title) in ASSETS.items():
        path = result.outputs.get(key)
        if path is not None:
            item.add_asset(
                key, pystac.Asset(str(Path(path).resolve()), title, None, media_type, roles)
            )
    catalog = pystac.Catalog(
        CATALOG_ID,
        "Water frequency, flood classes and counts from Sentinel-1 water masks (s1flood)",
        title="s1flood water frequency",
    )
    catalog.add_item(item)
    catalog.normalize_hrefs(str(out_dir.resolve()))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    return out_dir / "catalog.json"
