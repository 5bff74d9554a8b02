"""STAC Item (dict) to :class:`Scene`, shared by the STAC API and the local catalogue."""

from __future__ import annotations

from typing import Any

from s1flood.discovery.scene import Scene, parse_product_name, to_datetime

__all__ = ["PRODUCT_ASSET_KEYS", "decode_multihash", "scene_from_item"]

#: asset keys that hold the whole product, in order of preference
PRODUCT_ASSET_KEYS = ("product", "zip", "safe", "download", "data")
_MULTIHASH = {"1220": "SHA256", "d50110": "MD5", "1e20": "BLAKE3"}


def decode_multihash(value: str) -> tuple[str, str] | None:
    """(algorithm, hex digest) of a ``file:checksum`` multihash, for SHA256, MD5 and BLAKE3.

    Args:
        value: a hex multihash string.
    """
    text = value.strip().lower()
    for prefix, algorithm in _MULTIHASH.items():
        if text.startswith(prefix):
            return algorithm, text[len(prefix) :]
    return None


def _product_href(assets: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    for key in PRODUCT_ASSET_KEYS:
        if key in assets and assets[key].get("href"):
            return str(assets[key]["href"]), assets[key]
    manifest = assets.get("safe-manifest")
    if manifest and manifest.get("href"):
        href = str(manifest["href"])
        return href.rsplit("/", 1)[0] if href.endswith("manifest.safe") else href, None
    return None, None


def scene_from_item(item: dict[str, Any], catalogue: str) -> Scene:
    """A scene from a ``sentinel-1-grd``-style STAC Item (``sar:``, ``sat:``, ``s1:``).

    Args:
        item: a STAC Item as a dict.
        catalogue: the catalogue name the scene records.
    """
    props: dict[str, Any] = item.get("properties", {})
    name = str(props.get("s1:product_identifier") or item["id"])
    if name.endswith(".SAFE"):
        name = name[: -len(".SAFE")]
    parsed = parse_product_name(name) or {}
    start = to_datetime(props.get("start_datetime") or props.get("datetime")) or parsed.get("start")
    stop = to_datetime(props.get("end_datetime") or props.get("datetime")) or parsed.get("stop")
    if start is None or stop is None:
        raise ValueError(f"item {item.get('id')!r} has no acquisition time")
    href, asset = _product_href(item.get("assets", {}))
    checksums: dict[str, str] = {}
    size = None
    if asset is not None:
        decoded = decode_multihash(str(asset.get("file:checksum", "")))
        if decoded:
            checksums[decoded[0]] = decoded[1]
        size = asset.get("file:size")
    product_type = str(props.get("sar:product_type") or parsed.get("product_type", ""))
    orbit_state = props.get("sat:orbit_state")
    published = to_datetime(
        props.get("s1:processing_datetime") or props.get("updated") or props.get("created")
    )
    return Scene(
        name=name,
        id=str(item["id"]),
        footprint=item.get("geometry"),
        start=start,
        stop=stop,
        platform=str(props.get("platform") or parsed.get("platform", "")),
        mode=str(props.get("sar:instrument_mode") or parsed.get("mode", "")),
        product_type=product_type,
        polarisations=tuple(props.get("sar:polarizations") or parsed.get("polarisations", ())),
        orbit_direction=str(orbit_state).lower() if orbit_state else None,
        relative_orbit=props.get("sat:relative_orbit", parsed.get("relative_orbit")),
        absolute_orbit=props.get("sat:absolute_orbit", parsed.get("absolute_orbit")),
        size=int(size) if size is not None else None,
        checksums=checksums,
        href=href,
        online=True,
        published=published,
        catalogue=catalogue,
    )
