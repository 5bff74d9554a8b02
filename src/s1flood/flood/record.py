"""The flood record's rasters: what each holds, and its plan (observation kinds, days).

`RecordPlan` says which observations are pre-event (reference only), in the event or
without a time, their days since 1970-01-01 UTC, and the one-line note on what the time
products rest on; `RECORD_SPECS` say what each output COG holds (units, nodata, meaning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from s1flood.acquisition import format_time, parse_time
from s1flood.errors import InvalidOptionError
from s1flood.flood import record_kernels as rk
from s1flood.flood.observations import Observation, time_note
from s1flood.raster import BandSpec, CogOptions

PRE_EVENT_FRACTION = 0.5
"""With ``event_start``: reference water where water in at least this fraction of the valid
pre-event observations (a pixel wet in one of two dry-season scenes is not called flood)."""

DAYS = "days since 1970-01-01 UTC"
_U16 = CogOptions(level=1, predictor="2", compress="ZSTD")
_U8 = CogOptions(level=1, predictor="2", compress="ZSTD")
"""ZSTD level 1: faster than DEFLATE on these mostly constant rasters (GDAL >= 2.3 reads it)."""

RECORD_OUTPUTS: dict[str, tuple[str, float, str, str, str]] = {
    "reference_water": ("uint8", 255, "1", "reference (normal) water",
                        "1 reference water, 0 not, 255 never observed"),
    "flood_extent": ("uint8", 255, "1", "maximum observed flood extent",
                     "1 flooded in at least one observation, 0 never, "
                     "255 no valid event observation"),
    "flood_count": ("uint16", 65535, "observations", "flooded observations",
                    "observations of water that is not reference water"),
    "first_flooded": ("uint16", 65535, DAYS, "first flooded observation",
                      "day of the first flooded observation; nodata: never flooded"),
    "last_flooded": ("uint16", 65535, DAYS, "last flooded observation",
                     "day of the last flooded observation; nodata: never flooded"),
    "duration_min_days": ("uint16", 65535, "days", "minimum flood duration",
                          "last minus first flooded observation"),
    "duration_max_days": ("uint16", 65535, "days", "maximum flood duration",
                          "first valid dry observation after the last flooded minus last "
                          "valid dry observation before the first; nodata where the window "
                          "never saw it dry on that side"),
    "flood_episodes": ("uint8", 255, "episodes", "flood episodes",
                       "separate runs of flooded observations (between valid dry ones)"),
}  # fmt: skip
"""Output key: data type, nodata, units, long name, meaning."""

RECORD_FILES = {key: f"{key}.tif" for key in RECORD_OUTPUTS}
TIME_PRODUCTS = ("first_flooded", "last_flooded", "duration_min_days", "duration_max_days",
                 "flood_episodes")  # fmt: skip


@dataclass
class RecordPlan:
    """The observations in time order (timed, then untimed) and how each enters the record."""

    observations: list[Observation]
    timed: int
    event_start: datetime | None
    reference: str
    """How reference water is found (one line, for the summary and tags)."""
    note: str = ""
    change: str = ""
    """The change rule applied ('' when masks only)."""
    days: npt.NDArray[np.int32] = field(init=False)
    kinds: npt.NDArray[np.uint8] = field(init=False)

    def __post_init__(self) -> None:
        days, kinds = [], []
        for position, observation in enumerate(self.observations):
            timed = position < self.timed
            days.append(observation.day if timed else 0)
            if not timed:
                kinds.append(rk.UNTIMED)
            elif self.event_start is not None and observation.start is not None:
                kinds.append(rk.PRE_EVENT if observation.start < self.event_start else rk.EVENT)
            else:
                kinds.append(rk.EVENT)
        self.days = np.asarray(days, dtype=np.int32)
        self.kinds = np.asarray(kinds, dtype=np.uint8)

    @property
    def event_mode(self) -> bool:
        """Whether reference water comes from the pre-event observations."""
        return self.event_start is not None

    def window(self) -> tuple[str | None, str | None]:
        """First and last acquisition start (ISO 8601), None without a timed observation."""
        if not self.timed:
            return None, None
        first, last = self.observations[0].start, self.observations[self.timed - 1].start
        assert first is not None
        assert last is not None
        return format_time(first), format_time(last)

    def specs(self, permanent: float) -> list[tuple[str, BandSpec]]:
        """Each record output's key and band spec (tags: units, nodata, meaning, window)."""
        start, end = self.window()
        common = {
            "start_datetime": start or "",
            "end_datetime": end or "",
            "observations": str(self.timed),
            "reference_rule": self.reference,
        }
        if self.note:
            common["note"] = self.note
        specs = []
        for key, (dtype, nodata, units, name, meaning) in RECORD_OUTPUTS.items():
            tags = {**common, "units": units, "long_name": name, "meaning": meaning}
            tags["nodata"] = str(int(nodata))
            options = _U16 if dtype == "uint16" else _U8
            specs.append((key, BandSpec(dtype, nodata, key, options, tags)))
        return specs


def reference_rule(event_start: datetime | None, given: str | None, permanent: float) -> str:
    """One line on how reference water is found."""
    series = (
        f"water in >= {PRE_EVENT_FRACTION:g} of the valid observations before "
        f"{format_time(event_start)} (where none: in >= {permanent:g} of all)"
        if event_start is not None
        else f"water in >= {permanent:g} of the valid observations"
    )
    return f"{given} where it has a value, else {series}" if given else series


def plan_record(
    timed: Sequence[Observation],
    untimed: Sequence[Observation],
    event_start: str | None,
    reference: str | None,
    permanent: float,
) -> RecordPlan:
    """The record's plan; refuses an ``event_start`` outside the observations' window.

    Args:
        timed: timed observations in time order.
        untimed: observations without a time.
        event_start: ISO 8601 start of the event; observations before it give reference
            water. None: reference water by the frequency rule.
        reference: a description of the user's reference raster, if any.
        permanent: the frequency rule's threshold.
    """
    start = None
    if event_start is not None and event_start.strip():
        start = parse_time(event_start, "event_start")
        if len(timed) < 2:
            raise InvalidOptionError(
                "event_start", event_start, "needs at least two observations with a time"
            )
        first, last = timed[0].start, timed[-1].start
        assert first is not None
        assert last is not None
        if not first < start <= last:
            raise InvalidOptionError(
                "event_start",
                event_start,
                f"outside the observations' window: after the first ({format_time(first)}) "
                f"and at or before the last ({format_time(last)})",
            )
    return RecordPlan(
        [*timed, *untimed],
        len(timed),
        start,
        reference_rule(start, reference, permanent),
        time_note(timed, untimed),
    )
