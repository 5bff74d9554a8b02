"""schemathesis against the server's own OpenAPI document (issue 13).

A bounded number of generated requests per operation (``MAX_EXAMPLES``), valid ones and
ones that break the schema (negative mode), with the operator
token so deployment's parsing is reached too: no response may be a 5xx, show a traceback or
be an error that is not a problem document. The server hosts a cheap package whose inputs
cover CWL's types (no file inputs: generated URLs must not make the server fetch anything).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from test_70_ogc import AUTH_HEADER, DATA, OgcServer

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OgcServer]:
    srv = OgcServer(
        tmp_path_factory.mktemp("ogc-schemathesis"),
        packages=[DATA / "types-package.cwl"],
        max_running_jobs=2,
        job_timeout=120,
    ).start()
    yield srv
    srv.stop()


def run_operation(
    server: OgcServer, operation: Any, statuses: set[int], mode: GenerationMode
) -> None:
    """Send MAX_EXAMPLES generated requests for one operation and check each response."""
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), **AUTH_HEADER}
        response = case.call(base_url=server.url, timeout=120)
        statuses.add(response.status_code)
        assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"
        assert "Traceback" not in response.text, label
        if response.status_code >= 400:
            # schemathesis' response headers: lower-case names, lists of values
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith("application/problem+json"), (label, content_type)

    try:
        check()
    except Unsatisfiable:  # negative mode: nothing to break (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_no_server_error(server: OgcServer, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    seen: dict[str, set[int]] = {}
    for operation in operations:
        statuses = seen.setdefault(f"{operation.method.upper()} {operation.path}", set())
        run_operation(server, operation, statuses, mode)
    print(f"\nschemathesis ({mode.value}) statuses:", {k: sorted(v) for k, v in seen.items()})
    execution = next(v for k, v in seen.items() if k.endswith("/execution"))
    if mode == GenerationMode.POSITIVE:
        assert execution & {200, 201}
    else:
        assert 400 in execution
