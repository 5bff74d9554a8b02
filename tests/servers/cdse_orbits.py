"""CDSE orbit stand-in: OData ``Products`` search over AUX EOF products, a Keycloak token
endpoint and ``Products(Id)/$value`` downloads that need the bearer token.

Product records have the shape of the recorded CDSE answer in the shared kit
(``cdse-odata/sentineleof/test_scihub_query_orbit_by_dt.yaml``): Id, Name, ContentType,
ContentLength, Online, S3Path, Checksum (MD5), ContentDate Start/End.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from servers import Handler, MockServer
from servers.dem_tiles import count_sent

_EOF = re.compile(r"(S1[A-D])_OPER_(AUX_\w+?)_OPOD_\d{8}T\d{6}_V(\d{8}T\d{6})_(\d{8}T\d{6})\.EOF")


def _iso(text: str) -> str:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").strftime("%Y-%m-%dT%H:%M:%S.000Z")


def orbit_product(name: str, data: bytes) -> dict[str, Any]:
    match = _EOF.fullmatch(name)
    assert match, name
    v0, v1 = _iso(match.group(3)), _iso(match.group(4))
    return {
        "@odata.mediaContentType": "application/octet-stream",
        "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "Name": name,
        "ContentType": "application/octet-stream",
        "ContentLength": len(data),
        "Online": True,
        "S3Path": f"/eodata/Sentinel-1/AUX/{match.group(2)}/{v0[:4]}/{v0[5:7]}/{v0[8:10]}/{name}",
        "Checksum": [{"Value": hashlib.md5(data).hexdigest(), "Algorithm": "MD5"}],
        "ContentDate": {"Start": v0, "End": v1},
        "Footprint": None,
        "GeoFootprint": None,
    }


class CdseOrbitHandler(Handler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        self.record(body)
        if self.apply_fault("token") is True:
            return
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        accounts = self.mock.accounts  # type: ignore[attr-defined]
        if form.get("grant_type") != "password" or accounts.get(form.get("username")) != form.get(
            "password"
        ):
            self.reply(
                401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}
            )
            return
        token = "eyJ" + secrets.token_urlsafe(16)
        self.mock.tokens.add(token)  # type: ignore[attr-defined]
        self.reply(200, {"access_token": token, "expires_in": 600, "token_type": "Bearer"})

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        if m := re.fullmatch(r"/odata/v1/Products\(([^)]+)\)/\$value", parts.path):
            fault = self.apply_fault("download")
            if fault is True:
                return
            auth = self.headers.get("Authorization", "")
            if auth.removeprefix("Bearer ") not in self.mock.tokens:  # type: ignore[attr-defined]
                self.reply(401, {"detail": "Expired signature!"})
                return
            data = self.mock.by_id.get(m.group(1))  # type: ignore[attr-defined]
            if data is None:
                self.reply(404, {"detail": "not found"})
                return
            count_sent(self.mock, len(data))
            self.serve_download(data, fault, "application/octet-stream")
            return
        if parts.path != "/odata/v1/Products":
            self.reply(404, {"detail": "not found"})
            return
        if self.apply_fault("search") is True:
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.reply(200, {"@odata.context": "$metadata#Products", "value": self._search(query)})

    def _search(self, query: dict[str, str]) -> list[dict[str, Any]]:
        text = query.get("$filter", "")
        prefix = re.search(r"startswith\(Name,'([^']+)'\)", text)
        contains = re.search(r"contains\(Name,'([^']+)'\)", text)
        before = re.search(r"ContentDate/Start lt '([^']+)'", text)
        after = re.search(r"ContentDate/End gt '([^']+)'", text)
        out = []
        for product in self.mock.products:  # type: ignore[attr-defined]
            name, dates = product["Name"], product["ContentDate"]
            if (prefix and not name.startswith(prefix.group(1))) or (
                contains and contains.group(1) not in name
            ):
                continue
            if (before and not dates["Start"] < before.group(1)) or (
                after and not dates["End"] > after.group(1)
            ):
                continue
            out.append(product)
        reverse = query.get("$orderby", "").endswith("desc")
        out.sort(key=lambda p: p["ContentDate"]["Start"], reverse=reverse)
        return out[: int(query.get("$top", "20"))]


def start_cdse_orbits(
    files: dict[str, bytes], accounts: dict[str, str] | None = None
) -> MockServer:
    """Serve the EOF ``files`` (name -> bytes) as CDSE AUX products."""
    server = MockServer(CdseOrbitHandler)
    server.accounts = accounts or {"user@example.com": "s3cret-Pa55word!"}  # type: ignore[attr-defined]
    server.tokens = set()  # type: ignore[attr-defined]
    server.products = [orbit_product(n, d) for n, d in files.items()]  # type: ignore[attr-defined]
    server.by_id = {p["Id"]: files[p["Name"]] for p in server.products}  # type: ignore[attr-defined]
    return server
