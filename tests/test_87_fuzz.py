"""Fuzzing what users type (hypothesis, bounded example counts): WKT AOIs, ISO 8601 times and
windows, job files (YAML/JSON) and notebook parameters, OGC execute bodies.

Never a traceback: each either works or raises the project's one-line error naming the field
(an OGC execute body: a 400 problem naming the input).
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s1flood.aoi import parse_aoi_wkt, parse_iso_datetime, parse_time_window
from s1flood.errors import S1FloodError
from s1flood.notebook import load_parameters, parse_values
from s1flood.ogcapi.inputs import input_specs, to_job_order
from s1flood.ogcapi.problems import Problem

EXAMPLES = int(os.environ.get("S1FLOOD_FUZZ_EXAMPLES", "80"))
"""Examples per test; benchmarks/bench_faults.py sets more (and random ones)."""
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="S1FLOOD_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
WORKFLOW = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "cwl" / "workflow.cwl").read_text(encoding="utf-8")
)


def one_line(exc: S1FloodError, *fields: str) -> None:
    message = str(exc)
    assert "\n" not in message, message
    assert any(field in message for field in fields), (fields, message)


coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-200, 200),
    st.integers(-1000, 1000),
)
ring = st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=7)


@st.composite
def wkt_texts(draw: st.DrawFn) -> str:
    points = draw(ring)
    if draw(st.booleans()) and points:
        points = [*points, points[0]]
    body = ", ".join(f"{x} {y}" for x, y in points)
    kind = draw(st.sampled_from(["POLYGON", "MULTIPOLYGON", "POINT", "LINESTRING", "polygon"]))
    nest = "((({})))" if kind == "MULTIPOLYGON" else "(({}))"
    text = f"{kind} {nest.format(body)}"
    return draw(st.sampled_from([text, text[: draw(st.integers(0, len(text)))], text + ")"]))


@FUZZ
@given(st.one_of(wkt_texts(), st.text(max_size=60)))
def test_aoi_wkt(text: str) -> None:
    try:
        polygon = parse_aoi_wkt(text)
    except S1FloodError as exc:
        one_line(exc, "aoi")
        return
    assert polygon.area > 0
    assert all(math.isfinite(v) for v in polygon.bounds)


@st.composite
def iso_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    offset = draw(st.integers(-23 * 60, 23 * 60))
    text = moment.isoformat(timespec=draw(st.sampled_from(["auto", "seconds", "minutes"])))
    suffix = draw(st.sampled_from(["", "Z", "z", f"{offset // 60:+03d}:{offset % 60:02d}"]))
    return draw(st.sampled_from([text + suffix, text[:10], text.replace("T", " "), text[:-3]]))


values = st.one_of(iso_texts(), st.text(max_size=30), st.integers(), st.floats(), st.none(),
                   st.dates(), st.datetimes(), st.booleans())  # fmt: skip


@FUZZ
@given(values, values)
def test_time_window(start: Any, end: Any) -> None:
    try:
        window = parse_time_window(start, end)
    except S1FloodError as exc:
        one_line(exc, "start" if "start" in str(exc).split(":")[0] else "end")
        return
    assert window.end > window.start
    assert window.start.tzinfo == UTC


@FUZZ
@given(values)
def test_one_time(value: Any) -> None:
    try:
        moment = parse_iso_datetime(value, "event_start")
    except S1FloodError as exc:
        one_line(exc, "event_start")
        return
    assert moment.utcoffset() == timedelta(0)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
cwl_objects = st.fixed_dictionaries(
    {"class": st.sampled_from(["File", "Directory", "Other"])},
    optional={"path": json_values, "location": json_values},
)


JOB_NAMES = ["aoi", "start", "end", "catalogue", "dem", "method", "x", "class"]


@st.composite
def job_texts(draw: st.DrawFn) -> str:
    names = st.sampled_from(JOB_NAMES)
    record = draw(st.dictionaries(names, st.one_of(json_values, cwl_objects), max_size=6))
    form = draw(st.sampled_from(["yaml", "json", "garbage", "list"]))
    if form == "yaml":
        return yaml.safe_dump(record)
    if form == "json":
        return json.dumps(record)
    if form == "list":
        return yaml.safe_dump(list(record.items()))
    return draw(st.text(max_size=80))


@FUZZ
@given(job_texts())
def test_job_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "job.yml"
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_parameters(path)
    except S1FloodError as exc:
        one_line(exc, "parameters", *JOB_NAMES)
        return
    assert isinstance(loaded, dict)


@FUZZ
@given(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=30)), max_size=5))
def test_notebook_parameter_values(pairs: list[tuple[str, str]]) -> None:
    parsed = parse_values(pairs)
    assert set(parsed) == {name for name, _ in pairs}


specs = input_specs(WORKFLOW)
inputs = st.sampled_from([*sorted(specs), "cdse_password", "unknown", ""])


@FUZZ
@given(st.one_of(json_values, st.dictionaries(inputs, st.one_of(json_values, cwl_objects,
                 st.fixed_dictionaries({"value": json_values}),
                 st.fixed_dictionaries({"href": json_values})), max_size=6)))  # fmt: skip
def test_ogc_execute_inputs(tmp_path: Path, body: Any) -> None:
    try:
        order = to_job_order(body, specs, [tmp_path], {"cdse_password", "cdse_username"})
    except Problem as problem:
        status, detail = problem.status, problem.detail
    else:
        assert set(order) <= set(specs)
        return
    assert status == 400
    assert "\n" not in detail


@pytest.mark.parametrize("text", ["", "POLYGON EMPTY", "POLYGON ((0 0, 1 1, 0 0))"])
def test_known_bad_aois_name_the_field(text: str) -> None:
    with pytest.raises(S1FloodError, match="aoi"):
        parse_aoi_wkt(text)
