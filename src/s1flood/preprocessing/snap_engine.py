"""The SNAP engine: a GPT graph (XML) run by SNAP's ``gpt``, then put on the target grid.

Graph: Read, Apply-Orbit-File, ThermalNoiseRemoval, Remove-GRD-Border-Noise, Calibration,
Subset (geoRegion = AOI), Speckle-Filter, [Terrain-Flattening], Terrain-Correction (external
DEM, aligned to the standard grid of the pixel size), LinearToFromdB, Write. SNAP's output is
then copied onto the AOI's target grid (nearest; the grids share origin multiples, so it is a
crop) as a COG with the same nodata, tags and STAC Item as the Python engine.

SNAP is found through ``$S1FLOOD_SNAP_HOME`` or ``$SNAP_HOME`` (``bin/gpt``), then ``gpt``
on the PATH. Apply-Orbit-File uses the orbit files in SNAP's auxdata folder (it takes no file
path): an `orbit` file is copied there by the caller's SNAP setup, not by this module.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import rasterio
import rasterio.crs
from rasterio.enums import Resampling

from s1flood.errors import EngineUnavailableError, S1FloodError
from s1flood.preprocessing.inputs import open_inputs
from s1flood.preprocessing.model import PreprocessOptions, PreprocessResult, stac_item_path
from s1flood.preprocessing.stac_item import write_output_item
from s1flood.raster import GDAL_ENV, BandSpec, CogOptions, cog_writer, warped_onto

log = logging.getLogger(__name__)

SPECKLE_NAMES = {"lee": "Lee", "refined-lee": "Refined Lee", "none": "None"}
OPERATORS = (
    "Read",
    "Apply-Orbit-File",
    "ThermalNoiseRemoval",
    "Remove-GRD-Border-Noise",
    "Calibration",
    "Subset",
    "Speckle-Filter",
    "Terrain-Flattening",
    "Terrain-Correction",
    "LinearToFromdB",
    "Write",
)


def find_gpt() -> Path | None:
    """SNAP's gpt executable, or None."""
    for var in ("S1FLOOD_SNAP_HOME", "SNAP_HOME"):
        home = os.environ.get(var)
        if home:
            candidate = Path(home) / "bin" / "gpt"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("gpt")
    return Path(found) if found else None


def _node(graph: ET.Element, node_id: str, operator: str, source: str | None) -> ET.Element:
    node = ET.SubElement(graph, "node", id=node_id)
    ET.SubElement(node, "operator").text = operator
    sources = ET.SubElement(node, "sources")
    if source is not None:
        ET.SubElement(sources, "sourceProduct", refid=source)
    return ET.SubElement(node, "parameters")


def _params(parameters: ET.Element, values: dict[str, str]) -> None:
    for key, value in values.items():
        ET.SubElement(parameters, key).text = value


def _bool(value: bool) -> str:
    return "true" if value else "false"


def build_graph(
    product: Path, output: Path, options: PreprocessOptions, dem_applies_egm: bool
) -> ET.ElementTree:
    """The GPT graph of the chain (see module doc) for one product and its polarisations.

    Several polarisations (``VV+VH``) go through the same nodes as a comma-separated band
    list, one output band each in that order.

    Args:
        product: the ``.SAFE`` folder or its ``.zip``.
        output: the GeoTIFF SNAP writes.
        options: the validated options (polarisation, AOI, grid, DEM, speckle, RTC).
        dem_applies_egm: whether SNAP adds the EGM96 geoid to the DEM heights.
    """
    graph = ET.Element("graph", id="s1flood-preprocess")
    ET.SubElement(graph, "version").text = "1.0"
    band = _calibration_nodes(graph, product, options)
    _subset_and_speckle_nodes(graph, options, band)
    band = _terrain_nodes(graph, options, band, dem_applies_egm)
    _params(
        _node(graph, "LinearToFromdB", "LinearToFromdB", "Terrain-Correction"),
        {"sourceBands": band},
    )
    _params(
        _node(graph, "Write", "Write", "LinearToFromdB"),
        {"file": str(output), "formatName": "GeoTIFF-BigTIFF"},
    )
    ET.indent(graph)
    return ET.ElementTree(graph)


def _calibration_nodes(graph: ET.Element, product: Path, options: PreprocessOptions) -> str:
    """Read, orbit, thermal and border noise removal, calibration; returns the band names."""
    pol = ",".join(options.polarisations)
    manifest = product / "manifest.safe" if product.is_dir() else product
    _params(
        _node(graph, "Read", "Read", None),
        {"file": str(manifest), "formatName": "SENTINEL-1", "copyMetadata": "true"},
    )
    _params(
        _node(graph, "Apply-Orbit-File", "Apply-Orbit-File", "Read"),
        {
            "orbitType": "Sentinel Precise (Auto Download)",
            "polyDegree": "3",
            "continueOnFail": "true",
        },
    )
    _params(
        _node(graph, "ThermalNoiseRemoval", "ThermalNoiseRemoval", "Apply-Orbit-File"),
        {
            "selectedPolarisations": pol,
            "removeThermalNoise": "true",
            "outputNoise": "false",
            "reIntroduceThermalNoise": "false",
        },
    )
    _params(
        _node(graph, "Remove-GRD-Border-Noise", "Remove-GRD-Border-Noise", "ThermalNoiseRemoval"),
        {"selectedPolarisations": pol, "borderLimit": "500", "trimThreshold": "0.5"},
    )
    _params(
        _node(graph, "Calibration", "Calibration", "Remove-GRD-Border-Noise"),
        {
            "selectedPolarisations": pol,
            "outputImageInComplex": "false",
            "outputImageScaleInDb": "false",
            "outputSigmaBand": _bool(not options.rtc),
            "outputBetaBand": _bool(options.rtc),
            "outputGammaBand": "false",
        },
    )
    return _bands("Beta0" if options.rtc else "Sigma0", options)


def _bands(quantity: str, options: PreprocessOptions) -> str:
    """SNAP's band names of a quantity, comma-separated in band order (``Sigma0_VV,...``)."""
    return ",".join(f"{quantity}_{pol}" for pol in options.polarisations)


def _subset_and_speckle_nodes(graph: ET.Element, options: PreprocessOptions, band: str) -> None:
    """Subset to the AOI (with a margin), then the speckle filter."""
    _params(
        _node(graph, "Subset", "Subset", "Calibration"),
        {
            "sourceBands": band,
            "geoRegion": options.aoi.buffer(0.01).envelope.wkt,
            "subSamplingX": "1",
            "subSamplingY": "1",
            "copyMetadata": "true",
        },
    )
    speckle: dict[str, str] = {"sourceBands": band, "filter": SPECKLE_NAMES[options.speckle]}
    if options.speckle == "lee":
        speckle.update(filterSizeX=str(options.window), filterSizeY=str(options.window))
    elif options.speckle == "refined-lee":
        speckle.update(windowSize=f"{options.window}x{options.window}")
    _params(_node(graph, "Speckle-Filter", "Speckle-Filter", "Subset"), speckle)


def _terrain_nodes(
    graph: ET.Element, options: PreprocessOptions, band: str, dem_applies_egm: bool
) -> str:
    """[Terrain-Flattening,] Terrain-Correction on the grid's CRS; returns the band names."""
    previous = "Speckle-Filter"
    dem = {
        "demName": "External DEM",
        "externalDEMFile": str(options.dem.resolve()),
        "externalDEMNoDataValue": "0.0",
        "externalDEMApplyEGM": _bool(dem_applies_egm),
        "demResamplingMethod": "BILINEAR_INTERPOLATION",
    }
    if options.rtc:
        _params(
            _node(graph, "Terrain-Flattening", "Terrain-Flattening", previous),
            {**dem, "sourceBands": band, "outputSimulatedImage": "false"},
        )
        previous = "Terrain-Flattening"
        band = _bands("Gamma0", options)
    grid = options.grid
    epsg = grid.crs.to_epsg()
    _params(
        _node(graph, "Terrain-Correction", "Terrain-Correction", previous),
        {
            "sourceBands": band,
            **dem,
            "imgResamplingMethod": "BILINEAR_INTERPOLATION",
            "pixelSpacingInMeter": f"{abs(grid.transform.a):g}",
            "mapProjection": f"EPSG:{epsg}" if epsg else grid.crs.to_wkt(),
            "alignToStandardGrid": "true",
            "standardGridOriginX": "0.0",
            "standardGridOriginY": "0.0",
            "nodataValueAtSea": "false",
            "saveSelectedSourceBand": "true",
        },
    )
    return band


class SnapEngine:
    """Runs SNAP's gpt on a graph; says in one line when SNAP is absent."""

    name = "snap"

    def run(self, product: Path, output: Path, options: PreprocessOptions) -> PreprocessResult:
        """Preprocess with SNAP and copy the result onto the target grid.

        Args:
            product: the .SAFE folder or its .zip.
            output: the COG to write.
            options: the validated options.
        """
        sars, dem = open_inputs(product, options)
        sar = sars[0]
        gpt = find_gpt()
        if gpt is None:
            raise EngineUnavailableError(
                "snap", "SNAP's gpt not found (set SNAP_HOME or put gpt on the PATH)"
            )
        with tempfile.TemporaryDirectory(prefix=".s1flood-snap-", dir=output.parent) as tmp:
            graph_path = Path(tmp) / "graph.xml"
            snap_out = Path(tmp) / "snap.tif"
            build_graph(product, snap_out, options, dem.vertical == "egm96").write(
                graph_path, encoding="UTF-8", xml_declaration=True
            )
            log.info("running %s %s", gpt, graph_path)
            done = subprocess.run(
                [str(gpt), str(graph_path), "-q", str(options.workers or os.cpu_count() or 2)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not snap_out.exists():
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise S1FloodError(f"SNAP gpt failed ({done.returncode}): {tail[0][:200]}")
            valid = self._to_grid(snap_out, output, options, sar.name)
        quantity = "gamma0" if options.rtc else "sigma0"
        item_path = stac_item_path(output)
        write_output_item(
            item_path,
            output,
            options.grid,
            sar,
            product=product,
            quantity=quantity,
            engine=self.name,
            processing={"speckle": options.speckle, "window": options.window},
            polarisations=options.polarisations,
        )
        return PreprocessResult(
            output=output,
            stac_item=item_path,
            grid=options.grid,
            engine=self.name,
            polarisation=options.polarisation,
            quantity=quantity,
            orbit_source="snap",
            valid_fraction=valid,
        )

    @staticmethod
    def _to_grid(source: Path, output: Path, options: PreprocessOptions, name: str) -> float:
        grid = options.grid
        pols = options.polarisations
        bands = list(range(1, len(pols) + 1))
        with (
            rasterio.Env(**GDAL_ENV),
            rasterio.open(source) as src,
            warped_onto(
                src,
                grid,
                Resampling.nearest,
                np.nan,
                src_nodata=src.nodata if src.nodata is not None else 0.0,
                dtype="float32",
            ) as vrt,
        ):
            values = np.asarray(vrt.read(bands), dtype=np.float32)
        spec = BandSpec(
            dtype="float32",
            nodata=float("nan"),
            description=pols[0],
            options=CogOptions(level=6, predictor="YES", resampling="AVERAGE"),
            tags={
                "units": "dB",
                "polarisation": options.polarisation,
                "product": name,
                "engine": "snap",
            },
            band_tags=tuple(
                {"description": pol, "units": "dB", "polarisation": pol} for pol in pols
            ),
        )
        with cog_writer(output, grid, spec) as writer:
            writer.write(values, bands)
        return float(np.isfinite(values[0]).mean())
