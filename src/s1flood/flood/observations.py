"""The masks of an aggregation as observations: ordered in time, one per acquisition.

Each mask's acquisition (start, platform, relative orbit, orbit direction) is read from its
own tags or sidecar (`s1flood.acquisition`), never from its name. Masks of one acquisition
(the same platform and relative orbit, starts within `SAME_PASS_SECONDS`: slices of one pass,
or one scene classified twice) are one observation: a pixel is water when any of them says
water, dry when any says dry, else nodata. Masks without a time are observations of their own
that count in the counts and frequency but not in the time products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from s1flood.acquisition import Acquisition, format_time, of_mask
from s1flood.mask_sources import MaskSource

SAME_PASS_SECONDS = 600.0
"""Starts of two masks of one platform and relative orbit this close are one acquisition
(a Sentinel-1 datatake's slices start about 25 s apart; revisits are days apart)."""

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Observation:
    """One acquisition: its masks and what they record."""

    acquisition: Acquisition
    sources: tuple[MaskSource, ...]

    @property
    def start(self) -> datetime | None:
        """The acquisition start (UTC), None when unknown."""
        return self.acquisition.start

    @property
    def day(self) -> int:
        """Days since 1970-01-01 UTC of the start (floor); -1 when unknown."""
        start = self.acquisition.start
        return -1 if start is None else int(start.timestamp() // SECONDS_PER_DAY)

    def describe(self) -> dict[str, object]:
        """JSON-ready: time, platform, relative orbit, direction and the masks' file names.

        File names (the product identifiers), not paths: a runner's staging folders would
        make the record differ between runners and show the job layout (issue 23).
        """
        return {
            **self.acquisition.to_dict(),
            "day": self.day if self.start else None,
            "masks": [s.path.name for s in self.sources],
        }


def _same_pass(a: Acquisition, b: Acquisition) -> bool:
    if a.start is None or b.start is None:
        return False
    if a.platform and b.platform and a.platform != b.platform:
        return False
    if a.relative_orbit and b.relative_orbit and a.relative_orbit != b.relative_orbit:
        return False
    return abs((a.start - b.start).total_seconds()) <= SAME_PASS_SECONDS


def group_observations(
    sources: Sequence[MaskSource], acquisitions: Sequence[Acquisition]
) -> tuple[list[Observation], list[Observation]]:
    """Timed observations in time order (masks of one acquisition merged) and untimed ones.

    Args:
        sources: the masks, as the aggregation reads them.
        acquisitions: each mask's acquisition, in the same order.
    """
    timed = sorted(
        ((a, s) for a, s in zip(acquisitions, sources, strict=True) if a.start is not None),
        key=lambda pair: (pair[0].start, str(pair[1].path)),
    )
    groups: list[list[tuple[Acquisition, MaskSource]]] = []
    for acquisition, source in timed:
        if groups and _same_pass(groups[-1][0][0], acquisition):
            groups[-1].append((acquisition, source))
        else:
            groups.append([(acquisition, source)])
    observations = [
        Observation(group[0][0], tuple(source for _, source in group)) for group in groups
    ]
    untimed = [
        Observation(a, (s,)) for a, s in zip(acquisitions, sources, strict=True) if a.start is None
    ]
    return observations, untimed


def read_observations(sources: Sequence[MaskSource]) -> tuple[list[Observation], list[Observation]]:
    """`group_observations` of masks, each acquisition read from the mask's tags or sidecar.

    Args:
        sources: the masks, as the aggregation reads them.
    """
    return group_observations(sources, [of_mask(s.path) for s in sources])


def time_note(timed: Sequence[Observation], untimed: Sequence[Observation]) -> str:
    """One line on what the time products rest on ('' when every mask has a distinct time).

    Args:
        timed: the timed observations, in time order.
        untimed: the observations without a time.
    """
    notes = []
    if untimed:
        names = ", ".join(s.path.name for o in untimed for s in o.sources)
        notes.append(
            f"{len(untimed)} mask(s) without an acquisition time, left out of the time "
            f"products: {names}"
        )
    if not timed:
        notes.append("no mask has an acquisition time: the time products are nodata")
    elif len(timed) == 1:
        start = timed[0].start
        assert start is not None
        notes.append(
            f"all masks are of one acquisition ({format_time(start)}): one observation, so "
            "first = last flooded and duration_min is 0 where flooded, and by the frequency "
            "rule all its water is reference water (give reference_water)"
        )
    return "; ".join(notes)
