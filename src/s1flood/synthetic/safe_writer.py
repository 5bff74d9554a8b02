"""Sentinel-1 IW GRDH SAFE writer: the files of one product, then its manifest (and zip).

The XML follows the layout of real IPF 3.x products (element names, order, list ``count``
attributes, number formats) for every element that xarray-sentinel and sarsen read, plus
the skeleton of the others (`annotation`, `general_annotation`, `calibration`, `manifest`).
The measurement is an uncompressed uint16 GeoTIFF with the
geolocation grid as GCPs, written block by block.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS

from s1flood.atomic import atomic_path
from s1flood.synthetic.annotation import annotation_xml
from s1flood.synthetic.calibration import Luts, calibration_xml, noise_xml
from s1flood.synthetic.geolocation import footprint_lonlat, geolocation_grid
from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.identity import ProductIdentity
from s1flood.synthetic.manifest import manifest_xml, map_overlay_kml
from s1flood.synthetic.rasterio_io import open_for_writing
from s1flood.synthetic.safe_xml import write_xml


class SafeProduct:
    """Writes one product: per-polarisation metadata and measurement, then the manifest."""

    def __init__(
        self, out_dir: Path, geom: RadarGeometry, ident: ProductIdentity, luts: Luts
    ) -> None:
        self.geom = geom
        self.ident = ident
        self.luts = luts
        self.final_dir = out_dir / f"{ident.name}.SAFE"
        self.safe_dir = out_dir / f".{ident.name}.SAFE.partial"
        if self.safe_dir.exists():
            shutil.rmtree(self.safe_dir)
        for sub in ("annotation/calibration", "measurement", "preview", "support"):
            (self.safe_dir / sub).mkdir(parents=True, exist_ok=True)
        self.grid = geolocation_grid(geom)
        self.footprint = footprint_lonlat(geom)
        self.files: list[tuple[str, str, str]] = []

    def _object_id(self, prefix: str, pol: str) -> str:
        stem = self.ident.file_stem(pol).replace("-", "")
        return f"{prefix}{stem}"

    def write_metadata(self, pol: str, stats: tuple[float, float]) -> None:
        """Annotation, calibration and noise XML of one polarisation.

        Args:
            pol: the polarisation (VV, VH, HH or HV).
            stats: mean and standard deviation of the measurement DNs.
        """
        stem = self.ident.file_stem(pol)
        ann = f"annotation/{stem}.xml"
        cal = f"annotation/calibration/calibration-{stem}.xml"
        noi = f"annotation/calibration/noise-{stem}.xml"
        write_xml(
            annotation_xml(self.geom, self.ident, pol, self.grid, self.luts, stats),
            self.safe_dir / ann,
        )
        write_xml(calibration_xml(self.geom, self.ident, pol, self.luts), self.safe_dir / cal)
        write_xml(noise_xml(self.geom, self.ident, pol, self.luts), self.safe_dir / noi)
        self.files = [
            ("product" + self._object_id("", pol), "s1Level1ProductSchema", ann),
            ("noise" + self._object_id("", pol), "s1Level1NoiseSchema", noi),
            ("calibration" + self._object_id("", pol), "s1Level1CalibrationSchema", cal),
            *self.files,
        ]

    def measurement_path(self, pol: str) -> Path:
        """Path of the measurement GeoTIFF of one polarisation (inside the partial SAFE).

        Args:
            pol: the polarisation (VV, VH, HH or HV).
        """
        return self.safe_dir / "measurement" / f"{self.ident.file_stem(pol)}.tiff"

    def open_measurement(self, pol: str) -> Any:
        """Open the measurement GeoTIFF for block writes (uint16, GCPs, uncompressed).

        Args:
            pol: the polarisation (VV, VH, HH or HV).
        """
        gcps = [
            GroundControlPoint(
                row=float(self.grid.line[a, b]),
                col=float(self.grid.pixel[a, b]),
                x=float(self.grid.longitude[a, b]),
                y=float(self.grid.latitude[a, b]),
                z=float(self.grid.height[a, b]),
            )
            for a in range(self.grid.line.shape[0])
            for b in range(self.grid.line.shape[1])
        ]
        path = self.measurement_path(pol)
        self.files.append(
            (self._object_id("", pol), "s1Level1MeasurementSchema", f"measurement/{path.name}")
        )
        shape = (self.geom.n_lines, self.geom.n_samples)
        return open_for_writing(path, "GTiff", shape, "uint16", gcps=gcps, crs=CRS.from_epsg(4326))

    def write_preview(self, quicklook: npt.NDArray[np.uint8] | None) -> None:
        """``preview/map-overlay.kml`` and, when given, ``preview/quick-look.png``.

        Args:
            quicklook: the quick-look image, or None.
        """
        kml = self.safe_dir / "preview" / "map-overlay.kml"
        kml.write_text(map_overlay_kml(self.footprint), encoding="utf-8")
        self.files.append(("mapoverlay", "s1Level1MapOverlaySchema", "preview/map-overlay.kml"))
        if quicklook is not None:
            png = self.safe_dir / "preview" / "quick-look.png"
            dst = open_for_writing(png, "PNG", quicklook.shape, "uint8")
            with dst:
                dst.write(quicklook, 1)
            aux = png.with_name(png.name + ".aux.xml")
            if aux.exists():
                aux.unlink()
            self.files.append(("quicklook", "s1Level1QuickLookSchema", "preview/quick-look.png"))

    def finalize(self, zip_product: bool = False) -> Path:
        """Write the manifest, move the SAFE into place (and zip it); return its path.

        Args:
            zip_product: also zip the SAFE (and remove the folder).
        """
        root = manifest_xml(self.safe_dir, self.geom, self.ident, self.files, self.footprint)
        write_xml(root, self.safe_dir / "manifest.safe")
        if self.final_dir.exists():
            shutil.rmtree(self.final_dir)
        os.replace(self.safe_dir, self.final_dir)
        if not zip_product:
            return self.final_dir
        zip_path = self.final_dir.with_suffix(".zip")
        with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w") as zf:
            for path in sorted(self.final_dir.rglob("*")):
                arc = f"{self.final_dir.name}/{path.relative_to(self.final_dir).as_posix()}"
                if path.is_dir():
                    zf.write(path, arc + "/")
                else:
                    method = zipfile.ZIP_STORED if path.suffix == ".tiff" else zipfile.ZIP_DEFLATED
                    zf.write(path, arc, compress_type=method)
        shutil.rmtree(self.final_dir)
        return zip_path
