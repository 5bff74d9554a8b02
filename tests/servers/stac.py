"""STAC API mock: landing page, ``/search`` GET and POST with ``next`` links, ``numberMatched``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from shapely.geometry import shape

from servers import Fault, Handler, MockServer, sample

CONFORMS = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]


def stac_items() -> list[dict[str, Any]]:
    """S1 GRD Items from the stactools example Item, moved over Rome, on two orbits."""
    template = json.loads(sample("stac/stactools-sentinel1-grd-item.json").read_text())
    out = []
    t0 = datetime(2026, 10, 2, 5, 11, 30, tzinfo=UTC)
    for n in range(13):
        asc = n % 4 == 3
        start = t0 + timedelta(days=3 * n, hours=12 if asc else 0)
        stop = start + timedelta(seconds=25)
        absolute = 67000 + 20 * n
        rel = 117 if asc else 22
        name = (
            f"S1A_IW_GRDH_1SDV_{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_"
            f"{absolute:06d}_{n:06X}_{n:04X}"
        )
        x0, x1 = (12.5, 13.5) if asc else (11.8, 13.2)
        item = json.loads(json.dumps(template))
        item["id"] = name
        item["geometry"] = {
            "type": "Polygon",
            "coordinates": [[[x0, 41.3], [x1, 41.3], [x1, 42.8], [x0, 42.8], [x0, 41.3]]],
        }
        item["bbox"] = [x0, 41.3, x1, 42.8]
        props = item["properties"]
        iso = "%Y-%m-%dT%H:%M:%S.%fZ"
        props.update(
            {
                "datetime": (start + timedelta(seconds=12)).strftime(iso),
                "start_datetime": start.strftime(iso),
                "end_datetime": stop.strftime(iso),
                "sat:orbit_state": "ascending" if asc else "descending",
                "sat:relative_orbit": rel,
                "sat:absolute_orbit": absolute,
                "s1:product_identifier": name,
            }
        )
        item["links"] = []
        item["collection"] = "sentinel-1-grd"
        out.append(item)
    return out


class StacHandler(Handler):
    """Routes: ``/`` (landing), ``/conformance``, ``/collections/…``, ``/search``."""

    items: list[dict[str, Any]]

    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        if parts.path in ("/", ""):
            if self.apply_fault("landing") is not None:
                return
            self.reply(
                200,
                {
                    "type": "Catalog",
                    "stac_version": "1.0.0",
                    "id": "mock",
                    "description": "mock STAC API",
                    "conformsTo": CONFORMS,
                    "links": [
                        {"rel": "self", "href": self.base() + "/", "type": "application/json"},
                        {"rel": "root", "href": self.base() + "/", "type": "application/json"},
                        {
                            "rel": "search",
                            "href": self.base() + "/search",
                            "type": "application/geo+json",
                            "method": "GET",
                        },
                        {
                            "rel": "search",
                            "href": self.base() + "/search",
                            "type": "application/geo+json",
                            "method": "POST",
                        },
                    ],
                },
            )
            return
        if parts.path == "/search":
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            params: dict[str, Any] = dict(q)
            if "intersects" in q:
                params["intersects"] = json.loads(q["intersects"])
            for key in ("collections", "ids"):
                if key in q:
                    params[key] = q[key].split(",")
            self._search(params, "GET")
            return
        self.reply(404, {"code": "NotFound", "description": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        self.record(body)
        if urlsplit(self.path).path == "/search":
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                self.reply(400, {"code": "BadRequest", "description": "invalid JSON"})
                return
            self._search(params, "POST")
            return
        self.reply(404, {"code": "NotFound", "description": "not found"})

    def _search(self, params: dict[str, Any], method: str) -> None:
        fault = self.apply_fault("search")
        if fault is not None:
            if isinstance(fault, Fault) and fault.kind == "empty":
                self.reply(
                    200,
                    {
                        "type": "FeatureCollection",
                        "features": [],
                        "links": [],
                        "numberMatched": 0,
                        "numberReturned": 0,
                    },
                )
            return
        hits = list(self.items)
        if params.get("collections"):
            hits = [i for i in hits if i["collection"] in params["collections"]]
        if params.get("ids"):
            hits = [i for i in hits if i["id"] in params["ids"]]
        if params.get("intersects"):
            area = shape(params["intersects"])
            hits = [i for i in hits if shape(i["geometry"]).intersects(area)]
        if params.get("datetime"):
            a, _, b = str(params["datetime"]).partition("/")
            lo = datetime.fromisoformat(a.replace("Z", "+00:00")) if a not in ("", "..") else None
            hi = datetime.fromisoformat(b.replace("Z", "+00:00")) if b not in ("", "..") else None

            def t(i: dict[str, Any]) -> datetime:
                return datetime.fromisoformat(i["properties"]["datetime"].replace("Z", "+00:00"))

            hits = [i for i in hits if (lo is None or t(i) >= lo) and (hi is None or t(i) <= hi)]
        limit = int(params.get("limit", 10))
        token = int(params.get("token", "0").removeprefix("next:") or 0)
        page = hits[token : token + limit]
        links: list[dict[str, Any]] = [{"rel": "root", "href": self.base() + "/"}]
        if token + limit < len(hits):
            nxt = f"next:{token + limit}"
            if method == "GET":
                q = {
                    k: (
                        json.dumps(v)
                        if k == "intersects"
                        else ",".join(v)
                        if isinstance(v, list)
                        else v
                    )
                    for k, v in params.items()
                    if k != "token"
                }
                q["token"] = nxt
                links.append(
                    {
                        "rel": "next",
                        "href": self.base() + "/search?" + urlencode(q),
                        "type": "application/geo+json",
                        "method": "GET",
                    }
                )
            else:
                links.append(
                    {
                        "rel": "next",
                        "href": self.base() + "/search",
                        "method": "POST",
                        "type": "application/geo+json",
                        "body": {"token": nxt},
                        "merge": True,
                    }
                )
        self.reply(
            200,
            {
                "type": "FeatureCollection",
                "stac_version": "1.0.0",
                "numberMatched": len(hits),
                "numberReturned": len(page),
                "context": {"limit": limit, "matched": len(hits), "returned": len(page)},
                "features": page,
                "links": links,
            },
            "application/geo+json",
        )


def start_stac(items: list[dict[str, Any]] | None = None) -> MockServer:
    handler = type("S", (StacHandler,), {"items": items if items is not None else stac_items()})
    return MockServer(handler)
