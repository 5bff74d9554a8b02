"""One simulated product served three ways, with HTTP Range, counting the bytes it sends.

* ``/zip/NAME.zip``: the zipped SAFE;
* ``/odata/v1/Products(ID)/Nodes(NAME.SAFE)/Nodes(...)/$value``: its single files (CDSE OData);
* ``/blob/NAME/REL``: its files as STAC assets, measurements as COGs (Planetary Computer's
  layout), signed with a SAS token from ``/api/sas/v1/token/COLLECTION`` when ``sas`` is on.

Options on the server object: ``ignore_range`` (answer 200 with the whole body), a ``cut``
fault on route ``range`` (half the range sent, then the connection closed), ``token_seconds``
(SAS token lifetime). ``sent`` counts body bytes per route (``zip``, ``nodes``, ``blob``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from servers import Handler, MockServer

_KEY = b"loopback-sas-key"


@dataclass
class ServedProduct:
    """The files a product server serves."""

    name: str
    uid: str
    safe: Path
    zip: Path
    cogs: dict[str, Path] = field(default_factory=dict)
    """Polarisation (lower case) to its COG measurement."""


def zip_product(safe: Path, dest: Path) -> Path:
    """Zip a SAFE folder as ESA does: the TIFFs stored, the XML deflated.

    Args:
        safe: the ``NAME.SAFE`` folder.
        dest: the zip to write.
    """
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(safe.rglob("*")):
            if path.is_file():
                method = zipfile.ZIP_STORED if path.suffix == ".tiff" else zipfile.ZIP_DEFLATED
                zf.write(path, f"{safe.name}/{path.relative_to(safe)}", compress_type=method)
    return dest


def cog_measurement(tiff: Path, dest: Path, block: int = 512, overviews: bool = True) -> Path:
    """The measurement as a COG (deflate, `block` px tiles, overviews or none).

    Args:
        tiff: the SAFE measurement TIFF.
        dest: the COG to write.
        block: tile side.
        overviews: write overviews.
    """
    import rasterio
    from rasterio.shutil import copy

    with rasterio.open(tiff) as src:
        copy(
            src,
            dest,
            driver="COG",
            BLOCKSIZE=block,
            COMPRESS="DEFLATE",
            OVERVIEWS="AUTO" if overviews else "NONE",
        )
    return dest


class ProductHandler(Handler):
    """Routes of the product server."""

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        srv: ProductServer = self.mock  # type: ignore[assignment]
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        product = srv.product
        if m := re.fullmatch(r"/api/sas/v1/token/([\w-]+)", path):
            self.reply(200, srv.token(m.group(1)))
            return
        if path == f"/zip/{product.name}.zip":
            self._serve_file(product.zip, "zip")
            return
        prefix = f"/odata/v1/Products({product.uid})/Nodes({product.name}.SAFE)"
        if path.startswith(prefix) and path.endswith("/$value"):
            rel = re.findall(r"Nodes\(([^)]+)\)", path[len(prefix) :])
            self._serve_file(product.safe.joinpath(*rel), "nodes")
            return
        if path.startswith(f"/blob/{product.name}/"):
            if srv.sas and not srv.valid_signature(parse_qs(parts.query)):
                body = b"<Error><Code>AuthenticationFailed</Code></Error>"
                self.reply(403, body, "application/xml")
                return
            rel = path[len(f"/blob/{product.name}/") :]
            pol = re.fullmatch(r"measurement/iw-(\w\w)\.tiff", rel)
            target = product.cogs.get(pol.group(1)) if pol else product.safe / rel
            self._serve_file(target, "blob")
            return
        self.reply(404, {"detail": f"no route {path}"})

    def _serve_file(self, target: Path | None, route: str) -> None:
        srv: ProductServer = self.mock  # type: ignore[assignment]
        if target is None or not target.is_file():
            self.reply(404, {"detail": "no such file"})
            return
        size = target.stat().st_size
        start, stop = 0, size
        requested = self.headers.get("Range")
        ranged = False
        if requested and not srv.ignore_range:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", requested)
            if m:
                start = int(m.group(1))
                stop = min(size, int(m.group(2)) + 1) if m.group(2) else size
                ranged = True
                if start >= size:
                    self.reply(416, b"", headers={"Content-Range": f"bytes */{size}"})
                    return
        self.send_response(206 if ranged else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(stop - start))
        self.send_header("Accept-Ranges", "bytes")
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        fault = srv.take("range") if ranged else None
        length = stop - start
        if fault is not None and fault.kind == "cut":
            length //= 2
        with target.open("rb") as fh:
            fh.seek(start)
            left = length
            while left > 0:
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                # counted before the client can have it: a test that resets the counters
                # once its last read returned never sees that read's bytes arrive late
                with srv.lock:
                    srv.sent[route] += len(chunk)
                self.wfile.write(chunk)
                left -= len(chunk)
        if fault is not None:
            self.wfile.flush()
            self.close_connection = True


class ProductServer(MockServer):
    """A loopback server of one product in three layouts."""

    def __init__(self, product: ServedProduct) -> None:
        self.product = product
        self.ignore_range = False
        self.sas = False
        self.token_seconds = 3600.0
        self.tokens_issued = 0
        self.sent: Counter[str] = Counter()
        super().__init__(ProductHandler)

    def token(self, collection: str) -> dict[str, Any]:
        """A SAS token answer (``token``, ``msft:expiry``) valid for `token_seconds`."""
        expiry = time.time() + self.token_seconds
        with self.lock:
            self.tokens_issued += 1
        se = f"{expiry:.3f}"
        sig = hmac.new(_KEY, se.encode(), hashlib.sha256).hexdigest()
        iso = (datetime.now(UTC) + timedelta(seconds=self.token_seconds)).isoformat()
        return {"msft:expiry": iso.replace("+00:00", "Z"), "token": f"se={se}&sr=c&sig={sig}"}

    def valid_signature(self, query: dict[str, list[str]]) -> bool:
        """Whether a blob request carries an unexpired, genuine signature."""
        se, sig = query.get("se", [""])[0], query.get("sig", [""])[0]
        good = hmac.new(_KEY, se.encode(), hashlib.sha256).hexdigest()
        try:
            return hmac.compare_digest(sig, good) and float(se) > time.time()
        except ValueError:
            return False

    def product_url(self, pol: str) -> str:
        """The unsigned URL of a COG measurement asset."""
        return f"{self.url}/blob/{self.product.name}/measurement/iw-{pol}.tiff"

    def reset(self) -> None:
        """Zero the byte counters and the request log."""
        with self.lock:
            self.sent.clear()
            self.log.clear()

    def item(self, template: dict[str, Any]) -> dict[str, Any]:
        """A ``sentinel-1-grd`` STAC Item of the product with assets on this server.

        Args:
            template: a STAC Item to take the properties from (geometry, times are kept).
        """
        import json

        item = json.loads(json.dumps(template))
        base = f"{self.url}/blob/{self.product.name}"
        safe = self.product.safe
        assets: dict[str, Any] = {
            "safe-manifest": {"href": f"{base}/manifest.safe", "roles": ["metadata"]}
        }
        for xml in sorted((safe / "annotation").rglob("*.xml")):
            rel = xml.relative_to(safe).as_posix()
            pol = re.search(r"-(vv|vh|hh|hv)-", xml.name)
            if pol is None:
                continue
            kind = (
                "product"
                if xml.parent.name == "annotation"
                else xml.name.split("-")[0]  # calibration / noise / rfi
            )
            if kind in ("product", "calibration", "noise"):
                assets[f"schema-{kind}-{pol.group(1)}"] = {
                    "href": f"{base}/{rel}",
                    "roles": ["metadata"],
                }
        for pol in self.product.cogs:
            assets[pol] = {
                "href": f"{base}/measurement/iw-{pol}.tiff",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
            }
        item["assets"] = assets
        item["id"] = self.product.name
        return item


def serve_product(
    safe: Path, work: Path, uid: str = "a1b2c3d4-0000-4000-8000-00000000fa22", **cog: Any
) -> ProductServer:
    """Start a server of the SAFE folder `safe` (zip and COGs written under `work`).

    Args:
        safe: the ``NAME.SAFE`` folder.
        work: a folder for the zip and the COGs.
        uid: the OData product id.
        cog: options of `cog_measurement` (``block``, ``overviews``).
    """
    name = safe.name.removesuffix(".SAFE")
    zipped = zip_product(safe, work / f"{name}.zip")
    cogs = {}
    for tiff in sorted((safe / "measurement").glob("*.tiff")):
        pol = re.search(r"-(vv|vh|hh|hv)-", tiff.name)
        if pol:
            cogs[pol.group(1)] = cog_measurement(tiff, work / f"{tiff.stem}.cog.tif", **cog)
    return ProductServer(ServedProduct(name, uid, safe, zipped, cogs))
