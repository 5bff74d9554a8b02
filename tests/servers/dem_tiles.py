"""A Copernicus DEM bucket stand-in: COG tiles with the real names, HTTP ranges, 404 at sea.

Keys are laid out as the public buckets lay them out:
``Copernicus_DSM_COG_{10|30}_{N|S}dd_00_{E|W}ddd_00_DEM/<same>.tif``; a tile that does not
exist answers 404 with an S3 ``NoSuchKey`` body. Ranges ``bytes=a-b`` and ``bytes=a-`` are
served (206), so GDAL's ``/vsicurl/`` can read windows. Tile pixels are laid out as the real
tiles: the pixel centres of the first row/column are on whole degrees (the tile's bounds are
shifted by half a pixel), heights above the EGM2008 geoid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from servers import Handler, MockServer

NO_SUCH_KEY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    b"<Message>The specified key does not exist.</Message></Error>"
)


def analytic_heights(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Smooth terrain (m above the geoid) that any test can evaluate at any point."""
    return (120.0 + 80.0 * np.sin(lon * 7.0) * np.cos(lat * 5.0) + 10.0 * (lat - 42.0)).astype(
        np.float32
    )


def tile_name(code: str, lat: int, lon: int) -> str:
    ns = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"
    ew = f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}"
    return f"Copernicus_DSM_COG_{code}_{ns}_00_{ew}_00_DEM"


def write_tile(
    path: Path,
    lat: int,
    lon: int,
    pixels: int,
    heights: Callable[[np.ndarray, np.ndarray], np.ndarray] = analytic_heights,
) -> Path:
    """Write one tile as a COG (float32, deflate, 512 px blocks) like the real ones.

    Columns shrink towards the poles as in the real tiles (1, 1.5, 2, 3, 5, 10 times fewer
    from 50, 60, 70, 80, 85 degrees).
    """
    zone = abs(lat + 0.5)
    divisor = next(
        (d for limit, d in ((50, 1), (60, 1.5), (70, 2), (80, 3), (85, 5)) if zone < limit), 10
    )
    width = round(pixels / divisor)
    d, dx = 1.0 / pixels, 1.0 / width
    cols = lon + dx * np.arange(width)
    rows = lat + 1 - d * np.arange(pixels)
    glon, glat = np.meshgrid(cols, rows)
    data = heights(glon, glat).astype(np.float32)
    transform = from_origin(lon - dx / 2, lat + 1 + d / 2, dx, d)
    with rasterio.open(
        path, "w", driver="COG", width=width, height=pixels, count=1, dtype="float32",
        crs="EPSG:4326", transform=transform, compress="DEFLATE", predictor=3, blocksize=512,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def count_sent(server: MockServer, size: int) -> None:
    """Add to the body bytes a stand-in served (``server.sent``; a cut body counts whole)."""
    with server.lock:
        server.sent = getattr(server, "sent", 0) + size  # type: ignore[attr-defined]


class DemHandler(Handler):
    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        self.record()
        path = self.path.split("?")[0].lstrip("/")
        fault = self.apply_fault(path)
        if fault is True:
            return
        data = self.mock.files.get(path)  # type: ignore[attr-defined]
        if data is None:
            self.reply(404, NO_SUCH_KEY, "application/xml")
            return
        if self.command == "HEAD":
            headers = {"Accept-Ranges": "bytes", "Content-Length": str(len(data))}
            self.send_response(200)
            self.send_header("Content-Type", "image/tiff")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        requested = self.headers.get("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", requested or "")
        if m and m.group(2):
            first, last = int(m.group(1)), min(int(m.group(2)), len(data) - 1)
            chunk = data[first : last + 1]
            self.send_response(206)
            self.send_header("Content-Type", "image/tiff")
            self.send_header("Content-Length", str(len(chunk)))
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(chunk)
                count_sent(self.mock, len(chunk))
            return
        offset = re.fullmatch(r"bytes=(\d+)-", requested or "")
        count_sent(self.mock, len(data) - (int(offset.group(1)) if offset else 0))
        self.serve_download(data, fault, "image/tiff", {"Accept-Ranges": "bytes"})


def start_dem_bucket(
    folder: Path,
    cells: list[tuple[int, int]],
    code: str = "30",
    heights: Callable[[np.ndarray, np.ndarray], np.ndarray] = analytic_heights,
) -> MockServer:
    """Write the tiles of ``cells`` ((lat, lon) south-west corners) and serve them."""
    pixels = {"10": 3600, "30": 1200}[code]
    server = MockServer(DemHandler)
    server.files = {}  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    for lat, lon in cells:
        name = tile_name(code, lat, lon)
        path = write_tile(folder / f"{name}.tif", lat, lon, pixels, heights)
        server.files[f"{name}/{name}.tif"] = path.read_bytes()  # type: ignore[attr-defined]
    return server


def tile_requests(server: MockServer) -> list[dict[str, object]]:
    """The GET requests for tiles (not HEAD)."""
    return [r for r in server.log if r["method"] == "GET" and str(r["path"]).endswith(".tif")]
