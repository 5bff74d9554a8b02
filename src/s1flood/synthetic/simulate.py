"""Simulate a flood time series of Sentinel-1 IW GRDH products with known water truth.

``simulate()`` generates (or reads) a DEM for the AOI, a flood scenario over the time
window, one SAFE product per acquisition (VV+VH, written block by block), a truth mask per
acquisition on the DEM grid and a static STAC catalog of the products.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import rasterio
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from tqdm import tqdm

from s1flood.aoi import parse_aoi_wkt, parse_time_window
from s1flood.errors import InvalidOptionError
from s1flood.geodesy import geodetic_to_ecef
from s1flood.grid import utm_crs
from s1flood.synthetic.backscatter import sigma0_linear
from s1flood.synthetic.geometry import RadarGeometry, build_geometry
from s1flood.synthetic.orbit import ORBIT_DIRECTIONS, solve_orbit
from s1flood.synthetic.rasterio_io import write_geotiff
from s1flood.synthetic.render import (
    Background,
    DemProjection,
    SceneModel,
    digital_numbers,
    model_sigma0,
    project_terrain,
    render_scene,
)
from s1flood.synthetic.safe_writer import (
    Luts,
    ProductIdentity,
    SafeProduct,
    compute_luts,
    orbit_numbers,
)
from s1flood.synthetic.scenario import Acquisition, make_scenario, water_truth, write_truth
from s1flood.synthetic.speckle import GRDH_LOOKS, gamma_speckle
from s1flood.synthetic.stac_catalog import ProductRecord, write_catalog
from s1flood.synthetic.terrain import LandCover, Terrain, generate_valley, load_dem, write_dem

LOGGER = logging.getLogger(__name__)

SIZES: dict[str, tuple[int, int]] = {
    "tiny": (400, 400),
    "small": (1000, 1000),
    "demo": (2000, 2000),
    "full": (16705, 26102),
}
"""Image sizes (lines, samples per polarisation)."""
DEM_RESOLUTION = 10.0
MAX_DEM_EXTENT_M = 45_000.0
POLARISATIONS = ("VV", "VH")


@dataclass
class SimulationResult:
    """Paths of everything ``simulate`` wrote."""

    products: list[Path]
    truths: list[Path]
    dem: Path
    catalog: Path
    landcover: Path | None
    scenario: Path
    acquisitions: list[Acquisition] = field(default_factory=list)


def parse_size(size: str) -> tuple[int, int]:
    """Image size from a preset name (tiny, small, demo, full) or ``LINESxSAMPLES``."""
    key = (size or "").strip().lower()
    if key in SIZES:
        return SIZES[key]
    if "x" in key:
        try:
            lines, samples = (int(v) for v in key.split("x", 1))
        except ValueError:
            lines = samples = 0
        if 64 <= lines <= 30_000 and 64 <= samples <= 30_000:
            return lines, samples
    raise InvalidOptionError(
        "size", size, f"use one of {', '.join(SIZES)} or LINESxSAMPLES (64..30000 each)"
    )


def _dem_bounds(
    aoi_bounds_utm: tuple[float, float, float, float], image_extent_m: float | None
) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = aoi_bounds_utm
    cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
    half_x = 0.5 * (xmax - xmin) + 1_000.0
    half_y = 0.5 * (ymax - ymin) + 1_000.0
    if image_extent_m is not None:
        half_x = max(half_x, 0.5 * image_extent_m)
        half_y = max(half_y, 0.5 * image_extent_m)
    r = DEM_RESOLUTION
    return (
        np.floor((cx - half_x) / r) * r,
        np.floor((cy - half_y) / r) * r,
        np.ceil((cx + half_x) / r) * r,
        np.ceil((cy + half_y) / r) * r,
    )


def _pass_time(
    when: datetime, lon: float, direction: str, start: datetime, end: datetime
) -> datetime:
    """Move a time to the pass of that day (06:00 local solar time descending, 18:00 ascending)."""
    hour = 6.0 if direction == "descending" else 18.0
    utc_hours = (hour - lon / 15.0) % 24.0
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    base = day + timedelta(hours=utc_hours)
    for shift in (0, -1, 1):
        cand = base + timedelta(days=shift)
        if start <= cand <= end:
            return cand
    return when


def _scene_texture(terrain: Terrain, seed: int, index: int) -> npt.NDArray[np.float32]:
    """Per-parcel changes of crop backscatter from one date to the next (±0.8 dB)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 6, index]))
    change = rng.uniform(-0.8, 0.8, size=1_000_003).astype(np.float32)
    crop = (terrain.landcover == LandCover.CROPLAND) | (terrain.landcover == LandCover.BARE)
    return np.where(crop, terrain.texture_db + change[terrain.parcel], terrain.texture_db).astype(
        np.float32
    )


@dataclass
class _ProductJob:
    geom: RadarGeometry
    scene: SceneModel
    background: Background
    luts: Luts
    seed: int
    index: int
    block_lines: int

    def block(
        self, pol_index: int, pol: str, block: int
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.float32]]:
        line0 = block * self.block_lines
        line1 = min(line0 + self.block_lines, self.geom.n_lines)
        sig = model_sigma0(self.scene, self.background, pol, pol_index, line0, line1)
        cal = self.luts.sigma_at(np.arange(self.geom.n_samples))
        noise = self.luts.noise_at(line0, line1, self.geom.n_samples)
        rng = np.random.default_rng(
            np.random.SeedSequence([self.seed, 7, self.index, pol_index, block])
        )
        return digital_numbers(sig, cal, noise, rng, GRDH_LOOKS), sig


def _write_polarisation(
    job: _ProductJob,
    product: SafeProduct,
    pol_index: int,
    pol: str,
    workers: int,
    bar: Any,
    model_path: Path | None,
) -> tuple[tuple[float, float], npt.NDArray[np.uint8] | None]:
    n_blocks = -(-job.geom.n_lines // job.block_lines)
    total = 0.0
    total_sq = 0.0
    count = 0
    ql_step = max(1, max(job.geom.n_lines, job.geom.n_samples) // 1000)
    ql_rows: list[npt.NDArray[np.uint16]] = []
    model = None
    if model_path is not None:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # radar geometry
            model = rasterio.open(
                model_path,
                "w",
                driver="GTiff",
                width=job.geom.n_samples,
                height=job.geom.n_lines,
                count=1,
                dtype="float32",
                compress="deflate",
            )
    with product.open_measurement(pol) as dst, ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[Any]]] = deque()
        next_block = 0
        while next_block < n_blocks or pending:
            while next_block < n_blocks and len(pending) < workers + 1:
                pending.append((next_block, pool.submit(job.block, pol_index, pol, next_block)))
                next_block += 1
            block, fut = pending.popleft()
            dn, sig = fut.result()
            line0 = block * job.block_lines
            win = ((line0, line0 + dn.shape[0]), (0, dn.shape[1]))
            dst.write(dn, 1, window=win)
            if model is not None:
                model.write(sig, 1, window=win)
            f = dn.astype(np.float64)
            total += float(f.sum())
            total_sq += float((f * f).sum())
            count += dn.size
            first = (-line0) % ql_step
            ql_rows.append(dn[first::ql_step, ::ql_step])
            bar.update(1)
    if model is not None:
        model.close()
    mean = total / count
    std = float(np.sqrt(max(total_sq / count - mean * mean, 0.0)))
    ql = np.concatenate(ql_rows, axis=0).astype(np.float32)
    hi = float(np.percentile(ql, 99)) or 1.0
    quicklook = np.clip(ql / hi * 255.0, 0, 255).astype(np.uint8)
    return (mean, std), quicklook


def simulate(
    aoi_wkt: str,
    start: datetime | str,
    end: datetime | str,
    out_dir: Path,
    scenes: int = 5,
    size: str = "demo",
    orbit_direction: str = "descending",
    dem: Path | None = None,
    seed: int = 0,
    progress: bool = True,
    zip_products: bool = False,
    wind: bool = False,
    block_lines: int = 256,
    workers: int = 2,
    write_model: bool = False,
    map_sigma0: bool = False,
) -> SimulationResult:
    """Simulate ``scenes`` GRDH products of a flood over the AOI between start and end.

    ``write_model`` also writes the noise-free model sigma0 of every product in radar
    geometry (``model/<product>_sigma0_<pol>.tif``, float32, linear) for accuracy checks.
    ``map_sigma0`` also writes each acquisition's speckled VV sigma0 on the DEM grid
    (``sigma0/<product>_sigma0_vv.tif``), what ideal preprocessing would give.
    """
    aoi = parse_aoi_wkt(aoi_wkt)
    window = parse_time_window(start, end)
    n_lines, n_samples = parse_size(size)
    direction = (orbit_direction or "").strip().lower()
    if direction not in ORBIT_DIRECTIONS:
        raise InvalidOptionError("orbit_direction", orbit_direction, "use ascending or descending")
    if not 1 <= scenes <= 100:
        raise InvalidOptionError("scenes", scenes, "must be between 1 and 100")
    if seed < 0:
        raise InvalidOptionError("seed", seed, "must be >= 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    centroid = aoi.centroid
    lon, lat = float(centroid.x), float(centroid.y)

    # terrain
    if dem is not None:
        terrain = load_dem(Path(dem), seed)
        dem_path = Path(dem)
    else:
        crs = CRS.from_epsg(utm_crs(lon, lat).to_epsg())
        to_utm = Transformer.from_crs(
            pyproj.CRS.from_epsg(4326), pyproj.CRS.from_user_input(crs.to_wkt()), always_xy=True
        )
        xs, ys = to_utm.transform(*np.asarray(aoi.exterior.coords).T)
        aoi_bounds = (float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys)))
        image_extent = None if size == "full" else 1.25 * max(n_lines, n_samples) * DEM_RESOLUTION
        bounds = _dem_bounds(aoi_bounds, image_extent)
        if max(bounds[2] - bounds[0], bounds[3] - bounds[1]) > MAX_DEM_EXTENT_M:
            raise InvalidOptionError(
                "aoi",
                aoi_wkt[:60],
                f"too large to simulate (over {MAX_DEM_EXTENT_M / 1000:.0f} km)",
            )
        LOGGER.info("generating a %s DEM over %s", crs, bounds)
        terrain = generate_valley(bounds, crs, DEM_RESOLUTION, seed)
        dem_path = write_dem(terrain, out_dir / "dem" / "dem.tif")
    valid_heights = terrain.elevation[terrain.valid]
    ref_height = float(np.round(np.median(valid_heights), 2))
    # the geometry: the AOI centre seen from a repeat orbit, same for every acquisition
    if dem is not None:
        t = terrain.transform
        cx = t.c + t.a * terrain.shape[1] / 2
        cy = t.f + t.e * terrain.shape[0] / 2
        to_ll = Transformer.from_crs(
            pyproj.CRS.from_user_input(terrain.crs.to_wkt()),
            pyproj.CRS.from_epsg(4326),
            always_xy=True,
        )
        if not aoi.intersects(_dem_footprint(terrain, to_ll)):
            raise InvalidOptionError("dem", str(dem), "the DEM does not overlap the AOI")
        lon, lat = (float(v) for v in to_ll.transform(cx, cy))
    if size == "full":
        incidence = float(rng.uniform(34.0, 42.0))
        target_line, target_sample = float(rng.uniform(0.3, 0.7) * n_lines), None
    else:
        incidence = float(rng.uniform(33.0, 43.0))
        target_line, target_sample = n_lines / 2.0, n_samples / 2.0
    orbit = solve_orbit(lon, lat, ref_height, incidence, direction)
    acquisitions = make_scenario(window.start, window.end, scenes, seed, wind=wind)
    acquisitions = [
        dataclasses.replace(a, time=_pass_time(a.time, lon, direction, window.start, window.end))
        for a in acquisitions
    ]
    target = geodetic_to_ecef(lon, lat, ref_height)
    geom0 = build_geometry(
        orbit,
        acquisitions[0].time,
        direction,
        target,
        n_lines,
        n_samples,
        target_line,
        target_sample,
        ref_height,
    )
    LOGGER.info("projecting the DEM (%d x %d) into radar geometry", *terrain.shape)
    proj = project_terrain(terrain, geom0)
    background = Background.make(geom0, POLARISATIONS, seed)
    luts = compute_luts(geom0)

    products_dir = out_dir / "products"
    truth_dir = out_dir / "truth"
    products: list[Path] = []
    truths: list[Path] = []
    records: list[ProductRecord] = []
    _, relative_orbit = orbit_numbers(acquisitions[0].time, None)
    n_blocks = -(-n_lines // block_lines)
    bar = tqdm(
        total=len(acquisitions) * len(POLARISATIONS) * n_blocks,
        disable=not progress,
        desc="simulate",
        unit="block",
    )
    try:
        for acq in acquisitions:
            geom = dataclasses.replace(geom0, epoch=acq.time)
            truth = water_truth(terrain, acq.stage)
            landcover = np.where(truth == 1, LandCover.WATER, terrain.landcover).astype(np.uint8)
            texture = _scene_texture(terrain, seed, acq.index)
            scene = render_scene(
                terrain, proj, geom, landcover, POLARISATIONS, texture, acq.wind_db
            )
            absolute, rel = orbit_numbers(acq.time, relative_orbit)
            t_start = geom.datetime_at(geom.first_line_time)
            t_stop = geom.datetime_at(geom.last_line_time)
            u0 = orbit.arg_latitude0 % (2 * np.pi)
            anx = acq.time - timedelta(seconds=u0 / orbit.mean_motion)
            uid = (
                f"{zlib.crc32(f'{seed}:{acq.index}:{acq.time.isoformat()}'.encode()) & 0xFFFF:04X}"
            )
            ident = ProductIdentity(
                mission="S1A",
                start=t_start,
                stop=t_stop,
                absolute_orbit=absolute,
                relative_orbit=rel,
                datatake=(absolute * 37 + 0x2A0) & 0xFFFFF,
                unique_id=uid,
                orbit_pass=direction.upper(),
                anx_time=anx,
                polarisations=POLARISATIONS,
            )
            truth_path = write_truth(terrain, truth, truth_dir / f"{ident.name}_truth.tif")
            sigma0_path = None
            if map_sigma0:
                sigma0_path = write_map_sigma0(
                    terrain,
                    proj,
                    landcover,
                    texture,
                    acq,
                    seed,
                    out_dir / "sigma0" / f"{ident.name}_sigma0_vv.tif",
                )
            product = SafeProduct(products_dir, geom, ident, luts)
            job = _ProductJob(geom, scene, background, luts, seed, acq.index, block_lines)
            quicklook = None
            for k, pol in enumerate(POLARISATIONS):
                model_path = (
                    out_dir / "model" / f"{ident.name}_sigma0_{pol.lower()}.tif"
                    if write_model
                    else None
                )
                stats, ql = _write_polarisation(job, product, k, pol, workers, bar, model_path)
                product.write_metadata(pol, stats)
                quicklook = ql if quicklook is None else quicklook
            product.write_preview(quicklook)
            path = product.finalize(zip_products)
            LOGGER.info("wrote %s (stage %.2f m, %s)", path.name, acq.stage, acq.phase)
            products.append(path)
            truths.append(truth_path)
            records.append(
                ProductRecord(
                    product_id=ident.name,
                    path=path,
                    start=t_start,
                    end=t_stop,
                    footprint=product.footprint,
                    orbit_state=direction,
                    absolute_orbit=absolute,
                    relative_orbit=rel,
                    datatake_id=ident.datatake,
                    polarisations=POLARISATIONS,
                    measurement_files={
                        p: f"measurement/{ident.file_stem(p)}.tiff" for p in POLARISATIONS
                    },
                    truth_path=truth_path,
                    sigma0_path=sigma0_path,
                    stage_m=acq.stage,
                    phase=acq.phase,
                )
            )
    finally:
        bar.close()
    catalog = write_catalog(out_dir / "catalog", records, "s1flood simulated flood")
    scenario_path = out_dir / "scenario.json"
    scenario_doc = {
        "aoi": aoi.wkt,
        "seed": seed,
        "size": [n_lines, n_samples],
        "orbit_direction": direction,
        "incidence_at_aoi_deg": incidence,
        "dem": str(dem_path),
        "reference_height_m": ref_height,
        "shadow_fraction": proj.shadow_fraction,
        "layover_fraction": proj.layover_fraction,
        "acquisitions": [
            {
                "product": p.name,
                "time": a.time.isoformat(),
                "stage_m": a.stage,
                "phase": a.phase,
                "wind_db": a.wind_db,
                "truth": str(t.relative_to(out_dir)) if t.is_relative_to(out_dir) else str(t),
            }
            for a, p, t in zip(acquisitions, products, truths, strict=True)
        ],
    }
    scenario_path.write_text(json.dumps(scenario_doc, indent=2) + "\n", encoding="utf-8")
    return SimulationResult(
        products=products,
        truths=truths,
        dem=dem_path,
        catalog=catalog,
        landcover=None,
        scenario=scenario_path,
        acquisitions=acquisitions,
    )


def write_map_sigma0(
    terrain: Terrain,
    proj: DemProjection,
    landcover: npt.NDArray[np.uint8],
    texture_db: npt.NDArray[np.float32],
    acquisition: Acquisition,
    seed: int,
    path: Path,
) -> Path:
    """Speckled VV sigma0 (linear) of one acquisition on the DEM grid, NaN in radar shadow."""
    sigma = sigma0_linear(
        landcover, "VV", proj.local_incidence_deg, texture_db, acquisition.wind_db
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11, acquisition.index]))
    values = gamma_speckle(sigma, rng, GRDH_LOOKS)
    values[proj.shadow | ~terrain.valid | ~(sigma > 0)] = np.nan
    return write_geotiff(path, values, terrain.transform, terrain.crs, float("nan"), "VV")


def _dem_footprint(terrain: Terrain, to_ll: Transformer) -> Any:
    import shapely.geometry

    t = terrain.transform
    ny, nx = terrain.shape
    corners = [
        (t.c, t.f),
        (t.c + t.a * nx, t.f),
        (t.c + t.a * nx, t.f + t.e * ny),
        (t.c, t.f + t.e * ny),
    ]
    return shapely.geometry.Polygon([to_ll.transform(x, y) for x, y in corners])
