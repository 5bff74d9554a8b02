"""Simulate a flood time series of Sentinel-1 IW GRDH products with known water truth.

``simulate()`` generates (or reads) a DEM for the AOI (`site`), a flood scenario over the
time window (`scenario`), one SAFE product per acquisition (VV+VH, written block by block,
`products`), the truth on the DEM grid (`truth`: per acquisition the water mask and the water
level and depth; once the permanent water, the flood onset stage, each orbit track's footprint
and any always-dark land) and a static STAC catalog of the products (`stac_catalog`).
``scenario.json`` lists all of it; `s1flood.synthetic.truth_record` derives from it the truth
first and last flooded dates and flooded spans.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from s1flood.aoi import TimeWindow, parse_aoi_wkt, parse_time_window
from s1flood.errors import InvalidOptionError
from s1flood.geodesy import geodetic_to_ecef
from s1flood.results import JsonValue, fields_to_dict, resolve_path
from s1flood.synthetic.calibration import compute_luts
from s1flood.synthetic.geometry import RadarGeometry, build_geometry
from s1flood.synthetic.identity import ORBITS_PER_CYCLE, orbit_numbers
from s1flood.synthetic.measurement import Background
from s1flood.synthetic.orbit import ORBIT_DIRECTIONS, CircularOrbit, solve_orbit
from s1flood.synthetic.products import (
    POLARISATIONS,
    Campaign,
    ProductOptions,
    write_acquisition,
)
from s1flood.synthetic.render import DemProjection, project_terrain
from s1flood.synthetic.scenario import (
    FALL_EXPONENT,
    PEAK_AT,
    PEAK_STAGE_M,
    Acquisition,
    make_scenario,
)
from s1flood.synthetic.site import DEM_RESOLUTION, Site, make_site
from s1flood.synthetic.stac_catalog import ProductRecord, write_catalog
from s1flood.synthetic.truth import aoi_cells, write_static_truth

LOGGER = logging.getLogger(__name__)

SIZES: dict[str, tuple[int, int]] = {
    "tiny": (400, 400),
    "small": (1000, 1000),
    "demo": (2000, 2000),
    "full": (16705, 26102),
}
"""Image sizes (lines, samples per polarisation)."""


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

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values of every field; acquisitions with ISO 8601 times.

        Args:
            base: the output folder that paths are made relative to (``None``: kept as given).
        """
        return fields_to_dict(self, base)

    @classmethod
    def from_dict(cls, record: dict[str, Any], base: Path | None = None) -> SimulationResult:
        """The result that `to_dict` described.

        Args:
            record: a mapping as `to_dict` returns it.
            base: the folder relative paths were written against (``None``: as they are).
        """

        def path(text: str) -> Path:
            return Path(resolve_path(text, base) or "")

        return cls(
            products=[path(p) for p in record["products"]],
            truths=[path(p) for p in record["truths"]],
            dem=path(record["dem"]),
            catalog=path(record["catalog"]),
            landcover=resolve_path(record.get("landcover"), base),
            scenario=path(record["scenario"]),
            acquisitions=[
                Acquisition(
                    index=int(a["index"]),
                    time=datetime.fromisoformat(a["time"]),
                    stage=float(a["stage"]),
                    phase=str(a["phase"]),
                    wind_db=float(a["wind_db"]),
                    fraction=float(a.get("fraction", 0.0)),
                    track=int(a.get("track", 0)),
                )
                for a in record.get("acquisitions") or []
            ],
        )


def parse_size(size: str) -> tuple[int, int]:
    """Image size from a preset name (tiny, small, demo, full) or ``LINESxSAMPLES``.

    Args:
        size: a `SIZES` name or ``LINESxSAMPLES`` (64 to 30000 each).
    """
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
    dark_land: bool = False,
    relative_orbits: int = 1,
) -> SimulationResult:
    """Simulate ``scenes`` GRDH products of a flood over the AOI between start and end.

    The step function `s1flood.steps.simulate` is the documented face of this one.

    Args:
        aoi_wkt: area of interest, a WKT polygon in lon/lat (EPSG:4326), at most 45 km across.
        start: start of the time window (ISO 8601 or a datetime).
        end: end of the time window (ISO 8601 or a datetime).
        out_dir: output folder (``products/``, ``truth/``, ``dem/``, ``catalog/``).
        scenes: number of acquisitions (1 to 100).
        size: image size, a `SIZES` name or ``LINESxSAMPLES``.
        orbit_direction: ``ascending`` or ``descending``.
        dem: DEM GeoTIFF to use instead of a generated river valley.
        seed: random seed; the output is deterministic for a seed.
        progress: show a progress bar.
        zip_products: zip each product.
        wind: roughen open water by wind on some dates.
        block_lines: image lines per block written.
        workers: threads computing blocks (the output does not depend on it).
        write_model: also write the noise-free model sigma0 of every product in radar
            geometry (``model/<product>_sigma0_<pol>.tif``, float32, linear).
        map_sigma0: also write each acquisition's speckled VV sigma0 on the DEM grid
            (``sigma0/<product>_sigma0_vv.tif``), what ideal preprocessing would give.
        dark_land: add always-dark land (dry sand, a tarmac runway) above the flood levels
            (``truth/always_dark.tif``).
        relative_orbits: 1, or 2 for acquisitions alternating between the given orbit
            direction and a second track of the other direction (other incidence, footprint
            and relative orbit).
    """
    aoi = parse_aoi_wkt(aoi_wkt)
    window = parse_time_window(start, end)
    n_lines, n_samples = parse_size(size)
    direction = _check_options(orbit_direction, scenes, seed)
    directions = _track_directions(direction, relative_orbits, scenes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    image_extent = None if size == "full" else 1.25 * max(n_lines, n_samples) * DEM_RESOLUTION
    site = make_site(aoi, aoi_wkt, dem, image_extent, seed, out_dir)
    within = aoi_cells(site.terrain, aoi) if dark_land else None
    static = write_static_truth(site.terrain, seed, dark_land, out_dir / "truth", within)
    acquisitions = _acquisitions(window, scenes, seed, wind, site.lon, directions)
    options = ProductOptions(block_lines, workers, write_model, map_sigma0, zip_products)
    shape, full = (n_lines, n_samples), size == "full"
    tracks: list[tuple[float, Campaign]] = []
    for track in enumerate(directions):
        taken = {c.relative_orbit for _, c in tracks}
        tracks.append(
            _campaign(site, static.onset, acquisitions, track, shape, full, seed, out_dir, options)
        )
        incidence, campaign = tracks[-1]
        if campaign.relative_orbit in taken:  # two tracks never share a relative orbit
            other = campaign.relative_orbit % ORBITS_PER_CYCLE + 1
            tracks[-1] = (incidence, dataclasses.replace(campaign, relative_orbit=other))
    campaigns = [campaign for _, campaign in tracks]
    for c in campaigns:
        static.add_footprint(c.terrain, c.proj, shape, c.relative_orbit)
    products, truths, records = _write_products(campaigns, acquisitions, progress)
    catalog = write_catalog(out_dir / "catalog", records, "s1flood simulated flood")
    scenario_path = out_dir / "scenario.json"
    doc = _scenario_doc(aoi.wkt, seed, campaigns[0], tracks[0][0], site)
    doc["hydrograph"] = {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "peak_at": PEAK_AT,
        "peak_stage_m": PEAK_STAGE_M,
        "fall_exponent": FALL_EXPONENT,
    }
    doc["truth"] = static.doc(out_dir)
    doc["tracks"] = [_track_doc(c, incidence) for incidence, c in tracks]
    doc["acquisitions"] = _acquisitions_doc(acquisitions, records, out_dir)
    scenario_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return SimulationResult(
        products=products,
        truths=truths,
        dem=site.dem_path,
        catalog=catalog,
        landcover=None,
        scenario=scenario_path,
        acquisitions=acquisitions,
    )


def _check_options(orbit_direction: str, scenes: int, seed: int) -> str:
    """The orbit direction in lower case, after checking the options that need no input."""
    direction = (orbit_direction or "").strip().lower()
    if direction not in ORBIT_DIRECTIONS:
        raise InvalidOptionError("orbit_direction", orbit_direction, "use ascending or descending")
    if not 1 <= scenes <= 100:
        raise InvalidOptionError("scenes", scenes, "must be between 1 and 100")
    if seed < 0:
        raise InvalidOptionError("seed", seed, "must be >= 0")
    return direction


def _track_directions(direction: str, relative_orbits: int, scenes: int) -> list[str]:
    """The orbit direction of each track: the given one, then the other one."""
    if relative_orbits not in (1, 2):
        raise InvalidOptionError("relative_orbits", relative_orbits, "use 1 or 2")
    if scenes < relative_orbits:
        raise InvalidOptionError("scenes", scenes, "needs at least one scene per relative orbit")
    other = ORBIT_DIRECTIONS[1 - ORBIT_DIRECTIONS.index(direction)]
    return [direction, other][:relative_orbits]


def _acquisitions(
    window: TimeWindow, scenes: int, seed: int, wind: bool, lon: float, directions: list[str]
) -> list[Acquisition]:
    """The dates of the scenario, on alternate tracks, each moved to its track's pass time."""
    acquisitions = make_scenario(window.start, window.end, scenes, seed, wind=wind)
    out = []
    for a in acquisitions:
        track = a.index % len(directions)
        when = _pass_time(a.time, lon, directions[track], window.start, window.end)
        out.append(dataclasses.replace(a, time=when, track=track))
    return out


def _campaign(
    site: Site,
    onset: npt.NDArray[np.float32],
    acquisitions: list[Acquisition],
    track: tuple[int, str],
    shape: tuple[int, int],
    full: bool,
    seed: int,
    out_dir: Path,
    options: ProductOptions,
) -> tuple[float, Campaign]:
    """The incidence at the scene centre, and what every acquisition of one track shares."""
    index, direction = track
    first = next(a for a in acquisitions if a.track == index)
    # the first track draws from the stream a one-track simulation has always used
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, *([index] if index else [])]))
    incidence, orbit, geom = _radar_geometry(site, rng, full, shape, direction, first.time)
    LOGGER.info("projecting the DEM (%d x %d) into radar geometry", *site.terrain.shape)
    proj = project_terrain(site.terrain, geom)
    relative_orbit = orbit_numbers(first.time, None)[1]
    campaign = Campaign(
        terrain=site.terrain,
        onset=onset,
        proj=proj,
        geom=geom,
        orbit=orbit,
        direction=direction,
        background=Background.make(geom, POLARISATIONS, seed),
        luts=compute_luts(geom),
        relative_orbit=relative_orbit,
        seed=seed,
        out_dir=out_dir,
        options=options,
    )
    return incidence, campaign


def _radar_geometry(
    site: Site,
    rng: np.random.Generator,
    full: bool,
    size: tuple[int, int],
    direction: str,
    epoch: datetime,
) -> tuple[float, CircularOrbit, RadarGeometry]:
    """Incidence at the scene centre, the repeat orbit seeing it, and the image geometry."""
    n_lines, n_samples = size
    target_sample: float | None
    if full:
        incidence = float(rng.uniform(34.0, 42.0))
        target_line, target_sample = float(rng.uniform(0.3, 0.7) * n_lines), None
    else:
        incidence = float(rng.uniform(33.0, 43.0))
        target_line, target_sample = n_lines / 2.0, n_samples / 2.0
    orbit = solve_orbit(site.lon, site.lat, site.reference_height, incidence, direction)
    target = geodetic_to_ecef(site.lon, site.lat, site.reference_height)
    geom = build_geometry(
        orbit,
        epoch,
        direction,
        target,
        n_lines,
        n_samples,
        target_line,
        target_sample,
        site.reference_height,
    )
    return incidence, orbit, geom


def _write_products(
    campaigns: list[Campaign], acquisitions: list[Acquisition], progress: bool
) -> tuple[list[Path], list[Path], list[ProductRecord]]:
    """Write every acquisition's product and truth, with one progress bar over all blocks."""
    products: list[Path] = []
    truths: list[Path] = []
    records: list[ProductRecord] = []
    n_blocks = -(-campaigns[0].geom.n_lines // campaigns[0].options.block_lines)
    bar = tqdm(
        total=len(acquisitions) * len(POLARISATIONS) * n_blocks,
        disable=not progress,
        desc="simulate",
        unit="block",
    )
    try:
        for acq in acquisitions:
            path, truth_path, record = write_acquisition(campaigns[acq.track], acq, bar)
            products.append(path)
            truths.append(truth_path)
            records.append(record)
    finally:
        bar.close()
    return products, truths, records


def _scenario_doc(
    aoi_wkt: str, seed: int, campaign: Campaign, incidence: float, site: Site
) -> dict[str, Any]:
    """The head of ``scenario.json``: what the simulation was asked and what it chose."""
    proj: DemProjection = campaign.proj
    return {
        "aoi": aoi_wkt,
        "seed": seed,
        "size": [campaign.geom.n_lines, campaign.geom.n_samples],
        "orbit_direction": campaign.direction,
        "incidence_at_aoi_deg": incidence,
        "dem": str(site.dem_path),
        "reference_height_m": site.reference_height,
        "shadow_fraction": proj.shadow_fraction,
        "layover_fraction": proj.layover_fraction,
    }


def _track_doc(campaign: Campaign, incidence: float) -> dict[str, Any]:
    """One orbit track of ``scenario.json``: relative orbit, direction, incidence, shadow."""
    return {
        "relative_orbit": campaign.relative_orbit,
        "orbit_direction": campaign.direction,
        "incidence_at_aoi_deg": incidence,
        "shadow_fraction": campaign.proj.shadow_fraction,
        "layover_fraction": campaign.proj.layover_fraction,
    }


def _acquisitions_doc(
    acquisitions: list[Acquisition], records: list[ProductRecord], out_dir: Path
) -> list[dict[str, Any]]:
    """The acquisitions of ``scenario.json``: product, time, stage, phase, wind, truths."""

    def rel(path: Path | None) -> str | None:
        if path is None:
            return None
        return str(path.relative_to(out_dir)) if path.is_relative_to(out_dir) else str(path)

    return [
        {
            "product": r.path.name,
            "time": a.time.isoformat(),
            "stage_m": a.stage,
            "phase": a.phase,
            "wind_db": a.wind_db,
            "truth": rel(r.truth_path),
            "level": rel(r.level_path),
            "fraction": a.fraction,
            "relative_orbit": r.relative_orbit,
            "orbit_direction": r.orbit_state,
        }
        for a, r in zip(acquisitions, records, strict=True)
    ]


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
