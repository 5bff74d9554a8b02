"""DHuS mock: OpenSearch ``/search`` (rows/start paging, Solr-style ``q``), OData products,
``$value`` downloads with Range, LTA (202), Basic auth (401 + WWW-Authenticate), built from the
sentinelsat cassettes in ``catalog-samples/dhus-sentinelsat``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import shapely
import yaml
from shapely.geometry import shape

from servers import Fault, Handler, MockServer, sample
from servers.cdse import GrdProduct, grd_scenes

BASE = "/dhus"


def _cassette(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(sample(f"dhus-sentinelsat/{name}").read_text())
    return data["interactions"]  # type: ignore[no-any-return]


def _templates() -> dict[str, Any]:
    """Recorded shapes: an OpenSearch S1 GRD entry and feed, an OData product, 401, 404."""
    search = json.loads(_cassette("test_footprints_s1.yaml")[0]["response"]["body"]["string"])
    feed = {k: v for k, v in search["feed"].items() if k != "entry"}
    entry = search["feed"]["entry"][0]
    odata = json.loads(
        _cassette("test_get_product_odata_short.yaml")[0]["response"]["body"]["string"]
    )
    unauthorized = _cassette("test_SentinelAPI_wrong_credentials.yaml")[0]["response"]
    not_found = _cassette("test_is_online.yaml")[0]["response"]
    invalid = json.loads(_cassette("test_invalid_query.yaml")[0]["response"]["body"]["string"])
    return {
        "feed": feed,
        "entry": entry,
        "odata": odata["d"],
        "401": unauthorized,
        "404": not_found,
        "invalid": invalid,
    }


def _odata_date(text: str) -> str:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return f"/Date({int(t.timestamp() * 1000)})/"


@dataclass
class DhusProduct(GrdProduct):
    """A GRD product with its long-term-archive state."""

    online: bool = True
    restore_at: float | None = None


def dhus_products() -> list[DhusProduct]:
    """The CDSE mock's GRD scenes (minus the COG copy) as DHuS products."""
    return [DhusProduct(**vars(scene)) for scene in grd_scenes()]


@dataclass
class DhusState:
    """Account, products and recorded templates."""

    username: str = "dhus-user"
    password: str = "dhus-Pa55-w0rd!"
    restore_delay: float = 0.3
    products: list[DhusProduct] = field(default_factory=dhus_products)
    templates: dict[str, Any] = field(default_factory=_templates)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_id(self, uuid: str) -> DhusProduct | None:
        return next((p for p in self.products if p.uuid == uuid), None)

    def online(self, product: DhusProduct) -> bool:
        with self.lock:
            if not product.online and product.restore_at and time.monotonic() >= product.restore_at:
                product.online, product.restore_at = True, None
            return product.online


def entry(product: DhusProduct, base: str, template: dict[str, Any]) -> dict[str, Any]:
    """An OpenSearch JSON entry in the recorded shape with this product's values."""
    e = json.loads(json.dumps(template))
    geom = shape(product.footprint)
    ring = " ".join(f"{y:f},{x:f}" for x, y in geom.exterior.coords)
    odata = f"{base}/odata/v1/Products('{product.uuid}')"
    values = {
        "beginposition": product.start,
        "endposition": product.stop,
        "ingestiondate": product.stop,
        "orbitnumber": str(product.absolute),
        "lastorbitnumber": str(product.absolute),
        "relativeorbitnumber": str(product.relative),
        "lastrelativeorbitnumber": str(product.relative),
        "sensoroperationalmode": product.mode,
        "swathidentifier": product.mode,
        "orbitdirection": product.direction,
        "producttype": "GRD",
        "filename": product.name + ".SAFE",
        "polarisationmode": "VV VH",
        "footprint": geom.wkt,
        "gmlfootprint": (
            '<gml:Polygon srsName="http://www.opengis.net/gml/srs/epsg.xml#4326" '
            'xmlns:gml="http://www.opengis.net/gml"><gml:outerBoundaryIs><gml:LinearRing>'
            f"<gml:coordinates>{ring}</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs>"
            "</gml:Polygon>"
        ),
        "identifier": product.name,
        "uuid": product.uuid,
        "size": f"{len(product.body) / 1e6:.2f} MB",
    }
    for group in ("date", "int", "str"):
        for item in e.get(group, []):
            if item["name"] in values:
                item["content"] = values[item["name"]]
    e.update(
        title=product.name,
        id=product.uuid,
        link=[
            {"href": f"{odata}/$value"},
            {"rel": "alternative", "href": f"{odata}/"},
            {"rel": "icon", "href": f"{odata}/Products('Quicklook')/$value"},
        ],
    )
    return e


_TOKEN = re.compile(r'(\w+):(\[[^\]]*\]|"[^"]*"|\S+)')
_KNOWN = {
    "beginposition",
    "platformname",
    "producttype",
    "sensoroperationalmode",
    "orbitdirection",
    "relativeorbitnumber",
    "footprint",
    "uuid",
    "identifier",
}


def _predicates(q: str) -> list[Any]:
    """Predicates for the Solr query terms sentinelsat sends; KeyError(field) if unknown."""
    preds: list[Any] = []
    for name, raw in _TOKEN.findall(q):
        key = name.lower()
        if key not in _KNOWN:
            raise KeyError(name)
        value = raw.strip('"')
        if key == "beginposition":
            lo, hi = (s.strip().strip('"') for s in raw.strip("[]").split(" TO "))

            def when(s: str) -> datetime:
                return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)

            preds.append(lambda p, lo=when(lo), hi=when(hi): lo <= when(p.start) <= hi)  # noqa: B008
        elif key == "footprint":
            m = re.fullmatch(r"Intersects\((.+)\)", value)
            if m is None:
                raise KeyError(name)
            area = shapely.from_wkt(m.group(1))
            preds.append(lambda p, a=area: shape(p.footprint).intersects(a))
        elif key == "platformname":
            preds.append(lambda p, v=value: v == "Sentinel-1")
        elif key == "producttype":
            preds.append(lambda p, v=value: p.name.split("_")[2].startswith(v))
        elif key == "sensoroperationalmode":
            preds.append(lambda p, v=value: p.mode == v)
        elif key == "orbitdirection":
            preds.append(lambda p, v=value: p.direction == v.upper())
        elif key == "relativeorbitnumber":
            preds.append(lambda p, v=int(value): p.relative == v)
        elif key == "uuid":
            preds.append(lambda p, v=value: p.uuid == v)
        elif key == "identifier":
            preds.append(lambda p, v=value: p.name == v)
    return preds


class DhusHandler(Handler):
    """Routes under ``/dhus``: ``/search``, ``/odata/v1/Products('…')[…]``."""

    state: DhusState

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{BASE}"

    def _authorised(self) -> bool:
        st = self.state
        expected = base64.b64encode(f"{st.username}:{st.password}".encode()).decode()
        if self.headers.get("Authorization") == f"Basic {expected}":
            return True
        recorded = st.templates["401"]
        self.reply(
            401,
            recorded["body"]["string"],
            "text/html;charset=utf-8",
            headers={"WWW-Authenticate": recorded["headers"]["www-authenticate"][0]},
        )
        return False

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query, encoding="latin-1").items()}
        if not path.startswith(BASE + "/"):
            self.reply(404, "Not Found", "text/plain")
            return
        path = path[len(BASE) :]
        if path == "/search":
            if self.apply_fault("auth") is not None or not self._authorised():
                return
            self._search(query)
            return
        m = re.fullmatch(r"/odata/v1/Products\('([0-9a-f-]+)'\)(/Online/\$value|/\$value)?", path)
        if m is None:
            self.reply(404, "Not Found", "text/plain")
            return
        if not self._authorised():
            return
        product = self.state.by_id(m.group(1))
        if product is None:
            recorded = self.state.templates["404"]
            body = recorded["body"]["string"].replace(
                "98ca202b-2155-4181-be88-xxxxxxxxxxxx", m.group(1)
            )
            cause = f"InvalidKeyException : Invalid key ({m.group(1)}) to access Products"
            self.reply(404, body, "application/xml", headers={"cause-message": cause})
            return
        if m.group(2) == "/$value":
            self._download(product)
        elif m.group(2) == "/Online/$value":
            self.reply(200, "true" if self.state.online(product) else "false", "text/plain")
        else:
            if self.apply_fault("product") is not None:
                return
            self.reply(200, {"d": self._odata(product)})

    def _odata(self, product: DhusProduct) -> dict[str, Any]:
        import hashlib

        d = json.loads(json.dumps(self.state.templates["odata"]))
        uri = f"{self.base}/odata/v1/Products('{product.uuid}')"
        geom = shape(product.footprint)
        ring = " ".join(f"{y:f},{x:f}" for x, y in geom.exterior.coords)
        d["__metadata"].update(
            id=uri, uri=uri, media_src=f"{uri}/$value", edit_media=f"{uri}/$value"
        )
        d.update(
            Id=product.uuid,
            Name=product.name,
            ContentLength=str(len(product.body)),
            Online=self.state.online(product),
            CreationDate=_odata_date(product.stop),
            IngestionDate=_odata_date(product.stop),
            ModificationDate=_odata_date(product.stop),
            ContentGeometry=(
                '<gml:Polygon srsName="http://www.opengis.net/gml/srs/epsg.xml#4326" '
                'xmlns:gml="http://www.opengis.net/gml">\n   <gml:outerBoundaryIs>\n      '
                f"<gml:LinearRing>\n         <gml:coordinates>{ring}</gml:coordinates>\n      "
                "</gml:LinearRing>\n   </gml:outerBoundaryIs>\n</gml:Polygon>"
            ),
        )
        d["ContentDate"].update(Start=_odata_date(product.start), End=_odata_date(product.stop))
        d["Checksum"].update(Algorithm="MD5", Value=hashlib.md5(product.body).hexdigest().upper())
        return d  # type: ignore[no-any-return]

    def _search(self, query: dict[str, str]) -> None:
        fault = self.apply_fault("search")
        if fault is True:
            return
        st = self.state
        feed = json.loads(json.dumps(st.templates["feed"]))
        q = query.get("q", "")
        rows, start = int(query.get("rows", "10")), int(query.get("start", "0"))
        if rows > 100:
            self.reply(
                500,
                {"error": {"code": None, "message": {"lang": "en", "value": "Rows > 100"}}},
            )
            return
        try:
            preds = _predicates(q)
        except KeyError as exc:
            body = json.loads(json.dumps(st.templates["invalid"]))
            body["feed"]["error"]["message"] = f"undefined field {exc.args[0]}"
            self.reply(200, body)
            return
        hits = [p for p in st.products if all(pred(p) for pred in preds)]
        if isinstance(fault, Fault) and fault.kind == "empty":
            hits = []
        if "beginposition" in query.get("orderby", "").lower():
            hits.sort(key=lambda p: p.start, reverse=query["orderby"].startswith("-"))
        page = hits[start : start + rows]
        feed.update(
            {
                "opensearch:totalResults": str(len(hits)),
                "opensearch:startIndex": str(start),
                "opensearch:itemsPerPage": str(rows),
                "subtitle": f"Displaying {len(page)} results. Request done in 0.01 seconds.",
            }
        )
        feed["opensearch:Query"]["searchTerms"] = q
        entries = [entry(p, self.base, st.templates["entry"]) for p in page]
        if len(entries) == 1:
            feed["entry"] = entries[0]  # DHuS gives a single entry as an object, not a list
        elif entries:
            feed["entry"] = entries
        self.reply(200, {"feed": feed})

    def _download(self, product: DhusProduct) -> None:
        fault = self.apply_fault("download")
        if fault is True:
            return
        if not self.state.online(product):
            with self.state.lock:
                if product.restore_at is None:
                    product.restore_at = time.monotonic() + self.state.restore_delay
            self.reply(202, b"", "text/plain", headers={"DataServiceVersion": "2.0"})
            return
        self.serve_download(
            product.body,
            fault,
            "application/octet-stream",
            {"Content-Disposition": f'inline; filename="{product.name}.zip"'},
        )


def start_dhus(state: DhusState | None = None) -> tuple[MockServer, DhusState]:
    """Start the DHuS mock; the hub URL is ``server.url + '/dhus/'``."""
    st = state or DhusState()
    handler = type("H", (DhusHandler,), {"state": st})
    return MockServer(handler), st


__all__ = ["BASE", "DhusProduct", "DhusState", "start_dhus"]
