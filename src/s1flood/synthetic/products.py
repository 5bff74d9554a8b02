"""Writing the products of a simulation: one SAFE product, truth and STAC record per date.

The scene of each date is rendered from the shared terrain projection and radar geometry of
the simulation (`Campaign`); the measurement is written block by block on a thread pool, each
block with its own random stream, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import dataclasses
import logging
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from s1flood.synthetic.backscatter import sigma0_linear
from s1flood.synthetic.calibration import Luts
from s1flood.synthetic.geometry import RadarGeometry
from s1flood.synthetic.identity import ProductIdentity, orbit_numbers
from s1flood.synthetic.measurement import Background, digital_numbers, model_sigma0
from s1flood.synthetic.orbit import CircularOrbit
from s1flood.synthetic.rasterio_io import open_for_writing, write_geotiff
from s1flood.synthetic.render import DemProjection, SceneModel, render_scene
from s1flood.synthetic.safe_writer import SafeProduct
from s1flood.synthetic.scenario import Acquisition, water_truth, write_truth
from s1flood.synthetic.speckle import GRDH_LOOKS, gamma_speckle
from s1flood.synthetic.stac_catalog import ProductRecord
from s1flood.synthetic.terrain import LandCover, Terrain
from s1flood.synthetic.truth import water_level, write_level

LOGGER = logging.getLogger(__name__)

POLARISATIONS = ("VV", "VH")


@dataclass(frozen=True)
class ProductOptions:
    """How products are written: block size, threads, extra outputs, zipping."""

    block_lines: int = 256
    workers: int = 2
    write_model: bool = False
    """Also write the noise-free model sigma0 in radar geometry (``model/``)."""
    map_sigma0: bool = False
    """Also write the speckled VV sigma0 on the DEM grid (``sigma0/``)."""
    zip_products: bool = False


@dataclass(frozen=True)
class Campaign:
    """What every acquisition of one simulation shares: terrain, geometry, options."""

    terrain: Terrain
    onset: npt.NDArray[np.float32]
    """The flood onset stage of every DEM cell (`s1flood.synthetic.truth.flood_onset_stage`)."""
    proj: DemProjection
    geom: RadarGeometry
    """The geometry of the first acquisition; the others differ only in their epoch."""
    orbit: CircularOrbit
    direction: str
    background: Background
    luts: Luts
    relative_orbit: int
    seed: int
    out_dir: Path
    options: ProductOptions


def write_acquisition(
    campaign: Campaign, acq: Acquisition, bar: Any
) -> tuple[Path, Path, ProductRecord]:
    """Write the product, truths (and optional extras) of one date; return their paths.

    The truths: the water mask (``truth/<product>_truth.tif``) and the water level
    (``truth/<product>_level.tif``: water-surface height and depth, metres).

    Args:
        campaign: the simulation's shared terrain, geometry and options.
        acq: the date, flood stage and wind of this acquisition.
        bar: a progress bar advanced by one per block written.
    """
    c = campaign
    geom = dataclasses.replace(c.geom, epoch=acq.time)
    truth = water_truth(c.terrain, acq.stage)
    landcover = np.where(truth == 1, LandCover.WATER, c.terrain.landcover).astype(np.uint8)
    texture = _scene_texture(c.terrain, c.seed, acq.index)
    scene = render_scene(c.terrain, c.proj, geom, landcover, POLARISATIONS, texture, acq.wind_db)
    ident = _identity(c, acq, geom)
    truth_path = write_truth(c.terrain, truth, c.out_dir / "truth" / f"{ident.name}_truth.tif")
    height, depth = water_level(c.terrain, acq.stage, truth, c.onset)
    level_path = write_level(
        c.terrain, height, depth, c.out_dir / "truth" / f"{ident.name}_level.tif"
    )
    sigma0_path = None
    if c.options.map_sigma0:
        sigma0_path = write_map_sigma0(
            c.terrain,
            c.proj,
            landcover,
            texture,
            acq,
            c.seed,
            c.out_dir / "sigma0" / f"{ident.name}_sigma0_vv.tif",
        )
    product = SafeProduct(c.out_dir / "products", geom, ident, c.luts)
    job = _ProductJob(geom, scene, c.background, c.luts, c.seed, acq.index, c.options.block_lines)
    quicklook = None
    for k, pol in enumerate(POLARISATIONS):
        model_path = (
            c.out_dir / "model" / f"{ident.name}_sigma0_{pol.lower()}.tif"
            if c.options.write_model
            else None
        )
        stats, ql = _write_polarisation(job, product, k, pol, c.options.workers, bar, model_path)
        product.write_metadata(pol, stats)
        quicklook = ql if quicklook is None else quicklook
    product.write_preview(quicklook)
    path = product.finalize(c.options.zip_products)
    LOGGER.info("wrote %s (stage %.2f m, %s)", path.name, acq.stage, acq.phase)
    record = ProductRecord(
        product_id=ident.name,
        path=path,
        start=ident.start,
        end=ident.stop,
        footprint=product.footprint,
        orbit_state=c.direction,
        absolute_orbit=ident.absolute_orbit,
        relative_orbit=ident.relative_orbit,
        datatake_id=ident.datatake,
        polarisations=POLARISATIONS,
        measurement_files={p: f"measurement/{ident.file_stem(p)}.tiff" for p in POLARISATIONS},
        truth_path=truth_path,
        level_path=level_path,
        sigma0_path=sigma0_path,
        stage_m=acq.stage,
        phase=acq.phase,
    )
    return path, truth_path, record


def _identity(c: Campaign, acq: Acquisition, geom: RadarGeometry) -> ProductIdentity:
    """The name fields of an acquisition's product (times, orbit numbers, unique id)."""
    absolute, rel = orbit_numbers(acq.time, c.relative_orbit)
    u0 = c.orbit.arg_latitude0 % (2 * np.pi)
    anx = acq.time - timedelta(seconds=u0 / c.orbit.mean_motion)
    uid = f"{zlib.crc32(f'{c.seed}:{acq.index}:{acq.time.isoformat()}'.encode()) & 0xFFFF:04X}"
    return ProductIdentity(
        mission="S1A",
        start=geom.datetime_at(geom.first_line_time),
        stop=geom.datetime_at(geom.last_line_time),
        absolute_orbit=absolute,
        relative_orbit=rel,
        datatake=(absolute * 37 + 0x2A0) & 0xFFFFF,
        unique_id=uid,
        orbit_pass=c.direction.upper(),
        anx_time=anx,
        polarisations=POLARISATIONS,
    )


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
        shape = (job.geom.n_lines, job.geom.n_samples)
        model = open_for_writing(model_path, "GTiff", shape, "float32", compress="deflate")
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


def write_map_sigma0(
    terrain: Terrain,
    proj: DemProjection,
    landcover: npt.NDArray[np.uint8],
    texture_db: npt.NDArray[np.float32],
    acquisition: Acquisition,
    seed: int,
    path: Path,
) -> Path:
    """Speckled VV sigma0 (linear) of one acquisition on the DEM grid, NaN in radar shadow.

    Args:
        terrain: the terrain (DEM grid, elevation, land cover).
        proj: the DEM projected into the image.
        landcover: land cover of the date (water where flooded).
        texture_db: per-cell backscatter change of the date, dB.
        acquisition: the date.
        seed: the random seed.
        path: the file to write.
    """
    sigma = sigma0_linear(
        landcover, "VV", proj.local_incidence_deg, texture_db, acquisition.wind_db
    )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11, acquisition.index]))
    values = gamma_speckle(sigma, rng, GRDH_LOOKS)
    values[proj.shadow | ~terrain.valid | ~(sigma > 0)] = np.nan
    return write_geotiff(path, values, terrain.transform, terrain.crs, float("nan"), "VV")
