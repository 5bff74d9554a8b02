"""COG outputs whose overviews are made block by block, beside the full-resolution blocks.

GDAL's COG driver computes overviews from the finished full-resolution raster, in one
thread: on a full Sentinel-1 scene (600 Mpx of float32) that was 13 of the 20 CPU seconds
of writing the COG. Here each block's overview pyramid is computed where the block is made
(2 x 2 means of the valid pixels, level after level, as GDAL's ``AVERAGE`` does), written
to one staging GeoTIFF per level, and a VRT naming them as the overviews of the
full-resolution staging file is what the COG driver copies (it keeps a source's overviews).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import numba
import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.io import DatasetWriter
from rasterio.windows import Window

from s1flood.raster import COG_BLOCKSIZE, GDAL_ENV, BandSpec, Grid, StagedCog

F32 = npt.NDArray[np.float32]


def overview_factors(width: int, height: int, blocksize: int = COG_BLOCKSIZE) -> list[int]:
    """Overview factors (2, 4, ...) until the raster fits one block, as GDAL's COG makes them.

    Args:
        width: raster width, pixels.
        height: raster height, pixels.
        blocksize: the COG block size.
    """
    factors: list[int] = []
    factor = 1
    while math.ceil(width / factor) > blocksize or math.ceil(height / factor) > blocksize:
        factor *= 2
        factors.append(factor)
    return factors


@numba.njit(cache=True, nogil=True)
def _halve(src: F32, out: F32) -> None:
    """Mean of the valid (non-NaN) pixels of each 2 x 2 cell (NaN where none), per band."""
    bands, rows, cols = src.shape
    for b in range(bands):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                total = np.float32(0.0)
                n = 0
                for u in range(2 * i, min(2 * i + 2, rows)):
                    for v in range(2 * j, min(2 * j + 2, cols)):
                        x = src[b, u, v]
                        if x == x:
                            total += x
                            n += 1
                out[b, i, j] = total / n if n > 0 else np.float32(np.nan)


def pyramid(values: F32, levels: int) -> list[F32]:
    """The block's overview levels (bands, rows / 2^k, cols / 2^k), k = 1 .. `levels`.

    Args:
        values: the block (bands, rows, cols), float32, NaN for no data.
        levels: the number of levels.
    """
    out: list[F32] = []
    src = np.ascontiguousarray(values, dtype=np.float32)
    for _ in range(levels):
        half = np.empty((src.shape[0], -(-src.shape[1] // 2), -(-src.shape[2] // 2)), np.float32)
        _halve(src, half)
        out.append(half)
        src = half
    return out


class PyramidCog(StagedCog):
    """A float COG whose overviews come from `write` (see module doc).

    Blocks start on multiples of `block` pixels; overview factors stop at `block` (a grid
    larger than ``block`` x 512 pixels lacks the coarsest levels).
    """

    stage_options: ClassVar[dict[str, Any]] = {"num_threads": "ALL_CPUS"}
    """Blocks are compressed by GDAL's threads: the writing thread only hands them over."""

    def __init__(self, path: Path, grid: Grid, spec: BandSpec, block: int) -> None:
        super().__init__(path, grid, spec)
        self.grid = grid
        self.factors = [f for f in overview_factors(grid.width, grid.height) if f <= block]
        self.level_stages: list[Path] = []
        self.level_writers: list[DatasetWriter] = []
        for factor in self.factors:
            stage = self.temporaries.path(f".ov{factor}.tif")
            self.level_stages.append(stage)
            self.level_writers.append(
                rasterio.open(
                    stage,
                    "w",
                    driver="GTiff",
                    width=math.ceil(grid.width / factor),
                    height=math.ceil(grid.height / factor),
                    count=spec.count,
                    dtype=spec.dtype,
                    crs=grid.crs.to_wkt(),
                    transform=grid.transform * Affine.scale(factor),
                    nodata=spec.nodata,
                    **_level_layout(block // factor),
                )
            )

    def write(self, values: F32, row0: int, col0: int, levels: list[F32]) -> None:
        """Write a block (bands, rows, cols) at (row0, col0) and its `pyramid`.

        Args:
            values: the block.
            row0: grid row of its first pixel.
            col0: grid column of its first pixel.
            levels: ``pyramid(values, len(self.factors))``.
        """
        bands = list(range(1, values.shape[0] + 1))
        _, rows, cols = values.shape
        self.writer.write(values, bands, window=Window(col0, row0, cols, rows))
        for factor, writer, level in zip(self.factors, self.level_writers, levels, strict=True):
            if row0 % factor or col0 % factor:
                raise ValueError(f"block at ({row0}, {col0}) is not on the {factor}x lattice")
            _, r, c = level.shape
            writer.write(level, bands, window=Window(col0 // factor, row0 // factor, c, r))

    def finish(self) -> Path:
        """Close the staging files; the COG driver copies the VRT naming them (see module doc)."""
        self.writer.close()
        for writer in self.level_writers:
            writer.close()
        vrt = self.temporaries.path(".vrt")
        vrt.write_text(self._vrt())
        return self._copy_to_cog(vrt)

    def _vrt(self) -> str:
        spec = self.spec
        count = spec.count
        band_tags = spec.band_tags or ({"description": spec.description},)
        t = self.grid.transform
        bands = []
        for index, tags in enumerate(band_tags, start=1):
            meta = _metadata({k: v for k, v in tags.items() if k != "description"})
            overviews = "".join(
                f"<Overview><SourceFilename relativeToVRT='0'>{escape(str(stage))}"
                f"</SourceFilename><SourceBand>{index}</SourceBand></Overview>"
                for stage in self.level_stages
            )
            bands.append(
                f'<VRTRasterBand dataType="{_GDAL_TYPES[spec.dtype]}" band="{index}">'
                f"<NoDataValue>{spec.nodata}</NoDataValue>"
                f"<Description>{escape(str(tags.get('description', '')))}</Description>{meta}"
                f"<SimpleSource><SourceFilename relativeToVRT='0'>{escape(str(self.stage))}"
                f"</SourceFilename><SourceBand>{index}</SourceBand></SimpleSource>"
                f"{overviews}</VRTRasterBand>"
            )
        assert len(bands) == count
        return (
            f'<VRTDataset rasterXSize="{self.grid.width}" rasterYSize="{self.grid.height}">'
            f"<SRS>{escape(self.grid.crs.to_wkt())}</SRS>"
            f"<GeoTransform>{t.c!r},{t.a!r},{t.b!r},{t.f!r},{t.d!r},{t.e!r}</GeoTransform>"
            f"{_metadata(spec.tags)}{''.join(bands)}</VRTDataset>"
        )

    def discard(self) -> None:
        """Remove every staging file and the VRT (after `finish`, or instead of it)."""
        for writer in self.level_writers:
            if not writer.closed:
                writer.close()
        super().discard()


_GDAL_TYPES = {"float32": "Float32", "float64": "Float64"}


def _level_layout(piece: int) -> dict[str, object]:
    """A level's staging layout: one block per written piece, or uncompressed tiles.

    A piece that fills its block is never read back and recompressed; pieces smaller than
    GDAL's 16-pixel tiles go to uncompressed ones.
    """
    if piece >= 16 and piece % 16 == 0:
        return {
            "tiled": True,
            "blockxsize": piece,
            "blockysize": piece,
            "compress": "ZSTD",
            "zstd_level": 1,
            **PyramidCog.stage_options,
        }
    return {"tiled": True, "blockxsize": 16, "blockysize": 16}


@contextlib.contextmanager
def pyramid_cog(path: Path, grid: Grid, spec: BandSpec, block: int) -> Iterator[PyramidCog]:
    """Yield a `PyramidCog` for `path`; on success it becomes the COG, else nothing is left.

    Args:
        path: the COG to write.
        grid: its grid.
        spec: its bands (float).
        block: the block lattice of the writes, pixels (see `PyramidCog`).
    """
    with rasterio.Env(**GDAL_ENV):
        cog = PyramidCog(path, grid, spec, block)
    try:
        with rasterio.Env(**GDAL_ENV):
            yield cog
        cog.finish()
    finally:
        cog.discard()


def _metadata(tags: dict[str, object]) -> str:
    items = "".join(f'<MDI key="{escape(str(k))}">{escape(str(v))}</MDI>' for k, v in tags.items())
    return f"<Metadata>{items}</Metadata>" if items else ""
