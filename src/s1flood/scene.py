"""One scene's outputs: where `process_scene` writes them and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from s1flood.results import JsonValue, to_jsonable

if TYPE_CHECKING:
    from s1flood.classification import ClassificationResult
    from s1flood.discovery import FetchResult
    from s1flood.preprocessing import PreprocessResult

PRODUCT_SUFFIXES = (".zip", ".SAFE", ".safe")


def product_name(product: PurePath | str) -> str:
    """The product name of a ``.SAFE`` folder or ``.zip`` path, or of a name.

    Args:
        product: a product path or name, with or without ``.SAFE`` / ``.zip``.
    """
    name = PurePath(str(product).rstrip("/")).name
    for suffix in PRODUCT_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def scene_outputs(out_dir: Path, name: str, polarisation: str) -> tuple[Path, Path]:
    """The sigma0 COG and water mask paths of a scene under an output folder.

    Args:
        out_dir: the scene's output folder.
        name: the product name.
        polarisation: the polarisation preprocessed (VV, VH, HH or HV), or a pair (VV+VH:
            ``_sigma0_vv-vh.tif``).
    """
    pols = "-".join(p.strip().lower() for p in polarisation.replace(",", "+").split("+"))
    return (
        out_dir / "sigma0" / f"{name}_sigma0_{pols}.tif",
        out_dir / "masks" / f"{name}_water.tif",
    )


@dataclass
class SceneResult:
    """What `process_scene` fetched and wrote for one scene."""

    name: str
    out_dir: Path
    fetched: FetchResult | None
    preprocessed: PreprocessResult
    classified: ClassificationResult

    @property
    def mask(self) -> Path:
        """The water mask COG."""
        return Path(self.classified.mask)

    def to_dict(self, base: Path | None = None) -> dict[str, JsonValue]:
        """JSON-ready values: the mask and sigma0 paths first, then each step's result.

        Args:
            base: folder that paths are made relative to; default ``out_dir``.
        """
        base = self.out_dir if base is None else base
        classified: dict[str, Any] = to_jsonable(self.classified, base)
        return {
            "name": self.name,
            "mask": classified["mask"],
            "sigma0": to_jsonable(self.preprocessed.output, base),
            "fetched": to_jsonable(self.fetched, base),
            "preprocessed": to_jsonable(self.preprocessed, base),
            "classified": classified,
        }
