"""``s1flood fetch`` killed mid-download, and 8 fetches at once through injected faults.

1. SIGKILL at seeded random moments of a throttled download: never a partial product under
   the final name; the rerun resumes the ``.part`` file with HTTP Range (the bytes sent
   again are counted: at most one request's worth in flight), ends verified, leaves nothing.
2. Eight ``s1flood fetch`` processes in parallel while the server draws a fault for 40 % of
   the download requests (latency, 429 with Retry-After, 5xx, cut bodies, truncated bodies
   with a matching Content-Length, a wrong checksum, every token expired): each product
   ends whole with its checksum verified, or the command fails in one line leaving nothing;
   retries are INFO lines, bounded in count (per stall) and time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faults import temporaries
from fetching import FAULTS, enlarge, environment, kill_series, run_fetch
from servers import MockServer
from servers.cdse import CdseState, start_cdse

pytestmark = pytest.mark.slow


@pytest.fixture
def cdse() -> Iterator[tuple[MockServer, CdseState]]:
    main, zipper, state = start_cdse()
    yield main, state
    main.close()
    zipper.close()


def test_sigkill_mid_download_resumes_by_range(
    cdse: tuple[MockServer, CdseState], tmp_path: Path
) -> None:
    main, state = cdse
    product = enlarge(state, 0, 3_000_000)
    main.throttle = 1_000_000.0  # start-up about 0.5 s, the body 3 s
    env = environment(main, state, tmp_path, retries=3, backoff=0.05, timeout=5)
    figures = kill_series(main, product, tmp_path / "out", env, kills=3, seed=2023)
    assert not figures.problems, figures.problems
    assert figures.kills - figures.finished_before_kill >= 2
    assert figures.partial_files == 0
    assert figures.resent_bytes == 0  # the rerun sends only what the part file lacks


def test_eight_parallel_fetches_through_injected_faults(
    cdse: tuple[MockServer, CdseState], tmp_path: Path
) -> None:
    main, state = cdse
    products = [enlarge(state, i, 400_000 + 50_000 * i) for i in range(8)]
    main.throttle = 4_000_000.0
    main.inject_randomly("download", 0.4, FAULTS, seed=23)
    main.inject_randomly("product", 0.1, FAULTS[:5], seed=24)
    env = environment(main, state, tmp_path, retries=4, backoff=0.05, max_retry_after=2,
                      timeout=3)  # fmt: skip
    out = tmp_path / "out"
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda p: run_fetch(p, out, env, limit=90), products))
    assert time.monotonic() - started < 120
    problems = [p for o in outcomes for p in o.problems]
    assert not problems, problems
    assert sum(o.returncode == 0 for o in outcomes) >= 6, [o.stderr[-300:] for o in outcomes]
    assert sum(o.retries for o in outcomes) > 0  # faults were met and retried
    assert not temporaries(out) or all(o.returncode for o in outcomes if o.returncode)
