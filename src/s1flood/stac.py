"""STAC catalogs of what the workflow writes: the aggregation's COGs, map and summary.

A self-contained static catalog (relative links and asset hrefs) beside the outputs, so the
folder can be copied, staged out by a CWL runner or served as it is: ``catalog.json`` and one
Item, ``water-frequency/water-frequency.json``, whose assets are the counts, the frequency,
the classes, the flood record's COGs (each with its units, nodata and time range), the PNG
maps, the time series and the summary. Its time range is that of the masks' acquisitions
(from their tags, as the aggregation read them), else of their products' Sentinel-1 names,
else the time it was written.
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
RASTER = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
ASSETS: dict[str, tuple[str, list[str], str]] = {
    "frequency": (COG, ["data"], "Water frequency: water / valid observations (0 to 1)"),
    "classes": (COG, ["data"], "Classes: 0 dry, 1 flood candidate, 2 permanent water"),
    "water_count": (COG, ["data"], "Number of observations classified as water"),
    "valid_count": (COG, ["data"], "Number of valid observations"),
    "reference_water": (COG, ["data", "reference-water"], "Reference (normal) water: 1, 0 not"),
    "flood_extent": (COG, ["data", "flood-extent"], "Maximum observed flood extent: 1 flooded"),
    "flood_count": (COG, ["data"], "Number of flooded observations"),
    "first_flooded": (COG, ["data"], "First flooded observation (days since 1970-01-01 UTC)"),
    "last_flooded": (COG, ["data"], "Last flooded observation (days since 1970-01-01 UTC)"),
    "duration_min_days": (COG, ["data"], "Minimum flood duration (days): last - first flooded"),
    "duration_max_days": (COG, ["data"], "Maximum flood duration (days): between dry views"),
    "flood_episodes": (COG, ["data"], "Flood episodes: separate runs of flooded observations"),
    "depth_max": (COG, ["data"], "Maximum flood depth (m) from the flood extent and the DEM"),
    "map": ("image/png", ["overview", "visual"], "Quick-look map of the classes, with legend"),
    "flooded_area_plot": ("image/png", ["overview"], "Flooded area over time, observations marked"),
    "timeseries": (
        "text/csv",
        ["metadata"],
        "Per observation: time, orbit, valid/water/flooded km²",
    ),
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


def _record_range(result: AggregationResult) -> tuple[datetime, datetime] | None:
    """The first and last acquisition start the aggregation read from the masks' tags."""
    if not (result.start_datetime and result.end_datetime):
        return None
    from s1flood.acquisition import parse_time

    return parse_time(result.start_datetime), parse_time(result.end_datetime)


def _asset_fields(path: Path | str) -> dict[str, Any]:
    """A COG's time range, units and nodata from its tags (the flood record's); else none."""
    if Path(path).suffix != ".tif":
        return {}
    import rasterio

    with rasterio.open(path) as dataset:
        tags = dataset.tags()
        nodata, dtype = dataset.nodata, dataset.dtypes[0]
    fields: dict[str, Any] = {}
    for key in ("start_datetime", "end_datetime"):
        if tags.get(key):
            fields[key] = tags[key]
    band: dict[str, Any] = {"data_type": dtype}
    if nodata is not None:
        band["nodata"] = "nan" if nodata != nodata else nodata
    if tags.get("units"):
        band["unit"] = tags["units"]
    if tags.get("meaning"):
        fields["description"] = tags["meaning"]
    fields["raster:bands"] = [band]
    return fields


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
    span = _record_range(result) or acquisition_range(masks)
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
    item.stac_extensions.append(RASTER)
    for key, (media_type, roles, title) in ASSETS.items():
        path = result.outputs.get(key)
        if path is not None:
            item.add_asset(
                key,
                pystac.Asset(
                    str(Path(path).resolve()), title, None, media_type, roles, _asset_fields(path)
                ),
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
