"""CDSE mock: OIDC discovery, Keycloak token endpoint, OData Products, download + zipper hosts."""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import blake3
import shapely
from shapely.geometry import shape

from servers import Fault, Handler, MockServer, sample

ROME = (12.44, 42.03, 12.52, 42.09)


def product_zip(name: str, size: int, seed: int) -> bytes:
    """A small zipped SAFE (manifest + a stored measurement of ``size`` pseudo-random bytes)."""
    rng = hashlib.sha256(str(seed).encode()).digest()
    payload = (rng * (size // len(rng) + 1))[:size]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}.SAFE/manifest.safe", f"<xfdu name='{name}'/>")
        zf.writestr(f"{name}.SAFE/measurement/data.bin", payload)
    return buf.getvalue()


def _rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


@dataclass
class GrdProduct:
    """One mock GRD scene, as the DHuS and ASF mocks serve it (the CDSE mock's, minus COGs)."""

    uuid: str
    name: str
    start: str
    stop: str
    footprint: dict[str, Any]
    mode: str
    direction: str
    relative: int
    absolute: int
    processed: str
    body: bytes


def grd_scenes() -> list[GrdProduct]:
    """The CDSE mock's GRD products without the COG copy, as plain records."""
    out = []
    for p in grd_products():
        if "_COG" in p["Name"]:
            continue
        attrs = {a["Name"]: a["Value"] for a in p["Attributes"]}
        out.append(
            GrdProduct(
                uuid=p["Id"],
                name=p["Name"].removesuffix(".SAFE"),
                start=p["ContentDate"]["Start"],
                stop=p["ContentDate"]["End"],
                footprint=p["GeoFootprint"],
                mode=attrs["operationalMode"],
                direction=attrs["orbitDirection"],
                relative=attrs["relativeOrbitNumber"],
                absolute=attrs["orbitNumber"],
                processed=attrs["processingDate"],
                body=p["_body"],
            )
        )
    return out


def grd_products() -> list[dict[str, Any]]:
    """GRD entries in the recorded OData shape (page 1's first product as the template)."""
    page = json.loads(sample("cdse-odata/cdsetool/odata_page_1.json").read_text())
    template = page["value"][0]
    out = []
    t0 = datetime(2026, 10, 1, 5, 11, 22, tzinfo=UTC)
    specs: list[tuple[int, str, str, int, dict[str, Any], str]] = []
    for i in range(22):  # descending orbit 22 every 6 days, covering Rome
        specs.append((i * 6, "IW", "DESCENDING", 22, _rect(11.8, 41.3, 13.2, 42.8), "GRDH"))
    for i in range(4):  # ascending orbit 117, half covering
        specs.append((i * 12 + 3, "IW", "ASCENDING", 117, _rect(12.48, 41.5, 13.5, 42.5), "GRDH"))
    specs.append((9, "EW", "DESCENDING", 22, _rect(11.0, 41.0, 14.0, 43.0), "GRDM"))
    specs.append((10, "IW", "DESCENDING", 95, _rect(20.0, 41.0, 22.0, 43.0), "GRDH"))  # elsewhere
    for n, (day, mode, direction, rel, geom, ptype) in enumerate(specs):
        start = t0 + timedelta(days=day, minutes=(0 if rel == 22 else 11 * 60 + 30))
        stop = start + timedelta(seconds=25)
        absolute = 66000 + day * 15 + n
        name = (
            f"S1A_{mode}_{ptype}_1SDV_{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_"
            f"{absolute:06d}_{n:06X}_{n * 37 % 65536:04X}"
        )
        out.append(_entry(template, name, start, stop, geom, mode, direction, rel, absolute, n))
    # a reprocessed copy of product 3 (newer processing date, new unique id) and a COG copy
    first = out[3]

    def clone(p: dict[str, Any]) -> dict[str, Any]:
        c = json.loads(json.dumps({k: v for k, v in p.items() if k != "_body"}))
        c["_body"] = p["_body"]
        return c

    again = clone(first)
    again["Name"] = first["Name"].replace(".SAFE", "").rsplit("_", 1)[0] + "_FFFF.SAFE"
    again["Id"] = "a1a1a1a1-0000-4000-8000-000000000003"
    for att in again["Attributes"]:
        if att["Name"] == "processingDate":
            att["Value"] = "2027-01-01T00:00:00.000000Z"
    out.append(again)
    cog = clone(first)
    cog["Name"] = first["Name"].replace(".SAFE", "_COG.SAFE")
    cog["Id"] = "c0c0c0c0-0000-4000-8000-000000000003"
    out.append(cog)
    return out


def _entry(
    template: dict[str, Any],
    name: str,
    start: datetime,
    stop: datetime,
    geom: dict[str, Any],
    mode: str,
    direction: str,
    rel: int,
    absolute: int,
    n: int,
) -> dict[str, Any]:
    entry = json.loads(json.dumps(template))
    body = product_zip(name, 150_000 + 1000 * n, n)
    iso = "%Y-%m-%dT%H:%M:%S.%fZ"
    entry.update(
        {
            "Id": f"{n:08x}-1111-4222-8333-{n:012x}",
            "Name": name + ".SAFE",
            "ContentLength": len(body),
            "S3Path": f"/eodata/Sentinel-1/SAR/GRD/{start:%Y/%m/%d}/{name}.SAFE",
            "Checksum": [
                {"Value": hashlib.md5(body).hexdigest(), "Algorithm": "MD5"},
                {"Value": blake3.blake3(body).hexdigest(), "Algorithm": "BLAKE3"},
            ],
            "ContentDate": {"Start": start.strftime(iso), "End": stop.strftime(iso)},
            "GeoFootprint": geom,
            "Footprint": f"geography'SRID=4326;{shapely.geometry.shape(geom).wkt}'",
            "Online": True,
        }
    )
    attrs = {
        "platformSerialIdentifier": ("String", "A"),
        "operationalMode": ("String", mode),
        "productType": ("String", f"{mode}_{name.split('_')[2]}_1S"),
        "polarisationChannels": ("String", "VV&VH"),
        "orbitDirection": ("String", direction),
        "relativeOrbitNumber": ("Integer", rel),
        "orbitNumber": ("Integer", absolute),
        "processingDate": ("DateTimeOffset", (stop + timedelta(hours=2)).strftime(iso)),
    }
    entry["Attributes"] = [
        {"@odata.type": f"#OData.CSC.{k}Attribute", "Name": a, "Value": v, "ValueType": k}
        for a, (k, v) in attrs.items()
    ]
    entry["_body"] = body
    return entry


def _split_and(text: str) -> list[str]:
    parts, depth, quote, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if c == "'":
            quote = not quote
        elif not quote and c == "(":
            depth += 1
        elif not quote and c == ")":
            depth -= 1
        elif not quote and depth == 0 and text.startswith(" and ", i):
            parts.append(text[start:i])
            start = i + 5
            i += 5
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_ATTR = re.compile(
    r"^Attributes/OData\.CSC\.(String|Integer)Attribute/any\(att:att/Name eq '(\w+)' and "
    r"att/OData\.CSC\.\1Attribute/Value eq (.+)\)$"
)


def _clause(text: str) -> Any:
    """A predicate on a product entry, or raise ValueError like the real service's 400."""
    if m := re.fullmatch(r"Collection/Name eq '([^']+)'", text):
        return lambda p, v=m.group(1): v == "SENTINEL-1"  # noqa: B008
    if m := re.fullmatch(r"OData\.CSC\.Intersects\(area=geography'SRID=4326;(.+)'\)", text):
        area = shapely.from_wkt(m.group(1))
        return lambda p: p["GeoFootprint"] is not None and shape(p["GeoFootprint"]).intersects(area)
    if m := re.fullmatch(r"ContentDate/(Start|End) (lt|gt|le|ge) (\S+)", text):
        field_, op, value = m.groups()
        when = datetime.fromisoformat(value.strip("'").replace("Z", "+00:00"))
        ops = {"lt": "__lt__", "gt": "__gt__", "le": "__le__", "ge": "__ge__"}

        def pred(p: dict[str, Any]) -> bool:
            t = datetime.fromisoformat(p["ContentDate"][field_].replace("Z", "+00:00"))
            return bool(getattr(t, ops[op])(when))

        return pred
    if m := re.fullmatch(r"contains\(Name,'([^']+)'\)", text):
        return lambda p, v=m.group(1): v in p["Name"]  # noqa: B008
    if m := re.fullmatch(r"startswith\(Name,'([^']+)'\)", text):
        return lambda p, v=m.group(1): p["Name"].startswith(v)  # noqa: B008
    if m := re.fullmatch(r"Name eq '([^']+)'", text):
        return lambda p, v=m.group(1): p["Name"] == v  # noqa: B008
    if m := _ATTR.fullmatch(text):
        kind, name, raw = m.groups()
        value: Any = raw.strip("'") if kind == "String" else int(raw)
        return lambda p: any(a["Name"] == name and a["Value"] == value for a in p["Attributes"])
    raise ValueError(f"Invalid filter clause: {text}")


@dataclass
class CdseState:
    """Accounts, tokens and products the mock serves."""

    username: str = "user@example.com"
    password: str = "s3cret-Pa55word!"
    token_lifetime: int = 600
    products: list[dict[str, Any]] = field(default_factory=grd_products)
    tokens: dict[str, float] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> dict[str, Any]:
        template = json.loads(
            re.search(
                r"string: '(\{\"access_token\".*?\})'",
                sample("cdse-odata/sentineleof/test_query_resorb_s1_reader_issue68.yaml")
                .read_text()
                .replace("\n        ", " "),
                re.S,
            ).group(1)  # type: ignore[union-attr]
        )
        access, refresh = "eyJ" + secrets.token_urlsafe(24), "eyR" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access] = time.monotonic() + self.token_lifetime
            self.refresh_tokens.add(refresh)
            self.issued += [access, refresh]
        template.update(access_token=access, refresh_token=refresh, expires_in=self.token_lifetime)
        return template  # type: ignore[no-any-return]

    def valid(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            return self.tokens.get(header[7:], 0.0) > time.monotonic()

    def by_id(self, pid: str) -> dict[str, Any] | None:
        return next((p for p in self.products if p["Id"] == pid), None)


def public(product: dict[str, Any], expand: bool) -> dict[str, Any]:
    out = {k: v for k, v in product.items() if not k.startswith("_")}
    if not expand:
        out.pop("Attributes", None)
    return out


class CdseHandler(Handler):
    """Routes: /.well-known/openid-configuration, /token, /odata/v1/Products…, downloads."""

    state: CdseState
    zipper_url: str

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        self.record(body)
        if self.path.endswith("/protocol/openid-connect/token"):
            if self.apply_fault("token") is not None:
                return
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            st = self.state
            if form.get("client_id") != "cdse-public":
                self.reply(401, {"error": "invalid_client", "error_description": "Invalid client"})
            elif form.get("grant_type") == "password":
                if form.get("username") == st.username and form.get("password") == st.password:
                    self.reply(200, st.issue(), headers={"Cache-Control": "no-store"})
                else:
                    self.reply(
                        401,
                        {"error": "invalid_grant", "error_description": "Invalid user credentials"},
                    )
            elif form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") in st.refresh_tokens:
                    self.reply(200, st.issue())
                else:
                    self.reply(
                        400, {"error": "invalid_grant", "error_description": "Token is not active"}
                    )
            else:
                self.reply(400, {"error": "unsupported_grant_type"})
            return
        self.reply(405, {"detail": "Method Not Allowed"})

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path.endswith("/.well-known/openid-configuration"):
            if self.apply_fault("oidc") is not None:
                return
            doc = json.loads(sample("cdse-auth/openid-configuration.json").read_text())
            base = f"http://127.0.0.1:{self.server.server_address[1]}/auth/realms/CDSE"
            doc = json.loads(
                json.dumps(doc).replace(
                    "https://identity.dataspace.copernicus.eu/auth/realms/CDSE", base
                )
            )
            self.reply(200, doc)
            return
        if m := re.fullmatch(r"/odata/v1/Products\(([0-9a-f-]+)\)/\$value", path):
            self._download_redirect(m.group(1))
            return
        if m := re.fullmatch(r"/odata/v1/Products\(([0-9a-f-]+)\)", path):
            product = self.state.by_id(m.group(1))
            if product is None:
                self.reply(404, {"detail": {"message": "Product not found"}})
            else:
                self.reply(200, public(product, "Attributes" in query.get("$expand", "")))
            return
        if path == "/odata/v1/Products":
            self._search(query)
            return
        if m := re.fullmatch(r"/zipper/([0-9a-f-]+)", path):
            self._serve_file(m.group(1))
            return
        self.reply(404, {"detail": "Not Found"})

    def _search(self, query: dict[str, str]) -> None:
        fault = self.apply_fault("search")
        if fault is not None:
            if isinstance(fault, Fault) and fault.kind == "empty":
                self.reply(200, {"@odata.context": "$metadata#Products", "value": []})
            return
        try:
            preds = (
                [_clause(c) for c in _split_and(query.get("$filter", ""))]
                if query.get("$filter")
                else []
            )
            top, skip = int(query.get("$top", "20")), int(query.get("$skip", "0"))
        except ValueError as exc:
            self.reply(400, {"detail": {"message": str(exc)}})
            return
        if top > 1000:
            self.reply(400, {"detail": {"message": "$top must be <= 1000"}})
            return
        hits = [p for p in self.state.products if all(pred(p) for pred in preds)]
        if query.get("$orderby", "").startswith("ContentDate/Start"):
            hits.sort(key=lambda p: p["ContentDate"]["Start"])
        page = hits[skip : skip + top]
        body: dict[str, Any] = {"@odata.context": "$metadata#Products(Attributes())"}
        if query.get("$count") == "true":
            body["@odata.count"] = len(hits)
        body["value"] = [public(p, "Attributes" in query.get("$expand", "")) for p in page]
        if skip + top < len(hits):
            nxt = dict(query, **{"$skip": str(skip + top)})
            body["@odata.nextLink"] = (
                f"http://127.0.0.1:{self.server.server_address[1]}/odata/v1/Products?"
                + urlencode(nxt)
            )
        self.reply(200, body)

    def _download_redirect(self, pid: str) -> None:
        if self.apply_fault("product") is not None:
            return
        if not self.state.valid(self.headers.get("Authorization")):
            self.reply(401, {"detail": "Expired signature!"})
            return
        product = self.state.by_id(pid)
        if product is None:
            self.reply(404, {"detail": "Not Found"})
            return
        if not product.get("Online", True):
            self.reply(202, {"detail": "product is being retrieved from the archive"})
            return
        self.reply(307, b"", headers={"Location": f"{self.zipper_url}/zipper/{pid}"})

    def _serve_file(self, pid: str) -> None:
        fault = self.apply_fault("download")
        if fault is True:
            return
        if isinstance(fault, Fault) and fault.kind == "expire":
            with self.state.lock:
                self.state.tokens.clear()
        if not self.state.valid(self.headers.get("Authorization")):
            self.reply(401, {"detail": "Expired signature!"})
            return
        product = self.state.by_id(pid)
        if product is None:
            self.reply(404, {"detail": "Not Found"})
            return
        self.serve_download(product["_body"], fault, headers={"Accept-Ranges": "bytes"})


def start_cdse(
    state: CdseState | None = None, zipper_host: str | None = None
) -> tuple[MockServer, MockServer, CdseState]:
    """Start the catalogue/identity/download server and a separate "zipper" host.

    The zipper binds ``zipper_host`` and is named by it (127.0.0.2, ``::1``); by default it
    binds 127.0.0.1 and is named ``localhost``.
    """
    st = state or CdseState()
    handler = type("H", (CdseHandler,), {"state": st, "zipper_url": ""})
    main = MockServer(handler)
    zipper = MockServer(handler, zipper_host or "127.0.0.1")
    handler.zipper_url = zipper.url if zipper_host else f"http://localhost:{zipper.port}"
    zipper.faults, zipper.log, zipper.lock = main.faults, main.log, main.lock  # one view of both
    zipper.httpd.mock = main  # type: ignore[attr-defined]  # (throttle, bytes sent, chaos too)
    return main, zipper, st


__all__ = ["CdseState", "Fault", "grd_products", "product_zip", "start_cdse"]
