"""ASF mock: SearchAPI ``/services/search/param`` (geojson/jsonlite/count, streamed, no paging),
datapool URLs behind Earthdata (bearer or 302 to URS), a signed download host, and the
Earthdata token endpoint. Shapes from asf_search's ``S1_response.yml`` and the jsonlite sample.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import shapely
import yaml
from shapely.geometry import shape

from servers import Fault, Handler, MockServer, sample
from servers.cdse import GrdProduct, grd_scenes

_KNOWN = {
    "platform",
    "processingLevel",
    "beamMode",
    "intersectsWith",
    "start",
    "end",
    "output",
    "maxResults",
    "flightDirection",
    "relativeOrbit",
    "granule_list",
}


def _templates() -> dict[str, Any]:
    feature = yaml.safe_load(sample("asf/S1_response.yml").read_text())
    lite = json.loads(sample("asf/Fairbanks_SLC_jsonlite.json").read_text())["results"][0]
    return {"feature": {k: feature[k] for k in ("type", "geometry", "properties")}, "lite": lite}


@dataclass
class AsfState:
    """Earthdata account, issued tokens, products."""

    username: str = "edl-user"
    password: str = "edl-Pa55-w0rd!"
    products: list[GrdProduct] = field(default_factory=grd_scenes)
    templates: dict[str, Any] = field(default_factory=_templates)
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_token(self) -> str:
        token = "eyJ0eXAi" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens.add(token)
        return token


def _level(name: str) -> str:
    kind = name.split("_")[2]
    return {"GRDH": "GRD_HD", "GRDM": "GRD_MD"}.get(kind, kind)


def feature(product: GrdProduct, datapool: str, template: dict[str, Any]) -> dict[str, Any]:
    f = json.loads(json.dumps(template))
    level = _level(product.name)
    sat = product.name[2]
    p = f["properties"]
    p.update(
        beamModeType=product.mode,
        bytes=len(product.body),
        fileID=f"{product.name}-{level}",
        flightDirection=product.direction,
        md5sum=hashlib.md5(product.body).hexdigest(),
        orbit=product.absolute,
        pathNumber=product.relative,
        platform=f"Sentinel-1{sat}",
        polarization="VV+VH",
        processingDate=product.processed,
        processingLevel=level,
        sceneName=product.name,
        startTime=product.start,
        stopTime=product.stop,
        url=f"{datapool}/{level}/S{sat}/{product.name}.zip",
        fileName=f"{product.name}.zip",
        browse=None,
    )
    f["geometry"] = product.footprint
    return f


def lite(product: GrdProduct, datapool: str, template: dict[str, Any]) -> dict[str, Any]:
    r = json.loads(json.dumps(template))
    level = _level(product.name)
    r.update(
        beamMode=product.mode,
        dataset=f"Sentinel-1{product.name[2]}",
        downloadUrl=f"{datapool}/{level}/S{product.name[2]}/{product.name}.zip",
        fileName=f"{product.name}.zip",
        flightDirection=product.direction,
        granuleName=product.name,
        orbit=[str(product.absolute)],
        path=product.relative,
        productID=f"{product.name}-{level}",
        productType=level,
        sizeMB=len(product.body) / 2**20,
        startTime=product.start.rstrip("Z"),
        stopTime=product.stop.rstrip("Z"),
        wkt=shape(product.footprint).wkt,
    )
    return r


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class AsfHandler(Handler):
    """SearchAPI, datapool, download host, Earthdata token endpoint."""

    state: AsfState
    download_url: str

    @property
    def datapool(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def do_POST(self) -> None:  # noqa: N802
        self.record(self.read_body())
        if self.path == "/api/users/find_or_create_token":
            if self.apply_fault("token") is not None:
                return
            st = self.state
            good = base64.b64encode(f"{st.username}:{st.password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {good}":
                self.reply(
                    401,
                    {
                        "error": "invalid_credentials",
                        "error_description": "Invalid user credentials",
                    },
                )
                return
            self.reply(
                200,
                {
                    "access_token": st.new_token(),
                    "token_type": "Bearer",
                    "expiration_date": "12/31/2099",
                },
            )
            return
        if self.path.startswith("/services/search/param"):
            self.reply(405, {"error": {"type": "METHOD", "report": "use GET here"}})
            return
        self.reply(404, {"error": "not found"})

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/services/search/param":
            self._search(query)
            return
        if parts.path == "/oauth/authorize":
            self.reply(
                401,
                "<html><title>Earthdata Login</title></html>",
                "text/html",
                headers={"WWW-Authenticate": 'Basic realm="Please enter your Earthdata Login"'},
            )
            return
        if m := re.fullmatch(r"/(GRD_\w\w)/S(\w)/(\w+)\.zip", parts.path):
            self._datapool(m.group(3))
            return
        if m := re.fullmatch(r"/dl/(\w+)\.zip", parts.path):
            self._serve(m.group(1), query)
            return
        self.reply(404, {"error": "not found"})

    def _search(self, query: dict[str, str]) -> None:
        fault = self.apply_fault("search")
        if fault is True:
            return
        unknown = sorted(set(query) - _KNOWN)
        if unknown:
            self.reply(
                400,
                {
                    "error": {
                        "type": "VALUE",
                        "report": f"Validation Error: {unknown[0]!r} is not a valid keyword",
                    }
                },
            )
            return
        try:
            hits = self._match(query)
            limit = int(query.get("maxResults", "1000000"))
        except (ValueError, shapely.errors.GEOSException) as exc:
            self.reply(400, {"error": {"type": "VALUE", "report": f"Validation Error: {exc}"}})
            return
        if isinstance(fault, Fault) and fault.kind == "empty":
            hits = []
        output = query.get("output", "metalink").lower()
        if output == "count":
            self.reply(200, str(len(hits)), "text/plain; charset=utf-8")
            return
        hits = hits[:limit]
        if output == "geojson":
            items = [feature(p, self.datapool, self.state.templates["feature"]) for p in hits]
            head, key = '{"type": "FeatureCollection", "features": [', "features"
        elif output == "jsonlite":
            items = [lite(p, self.datapool, self.state.templates["lite"]) for p in hits]
            head, key = '{"results": [', "results"
        else:
            self.reply(400, {"error": {"type": "VALUE", "report": f"bad output {output}"}})
            return
        del key
        # the SearchAPI streams its answer (chunked transfer encoding), no Content-Length
        self.send_response(200)
        self.send_header(
            "Content-Type", "application/geo+json" if output == "geojson" else "application/json"
        )
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = [head] + [("," if i else "") + json.dumps(x) for i, x in enumerate(items)] + ["]}"]
        for piece in pieces:
            data = piece.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _match(self, query: dict[str, str]) -> list[GrdProduct]:
        hits = list(self.state.products)
        if "granule_list" in query:
            names = set(query["granule_list"].split(","))
            return [p for p in hits if p.name in names]
        if query.get("platform", "").upper() not in ("SENTINEL-1", "S1", "SENTINEL-1A", "SA"):
            raise ValueError(f"platform {query.get('platform')!r}")
        if "processingLevel" in query:
            levels = set(query["processingLevel"].split(","))
            hits = [p for p in hits if _level(p.name) in levels]
        if "beamMode" in query:
            hits = [p for p in hits if p.mode in query["beamMode"].split(",")]
        if "flightDirection" in query:
            hits = [p for p in hits if p.direction == query["flightDirection"].upper()]
        if "relativeOrbit" in query:
            hits = [p for p in hits if p.relative == int(query["relativeOrbit"])]
        if "intersectsWith" in query:
            area = shapely.from_wkt(query["intersectsWith"])
            hits = [p for p in hits if shape(p.footprint).intersects(area)]
        if "start" in query:
            hits = [p for p in hits if _when(p.stop) >= _when(query["start"])]
        if "end" in query:
            hits = [p for p in hits if _when(p.start) <= _when(query["end"])]
        return sorted(hits, key=lambda p: p.start, reverse=True)  # ASF: newest first

    def _datapool(self, name: str) -> None:
        if self.apply_fault("datapool") is not None:
            return
        header = self.headers.get("Authorization", "")
        if not header:
            location = (
                "/oauth/authorize?client_id=BO_n7nTIlMljdvU6kRRB3g&response_type=code"
                "&redirect_uri=https://sentinel1.asf.alaska.edu/login"
            )
            self.reply(302, b"", "text/html", headers={"Location": location})
            return
        if not header.startswith("Bearer ") or header[7:] not in self.state.tokens:
            self.reply(401, {"error": "invalid_token", "error_description": "token not valid"})
            return
        if not any(p.name == name for p in self.state.products):
            self.reply(404, {"error": "not found"})
            return
        signature = secrets.token_hex(8)
        self.reply(
            307,
            b"",
            "text/html",
            headers={
                "Location": f"{self.download_url}/dl/{name}.zip?A-userid=x&Signature={signature}"
            },
        )

    def _serve(self, name: str, query: dict[str, str]) -> None:
        fault = self.apply_fault("download")
        if fault is True:
            return
        if "Signature" not in query:
            self.reply(403, "<Error><Code>AccessDenied</Code></Error>", "application/xml")
            return
        product = next((p for p in self.state.products if p.name == name), None)
        if product is None:
            self.reply(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        self.serve_download(product.body, fault)


def start_asf(state: AsfState | None = None) -> tuple[MockServer, MockServer, AsfState]:
    """Start SearchAPI + datapool + Earthdata (127.0.0.1) and a download host (localhost)."""
    st = state or AsfState()
    handler = type("H", (AsfHandler,), {"state": st, "download_url": ""})
    main = MockServer(handler)
    dl = MockServer(handler)
    handler.download_url = f"http://localhost:{dl.port}"
    dl.faults, dl.log, dl.lock = main.faults, main.log, main.lock
    return main, dl, st


__all__ = ["AsfState", "start_asf"]
