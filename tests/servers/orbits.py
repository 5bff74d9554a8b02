"""An orbit bucket stand-in: S3 ``ListObjectsV2`` XML listings and EOF objects.

Keys are ``AUX_POEORB/<name>.EOF`` and ``AUX_RESORB/<name>.EOF`` as in the public orbit
bucket; a listing answers ``max_keys`` keys a page with ``NextContinuationToken`` paging.
`write_eof` writes an Earth Explorer orbit file in the layout of the real one in the shared
kit (header, validity, OSVs with TAI/UTC/UT1, positions and velocities).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import numpy as np

from servers import Handler, MockServer
from servers.dem_tiles import count_sent

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def eof_name(mission: str, kind: str, made: datetime, start: datetime, stop: datetime) -> str:
    f = "%Y%m%dT%H%M%S"
    return f"{mission}_OPER_AUX_{kind}_OPOD_{made:{f}}_V{start:{f}}_{stop:{f}}.EOF"


def eof_text(
    mission: str,
    kind: str,
    made: datetime,
    times: list[datetime],
    positions: np.ndarray,
    velocities: np.ndarray,
) -> str:
    """An EOF document (the real file's element layout) for the given state vectors."""
    f = "%Y-%m-%dT%H:%M:%S"
    start, stop = times[0], times[-1]
    name = eof_name(mission, kind, made, start, stop)[:-4]
    osvs = []
    for t, p, v in zip(times, positions, velocities, strict=True):
        osvs.append(
            "      <OSV>\n"
            f"        <TAI>TAI={(t + timedelta(seconds=37)):%Y-%m-%dT%H:%M:%S.%f}</TAI>\n"
            f"        <UTC>UTC={t:%Y-%m-%dT%H:%M:%S.%f}</UTC>\n"
            f"        <UT1>UT1={t:%Y-%m-%dT%H:%M:%S.%f}</UT1>\n"
            "        <Absolute_Orbit>+67016</Absolute_Orbit>\n"
            f'        <X unit="m">{p[0]:.6f}</X>\n        <Y unit="m">{p[1]:.6f}</Y>\n'
            f'        <Z unit="m">{p[2]:.6f}</Z>\n'
            f'        <VX unit="m/s">{v[0]:.6f}</VX>\n        <VY unit="m/s">{v[1]:.6f}</VY>\n'
            f'        <VZ unit="m/s">{v[2]:.6f}</VZ>\n'
            "        <Quality>NOMINAL</Quality>\n      </OSV>"
        )
    number = mission[-1]
    description = (
        "Precise Orbit Ephemerides (POE) Orbit File"
        if kind == "POEORB"
        else ("NRT POD Restituted Orbit File")
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n<Earth_Explorer_File>\n'
        "  <Earth_Explorer_Header>\n    <Fixed_Header>\n"
        f"      <File_Name>{name}</File_Name>\n"
        f"      <File_Description>{description}</File_Description>\n"
        f"      <Notes></Notes>\n      <Mission>Sentinel-1{number}</Mission>\n"
        "      <File_Class>OPER</File_Class>\n"
        f"      <File_Type>AUX_{kind}</File_Type>\n      <Validity_Period>\n"
        f"        <Validity_Start>UTC={start:{f}}</Validity_Start>\n"
        f"        <Validity_Stop>UTC={stop:{f}}</Validity_Stop>\n      </Validity_Period>\n"
        "      <File_Version>0001</File_Version>\n      <Source>\n"
        "        <System>OPOD</System>\n        <Creator>OPOD</Creator>\n"
        "        <Creator_Version>3.4.0</Creator_Version>\n"
        f"        <Creation_Date>UTC={made:{f}}</Creation_Date>\n      </Source>\n"
        "    </Fixed_Header>\n    <Variable_Header>\n      <Ref_Frame>EARTH_FIXED</Ref_Frame>\n"
        "      <Time_Reference>UTC</Time_Reference>\n    </Variable_Header>\n"
        '  </Earth_Explorer_Header>\n\n  <Data_Block type="xml">\n'
        f'    <List_of_OSVs count="{len(times)}">\n' + "\n".join(osvs) + "\n"
        "    </List_of_OSVs>\n  </Data_Block>\n\n</Earth_Explorer_File>\n"
    )


def circular_orbit(start: datetime, stop: datetime, step: float = 10.0) -> tuple:
    """State vectors of a circular polar orbit at 7070 km radius (for selection tests)."""
    n = int((stop - start).total_seconds() // step) + 1
    times = [start + timedelta(seconds=step * k) for k in range(n)]
    t = np.arange(n) * step
    w = 2 * np.pi / 5924.0
    r = 7_070_000.0
    pos = np.stack([r * np.cos(w * t), np.zeros(n), r * np.sin(w * t)], axis=1)
    vel = np.stack([-r * w * np.sin(w * t), np.zeros(n), r * w * np.cos(w * t)], axis=1)
    return times, pos, vel


def product_orbit(product: str, pad: float = 0.0) -> tuple:
    """The annotation's state vectors of a product, resampled every 10 s (its own span)."""
    from s1flood.preprocessing.orbit import OrbitModel
    from s1flood.preprocessing.product import open_product

    sar = open_product(product, "VV")
    ref = sar.orbit_times[0]
    model = OrbitModel(ref, sar.orbit_times, sar.orbit_positions)
    span = (sar.orbit_times[-1] - ref) / np.timedelta64(1, "s")
    t = np.arange(-pad, float(span) + pad + 1e-6, 10.0)
    t0 = datetime.fromisoformat(str(ref.astype("datetime64[us]"))).replace(tzinfo=UTC)
    times = [t0 + timedelta(seconds=float(s)) for s in t]
    return times, model.position(t), model.velocity(t)


class OrbitHandler(Handler):
    def do_GET(self) -> None:  # noqa: N802
        self.record()
        parts = urlsplit(self.path)
        key = parts.path.lstrip("/")
        fault = self.apply_fault(key or "list")
        if fault is True:
            return
        if not key:
            self._list(parse_qs(parts.query))
            return
        data = self.mock.objects.get(key)  # type: ignore[attr-defined]
        if data is None:
            self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        count_sent(self.mock, len(data))
        self.serve_download(data, fault, "application/octet-stream")

    def _list(self, query: dict[str, list[str]]) -> None:
        prefix = query.get("prefix", [""])[0]
        keys = sorted(k for k in self.mock.objects if k.startswith(prefix))  # type: ignore[attr-defined]
        start = int(query.get("continuation-token", ["0"])[0])
        size = self.mock.max_keys  # type: ignore[attr-defined]
        page = keys[start : start + size]
        more = start + size < len(keys)
        contents = "".join(
            f"<Contents><Key>{escape(k)}</Key><LastModified>2026-01-01T00:00:00.000Z"
            f"</LastModified><ETag>&quot;0&quot;</ETag><Size>{len(self.mock.objects[k])}</Size>"  # type: ignore[attr-defined]
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for k in page
        )
        token = f"<NextContinuationToken>{start + size}</NextContinuationToken>" if more else ""
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3_NS}">'
            f"<Name>s1-orbits</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{size}</MaxKeys>"
            f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}{contents}"
            "</ListBucketResult>"
        )
        count_sent(self.mock, len(body.encode()))
        self.reply(200, body, "application/xml")


def start_orbit_bucket(objects: dict[str, bytes], max_keys: int = 2) -> MockServer:
    """Serve ``objects`` (key -> bytes); listings page ``max_keys`` keys at a time."""
    server = MockServer(OrbitHandler)
    server.objects = dict(objects)  # type: ignore[attr-defined]
    server.max_keys = max_keys  # type: ignore[attr-defined]
    return server
