"""The ``Scene`` record: one catalogue entry of a Sentinel-1 product, JSON-able."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

__all__ = ["Scene", "parse_product_name"]

# S1A_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371[_COG][.SAFE|.zip]
_NAME = re.compile(
    r"^(?P<platform>S1[A-D])_(?P<mode>IW|EW|SM|S[1-6]|WV)_(?P<type>[A-Z]{3})(?P<res>[FHM_])_"
    r"(?P<level>\d)(?P<cls>[SA])(?P<pol>SH|SV|DH|DV|HH|VV|HV|VH)_"
    r"(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_(?P<orbit>\d{6})_(?P<datatake>[0-9A-F]{6})_"
    r"(?P<uid>[0-9A-F]{4})(?P<suffix>_COG)?(?:\.SAFE)?(?:\.zip)?$"
)
_POLS = {
    "SH": ("HH",),
    "SV": ("VV",),
    "DH": ("HH", "HV"),
    "DV": ("VV", "VH"),
    "HH": ("HH",),
    "VV": ("VV",),
    "HV": ("HV",),
    "VH": ("VH",),
}


def parse_product_name(name: str) -> dict[str, Any] | None:
    """Fields encoded in a Sentinel-1 product name, or None if it is not one.

    Args:
        name: a product name, with or without ``.SAFE`` / ``.zip``.
    """
    match = _NAME.match(name.strip())
    if match is None:
        return None
    g = match.groupdict()
    absolute = int(g["orbit"])
    offset = {"S1A": 73, "S1B": 27, "S1C": 172, "S1D": 0}.get(g["platform"], 0)
    return {
        "platform": "sentinel-1" + g["platform"][2].lower(),
        "mode": g["mode"],
        "product_type": g["type"],
        "resolution": g["res"],
        "polarisations": _POLS[g["pol"]],
        "start": datetime.strptime(g["start"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
        "stop": datetime.strptime(g["stop"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
        "absolute_orbit": absolute,
        # S1A/S1B: the ESA formula; S1C/S1D: best effort (catalogues give the real value)
        "relative_orbit": ((absolute - offset) % 175) + 1,
        "datatake": g["datatake"],
        "unique_id": g["uid"],
        "cog": bool(g["suffix"]),
    }


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Scene:
    """One Sentinel-1 product as a catalogue lists it.

    ``footprint`` is a GeoJSON geometry dict (lon/lat), ``checksums`` maps an algorithm name
    (``MD5``, ``BLAKE3``, ``SHA256``) to its hex digest, ``coverage`` is the fraction of the
    AOI inside the footprint (set by discovery), ``published`` the catalogue's processing or
    publication time (used to keep the newest of duplicates).
    """

    name: str
    id: str
    footprint: dict[str, Any] | None
    start: datetime
    stop: datetime
    platform: str = ""
    mode: str = ""
    product_type: str = ""
    polarisations: tuple[str, ...] = ()
    orbit_direction: str | None = None
    relative_orbit: int | None = None
    absolute_orbit: int | None = None
    size: int | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    href: str | None = None
    coverage: float | None = None
    online: bool | None = None
    published: datetime | None = None
    catalogue: str = ""

    @property
    def geometry(self) -> BaseGeometry | None:
        """Footprint as a shapely geometry (None when the catalogue gives none)."""
        if not self.footprint:
            return None
        return shapely.geometry.shape(self.footprint)

    @property
    def checksum(self) -> tuple[str, str] | None:
        """The strongest checksum the catalogue gives, as (algorithm, hex digest)."""
        for algorithm in ("BLAKE3", "SHA256", "MD5"):
            if algorithm in self.checksums:
                return algorithm, self.checksums[algorithm]
        return None

    @property
    def filename(self) -> str:
        """File name of the product as a download (``NAME.SAFE.zip`` style kept as given)."""
        base = self.name
        if base.endswith(".zip"):
            return base
        if not base.endswith(".SAFE") and parse_product_name(base) is not None:
            base += ".SAFE"
        return base + ".zip"

    @property
    def acquisition_key(self) -> tuple[str, str, str, str, int | None]:
        """What identifies an acquisition across reprocessings and formats."""
        fields = parse_product_name(self.name)
        family = fields["product_type"] if fields else self.product_type[:3]
        start = self.start.replace(microsecond=0).isoformat()
        orbit = self.absolute_orbit if self.absolute_orbit is not None else None
        return (self.platform.lower(), self.mode, family, start, orbit)

    def with_coverage(self, coverage: float) -> Scene:
        """A copy with the AOI coverage fraction set.

        Args:
            coverage: the fraction (0..1) of the AOI inside the footprint.
        """
        return replace(self, coverage=coverage)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (ISO 8601 UTC times)."""
        return {
            "name": self.name,
            "id": self.id,
            "footprint": self.footprint,
            "start": _iso(self.start),
            "stop": _iso(self.stop),
            "platform": self.platform,
            "mode": self.mode,
            "product_type": self.product_type,
            "polarisations": list(self.polarisations),
            "orbit_direction": self.orbit_direction,
            "relative_orbit": self.relative_orbit,
            "absolute_orbit": self.absolute_orbit,
            "size": self.size,
            "checksums": dict(self.checksums),
            "href": self.href,
            "coverage": self.coverage,
            "online": self.online,
            "published": _iso(self.published),
            "catalogue": self.catalogue,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        """Inverse of :meth:`to_dict`.

        Args:
            data: a dict as :meth:`to_dict` returns it.
        """
        start = _dt(data["start"])
        stop = _dt(data.get("stop")) or start
        assert start is not None
        assert stop is not None
        return cls(
            name=data["name"],
            id=data["id"],
            footprint=data.get("footprint"),
            start=start,
            stop=stop,
            platform=data.get("platform", ""),
            mode=data.get("mode", ""),
            product_type=data.get("product_type", ""),
            polarisations=tuple(data.get("polarisations", ())),
            orbit_direction=data.get("orbit_direction"),
            relative_orbit=data.get("relative_orbit"),
            absolute_orbit=data.get("absolute_orbit"),
            size=data.get("size"),
            checksums=dict(data.get("checksums") or {}),
            href=data.get("href"),
            coverage=data.get("coverage"),
            online=data.get("online"),
            published=_dt(data.get("published")),
            catalogue=data.get("catalogue", ""),
        )


def to_datetime(value: Any) -> datetime | None:
    """Parse an ISO 8601 value from a catalogue (Z or offset; naive taken as UTC).

    Args:
        value: an ISO 8601 string, a datetime, or ``None``.
    """
    return _dt(value)


def geometry_from_wkt(text: str | None) -> dict[str, Any] | None:
    """GeoJSON dict from a WKT footprint (None for empty).

    Args:
        text: WKT, optionally ``SRID=4326;`` first; empty or ``None`` for none.
    """
    if not text:
        return None
    wkt = text.split(";", 1)[1] if text.upper().startswith("SRID=") else text
    geom = shapely.from_wkt(wkt)
    mapping: dict[str, Any] = shapely.geometry.mapping(geom)
    plain: dict[str, Any] = _plain(mapping)
    return plain


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj
